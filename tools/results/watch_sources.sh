#!/usr/bin/env bash
# Several cameras on one engine: segsa watch over 1, 2, 4 and 6 sources, each the CamVid train frames as a 10 frames/s
# video (36.7 s) delivered at its presentation times (--realtime: a camera that does not wait for the scorer), with
# models/camvid-features.pt and the class-aware score (and with --risk: segments and the risk model too). Per run:
# the frames each camera offered, scored and skipped, scored frames/s per camera and in all, and the p99 latency from
# a frame's arrival to its score, read from the final status.json. About 6 minutes on 2 cores.
# Usage: tools/results/watch_sources.sh [CAMVID_DIR] [OUT_MD]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/vehicle/sources.md}"
SEGSA="${SEGSA:-bin/segsa}"
WORK="out/vehicle/sources"
cd "$ROOT"
mkdir -p "$WORK"
[ -f out/frame-risk/camvid.sa ] || tools/results/frame_risk.sh "$CAMVID"
[ -f out/vehicle/camvid.risk ] || "$SEGSA" fit-risk --segments out/frame-risk/segments-train.csv --sa out/frame-risk/camvid.sa \
  --out out/vehicle/camvid.risk --cv-folds 0 --seed 1
[ -f "$WORK/camvid-train.mp4" ] || "$SEGSA" encode --images "$CAMVID/train" --fps 10 --out "$WORK/camvid-train.mp4"
{
  echo "| scores | cameras | offered per camera | scored per camera (min-max) | skipped | scored/s per camera (min) | scored/s in all | p99 latency ms per camera (max) | load before |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$OUT.tmp"
for risk in no yes; do
  for n in 1 2 4 6; do
    args=()
    for i in $(seq 1 "$n"); do args+=(--source "cam$i=video:$WORK/camvid-train.mp4"); done
    extra=()
    [ "$risk" = yes ] && extra=(--risk out/vehicle/camvid.risk)
    rm -rf "$WORK/run-$risk-$n"
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$SEGSA" watch --model models/camvid-features.pt --sa out/frame-risk/camvid.sa "${args[@]}" "${extra[@]}" --realtime \
      --share 0.1 --out "$WORK/run-$risk-$n" > "$WORK/run-$risk-$n.log" 2>&1
    python3 - "$WORK/run-$risk-$n/status.json" "$risk" "$n" "$load" >> "$OUT.tmp" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
src = s["sources"]
el = float(s["elapsedSeconds"])
read = [c["framesRead"] for c in src]; sc = [c["framesScored"] for c in src]; sk = [c["framesSkipped"] for c in src]
rate = [c["scoredPerSecond"] for c in src]; p99 = [c["p99LatencyMs"] for c in src]
print("| %s | %s | %d | %d-%d | %d | %.2f (%.2f) | %.2f | %.0f (%.0f) | %s |" % (
    "risk" if sys.argv[2] == "yes" else "class-aware", sys.argv[3], max(read), min(sc), max(sc), sum(sk),
    sum(rate) / len(rate), min(rate), sum(rate), sum(p99) / len(p99), max(p99), sys.argv[4]))
PY
  done
done
mv "$OUT.tmp" "$OUT"
cat "$OUT"
