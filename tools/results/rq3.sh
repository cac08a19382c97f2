#!/usr/bin/env bash
# RQ3 (paper Tables 4 and 5): does retraining on High-SA frames help more than on Low-SA or random
# ones? Resumable: every stage and every run leaves its output under out/rq3 and is skipped when it
# is there, so the script can be stopped and started again (a training in progress resumes from
# its last epoch).
#
#   tools/results/rq3.sh [SEEDS] [EPOCHS]     (defaults: "1 2 3", 4 fine-tuning epochs)
#   SEGSA=/path/to/segsa tools/results/rq3.sh (another copy of the launcher)
#   THREADS=1 ...                             (LibTorch threads of the trainings, default 2)
#   VALIDATE_EVERY=1 ...                      (validate fine-tunings after every epoch; default 0: the last only)
#   SHARD=1/4 ... SHARD=4/4                   (every 4th fine-tuning, for a machine with cores for
#                                             several trainings; start one alone first, or after stages
#                                             1-4 are done. Not on 2 cores: two one-thread processes
#                                             took 32 s an epoch each, one two-thread process 10 s)
#
# 1. split CamVid train by seed 1 into a base set (a third, 122 frames) and a candidate pool (the
#    rest: the High and Low levels draw from the top and bottom 30% of the pool frames that show the
#    target class, and the Large subset, 30% of the base set, must fit in them);
# 2. train the base model on the base set (from scratch, 40 epochs, the camvid.pt recipe, the features
#    head of models/camvid-features.pt: the activation-trace contract);
# 3. fit its SA on the base set, score the pool (MDSA, entropy) and the base set;
# 4. per target class (Car, Pedestrian, Bicyclist): subsets of 10/20/30% of the base set (10/20%
#    for a class whose pool cannot hold 30%: Bicyclist), High / Low / Random by MDSA (segsa select
#    --retrain-subsets), the same by entropy, and Diverse (high MDSA and far from each other and
#    from the base set: segsa select --diverse);
# 5. per subset and seed: fine-tune the base model on base + subset (EPOCHS epochs, lr 0.0005),
#    validation IoU per class on CamVid val in the model card (in phases, each cell's seeds
#    together, so that the first complete comparisons come early);
# 6. tools/results/rq3_table.py writes docs/results/rq3.md (mean, standard deviation, High vs
#    Random test) from the finished runs, after every cell. Each finished run's card is also
#    copied to docs/results/rq3/runs/ (committed), so a later session skips it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
/usr/bin/python3 -c "import scipy" 2>/dev/null \
  || { echo "tools/results/rq3.sh: the tables need scipy for Debian's python3 (apt-get install python3-scipy)" >&2; exit 2; }
SEEDS="${1:-1 2 3}"
EPOCHS="${2:-4}"
SEGSA="${SEGSA:-bin/segsa}"
THREADS="${THREADS:-2}"
# validation of a fine-tuning: after its last epoch only (the card's figures; it does not change the
# network, so the runs finished with a validation after every epoch are the same runs)
VALIDATE_EVERY="${VALIDATE_EVERY:-0}"
CAMVID="${CAMVID:-../shared/data/camvid}"
SHARD="${SHARD:-1/1}"
SHARD_I="${SHARD%/*}"; SHARD_N="${SHARD#*/}"
[[ "$SHARD_I" =~ ^[0-9]+$ && "$SHARD_N" =~ ^[0-9]+$ && "$SHARD_I" -ge 1 && "$SHARD_I" -le "$SHARD_N" ]] \
  || { echo "rq3.sh: SHARD must be I/N with 1 <= I <= N, got '$SHARD'" >&2; exit 2; }
W=out/rq3
CLASSES="Sky,Building,Pole,Road,Pavement,Tree,SignSymbol,Fence,Car,Pedestrian,Bicyclist"
TRAIN_ARGS=(--classes 11 --ignore-label 11 --class-names "$CLASSES" --mean 0.39,0.41,0.43 --std 0.30,0.30,0.30
  --val-images "$CAMVID/val" --val-labels "$CAMVID/valannot" --threads "$THREADS")
