#!/usr/bin/env bash
# The whole test suite: installs what is missing (the build's packages and
# the tests' own: tools/bootstrap.sh --tests), builds, runs every ctest test
# (unit, e2e, MPI, SLURM); then builds prh against a serial HDF5
# (build-serial/, docs/store.md "Serial HDF5") and runs its e2e and MPI tests,
# the journal's unit tests and e2e.serial_parity (serial vs parallel, bit for
# bit).
# Then the numerical unit tests again under another OpenBLAS kernel
# (tools/blas-kernels.sh --quick).
# With PRH_TEST_SANITIZE=1, then the sanitizers and the fuzzers
# (tools/sanitize.sh --ci, tools/fuzz.sh --ci; opt-in, see below).
# Arguments go to the first ctest and skip the kernel and serial runs
# (PRH_TEST_SERIAL=1 runs it anyway; =0 skips it).
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
# the sanitize preset (build-sanitize/, with the fuzzers): unit, MPI and
# e2e.export under ASan + UBSan + LSan, then each libFuzzer target for 15 s,
# two at a time. Opt-in again (PRH_TEST_SANITIZE=1) after the clean-clone run
# of 2026-12-06: it added about 15 minutes on the shared 2-core machine and
# failed on findings outside prh's code (libhdf5: a heap-buffer-overflow in
# H5Aexists on a damaged object header and leaks on its error paths; Open
# MPI's runtime leaks under LSan in the MPI tests); docs/testing.md.
sanitize=${PRH_TEST_SANITIZE:-0}
if [ "$sanitize" = 1 ]; then
  bash tools/sanitize.sh --ci || status=$?
  bash tools/fuzz.sh --ci || status=$?
fi
# --- end of fuzzing and sanitizers
exit $status
