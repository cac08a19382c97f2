#!/usr/bin/env bash
# Reproduces docs/results/frame-risk/: the frame-risk study (does a frame score find the frames the model gets wrong?)
# on CamVid val and train with models/camvid-features.pt, and on synthetic drives of 10 recordings with changing
# conditions with models/synthetic-day-features.pt. Per data set: fit (records the class reference), score with
# --labels --uncertainty --segments, evaluate --segments (frame-failure table pooled and within recordings, MetaSeg's
# table in grouped cross-validation, out-of-fold frame risk). About 4 minutes on 2 cores.
# Usage: tools/results/frame_risk.sh [CAMVID_DIR] [OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAMVID="${1:-../shared/data/camvid}"
OUT="${2:-docs/results/frame-risk}"
SEGSA="${SEGSA:-bin/segsa}"
WORK="out/frame-risk"
cd "$ROOT"
mkdir -p "$WORK" "$OUT"
set -x
# CamVid: SA fitted on train (train is in-sample for the segmentation model too: its frames are easier)
"$SEGSA" fit --model models/camvid-features.pt --images "$CAMVID/train" --labels "$CAMVID/trainannot" --out "$WORK/camvid.sa" \
  --lsa-references 0 --seed 1
for split in val train; do
  "$SEGSA" score --model models/camvid-features.pt --sa "$WORK/camvid.sa" --images "$CAMVID/$split" --labels "$CAMVID/${split}annot" \
    --uncertainty --segments "$WORK/segments-$split.csv" --out "$WORK/scores-$split.csv"
  "$SEGSA" evaluate --scores "$WORK/scores-$split.csv" --segments "$WORK/segments-$split.csv" --out "$WORK/eval-camvid-$split" \
    | tee "$WORK/eval-camvid-$split.txt"
  cp "$WORK/eval-camvid-$split/frame_failure.csv" "$OUT/frame_failure_camvid_$split.csv"
  cp "$WORK/eval-camvid-$split/segments_cv.md" "$OUT/segments_cv_camvid_$split.md"
done
# synthetic drives: the model's training distribution (day, light traffic) for the fit; 10 recordings of 30 frames with
# time of day, shadows, traffic, noise and blur drawn per recording for the study
"$SEGSA" generate --out "$WORK/synth-fit" --frames 300 --seed 11 --conditions default --overwrite
"$SEGSA" generate --out "$WORK/synth-drives" --frames 300 --seed 21 --sequence-length 30 --overwrite \
  --conditions 'time=mix,shadows=mix,traffic=mix,noise=0..0.3,blur=0..1.5'
# one recording per sequence: name the frames drive<seq>-<time>-<traffic>_<index>.png (symbolic links)
rm -rf "$WORK/drives" && mkdir -p "$WORK/drives/images" "$WORK/drives/labels"
tail -n +2 "$WORK/synth-drives/manifest.csv" | while IFS=, read -r f _seed seq idx _len time _sh traffic _noise _blur; do
  n=$(printf "drive%02d-%s-%s_%03d.png" "$seq" "$time" "$traffic" "$idx")
  ln -s "../../synth-drives/images/$f" "$WORK/drives/images/$n"
  ln -s "../../synth-drives/labels/$f" "$WORK/drives/labels/$n"
done
"$SEGSA" fit --model models/synthetic-day-features.pt --images "$WORK/synth-fit/images" --labels "$WORK/synth-fit/labels" \
  --out "$WORK/synth.sa" --lsa-references 0
"$SEGSA" score --model models/synthetic-day-features.pt --sa "$WORK/synth.sa" --images "$WORK/drives/images" \
  --labels "$WORK/drives/labels" --uncertainty --segments "$WORK/segments-drives.csv" --out "$WORK/scores-drives.csv"
"$SEGSA" evaluate --scores "$WORK/scores-drives.csv" --segments "$WORK/segments-drives.csv" --out "$WORK/eval-drives" \
  | tee "$WORK/eval-drives.txt"
cp "$WORK/eval-drives/frame_failure.csv" "$OUT/frame_failure_drives.csv"
cp "$WORK/eval-drives/segments_cv.md" "$OUT/segments_cv_drives.md"
