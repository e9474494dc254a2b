#!/usr/bin/env bash
# The whole test suite: installs what is missing (the build's packages and
# the tests' own: tools/bootstrap.sh --tests), builds, runs every ctest test
# (unit, e2e, MPI, SLURM). Exit status: ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh --tests
bash tools/build.sh
cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 1500 "$@"
