#!/usr/bin/env bash
# One-command local try of the Spark jobs (README, "On a cluster"): fit on CamVid train and score
# CamVid val in local[2], from the Maven build (Spark from the Maven classpath, no installation),
# then segsa evaluate on the Parquet scores.
#   tools/spark/local.sh [OUT_DIR]          (default out/spark-local; OUT_DIR must not exist)
#   SEGSA_SPARK_JAR=target/segsa-spark/segsa-spark-job.jar tools/spark/local.sh   (the job jar instead of the classes)
#   MASTER='local[4]' PARTITIONS=8 ...       (defaults local[2] and 4 partitions)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-out/spark-local}"
[ -e "$out" ] && { echo "tools/spark/local.sh: $out exists; give another OUT_DIR" >&2; exit 2; }
camvid="${SEGSA_CAMVID:-../shared/data/camvid}"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 OMP_WAIT_POLICY=PASSIVE LC_ALL=C.UTF-8
if [ ! -f target/segsa-spark/classpath.txt ] || [ -n "$(find src/*/src/main native pom.xml src/*/pom.xml -newer target/segsa-spark/classpath.txt -type f 2>/dev/null | head -1)" ]; then
  echo "tools/spark/local.sh: building (mvn install, tests skipped)..." >&2
  mvn -q -B -DskipTests install >&2
fi
cp="${SEGSA_SPARK_JAR:-target/segsa-spark/classes}:$(cat target/segsa-spark/classpath.txt)"
# the JVM flags Spark 4.2 needs on JDK 25 (src/spark/jvm-flags.txt, a java argument file)
flags=(--enable-native-access=ALL-UNNAMED @src/spark/jvm-flags.txt)
master="${MASTER:-local[2]}"
parts="${PARTITIONS:-4}"
mkdir -p "$out"
run() { "$JAVA_HOME/bin/java" "${flags[@]}" -Xmx6g -Dsegsa.home="$root" -cp "$cp" dev.segsa.spark.SegsaSpark "$@"; }
echo "== fit on $camvid/train, $master, $parts partitions" >&2
run fit --master "$master" --partitions "$parts" --model models/camvid.pt --images "$camvid/train/*.png" \
  --labels "$camvid/trainannot/*.png" --out "$out/camvid.sa"
echo "== score $camvid/val" >&2
run score --master "$master" --partitions "$parts" --model models/camvid.pt --sa "$out/camvid.sa" --images "$camvid/val/*.png" \
  --labels "$camvid/valannot/*.png" --out "$out/scores" --partition-by recording
echo "== segsa evaluate on the Parquet scores" >&2
bin/segsa evaluate --scores "$out/scores" --out "$out/evaluate"
