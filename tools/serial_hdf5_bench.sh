#!/usr/bin/env bash
# What the serial-HDF5 mode costs (docs/store.md, "Serial HDF5"): the same
# `prh run` (embed: parts merged by rank 0; reduce: journals replayed by
# rank 0) with a parallel-HDF5 build and a serial-HDF5 build, side by side,
# A B A B ..., fresh output each run, under mpirun with RANKS ranks; prints
# each run's wall seconds by stage (from prh's own log lines) and the ratio
# serial / parallel pair by pair.
#
#   bash tools/serial_hdf5_bench.sh [PAIRS] [RANKS]    (defaults: 3, 2)
#
# Needs build/ and build-serial/ (bash tools/build.sh --serial) and the test
# models' tool (build/tests/prh-make-test-models).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
ranks=${2:-2}
par=build/prh
ser=build-serial/prh
for b in "$par" "$ser" build/tests/prh-make-test-models; do
  [ -x "$b" ] || { echo "serial_hdf5_bench: $b missing (bash tools/build.sh --serial)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/prh-serial-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/models"
build/tests/prh-make-test-models "$work/models" --wide 2 >/dev/null
fashion=/usr/share/datasets/fashion-mnist
cat >"$work/bench.yaml" <<YAML
store: STORE
results: RESULTS
shard_size: 500
batch_size: 50
image_sets:
  - name: id
    source: {kind: idx, images: $fashion/t10k-images-idx3-ubyte.gz, labels: $fashion/t10k-labels-idx1-ubyte.gz, limit: 4000}
  - name: uniform
    source: {kind: noise, count: 4000, height: 28, width: 28, channels: 1, seed: 3}
models:
  - {name: dict, path: $work/models/dict_model.pt}
  - {name: tuple, path: $work/models/tuple_model.pt}
  - {name: wide0, path: $work/models/wide_0.pt, sidecar: $work/models/wide_0.yaml}
  - {name: wide1, path: $work/models/wide_1.pt, sidecar: $work/models/wide_1.yaml}
metrics: [mutual_knn:k=10, cknna:k=10, cycle_knn:k=10, lcs_knn:k=10, edit_distance_knn:k=10, cka, unbiased_cka, svcca:cca_dim=10]
correlations: [spearman]
bootstrap: 100
mantel: 99
calibration: {permutations: 200, alpha: 0.05, seed: 0, metrics: [mutual_knn:k=10, cka]}
YAML
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
run() {  # BINARY NAME -> "wall embed merge reduce"
  local out="$work/$2"
  mkdir -p "$out"
  sed "s|STORE|$out/store.h5|; s|RESULTS|$out/results.h5|" "$work/bench.yaml" >"$out/c.yaml"
  local t0 t1
  t0=$(date +%s.%N)
  mpirun -n "$ranks" --oversubscribe "$1" run "$out/c.yaml" >"$out/log" 2>&1 ||
    { echo "serial_hdf5_bench: $1 failed, log $out/log:" >&2; tail -20 "$out/log" >&2; exit 1; }
  t1=$(date +%s.%N)
  local embed merge reduce
  embed=$(grep -oP 'embed: done, \d+ items embedded in \K[0-9.]+' "$out/log" | tail -1 || true)
  merge=$(grep -oP 'from parts into the store in \K[0-9.]+' "$out/log" | tail -1 || true)
  reduce=$(grep -oP 'reduce: done in \K[0-9.]+' "$out/log" | tail -1 || true)
  echo "$(echo "$t1 - $t0" | bc -l) ${embed:-nan} ${merge:-0} ${reduce:-nan}"
  rm -rf "$out"
}
printf '%-6s %-10s %8s %8s %8s %8s\n' pair build wall_s embed_s merge_s reduce_s
ratios=()
for ((i = 1; i <= pairs; i++)); do
  read -r pw pe pm pr < <(run "$par" "par$i")
  read -r sw se sm sr < <(run "$ser" "ser$i")
  printf '%-6s %-10s %8.2f %8s %8s %8s\n' "$i" parallel "$pw" "$pe" "$pm" "$pr"
  printf '%-6s %-10s %8.2f %8s %8s %8s\n' "$i" serial "$sw" "$se" "$sm" "$sr"
  ratios+=("$(echo "$sw / $pw" | bc -l)")
done
printf 'serial / parallel wall, pair by pair:'
printf ' %.3f' "${ratios[@]}"
echo
printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {printf "median %.3f (%d pairs, %s ranks)\n", a[int((NR+1)/2)], NR, "'"$ranks"'"}'
