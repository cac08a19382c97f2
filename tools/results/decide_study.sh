#!/usr/bin/env bash
# Reproduces the labelling-decision study in docs/results.md ("Past the paper: a learned labelling decision"):
# for both shipped CamVid heads, fit SA on CamVid train, score val and train with the uncertainty baselines and
# labels, then `segsa decide --study` on each scores file (forest and logistic meta-models, 5 repeats of 5-fold
# cross-validation grouped by sequence in blocks of 10 frames with 1-frame purge, 10 simulated pilots of 20%).
# Usage: tools/results/decide_study.sh [CAMVID_DIR] [OUT_DIR]
#        (defaults: ../shared/data/camvid, docs/results/decide; work files go to out/decide/<model>)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/decide}"
SEGSA="${SEGSA:-bin/segsa}"
cd "$ROOT"
for m in camvid-features camvid; do
  W="out/decide/$m"
  mkdir -p "$W"
  [ -f "$W/sa.sa" ] || "$SEGSA" fit --model "models/$m.pt" --images "$CAMVID/train" --labels "$CAMVID/trainannot" \
    --out "$W/sa.sa" --seed 1
  for s in val train; do
    [ -f "$W/$s.csv" ] || "$SEGSA" score --model "models/$m.pt" --sa "$W/sa.sa" --images "$CAMVID/$s" \
      --labels "$CAMVID/${s}annot" --uncertainty --out "$W/$s.csv"
    "$SEGSA" decide --study --scores "$W/$s.csv" --learner forest,logistic --repeats 5 --pilot-repeats 10 \
      --pilot-fraction 0.2 --out "$OUT/$m-$s"
  done
done
