#!/usr/bin/env bash
# Reproduces docs/results/camvid/: fit SA on CamVid train with models/camvid.pt (or $MODEL), score CamVid val
# (MDSA, LSA, uncertainty baselines), evaluate (RQ1 table, RQ2 curves, report with heatmaps).
# Usage: tools/results/camvid.sh [CAMVID_DIR] [OUT_DIR]   (defaults: ../shared/data/camvid,
#        docs/results/camvid; relative paths are taken from the repository root)
#        MODEL=models/camvid-features.pt tools/results/camvid.sh ../shared/data/camvid docs/results/camvid-features
#        (another model; its work files go to out/<model name>)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Paths are relative to the repository root (the report records the command as run).
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/camvid}"
MODEL="${MODEL:-models/camvid.pt}"
SEGSA="${SEGSA:-bin/segsa}"   # the launcher (another copy of segsa may be given)
WORK="out/$(basename "$MODEL" .pt)"
CLASS_GROUPS="movers=Car,Pedestrian,Bicyclist;thin=Pole,SignSymbol,Fence"
cd "$ROOT"
mkdir -p "$WORK"
set -x
"$SEGSA" fit --model "$MODEL" --images "$CAMVID/train" --labels "$CAMVID/trainannot" \
  --out "$WORK/sa.sa" --lsa-references 10000 --seed 1
"$SEGSA" score --model "$MODEL" --sa "$WORK/sa.sa" --images "$CAMVID/val" --labels "$CAMVID/valannot" \
  --lsa --uncertainty --groups "$CLASS_GROUPS" --out "$WORK/scores.csv"
"$SEGSA" evaluate --scores "$WORK/scores.csv" --out "$OUT" --groups "$CLASS_GROUPS" \
  --model "$MODEL" --sa "$WORK/sa.sa" --images "$CAMVID/val" --heatmaps 5 --fuse mdsa,entropy
cp "$WORK/scores.csv" "$OUT/scores.csv"
