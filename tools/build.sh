#!/usr/bin/env bash
# Installs what is missing (tools/bootstrap.sh), then configures and builds
# prh with the release preset into build/. Idempotent and incremental.
#
#   bash tools/build.sh            build/ (parallel HDF5: the default), every
#                                  target: prh, the tests and the benchmarks
#   bash tools/build.sh --main     build/, only what the main job needs: prh
#                                  and prh-models (tools/run-demo; cmake --install)
#   bash tools/build.sh --serial   also build-serial/ against Debian's serial
#                                  HDF5 (libhdf5-dev; docs/store.md), with
#                                  e2e.serial_parity comparing it to build/
#
# ccache, when installed (tools/bootstrap.sh --tests installs it), makes the
# second build cheap: only the files that include HDF5's headers differ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD"  # the same objects whatever the build folder
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake --preset release "${launcher[@]}" >/dev/null
fi
if [ "${1:-}" = --main ]; then
  cmake --build build --parallel "$(nproc)" --target prh prh-models
  exit 0
fi
cmake --build build --parallel "$(nproc)"
case "${1:-}" in
  "") ;;
  --serial)
    if [ ! -f build-serial/CMakeCache.txt ]; then
      cmake --preset serial "${launcher[@]}" -DPRH_PARALLEL_PRH="$PWD/build/prh" >/dev/null
    fi
    cmake --build build-serial --parallel "$(nproc)"
    ;;
  *)
    echo "build: unknown option '$1' (usage: build.sh [--main | --serial])" >&2
    exit 2
    ;;
esac
