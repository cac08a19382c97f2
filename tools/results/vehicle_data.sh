#!/usr/bin/env bash
# Data of the vehicle-selector study (docs/results.md, "The vehicle's selector"): a 30-minute synthetic drive at
# 10 frames/s (18,000 frames; 30 one-minute stretches, each with its own time of day, shadows, traffic, noise and
# blur), scored frame by frame with its labels (per-frame mIoU), the class-aware score and the risk of a risk model
# fitted on other drives (tools/results/frame_risk.sh's 10 recordings, seed 21); and CamVid val and train scored the
# same way with models/camvid-features.pt. About 40 minutes on 2 cores, most of it scoring.
# Usage: tools/results/vehicle_data.sh [CAMVID_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
SEGSA="${SEGSA:-bin/segsa}"
FR="out/frame-risk"
WORK="out/vehicle"
cd "$ROOT"
mkdir -p "$WORK"
set -x
[ -f "$FR/synth.sa" ] && [ -f "$FR/segments-drives.csv" ] && [ -f "$FR/camvid.sa" ] || tools/results/frame_risk.sh "$CAMVID"
"$SEGSA" fit-risk --segments "$FR/segments-drives.csv" --sa "$FR/synth.sa" --out "$WORK/synth.risk" --cv-folds 0 --seed 1
"$SEGSA" fit-risk --segments "$FR/segments-train.csv" --sa "$FR/camvid.sa" --out "$WORK/camvid.risk" --cv-folds 0 --seed 1
[ "$(wc -l < "$WORK/drive/manifest.csv" 2>/dev/null || echo 0)" = 18001 ] || \
"$SEGSA" generate --out "$WORK/drive" --frames 18000 --seed 31 --sequence-length 600 --overwrite \
  --conditions 'time=mix,shadows=mix,traffic=mix,noise=0..0.3,blur=0..1.5'
"$SEGSA" score --model models/synthetic-day-features.pt --sa "$FR/synth.sa" --images "$WORK/drive/images" \
  --labels "$WORK/drive/labels" --risk "$WORK/synth.risk" --out "$WORK/scores-drive.csv"
for split in val train; do
  "$SEGSA" score --model models/camvid-features.pt --sa "$FR/camvid.sa" --images "$CAMVID/$split" \
    --labels "$CAMVID/${split}annot" --risk "$WORK/camvid.risk" --out "$WORK/scores-camvid-$split.csv"
done
