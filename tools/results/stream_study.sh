#!/usr/bin/env bash
# Reproduces docs/results/stream.md: does online selection (segsa watch's StreamSelector) pick the right frames?
# Fits MDSA on CamVid train with models/camvid-features.pt (or $MODEL), replays every CamVid sequence of val and
# train in frame order as a stream, and compares online selection with offline top-x%, every k-th and random at
# budgets of 5, 10 and 20% (dev.segsa.evaluate.StreamStudy).
# Usage: tools/results/stream_study.sh [CAMVID_DIR] [OUT.md]   (defaults: ../shared/data/camvid, docs/results/stream.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/stream.md}"
MODEL="${MODEL:-models/camvid-features.pt}"
WORK="out/stream-study"
cd "$ROOT"
mkdir -p "$WORK"
bin/segsa --version >/dev/null   # builds segsa when needed
[ -f "$WORK/sa.sa" ] || bin/segsa fit --model "$MODEL" --images "$CAMVID/train" --labels "$CAMVID/trainannot" \
  --out "$WORK/sa.sa" --lsa-references 0 --seed 1
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "target/segsa-cli/classes:$(cat target/segsa-cli/classpath.txt)" \
  dev.segsa.evaluate.StreamStudy "$MODEL" "$WORK/sa.sa" "$CAMVID" "$OUT.table"
{
  echo "# Online selection on CamVid sequences (segsa watch's StreamSelector)"
  echo
  echo "Command: \`tools/results/stream_study.sh\` (model \`$MODEL\`, MDSA fitted on CamVid train)."
  echo
  cat "$OUT.table"
} > "$OUT"
rm -f "$OUT.table"
echo "wrote $OUT"
