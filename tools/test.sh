#!/usr/bin/env bash
# The whole test suite: installs what is missing (the build's packages and
# the tests' own: tools/bootstrap.sh --tests), builds, runs every ctest test
# (unit, e2e, MPI, SLURM); then builds prh against a serial HDF5
# (build-serial/, docs/store.md "Serial HDF5") and runs its e2e and MPI tests,
# the journal's unit tests and e2e.serial_parity (serial vs parallel, bit for
# bit).
# Then the numerical unit tests again under another OpenBLAS kernel
# (tools/blas-kernels.sh --quick).
# Then the sanitizers and the fuzzers (tools/sanitize.sh --ci,
# tools/fuzz.sh --ci; PRH_TEST_SANITIZE=0 skips them, see below).
# Arguments go to the first ctest and skip the kernel, serial and sanitize
# runs (PRH_TEST_SERIAL=1 / PRH_TEST_SANITIZE=1 run them anyway; =0 skips
# them).
# Exit status: non-zero if any of them failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh --tests
bash tools/build.sh
status=0
(cd build && ctest --output-on-failure --parallel "$(nproc)" --timeout 1500 "$@") || status=$?
if [ $# -eq 0 ]; then
  # The numerical unit tests once more under another OpenBLAS kernel
  # (docs/testing.md, "Numbers across machines").
  bash tools/blas-kernels.sh --quick build || status=$?
fi
serial=${PRH_TEST_SERIAL:-$([ $# -eq 0 ] && echo 1 || echo 0)}
if [ "$serial" = 1 ]; then
  bash tools/build.sh --serial
  (cd build-serial && ctest --output-on-failure --parallel "$(nproc)" --timeout 1500 \
    -R '^(e2e|mpi)\.|^UnitFileJournal\.') || status=$?
fi
# --- Fuzzing and sanitizers (docs/testing.md, "Fuzzing and sanitizers"):
# the sanitize preset (build-sanitize/, with the fuzzers): unit tests and
# e2e.export under ASan + UBSan + LSan, the MPI tests under ASan + UBSan
# (Open MPI's runtime leaks: no LSan there), then config, sidecar, idx, image
# and npy fuzzed 20 s each, two at a time, and the results and store corpora
# replayed (libhdf5's own defects on damaged files: fuzzed by the long runs
# of tools/fuzz.sh, not in CI). On by default, as the serial run
# (PRH_TEST_SANITIZE=0 skips it, =1 runs it with arguments too).
sanitize=${PRH_TEST_SANITIZE:-$([ $# -eq 0 ] && echo 1 || echo 0)}
if [ "$sanitize" = 1 ]; then
  bash tools/sanitize.sh --ci || status=$?
  bash tools/fuzz.sh --ci || status=$?
fi
# --- end of fuzzing and sanitizers
exit $status
