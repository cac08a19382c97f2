#!/usr/bin/env bash
# Stability of SA across training seeds (after Weiss et al. 2021): the RQ3 base recipe (a third of
# CamVid train, split by seed 1; 40 epochs from scratch; tools/results/rq3.sh) trained with seeds
# 1, 2 and 3, each model's SA fitted on the base set and CamVid val scored; then per class the
# Spearman agreement of the models' per-image MDSA and how often they agree on which frames a 50%
# labelling saving would skip (tools/results/stability.py -> docs/results/stability.md).
# Resumable: a finished step is skipped. Needs tools/results/rq3.sh's split (out/rq3/base).
#   tools/results/stability.sh                 the skip head of models/camvid.pt (out/stability,
#                                              docs/results/stability.md)
#   HEAD=features tools/results/stability.sh   the features head (the activation-trace contract) of
#                                              rq3.sh's base model, which is its seed 1
#                                              (out/stability-features, docs/results/stability-features.md)
#   SEGSA=... THREADS=...                      as for rq3.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
/usr/bin/python3 -c "import scipy" 2>/dev/null \
  || { echo "tools/results/stability.sh: the tables need scipy for Debian's python3 (apt-get install python3-scipy)" >&2; exit 2; }
SEGSA="${SEGSA:-bin/segsa}"
THREADS="${THREADS:-2}"
CAMVID="${CAMVID:-../shared/data/camvid}"
W=out/rq3
HEAD="${HEAD:-skip}"
case "$HEAD" in
  skip) S=out/stability; DOC=docs/results/stability.md ;;
  features) S=out/stability-features; DOC=docs/results/stability-features.md ;;
  *) echo "tools/results/stability.sh: HEAD must be skip or features, got '$HEAD'" >&2; exit 2 ;;
esac
[ -f "$W/split.done" ] || { echo "tools/results/stability.sh: run tools/results/rq3.sh first (it makes the split)" >&2; exit 2; }
mkdir -p "$S"
CLASSES="Sky,Building,Pole,Road,Pavement,Tree,SignSymbol,Fence,Car,Pedestrian,Bicyclist"
# with the features head, seed 1 is rq3.sh's base model: the other two first, so that it has time
# to finish
for seed in 2 3 1; do
  m="$S/base-seed$seed.pt"
  if [ "$HEAD" = features ] && [ "$seed" = 1 ] && [ ! -f "$m" ]; then
    [ -f "$W/base.pt" ] || { echo "tools/results/stability.sh: waiting for rq3.sh's base model $W/base.pt" >&2; exit 3; }
    cp "$W/base.pt" "$m"; cp "$W/base.md" "$S/base-seed1.md"
  fi
  if [ ! -f "$m" ]; then
    resume=(); [ -f "$S/ckpt$seed/checkpoint.json" ] && resume=(--resume)
    "$SEGSA" train --images "$W/base/images" --labels "$W/base/labels" --classes 11 --ignore-label 11 --class-names "$CLASSES" \
      --mean 0.39,0.41,0.43 --std 0.30,0.30,0.30 --val-images "$CAMVID/val" --val-labels "$CAMVID/valannot" --threads "$THREADS" \
      --head "$HEAD" --epochs 40 --seed "$seed" --out "$m" --checkpoints "$S/ckpt$seed" "${resume[@]}"
  fi
  [ -f "$S/seed$seed.sa" ] || "$SEGSA" fit --model "$m" --images "$W/base/images" --labels "$W/base/labels" --lsa-references 0 \
    --out "$S/seed$seed.sa"
  [ -f "$S/val-seed$seed.csv" ] || "$SEGSA" score --model "$m" --sa "$S/seed$seed.sa" --images "$CAMVID/val" \
    --labels "$CAMVID/valannot" --uncertainty --out "$S/val-seed$seed.csv"
done
/usr/bin/python3 tools/results/stability.py "$S" "$DOC" "$HEAD"