TARGETS="Car Pedestrian Bicyclist"
mkdir -p "$W"
log() { echo "== rq3: $*" >&2; }

# 1. the split (symlinks to the shared data, never copies)
if [ ! -f "$W/split.done" ]; then
  log "split CamVid train (seed 1): a third for the base set"
  rm -rf "$W/base" "$W/pool"
  mkdir -p "$W/base/images" "$W/base/labels" "$W/pool/images" "$W/pool/labels"
  /usr/bin/env python3 - "$CAMVID" "$W" <<'EOF'
import os, random, sys
camvid, w = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(os.path.join(camvid, "train")) if n.endswith(".png"))
random.Random(1).shuffle(names)
half = len(names) // 3
for part, chosen in (("base", names[:half]), ("pool", names[half:])):
    for n in chosen:
        os.symlink(os.path.abspath(os.path.join(camvid, "train", n)), os.path.join(w, part, "images", n))
        os.symlink(os.path.abspath(os.path.join(camvid, "trainannot", n)), os.path.join(w, part, "labels", n))
print("base %d frames, pool %d frames" % (half, len(names) - half))
EOF
  touch "$W/split.done"
fi
BASE_SIZE=$(ls "$W/base/images" | wc -l)

# 2. the base model. A training is not bit-reproducible from one session's machine to the next (the
#    same command gave val mIoU 0.5497 in one session and 0.5541 in the next), and every fine-tuning
#    starts from this model, so once trained it is kept in the repository (docs/results/rq3/base.pt,
#    1.5 MB) and a later session takes it from there
R=docs/results/rq3
mkdir -p "$R"
if [ ! -f "$W/base.pt" ] && [ -f "$R/base.pt" ] && [ -f "$R/base.md" ]; then
  log "the base model of $R/base.pt"
  cp "$R/base.pt" "$W/base.pt" && cp "$R/base.md" "$W/base.md"
fi
if [ ! -f "$W/base.pt" ]; then
  log "train the base model on $BASE_SIZE frames"
  resume=(); [ -f "$W/base-ckpt/checkpoint.json" ] && resume=(--resume)
  "$SEGSA" train --images "$W/base/images" --labels "$W/base/labels" "${TRAIN_ARGS[@]}" --head features --epochs 40 --seed 1 \
    --out "$W/base.pt" --checkpoints "$W/base-ckpt" "${resume[@]}"
fi
cmp -s "$W/base.pt" "$R/base.pt" || { cp "$W/base.pt" "$R/base.pt"; cp "$W/base.md" "$R/base.md"; }

# 3. SA of the base model; scores of the pool and of the base set
[ -f "$W/base.sa" ] || "$SEGSA" fit --model "$W/base.pt" --images "$W/base/images" --labels "$W/base/labels" --out "$W/base.sa"
[ -f "$W/pool.csv" ] || "$SEGSA" score --model "$W/base.pt" --sa "$W/base.sa" --images "$W/pool/images" --uncertainty --out "$W/pool.csv"
[ -f "$W/base.csv" ] || "$SEGSA" score --model "$W/base.pt" --sa "$W/base.sa" --images "$W/base/images" --uncertainty --out "$W/base.csv"

# 4. the subsets
# a class whose pool is too small for the Large subset gets Small and Medium (the same frames all
# three sizes would draw); one too small even for those is reported and left out
subsets() {
  local k=$1 rule=$2; shift 2
  local d="$W/subsets/$k-$rule" sizes
  [ -f "$d/done" ] && return 0
  for sizes in small,medium,large small,medium small; do
    rm -rf "$d"; mkdir -p "$d"   # an existing directory: select writes one list per subset into it
    if "$SEGSA" select --scores "$W/pool.csv" --class "$k" --retrain-subsets --base-size "$BASE_SIZE" --min-pixels 500 "$@" \
      --sizes "$sizes" --out "$d"; then touch "$d/done"; return 0; fi
    log "no $rule subsets of sizes $sizes for $k (see the message above)"
  done
  rm -rf "$d"
}
for k in $TARGETS; do
  subsets "$k" mdsa --score mdsa
  subsets "$k" entropy --score entropy
  subsets "$k" diverse --score mdsa --diverse --seen "$W/base.csv"
