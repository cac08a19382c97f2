#!/usr/bin/env bash
# Reproduces docs/results/vehicle/selector.md: the vehicle's selector (segsa watch's StreamSelector, decision windows and
# a paced budget) replayed over a 30-minute synthetic drive at 10 frames/s and CamVid val and train (their sequences one
# after another), for image MDSA, the class-aware score and risk at budgets of 5, 10 and 20%, against the offline
# top-x% by the same score, every k-th frame, random and the oracle; then the sweep of window, horizon, warm-up and burst
# from which the defaults were chosen (dev.segsa.evaluate.SelectorStudy). The scores come from
# tools/results/vehicle_data.sh (about 40 minutes, run first when they are missing); the replay takes seconds.
# Usage: tools/results/vehicle_study.sh [CAMVID_DIR] [OUT.md]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/vehicle/selector.md}"
cd "$ROOT"
W=out/vehicle
[ -f "$W/scores-drive.csv" ] && [ -f "$W/scores-camvid-val.csv" ] && [ -f "$W/scores-camvid-train.csv" ] \
  || tools/results/vehicle_data.sh "$CAMVID"
bin/segsa --version >/dev/null   # builds segsa when needed
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mkdir -p "$(dirname "$OUT")"
"$JAVA_HOME/bin/java" -cp "target/segsa-cli/classes:$(cat target/segsa-cli/classpath.txt)" dev.segsa.evaluate.SelectorStudy \
  "$OUT.table" --sweep drive="$W/scores-drive.csv:10" camvid-val="$W/scores-camvid-val.csv:camvid" \
  camvid-train="$W/scores-camvid-train.csv:camvid"
{
  echo "# The vehicle's selector against hindsight"
  echo
  echo "Command: \`tools/results/vehicle_study.sh\` (scores from \`tools/results/vehicle_data.sh\`). Streams: drive = 18,000"
  echo "synthetic frames at 10 frames/s (30 one-minute stretches of drawn conditions), models/synthetic-day-features.pt;"
  echo "camvid-val / camvid-train = CamVid's labelled frames in sequence order (1 frame/s), models/camvid-features.pt."
  echo
  cat "$OUT.table"
} > "$OUT"
rm -f "$OUT.table"
echo "wrote $OUT"
