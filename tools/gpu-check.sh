#!/usr/bin/env bash
# One prepared check of prh on a machine with an NVIDIA GPU and PyTorch
# (issue 17): builds prh against PyTorch's LibTorch with serial HDF5 (the
# `pytorch` preset), runs the GPU tests (ctest -L gpu), then prints a short
# table, also written to LOG/table.txt:
#   (a) ViT-B/16 (torchvision, random weights, exported by
#       tools/export_torchvision.py) through `prh embed` on noise images:
#       images/s on the CPU and on the GPU;
#   (b) the eight metrics of `prh compare` (defaults) at N = 10000, D = 768 on
#       the GPU, each beside a dense PyTorch implementation of metrics.md
#       (tools/gpu_check_reference.py): seconds, ratio, scores, |difference|.
# Meant to finish in under 6 minutes on 16 cores and one H200.
#
#   bash tools/gpu-check.sh                 the GPU machine (python3 = PyTorch with CUDA)
#   bash tools/gpu-check.sh --cpu           dry run on a CPU machine: Debian's LibTorch
#                                           and /usr/bin/python3, the existing build dir
#                                           (default build/), N = 1000, D = 64, few images
# Options: --log DIR (default out/gpu-check-DATE[-cpu]), --build DIR (default
# build-pytorch, or build with --cpu), --python PY (the interpreter with torch,
# torchvision, h5py, numpy; also $PRH_PYTHON; default python3, or
# /usr/bin/python3 with --cpu). Environment knobs: GPU_CHECK_N, GPU_CHECK_D,
# GPU_CHECK_VIT_CPU, GPU_CHECK_VIT_GPU (images), GPU_CHECK_JOBS (build jobs),
# GPU_CHECK_RANKS (MPI ranks sharing the GPU in its embed: default 1, whose
# single thread of image generation and preprocessing may bound the rate).
#
# Every step logs to LOG/NN-step.log; a failed step is reported in the table
# and the script goes on with the steps that do not depend on it; the exit
# status is 1 if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=gpu
log=""
build=""
py="${PRH_PYTHON:-}"
while (($#)); do
  case "$1" in
    --cpu) mode=cpu ;;
    --log) log=$2; shift ;;
    --build) build=$2; shift ;;
    --python) py=$2; shift ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = gpu ]; then
  py=${py:-python3}
  build=${build:-build-pytorch}
  device=cuda
  n=${GPU_CHECK_N:-10000}
  d=${GPU_CHECK_D:-768}
  vit_cpu=${GPU_CHECK_VIT_CPU:-64}
  vit_gpu=${GPU_CHECK_VIT_GPU:-2048}
else
  py=${py:-/usr/bin/python3}
  build=${build:-build}
  device=cpu
  n=${GPU_CHECK_N:-1000}
  d=${GPU_CHECK_D:-64}
  vit_cpu=${GPU_CHECK_VIT_CPU:-8}
  vit_gpu=0
fi
jobs=${GPU_CHECK_JOBS:-$(nproc)}
ranks=${GPU_CHECK_RANKS:-1}  # MPI ranks of the GPU embed (all on GPU 0); the CPU one has 1
threads=$(($(nproc) / ranks))
[ "$threads" -ge 1 ] || threads=1
log=${log:-out/gpu-check-$(date -u +%Y%m%d-%H%M%S)$([ "$mode" = cpu ] && echo -cpu)}
mkdir -p "$log"
log=$(cd "$log" && pwd)
table="$log/table.txt"
: >"$table"
failed_file="$log/failed-steps.txt"
: >"$failed_file"
start=$SECONDS

# Progress on stderr (stdout ends with the table).
say() { echo "gpu-check: $*" >&2; }
die() {
  echo "gpu-check: error: $*" >&2
  exit 2
}