done
# the record: the base model's scores of the pool and of the base set, and the subsets drawn
cp "$W/pool.csv" "$W/base.csv" "$R/"
for d in "$W"/subsets/*/; do [ -f "$d/done" ] || continue; mkdir -p "$R/subsets/$(basename "$d")"; cp "$d"/*.txt "$d"/subsets.csv "$R/subsets/$(basename "$d")/"; done
# what each subset adds: labelled target pixels per frame (CamVid's masks)
/usr/bin/python3 tools/results/rq3_subsets.py "$R" "$CAMVID" docs/results/rq3_subsets.md > /dev/null

# 5. the fine-tunings, in the phases below, every seed of a cell before the next cell, so that the
#    first complete comparisons (mean, sd, High vs Random) come early
RUN_INDEX=0
run_one() {
  local k=$1 rule=$2 subset=$3 seed=$4
  local list="$W/subsets/$k-$rule/$subset.txt" run="$W/runs/$k-$rule-$subset-seed$seed"
  [ -f "$list" ] || return 0
  RUN_INDEX=$((RUN_INDEX + 1))
  [ $(((RUN_INDEX - 1) % SHARD_N + 1)) -eq "$SHARD_I" ] || return 0
  [ -f "$run/model.pt" ] && return 0
  # a run finished in an earlier session: its card is kept in the repository
  [ -f "$R/runs/$(basename "$run").md" ] && return 0
  log "fine-tune $k $rule $subset seed $seed"
  mkdir -p "$run/images" "$run/labels"
  for n in $(ls "$W/base/images"); do
    ln -sfn "$(readlink -f "$W/base/images/$n")" "$run/images/$n"
    ln -sfn "$(readlink -f "$W/base/labels/$n")" "$run/labels/$n"
  done
  while read -r n; do
    [ -z "$n" ] && continue
    ln -sfn "$(readlink -f "$W/pool/images/$n")" "$run/images/$n"
    ln -sfn "$(readlink -f "$W/pool/labels/$n")" "$run/labels/$n"
  done < "$list"
  local resume=(); [ -f "$run/ckpt/checkpoint.json" ] && resume=(--resume)
  "$SEGSA" train --images "$run/images" --labels "$run/labels" "${TRAIN_ARGS[@]}" --init "$W/base.pt" --epochs "$EPOCHS" \
    --lr 0.0005 --seed "$seed" --validate-every "$VALIDATE_EVERY" --out "$run/model.pt" --checkpoints "$run/ckpt" "${resume[@]}"
  mkdir -p "$R/runs"
  cp "$run/model.md" "$R/runs/$(basename "$run").md"
}
# phases, most telling first (each about a minute a run on 2 cores, 168 runs in all): the paper's
# High / Random / Low by MDSA, then Diverse, then High / Random by entropy, then Low by entropy
for phase in mdsa:high,random,low diverse:diverse entropy:high,random entropy:low; do
  rule=${phase%%:*}
  for size in large medium small; do
    for k in $TARGETS; do
      [ -f "$W/subsets/$k-$rule/done" ] || continue
      levels=${phase#*:}
      for level in ${levels//,/ }; do
        for seed in $SEEDS; do run_one "$k" "$rule" "$level-$size" "$seed"; done
      done
      # 6. the table after every cell
      /usr/bin/python3 tools/results/rq3_table.py "$R" docs/results/rq3.md > /dev/null || true
    done
  done
done
log "done"
