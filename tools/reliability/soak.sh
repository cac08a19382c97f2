#!/usr/bin/env bash
# Soak: segsa score over N frames (CamVid train + val, repeated under new names) with
# models/camvid.pt, sampling the JVM's resident memory every 2 s.
#   tools/reliability/soak.sh [FRAMES=3000] [OUT=/tmp/segsa-soak]
# Writes OUT/rss.csv (seconds,rss_kib) and prints start / after 10% / end / max RSS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${1:-3000}"
OUT="${2:-/tmp/segsa-soak}"
CAMVID="${SEGSA_CAMVID:-$ROOT/../shared/data/camvid}"
rm -rf "$OUT" && mkdir -p "$OUT/frames"
mapfile -t SRC < <(ls "$CAMVID"/train/*.png "$CAMVID"/val/*.png)
for ((i = 0; i < N; i++)); do
  ln -s "${SRC[$((i % ${#SRC[@]}))]}" "$(printf '%s/frames/f%05d.png' "$OUT" "$i")"
done
mkdir -p "$OUT/fit"
for f in $(ls "$CAMVID"/train/*.png | head -24); do ln -s "$f" "$OUT/fit/"; done
"$ROOT/bin/segsa" fit --model "$ROOT/models/camvid.pt" --images "$OUT/fit" --labels "$CAMVID/trainannot" \
  --out "$OUT/camvid.sa" --lsa-references 0 > "$OUT/fit.log" 2>&1
"$ROOT/bin/segsa" score --model "$ROOT/models/camvid.pt" --sa "$OUT/camvid.sa" --images "$OUT/frames" \
  --out "$OUT/scores.csv" > "$OUT/score.log" 2>&1 &
PID=$!
echo "seconds,rss_kib" > "$OUT/rss.csv"
T0=$(date +%s)
JAVA_PID=""
while kill -0 "$PID" 2>/dev/null; do
  [ -z "$JAVA_PID" ] && JAVA_PID="$(pgrep -P "$PID" java || pgrep -f "SegsaCommand score" | head -1 || true)"
  P="${JAVA_PID:-$PID}"
  RSS="$(awk '/VmRSS/ {print $2}' "/proc/$P/status" 2>/dev/null || true)"
  [ -n "$RSS" ] && echo "$(( $(date +%s) - T0 )),$RSS" >> "$OUT/rss.csv"
  sleep 2
done
wait "$PID"
tail -3 "$OUT/score.log"
awk -F, 'NR == 2 {first = $2} NR > 1 {rows[NR] = $2; if ($2 > max) max = $2; last = $2; n = NR}
  END {tenth = rows[int(2 + (n - 2) / 10)];
       printf "RSS KiB: first sample %d, after 10%% of the run %d, last %d, max %d (%d samples)\n", first, tenth, last, max, n - 1}' "$OUT/rss.csv"
