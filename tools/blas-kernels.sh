#!/usr/bin/env bash
# Runs prh's numerical unit tests under every OpenBLAS kernel family that
# Debian's OpenBLAS (DYNAMIC_ARCH) can select on this CPU, each with 1 and
# 2 threads (issue 29; docs/testing.md, "Numbers across machines"). The
# kernel is forced with OPENBLAS_CORETYPE, and the one in use is read back
# from OPENBLAS_VERBOSE=2 (a family this CPU cannot run falls back to
# another, which the line shows; such a run is reported and not counted).
#
#   tools/blas-kernels.sh [BUILD_DIR]          every family, 1 and 2 threads
#   tools/blas-kernels.sh --quick [BUILD_DIR]  what CI runs (tools/test.sh):
#       the numerical tests under Prescott (the generic SSE3 kernel, the
#       furthest from the AVX2/AVX-512 kernels a CI machine picks by itself)
#       with 2 threads
#
# Exit 1 if any run fails; the last line counts the runs.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
B=${1:-build}
BINARIES=(prh-unit-tests prh-accel-tests prh-stats-tests)
# Numerical tests only in the quick run (the kNN, products, HSIC, metrics,
# nulls and the LibTorch backend); everything in the full run.
QUICK_FILTER='Null.*:Accel*:Knn*:Hsic*:Cknna*:Svcca*:Engine*:KnnMetrics*:Preprocess*'

# Families of x86-64 kernels in OpenBLAS 0.3.21 and the CPU flag each needs
# (as /proc/cpuinfo spells it: SSE3 is "pni").
families=(Prescott:pni Core2:ssse3 Nehalem:sse4_2 Sandybridge:avx Haswell:avx2 Zen:avx2
          SkylakeX:avx512f Cooperlake:avx512_bf16)
if [ "$quick" = 1 ]; then families=(Prescott:pni); threads=(2); BINARIES=(prh-unit-tests prh-accel-tests); else threads=(1 2); fi

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
passed=0 failed=0
for f in "${families[@]}"; do
  core=${f%%:*} flag=${f#*:}
  case " $flags " in
    *" $flag "*) ;;
    *) echo "skip $core: this CPU lacks $flag"; continue ;;
  esac
  for t in "${threads[@]}"; do
    for bin in "${BINARIES[@]}"; do
      [ -x "$B/tests/$bin" ] || { echo "FAIL: $B/tests/$bin not built"; failed=$((failed + 1)); continue; }
      filter=()
      [ "$quick" = 1 ] && filter=(--gtest_filter="$QUICK_FILTER")
      log=$(mktemp)
      OPENBLAS_CORETYPE=$core OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t \
        "$B/tests/$bin" "${filter[@]}" --gtest_brief=1 >"$log" 2>&1
      rc=$?
      used=$(grep -m1 -o 'Core: [A-Za-z0-9]*' "$log" | cut -d' ' -f2)
      if [ -n "$used" ] && [ "${used,,}" != "${core,,}" ]; then
        echo "skip $core ($t threads, $bin): OpenBLAS ran $used instead"
      elif [ "$rc" = 0 ]; then
        echo "ok   $core ($t threads): $bin ($(grep -m1 -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$log"))"
        passed=$((passed + 1))
      else
        echo "FAIL $core ($t threads): $bin exit $rc"
        grep -E '^\[  FAILED  \]|Failure|error' "$log" | head -n 20
        failed=$((failed + 1))
      fi
      rm -f "$log"
    done
  done
done
echo "blas-kernels: $passed runs passed, $failed runs failed"
[ "$failed" = 0 ]
