#!/usr/bin/env bash
# The CamVid val drive (0016E5_*, consecutive frames of one drive, 30 Hz capture taken every
# 2nd frame: 15 fps) as a video: encode it, score it, render the evidence video, and keep one
# still and the SA timeline in docs/results/camvid/ (the videos stay in OUT).
#   tools/results/camvid-video.sh [OUT=/tmp/segsa-camvid-video]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/tmp/segsa-camvid-video}"
CAMVID="${SEGSA_CAMVID:-$ROOT/../shared/data/camvid}"
DOCS="$ROOT/docs/results/camvid"
S="$ROOT/bin/segsa"
mkdir -p "$OUT" "$DOCS"
"$S" fit --model "$ROOT/models/camvid.pt" --images "$CAMVID/train" --labels "$CAMVID/trainannot" --lsa-references 0 \
  --out "$OUT/camvid.sa" > "$OUT/fit.log" 2>&1
"$S" encode --images "$CAMVID/val" --fps 15 --out "$OUT/camvid-val.mp4"
"$S" score --model "$ROOT/models/camvid.pt" --sa "$OUT/camvid.sa" --video "$OUT/camvid-val.mp4" --out "$OUT/video-scores.csv" \
  | tail -8
"$S" render --model "$ROOT/models/camvid.pt" --sa "$OUT/camvid.sa" --video "$OUT/camvid-val.mp4" --out "$OUT/evidence.mp4" \
  --caption-classes Road,Car,Pedestrian,Bicyclist --still 60 --still-out "$DOCS/evidence-still.png" \
  --timeline "$DOCS/video-timeline.png"
