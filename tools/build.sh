#!/usr/bin/env bash
# Installs what is missing (tools/bootstrap.sh), then configures and builds
# prh with the release preset into build/. Idempotent and incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
if [ ! -f build/CMakeCache.txt ]; then
  cmake --preset release >/dev/null
fi
cmake --build build --parallel "$(nproc)"
