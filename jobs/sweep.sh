#!/usr/bin/env bash
# Submits a whole sweep as three chained SLURM jobs: embed -> reduce -> report
# (jobs/embed.sbatch, jobs/reduce.sbatch, jobs/report.sbatch), each starting
# only after the previous one completed successfully (--dependency=afterok).
#
#   jobs/sweep.sh CONFIG [SBATCH OPTIONS...]
#   source slurm/profiles/cpu.sh && jobs/sweep.sh configs/default.yaml
#
# Prints the job ids on stdout, one per line:
#   embed 101
#   reduce 102
#   report 103
#
# Run it from the directory the config's relative paths are relative to: the
# jobs run there and write their logs there (prh-embed-101.out, ...).
#
# Site settings come from the environment (see slurm/profiles/*.sh):
#   PRH_PARTITION        --partition, all three jobs
#   PRH_ACCOUNT          --account, all three jobs
#   PRH_TIME             --time for embed and reduce (report keeps its 30 min)
#   PRH_NODES            --nodes for embed and reduce (default 1 when
#                        PRH_TASKS_PER_NODE is set)
#   PRH_TASKS_PER_NODE   --ntasks-per-node for embed and reduce (default 1 when
#                        PRH_NODES is set); --ntasks becomes NODES * TASKS_PER_NODE
#   PRH_GPUS_PER_NODE    --gpus-per-node for embed and reduce
#   PRH_EXTRA_SBATCH     more sbatch options, split on spaces, all three jobs
#   PRH_EMBED_ARRAY      N or N%M: embed as a job array of N tasks (at most M at
#                        once; one rank each unless PRH_NODES/PRH_TASKS_PER_NODE
#                        say otherwise) writing part files; the reduce job then
#                        runs `prh run`, which merges them (PRH_MERGE=1)
# SBATCH OPTIONS given here come last and so win, for all three jobs.
# PRH (the prh binary) is passed to the jobs in the environment; when it is
# unset: the prh installed beside this script (P/bin/prh for
# P/share/prh/jobs/sweep.sh), else prh on PATH, else this tree's build/prh;
# likewise PRH_TOOLS (default ../tools beside jobs/: the tree's tools/, or
# P/share/prh/tools) for the report job's prh_results.py.
#
# A requeued job (prh stopped before a time limit, exit 75) keeps its id, so
# the chain holds. If a stage fails, the jobs after it stay PENDING with reason
# DependencyNeverSatisfied: scancel them, fix the cause, and run sweep.sh
# again (every stage resumes what is done).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ -z "$1" ] || [[ "$1" == -* ]]; then
  echo "usage: jobs/sweep.sh CONFIG [SBATCH OPTIONS...]" >&2
  exit 2
fi
CONFIG=$1
shift
if [ ! -r "$CONFIG" ]; then
  echo "sweep.sh: error: CONFIG $CONFIG is not a readable file (cwd $(pwd))" >&2
  exit 2
fi
command -v sbatch >/dev/null || { echo "sweep.sh: error: sbatch not found" >&2; exit 2; }

if [ -z "${PRH:-}" ]; then
  if [ "$HERE" -ef "$HERE/../../../share/prh/jobs" ] && [ -x "$HERE/../../../bin/prh" ]; then
    PRH=$(cd "$HERE/../../../bin" && pwd)/prh  # installed: P/share/prh/jobs beside P/bin
  elif command -v prh >/dev/null 2>&1; then
    PRH=$(command -v prh)
  else
    PRH=$(cd "$HERE/.." && pwd)/build/prh
  fi
fi
[ -x "$PRH" ] || { echo "sweep.sh: error: prh binary $PRH not found: set PRH=/path/to/prh" >&2; exit 2; }
export PRH
# tools/prh_results.py for the report job: this tree's, or the prefix's.
PRH_TOOLS=${PRH_TOOLS:-$(cd "$HERE/.." && pwd)/tools}
export PRH_TOOLS

common=()
[ -n "${PRH_PARTITION:-}" ] && common+=("--partition=$PRH_PARTITION")
[ -n "${PRH_ACCOUNT:-}" ] && common+=("--account=$PRH_ACCOUNT")
if [ -n "${PRH_EXTRA_SBATCH:-}" ]; then
  read -r -a extra <<<"$PRH_EXTRA_SBATCH"
  common+=("${extra[@]}")
fi
compute=()
[ -n "${PRH_TIME:-}" ] && compute+=("--time=$PRH_TIME")
if [ -n "${PRH_NODES:-}" ] || [ -n "${PRH_TASKS_PER_NODE:-}" ]; then
  nodes=${PRH_NODES:-1}
  tpn=${PRH_TASKS_PER_NODE:-1}
  compute+=("--nodes=$nodes" "--ntasks-per-node=$tpn" "--ntasks=$((nodes * tpn))")
fi
[ -n "${PRH_GPUS_PER_NODE:-}" ] && compute+=("--gpus-per-node=$PRH_GPUS_PER_NODE")

embed_opts=()
reduce_opts=()
if [ -n "${PRH_EMBED_ARRAY:-}" ]; then
  if ! [[ "$PRH_EMBED_ARRAY" =~ ^([1-9][0-9]*)(%[1-9][0-9]*)?$ ]]; then
    echo "sweep.sh: error: PRH_EMBED_ARRAY=$PRH_EMBED_ARRAY: expected N or N%M" >&2
    exit 2
  fi
  embed_opts+=("--array=0-$((BASH_REMATCH[1] - 1))${BASH_REMATCH[2]}")
  [ -z "${PRH_NODES:-}${PRH_TASKS_PER_NODE:-}" ] && embed_opts+=("--ntasks=1")
  reduce_opts+=("--export=ALL,PRH_MERGE=1")
fi

submitted=()
submit() {  # submit NAME [OPTIONS...] SCRIPT: prints the job id
  local name=$1 out
  shift
  if ! out=$(sbatch --parsable "$@" "$CONFIG"); then
    echo "sweep.sh: error: sbatch of the $name job failed" >&2
    if ((${#submitted[@]})); then
      echo "sweep.sh: cancelling the jobs already submitted: ${submitted[*]}" >&2
      scancel "${submitted[@]}" || true
    fi
    exit 1
  fi
  echo "${out%%;*}"
}

embed=$(submit embed "${common[@]}" "${compute[@]}" "${embed_opts[@]}" "$@" "$HERE/embed.sbatch")
submitted+=("$embed")
echo "embed $embed"
reduce=$(submit reduce "${common[@]}" "${compute[@]}" "${reduce_opts[@]}" "$@" \
  "--dependency=afterok:$embed" "$HERE/reduce.sbatch")
submitted+=("$reduce")
echo "reduce $reduce"
report=$(submit report "${common[@]}" "$@" "--dependency=afterok:$reduce" "$HERE/report.sbatch")
echo "report $report"