# step NAME SECONDS CMD...: runs CMD, killed after SECONDS, with its output in
# LOG/NN-NAME.log (NN counts the logs there); returns its status; a failure is
# listed in LOG/failed-steps.txt.
step() {
  local name=$1 limit=$2
  shift 2
  local f
  f=$(printf '%s/%02d-%s.log' "$log" "$(($(ls "$log" | grep -c '^[0-9][0-9]-.*\.log$') + 1))" "$name")
  local t0=$SECONDS rc=0
  say "[$((SECONDS - start))s] $name ..."
  { echo "+ $*"; timeout --kill-after=10 "$limit" "$@"; } >"$f" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && echo "gpu-check: killed after $limit s" >>"$f"
    say "  $name FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ": over $limit s"), $((SECONDS - t0)) s); last lines of $f:"
    tail -n 15 "$f" | sed 's/^/    /' >&2
    echo "$name" >>"$failed_file"
  else
    say "  $name ok ($((SECONDS - t0)) s)"
  fi
  return "$rc"
}

say "mode $mode; logs and table in $log"

# --- 1. Prerequisites -------------------------------------------------------------
command -v cmake >/dev/null || die "cmake not found on PATH"
command -v "$py" >/dev/null || die "the Python '$py' was not found (--python or PRH_PYTHON)"
if [ "$mode" = gpu ]; then
  command -v nvidia-smi >/dev/null || die "nvidia-smi not found: is this a machine with an NVIDIA GPU and its driver?"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$log/00-gpu.txt" 2>&1 ||
    die "nvidia-smi failed: $(cat "$log/00-gpu.txt")"
  command -v ninja >/dev/null || die "ninja not found on PATH (the pytorch preset uses the Ninja generator)"
