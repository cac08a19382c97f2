#!/usr/bin/env bash
# Cost growth of the fused native kernels (bench/RESULTS.md, "Cost growth"): four JMH sweeps of
# CostGrowthBench, one parameter at a time around d = 64, 512x336, 12 classes, 2,000 references,
# then bench/cost_growth.py fits the exponents and draws the log-log chart.
#   bench/cost-growth.sh [OUT_DIR]        (default out/cost-growth; about 15 minutes on 2 cores)
# Needs python3 with matplotlib (Debian: apt-get install python3-matplotlib) for the chart.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../out/cost-growth}"
mkdir -p "$out"
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME OMP_WAIT_POLICY=PASSIVE
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  target="${SEGSA_TARGET:-/tmp/segsa-bench-target}"
  off=(); [ "${MVN_OFFLINE:-0}" = 1 ] && off=(-o)
  (cd "$here/.." && mvn -q -B "${off[@]}" -Dsegsa.target.root="$target" install -DskipTests)
  (cd "$here" && mvn -q -B "${off[@]}" package)
fi
jmh() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$here/target/benchmarks.jar" "$@"; }
short=(-wi 1 -i 3 -w 1 -r 1 -f 1)
jmh 'CostGrowthBench' "${short[@]}" -p d=32,64,128,256,512 -rf csv -rff "$out/d.csv"
jmh 'CostGrowthBench' "${short[@]}" -p size=64x42,96x64,128x84,176x112,240x135 -rf csv -rff "$out/pixels.csv"
jmh 'CostGrowthBench' "${short[@]}" -p classes=1,2,5,10,20 -rf csv -rff "$out/classes.csv"
jmh 'CostGrowthBench.lsa' -wi 1 -i 2 -w 1 -r 1 -f 1 -p refs=1000,3000,10000,30000,100000 -rf csv -rff "$out/refs.csv"
py=python3; for p in python3 /usr/bin/python3; do "$p" -c "import matplotlib" 2>/dev/null && { py=$p; break; }; done
"$py" "$here/cost_growth.py" "$out"
