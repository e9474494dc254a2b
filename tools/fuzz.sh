#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, the sanitize preset: clang,
# ASan + UBSan, build-sanitize/) and fuzzes each, as many at once as there
# are cores (PRH_FUZZ_JOBS). docs/testing.md, "Fuzzing and sanitizers".
#
#   bash tools/fuzz.sh --ci                 what CI runs (.ci/run via tools/test.sh):
#                                           config, sidecar, idx, image and npy
#                                           fuzzed 20 s each (PRH_FUZZ_SECONDS);
#                                           results and store only replay their
#                                           committed corpora (tests/fuzz/results,
#                                           tests/fuzz/store; -runs=0), see below
#   bash tools/fuzz.sh [--seconds N] [TARGET...]
#                                           longer: N s each (default 600), all
#                                           targets or the named ones (config,
#                                           sidecar, idx, image, npy, results,
#                                           store), the HDF5 ones fuzzed too
#
# Why CI does not fuzz results and store (docs/testing.md, "Fuzzing and
# sanitizers"): mutated HDF5 files reach defects inside libhdf5 1.10 itself
# (reads past its buffers while decoding a damaged object header, leaks on
# its error paths; tests/fuzz/findings/README.md) that prh cannot rule out
# before calling it; a random run would fail CI by chance. Their corpora
# (seeds and every fixed finding) are replayed under the sanitizers, so each
# fixed finding stays fixed; the long runs fuzz them.
#
# Each run starts from the committed seeds and crash reproducers
# (tests/fuzz/TARGET/), adds what it finds to build-sanitize/fuzz/corpus/TARGET/
# (kept between runs, never committed by itself), and fails on any crash,
# sanitizer report, leak (less tests/sanitize/lsan.supp), timeout (10 s for
# one input) or out-of-memory (2 GB): the input is then saved as
# build-sanitize/fuzz/artifacts/TARGET/crash-* (or leak-*, timeout-*, oom-*),
# and the script says how to add it to the corpus. Exit status: 0 when every
# target ran clean, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(config sidecar idx image npy results store)
# Replayed, not fuzzed, with --ci (see above).
REPLAY_IN_CI=(results store)
seconds=600
ci=0
targets=()
while (($#)); do
  case "$1" in
    --ci)
      ci=1
      seconds=${PRH_FUZZ_SECONDS:-20}
      ;;
    --seconds)
      seconds=${2:?--seconds needs a number}
      shift
      ;;
    -h | --help)
      sed -n '2,20p' "$0"
      exit 0
      ;;
    -*)
      echo "fuzz: unknown option '$1' (usage: fuzz.sh [--ci] [--seconds N] [TARGET...])" >&2
      exit 2
      ;;
    *)
      if [[ " ${ALL[*]} " != *" $1 "* ]]; then
        echo "fuzz: unknown target '$1' (one of: ${ALL[*]})" >&2
        exit 2
      fi
      targets+=("$1")
      ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${ALL[@]}")

bash tools/sanitize.sh --build-only prh-fuzzers

work=build-sanitize/fuzz
# Leaks count (libFuzzer checks each input), less the suppression of
# tests/sanitize/lsan.supp (libhdf5's metadata cache on a failed load); UBSan
# stops at its first report.
# allocator_may_return_null=1: a request beyond ASan's maximum (libhdf5 asks
# for 2^53 bytes on a damaged metadata size) returns NULL, as glibc's malloc
# does in a release build, where libhdf5 turns it into an error and prh into
# an InputError; without it ASan aborts on what is not a bug of prh.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=${PRH_FUZZ_JOBS:-$(nproc)}

# One target: its log in $work/logs/$t.log, its exit status in $work/logs/$t.rc.
fuzz_one() {
  local t=$1 start=$SECONDS rc=0
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/logs"
  touch "$work/logs/$t.start"  # this run's artifacts are newer
  # store with allocation stacks through libhdf5 (no frame pointers there:
  # fast_unwind_on_malloc=0), so that lsan.supp's libhdf5 line
  # (H5C_protect) matches: its corpus needs it (crash-hdf5-huge-malloc), and
  # it costs store little. Not results: there it made a 381 KB seed take 14 s
  # instead of 4 s (43 s on a loaded machine, past any per-input timeout).
  # A results run that stops on a leak below H5C_protect: replay the input
  # with ASAN_OPTIONS=...:fast_unwind_on_malloc=0 to see whether it is that one.
  case $t in
    store) local -x ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 ;;
  esac
  if ((ci)) && [[ " ${REPLAY_IN_CI[*]} " == *" $t "* ]]; then
    # The committed corpus once through, no mutation (as ctest's fuzz.corpus.$t).
    build-sanitize/tests/fuzz/prh-fuzz-"$t" -runs=0 -timeout=30 -rss_limit_mb=2048 \
      -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" "tests/fuzz/$t" \
      >"$work/logs/$t.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - start)) replayed" >"$work/logs/$t.rc"
    return
  fi
  # New inputs go to the first folder (the scratch corpus); the committed
  # seeds and reproducers (tests/fuzz/$t) are read, never written.
  build-sanitize/tests/fuzz/prh-fuzz-"$t" "$work/corpus/$t" "tests/fuzz/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 >"$work/logs/$t.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start)) fuzzed" >"$work/logs/$t.rc"
}

status=0
failed=()
running=0
for t in "${targets[@]}"; do
  rm -f "$work/logs/$t.rc"
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait || true
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  read -r rc took how <"$work/logs/$t.rc" || { rc=1 took=? how=?; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $t clean ($how): ${runs:-?} inputs in $took s (log $log)"
  else
    status=1
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc) after $took s; the end of $log:" >&2
    grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED)' "$log" | tail -n 40 >&2
    find "$work/artifacts/$t" -type f -newer "$work/logs/$t.start" | while read -r f; do
      echo "fuzz: reproducer: $f (replay: build-sanitize/tests/fuzz/prh-fuzz-$t $f)" >&2
    done
  fi
done
if ((status)); then
  cat >&2 <<MSG
fuzz: failed: ${failed[*]}. To keep each finding as a regression test
(docs/testing.md, "Fuzzing and sanitizers"): copy the reproducer into
tests/fuzz/TARGET/ as crash-<what> (cp build-sanitize/fuzz/artifacts/TARGET/crash-* tests/fuzz/TARGET/),
fix prh until 'build-sanitize/tests/fuzz/prh-fuzz-TARGET tests/fuzz/TARGET/crash-<what>'
passes, and commit both; ctest -L fuzz in build-sanitize replays every corpus.
MSG
fi
exit $status
