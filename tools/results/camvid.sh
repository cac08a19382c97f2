#!/usr/bin/env bash
# Reproduces docs/results/camvid/: fit SA on CamVid train with models/camvid.pt, score CamVid val
# (MDSA, LSA, uncertainty baselines), evaluate (RQ1 table, RQ2 curves, report with heatmaps).
# Usage: tools/results/camvid.sh [CAMVID_DIR] [OUT_DIR]   (defaults: ../shared/data/camvid,
#        docs/results/camvid; relative paths are taken from the repository root)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Paths are relative to the repository root (the report records the command as run).
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/camvid}"
WORK="out/camvid"
CLASS_GROUPS="movers=Car,Pedestrian,Bicyclist;thin=Pole,SignSymbol,Fence"
cd "$ROOT"
mkdir -p "$WORK"
set -x
bin/segsa fit --model models/camvid.pt --images "$CAMVID/train" --labels "$CAMVID/trainannot" \
  --out "$WORK/camvid.sa" --lsa-references 10000 --seed 1
bin/segsa score --model models/camvid.pt --sa "$WORK/camvid.sa" --images "$CAMVID/val" --labels "$CAMVID/valannot" \
  --lsa --uncertainty --groups "$CLASS_GROUPS" --out "$WORK/scores.csv"
bin/segsa evaluate --scores "$WORK/scores.csv" --out "$OUT" --groups "$CLASS_GROUPS" \
  --model models/camvid.pt --sa "$WORK/camvid.sa" --images "$CAMVID/val" --heatmaps 5
cp "$WORK/scores.csv" "$OUT/scores.csv"
