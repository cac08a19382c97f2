#!/usr/bin/env bash
# Video throughput and memory: makes a synthetic 1080p H.264 clip of SECONDS (default 600 = 10 min),
# decodes it (frames/s, VmRSS every 10%), then scores and renders it with models/camvid.pt through an
# SA model fitted with --resize 480x360 (frames/s from segsa's own summary lines).
#   bench/video.sh [SECONDS=600] [OUT=/tmp/segsa-video-bench]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$here/.."
SECONDS_OF_VIDEO="${1:-600}"
OUT="${2:-/tmp/segsa-video-bench}"
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME OMP_WAIT_POLICY=PASSIVE
CAMVID="${SEGSA_CAMVID:-$ROOT/../shared/data/camvid}"
mkdir -p "$OUT"
(cd "$ROOT" && mvn -q -B -Dsegsa.target.root="${SEGSA_TARGET:-/tmp/segsa-bench-target}" install -DskipTests)
(cd "$here" && mvn -q -B package)
J=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$here/target/benchmarks.jar" dev.segsa.bench.VideoClips)
[ -f "$OUT/clip.mp4" ] || "${J[@]}" make "$OUT/clip.mp4" "$SECONDS_OF_VIDEO"
"${J[@]}" decode "$OUT/clip.mp4"
[ -f "$OUT/camvid-480.sa" ] || "$ROOT/bin/segsa" fit --model "$ROOT/models/camvid.pt" --images "$CAMVID/train" \
  --labels "$CAMVID/trainannot" --resize 480x360 --lsa-references 0 --out "$OUT/camvid-480.sa" > "$OUT/fit.log" 2>&1
/usr/bin/time -f "score: max RSS %M KiB, %e s" "$ROOT/bin/segsa" score --model "$ROOT/models/camvid.pt" --sa "$OUT/camvid-480.sa" \
  --video "$OUT/clip.mp4" --out "$OUT/scores.csv" 2> "$OUT/score.err" | grep -E "frames/s|wrote"
tail -1 "$OUT/score.err"
/usr/bin/time -f "render: max RSS %M KiB, %e s" "$ROOT/bin/segsa" render --model "$ROOT/models/camvid.pt" --sa "$OUT/camvid-480.sa" \
  --video "$OUT/clip.mp4" --out "$OUT/evidence.mp4" 2> "$OUT/render.err" | grep wrote
tail -1 "$OUT/render.err"
