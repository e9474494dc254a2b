#!/usr/bin/env bash
# The machine's own ceiling for a 2-rank speed-up (issue 25): the same
# single-threaded job run alone, then as two copies at once, for a
# compute-bound kernel (float32 GEMM, what prepare/score/calibrate spend most
# time in) and a memory-bound one (random gathers from a 256 MB array, what
# the kNN passes do). Ratio = 2 x t_alone / t_pair (t_pair: the slower of
# the two copies): 2.00 when two cores run two jobs as fast as one runs one,
# less when they share a physical core, caches, memory bandwidth or a host
# with other tenants. Alone and paired alternate REPS times (default 5); the
# line gives the median ratio and its range. Run it on an otherwise idle
# machine:
#
#   bash bench/cpu_ceiling.sh          # one line per kernel
set -euo pipefail
py=/usr/bin/python3
reps=${REPS:-5}
cores=$(nproc --all)
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel() {
  "$py" - "$1" <<'PY'
import sys, time
import numpy as np
rng = np.random.default_rng(0)
if sys.argv[1] == "gemm":
    a = rng.standard_normal((1000, 1000), dtype=np.float32)
    t = time.perf_counter()
    for _ in range(120):
        a @ a
else:
    x = rng.standard_normal(64 * 1024 * 1024, dtype=np.float32)  # 256 MB
    idx = rng.integers(0, x.size, 8_000_000)
    t = time.perf_counter()
    for _ in range(8):
        x[idx].sum()
print(time.perf_counter() - t)
PY
}
for k in gemm gather; do
  kernel "$k" >/dev/null  # warm-up (page faults, clocks)
  : >"$tmp/$k"
  for _ in $(seq "$reps"); do
    alone=$(kernel "$k")
    kernel "$k" >"$tmp/a" &
    kernel "$k" >"$tmp/b" &
    wait
    echo "$alone $(cat "$tmp/a") $(cat "$tmp/b")" >>"$tmp/$k"
  done
  "$py" - "$k" "$tmp/$k" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2])]
ratios = sorted(2 * al / max(a, b) for al, a, b in rows)
alone = statistics.median(r[0] for r in rows)
pair = statistics.median(max(r[1], r[2]) for r in rows)
print(f"{sys.argv[1]:7s} alone {alone:5.2f} s, two at once {pair:5.2f} s (medians of {len(rows)}): "
      f"ratio {statistics.median(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f}; 2.00 = two full cores)")
PY
done
echo "cores: $cores; $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'); threads per core: $(lscpu | sed -n 's/^Thread(s) per core:[[:space:]]*//p')"
