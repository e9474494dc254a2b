#!/usr/bin/env bash
# The study-size benchmark (issue 25 part 4; bench/README.md, "Study-size
# benchmark"): imported synthetic features (bench/study_size.py), then
# `prh embed` and `prh reduce` on 1 and on 2 ranks, each command wrapped per
# rank in /usr/bin/time -v. Prints wall time per stage, peak RSS per rank and
# the 1-rank vs 2-rank speed-up.
#
#   bash bench/study_size.sh                          # full size: 32 models,
#                                                     # N 20000, D 768, K 200
#   MODELS=6 N=2000 D=128 K=20 bash bench/study_size.sh   # small
#   RANKS="2" ... / OUT=out/elsewhere ...             # which rank counts, where
#
# Needs build/prh (bash tools/build.sh --main). Features are generated once
# per scale into $OUT (default out/study_size_M_N_D; kept, ~2*M*N*D*4 bytes);
# the store and results are rebuilt for every rank count. Per-rank
# /usr/bin/time outputs stay in $OUT/time/.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${MODELS:-32} N=${N:-20000} D=${D:-768} K=${K:-200} RANKS=${RANKS:-"1 2"}
OUT=${OUT:-out/study_size_${MODELS}_${N}_${D}}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
  OMPI_MCA_btl_vader_single_copy_mechanism=none
[ -x build/prh ] || { echo "study_size: build/prh missing (bash tools/build.sh --main)" >&2; exit 2; }

t0=$(date +%s.%N)
/usr/bin/python3 bench/study_size.py --out "$OUT" --models "$MODELS" --n "$N" --dim "$D" \
  --permutations "$K" >/dev/null
gen=$(echo "$(date +%s.%N) - $t0" | bc)
cfg=$OUT/study.yaml
mkdir -p "$OUT/time"
echo "study_size: $MODELS models, 2 sets of N = $N, D = $D, K = $K; features $(awk -v b="$((2 * MODELS * N * D * 4))" 'BEGIN{printf "%.2f GB", b / 1e9}') (generated/checked in $(printf %.1f "$gen") s)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $(date -u +%FT%TZ)"

rows=()
declare -A wall
declare -A phases
for r in $RANKS; do
  rm -f "$OUT/store.h5" "$OUT/results.h5"
  for stage in embed reduce; do
    log=$OUT/time/${stage}_r$r.log
    s=$(date +%s.%N)
    # each rank writes its own /usr/bin/time -v report
    mpiexec -n "$r" --oversubscribe sh -c \
      '/usr/bin/time -v -o "$0.rank${OMPI_COMM_WORLD_RANK:-0}" "$@"' \
      "$OUT/time/${stage}_r$r" build/prh "$stage" "$cfg" >"$log" 2>&1 \
      || { echo "study_size: prh $stage on $r ranks failed; see $log" >&2; tail -5 "$log" >&2; exit 1; }
    w=$(echo "$(date +%s.%N) - $s" | bc)
    wall[$stage,$r]=$w
    rss=""
    for f in "$OUT/time/${stage}_r$r".rank*; do
      kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$f")
      rss+="$(awk -v k="$kb" 'BEGIN{printf "%.0f", k/1024}') "
    done
    rows+=("$(printf '%-7s %5s %10.1f   %s' "$stage" "$r" "$w" "$rss")")
  done
  # reduce's phases from its log's time stamps (1 s resolution): prepare,
  # score, calibrate, then derive (correlations, predictions, writing)
  phases[$r]=$(awk '
    function t(s) { split(substr(s, 2, 8), hms, ":"); return hms[1] * 3600 + hms[2] * 60 + hms[3] }
    /reduce: preparing/ { p = t($1) } /reduce: scoring/ { s = t($1) }
    /reduce: calibrating/ { c = t($1) } /alignment done/ { al = t($1) } /reduce: done in/ { d = t($1) }
    END { printf "prepare %d s, score %d s, calibrate %d s, derive %d s", s - p, c - s, al - c, d - al }
  ' "$OUT/time/reduce_r$r.log")
done

echo
printf '%-7s %5s %10s   %s\n' stage ranks "wall (s)" "peak RSS per rank (MiB)"
for row in "${rows[@]}"; do echo "$row"; done
for r in $RANKS; do echo "reduce phases, $r ranks (log time stamps): ${phases[$r]}"; done
set -- $RANKS
if [ $# -ge 2 ]; then
  a=$1 b=$2
  for stage in embed reduce; do
    printf 'speed-up %s, %s -> %s ranks: %.2f\n' "$stage" "$a" "$b" \
      "$(echo "${wall[$stage,$a]} / ${wall[$stage,$b]}" | bc -l)"
  done
  printf 'speed-up total, %s -> %s ranks: %.2f\n' "$a" "$b" \
    "$(echo "(${wall[embed,$a]} + ${wall[reduce,$a]}) / (${wall[embed,$b]} + ${wall[reduce,$b]})" | bc -l)"
fi