fi
"$py" - >"$log/00-python.txt" 2>&1 <<EOF || die "$py lacks what the check needs: $(tail -n 3 "$log/00-python.txt")"
import sys
import h5py, numpy, torch, torchvision
print(sys.executable, sys.version.split()[0], "torch", torch.__version__, "torchvision",
      torchvision.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if "$mode" == "gpu":
    if torch.version.cuda is None:
        sys.exit("this PyTorch is built without CUDA (torch.version.cuda is None)")
    if not torch.cuda.is_available():
        sys.exit("torch.cuda.is_available() is False: no GPU visible to PyTorch")
    print("gpu:", torch.cuda.get_device_name(0))
EOF
say "$(head -n 1 "$log/00-python.txt")"
[ "$mode" = gpu ] && say "gpu: $(cat "$log/00-gpu.txt")"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
  OMPI_MCA_btl_vader_single_copy_mechanism=none

# --- 2. Configure and build --------------------------------------------------------
built=1
if [ "$mode" = gpu ]; then
  # DEBIAN_PYTHON: the interpreter of the Python tests (gpu.e2e.device needs
  # h5py and numpy, which that machine has in PyTorch's Python, maybe not in
  # /usr/bin/python3).
  cmake_args=(--preset pytorch -B "$build" -DPRH_PYTHON="$(command -v "$py")"
    -DDEBIAN_PYTHON="$(command -v "$py")"
    -DPRH_PARALLEL_HDF5=OFF -DPRH_GPU_TESTS=ON -DPRH_BUILD_BENCH=OFF)
  opencv_headers=0
  for h in /usr/include/opencv4/opencv2/imgcodecs.hpp /usr/local/include/opencv4/opencv2/imgcodecs.hpp; do
    [ -f "$h" ] && opencv_headers=1
  done
  if [ "$opencv_headers" = 0 ]; then
    cmake_args+=(-DPRH_WITH_OPENCV=OFF)  # only opencv-python here: no C++ headers
  fi
  if command -v ccache >/dev/null; then
    cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  step configure 120 cmake "${cmake_args[@]}" || built=0
elif [ ! -f "$build/CMakeCache.txt" ]; then
  step configure 120 cmake --preset release -B "$build" -DPRH_BUILD_BENCH=OFF || built=0
fi

# The GPU tests' executables: the targets named *gpu* (test binaries behind
# PRH_GPU_TESTS; tests that gtest_discover_tests finds exist only once they are
# built), plus every executable of this build dir named in the commands of the
# tests that ctest -L LABEL lists.
tests_targets() {
  local label=$1 all
  all=$(ninja -C "$build" -t targets all 2>/dev/null | sed -n 's/^\([A-Za-z0-9_.+-]*\): \(phony\|CXX_EXECUTABLE_LINKER__.*\)$/\1/p' | grep -v '^cmake_')
  {
    grep -e "$label" <<<"$all"
    (cd "$build" && ctest -L "$label" --show-only=json-v1 2>/dev/null) | "$py" -c '
import json, os, sys
try:
    tests = json.load(sys.stdin).get("tests", [])
except ValueError:
    tests = []
root = os.path.abspath(sys.argv[1]) + os.sep
for t in tests:
    for arg in t.get("command") or []:
        if os.path.abspath(arg).startswith(root):
            print(os.path.basename(arg))' "$build"
  } | sort -u | grep -x -F -f <(echo "$all") || true
}
if [ "$built" = 1 ]; then
  targets=(prh prh-models)
  if [ "$mode" = gpu ]; then
    mapfile -t extra < <(tests_targets gpu)
    targets+=("${extra[@]}")
  fi
  say "targets: ${targets[*]}"
  step build 600 cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" || built=0
fi
prh="$root/$build/prh"

# --- 3. GPU tests ------------------------------------------------------------------
gpu_tests="not run"
count_gpu_tests() {
  local c
  c=$( (cd "$build" && ctest -L gpu -N 2>/dev/null) | sed -n 's/^Total Tests: *//p')
  echo "${c:-0}"
}
if [ "$built" = 1 ]; then
  ntests=$(count_gpu_tests)
  if [ "$mode" = gpu ] && [ "$ntests" = 0 ] && grep -q 'PRH_GPU_TESTS' CMakeLists.txt tests/CMakeLists.txt; then
    # GPU tests exist in the tree but none is listed yet: tests found by
    # gtest_discover_tests appear only once their binary is built, and their
    # target's name was not guessed. Build everything configured (no benchmarks).
    step build-all 600 cmake --build "$build" --parallel "$jobs" || true
    ntests=$(count_gpu_tests)
  fi
  if [ "$mode" = cpu ]; then
    gpu_tests="not run (--cpu); $ntests tests labelled gpu in $build"
  elif [ "$ntests" = 0 ]; then
    gpu_tests="none: no test labelled gpu (PRH_GPU_TESTS not implemented in this tree?)"
  elif step ctest-gpu 300 ctest --test-dir "$build" -L gpu --output-on-failure --timeout 240; then
    gpu_tests="$ntests passed"
  else
    gpu_tests="FAILED (see $log/*-ctest-gpu.log)"
  fi
fi

# --- 4. ViT-B/16 through prh embed ---------------------------------------------------
vit_lines=()
if [ "$built" = 1 ] && step export-vit 120 "$py" tools/export_torchvision.py --arch vit_b_16 \
  --weights none --out "$log/models"; then
  # embed_run DEVICE IMAGES BATCH: one `prh embed` on IMAGES noise images
  # (256 x 256: the sidecar's resize, so only the 224 centre crop is taken),
  # its own store; prints prh's "embed: done ... in S s" seconds.
  embed_run() {
    local dev=$1 count=$2 batch=$3 dir="$log/embed-$1-$2"
    mkdir -p "$dir"
    cat >"$dir/config.yaml" <<EOF
store: $dir/store.h5
seed: 0
batch_size: $batch
shard_size: 256
device: $dev
threads_per_rank: $threads
image_sets:
  - name: noise
    source: {kind: noise, count: $count, height: 256, width: 256, seed: 1}
models:
  - name: vit_b_16
    path: $log/models/vit_b_16.pt
EOF
    local launch=("$prh")
    if [ "$dev" = cuda ] && [ "$ranks" -gt 1 ]; then
      launch=(mpiexec -n "$ranks" --oversubscribe "$prh")
    fi
    step "embed-$dev-$count" 180 "${launch[@]}" embed "$dir/config.yaml" || return 1
    sed -n 's/.*embed: done, [0-9]* items embedded in \([0-9.]*\) s.*/\1/p' \
      "$(ls "$log"/*"embed-$dev-$count.log" | tail -n 1)" | tail -n 1
  }
  # Two runs per device: images/s over the whole stage (model load and, on
  # the GPU, CUDA start-up included), and the steady rate from the difference
  # of a small and a large run (the same fixed costs cancel).
  vit_device() {
    local dev=$1 big=$2 batch=$3 small=$(($2 / 4))
    [ "$small" -ge 1 ] || small=1
    local ts tb
    ts=$(embed_run "$dev" "$small" "$batch") || ts=""
    tb=$(embed_run "$dev" "$big" "$batch") || tb=""
    if [ -z "$tb" ]; then
      vit_lines+=("$(printf '%-6s %7s %9s %10s %12s' "$dev" "$big" failed - -)")
      return
    fi
    "$py" - "$dev" "$small" "$ts" "$big" "$tb" <<'EOF' >>"$log/vit-rows.txt"
import sys
dev, ns, ts, nb, tb = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
steady = (nb - ns) / (tb - float(ts)) if ts and tb > float(ts) else float("nan")
print(f"{dev:<6} {nb:>7} {tb:>9.2f} {nb / tb:>10.1f} {steady:>12.1f}")
EOF
    vit_lines+=("$(tail -n 1 "$log/vit-rows.txt")")
  }
  vit_device cpu "$vit_cpu" 32
  if [ "$mode" = gpu ]; then vit_device cuda "$vit_gpu" 128; fi
fi

# --- 5. The eight metrics ------------------------------------------------------------
# (the table is written even when some cells failed: those say FAILED)
if [ "$built" = 1 ] &&
  step features 60 "$py" tools/gpu_check_reference.py features "$log/features.h5" --n "$n" --d "$d"; then
  step metrics 300 "$py" tools/gpu_check_reference.py compare "$log/features.h5" --prh "$prh" \
    --device "$device" --json "$log/metrics.json" --table "$log/metrics-table.txt" || true
fi

# --- 6. The table ---------------------------------------------------------------------
{
  echo "prh gpu-check ($mode) $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname): $(nproc) cores$(
    [ "$mode" = gpu ] && echo ", $(head -n 1 "$log/00-gpu.txt")")"
  echo "$(head -n 1 "$log/00-python.txt")"
  echo "build: $build ($( [ "$built" = 1 ] && echo ok || echo FAILED)); GPU tests (ctest -L gpu): $gpu_tests"
  echo
  echo "ViT-B/16 (torchvision vit_b_16, weights=None), prh embed, noise 256x256 (crop 224):"
  echo "cpu: 1 rank, $(nproc) threads$([ "$mode" = gpu ] && echo "; cuda: $ranks rank(s), $threads threads each")"
  printf '%-6s %7s %9s %10s %12s\n' device images seconds images/s steady/s
  if ((${#vit_lines[@]})); then printf '%s\n' "${vit_lines[@]}"; else echo "(not run or failed)"; fi
  echo "seconds: prh's own 'embed: done ... in S s' (the stage: model load, CUDA start-up and"
  echo "the forward passes); steady/s: (images - images/4) / (S - S of a run on images/4)"
  echo
  if [ -s "$log/metrics-table.txt" ]; then cat "$log/metrics-table.txt"; else echo "metrics: (not run or failed)"; fi
  echo
  if [ -s "$failed_file" ]; then
    echo "FAILED steps: $(tr '\n' ' ' <"$failed_file")(logs in $log)"
  else
    echo "all steps ok"
  fi
  echo "total $((SECONDS - start)) s"
} >"$table"
echo
cat "$table"
[ ! -s "$failed_file" ]
