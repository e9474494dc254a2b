#!/usr/bin/env bash
# Installs every Debian package that prh's build, tests and demo need.
# Idempotent: does nothing (and prints nothing) when everything is there.
#
#   bash tools/bootstrap.sh           what the build, the demo and the report need
#   bash tools/bootstrap.sh --tests   also what only the tests need (TEST_PACKAGES;
#                                     tools/test.sh passes it)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format git
  libtorch-dev libopenblas0-pthread libopenblas-pthread-dev
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libboost-dev
  libopencv-imgcodecs-dev libopencv-imgproc-dev libopencv-core-dev
  dataset-fashion-mnist
  # The natural photographs of the default zoo's `natural` members and probe
  # set (skimage/data: astronaut, camera, coffee, chelsea, rocket, ...; docs/zoo.md).
  # Not small (a 20.7 MB download, apt-cache show, plus scipy, networkx,
  # imageio, pywavelets and tifffile), but the only Debian package found
  # that ships a set of ordinary photographs.
  python3-skimage
  python3-h5py python3-numpy python3-pandas
  # `prh report` (tools/prh_report.py) draws its figures with matplotlib.
  python3-matplotlib
  zlib1g-dev
  # Single-node SLURM (slurm/local/start.sh, jobs/, tests/slurm/):
  # slurmctld + slurmd + client tools, munge for authentication, and the
  # PMIx library that the mpi/pmix plugin dlopens for `srun --mpi=pmix`.
  slurm-wlm slurmctld slurmd slurm-client slurm-wlm-basic-plugins
  munge libpmix2 libpmix-dev
)
# Only for the tests (tools/test.sh): PyTorch and torchvision for Debian's
# /usr/bin/python3, to export the test models with tools/export_*.py and to
# compute the reference features of the parity test (tests/e2e/test_parity.py);
# PIL for torchvision's eval transforms (python3-skimage, whose photographs the
# parity test also uses, is in PACKAGES).
# chromium: tests/e2e/test_report.py renders the report in headless Chromium.
# libhdf5-dev and ccache: the tests build prh a second time against Debian's
# serial HDF5 (build-serial/, docs/store.md "Serial HDF5"); ccache makes that
# build recompile only the files that include HDF5's headers.
# clang, libclang-rt-14-dev (ASan, UBSan, LSan and libFuzzer's runtimes) and
# libomp-14-dev (clang's OpenMP): the sanitize preset, tools/sanitize.sh and
# tools/fuzz.sh (docs/testing.md, "Fuzzing and sanitizers").
# tcl: e2e.install evaluates the installed module file with tclsh.
TEST_PACKAGES=(
  python3-torch python3-torchvision python3-pil chromium
  libhdf5-dev ccache tcl
  clang libclang-rt-14-dev libomp-14-dev
)

case "${1:-}" in
  "") ;;
  --tests) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  *)
    echo "bootstrap: unknown option '$1' (usage: bootstrap.sh [--tests])" >&2
    exit 2
    ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "bootstrap: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch and Eigen must not run on the reference BLAS (about 50x slower).
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *)
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
      cand=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -n1 || true)
      [ -n "$cand" ] && $SUDO update-alternatives --quiet --set "$alt" "$cand"
    done
    ;;
esac
