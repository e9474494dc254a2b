#!/usr/bin/env bash
# The local single-node SLURM cluster (slurm/local/start.sh, stop.sh), end to
# end, as root (a container is fine): bring-up is idempotent; srun, sbatch
# --wait, the warning signal before the time limit (--signal=B:USR1@50) with a
# requeue from the trap, a failed dependency (DependencyNeverSatisfied),
# srun --mpi=pmix (PMIx ranks; an Open MPI program when mpicc is there);
# shutdown is idempotent and leaves none of the cluster's daemons behind.
#
#   tests/slurm/test_local_cluster.sh
#
# It runs its own cluster in PRH_SLURM_TEST_DIR (default /tmp/prh-slurm-test,
# wiped first) on ports 6827/6828 (PRH_SLURM_TEST_PORTS="CTLD SLURMD"), so a
# cluster in /tmp/prh-slurm on the default ports is left alone. Takes about a
# minute, mostly waiting for the signal and the requeued job's restart.
# Exit 0 on success, 1 with FAIL lines.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
START=$ROOT/slurm/local/start.sh
STOP=$ROOT/slurm/local/stop.sh
# shellcheck source=slurm/local/proc.sh
source "$ROOT/slurm/local/proc.sh"

# Not inside somebody else's allocation: SLURM_JOB_ID etc. would steer srun.
for v in $(compgen -e | grep '^SLURM_' || true); do unset "$v"; done
export PRH_SLURM_DIR=${PRH_SLURM_TEST_DIR:-/tmp/prh-slurm-test}
read -r CTLD_PORT SLURMD_PORT <<<"${PRH_SLURM_TEST_PORTS:-6827 6828}"
export PRH_SLURM_CTLD_PORT=$CTLD_PORT PRH_SLURMD_PORT=$SLURMD_PORT
export PATH=$PATH:/usr/sbin:/sbin

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
die() {
  echo "FAIL: $*"
  for f in "$PRH_SLURM_DIR"/log/slurmctld.log "$PRH_SLURM_DIR"/log/slurmd.log; do
    [ -s "$f" ] && { echo "----- tail $f"; tail -n 15 "$f"; }
  done
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (munged as user munge, slurmd as root)"
  exit 77
fi
for cmd in slurmctld slurmd munged sbatch srun; do
  command -v "$cmd" >/dev/null || { echo "FAIL: $cmd not found (tools/bootstrap.sh)"; exit 1; }
done

W=$(mktemp -d /tmp/prh-slurm-test-work.XXXXXX)
chmod 755 "$W"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  bash "$STOP" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# pids: the cluster's daemons right now, as PID:STARTTIME (space separated;
# - where a daemon is missing): the start time tells the daemon from a later
# process that reuses its PID.
pids() {
  local f p t out=""
  for f in munge/munged.pid run/slurmctld.pid run/slurmd.pid; do
    p=$(tr -dc 0-9 <"$PRH_SLURM_DIR/$f" 2>/dev/null)
    t=""
    [ -n "$p" ] && t=$(proc_start_time "$p")
    out="$out ${p:--}${t:+:$t}"
  done
  echo "$out"
}
# live_daemons: the cluster's daemons still running (zombies count as gone),
# found by command line (its slurm.conf or munge socket), not by a broad name.
live_daemons() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case "$cmd" in
      *"$PRH_SLURM_DIR/slurm.conf"* | *"$PRH_SLURM_DIR/munge/"*) ;;
      *) continue ;;
    esac
    proc_runs "${p#/proc/}" || continue
    echo "${p#/proc/}: $cmd"
  done
}
# job_field JOB FIELD: one field of `scontrol show job`.
job_field() {
  scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# --- proc.sh: the checks stop.sh and this test rely on --------------------------
sleep 300 &
sp=$!
st=$(proc_start_time "$sp")
proc_runs "$sp" "$st" || fail "proc.sh: a running sleep ($sp) is not seen as running"
proc_runs "$sp" "$((st + 1))" && fail "proc.sh: another start time (a reused PID) counts as the same process"
kill -STOP "$sp"
proc_runs "$sp" "$st" || fail "proc.sh: a stopped (T) process is not seen as running"
kill -KILL "$sp"
# Not reaped yet (no wait): a zombie of this shell, which counts as gone.
proc_wait_gone "$sp" "$st" 50 || fail "proc.sh: a killed process ($sp: $(proc_stat "$sp")) still counts as running"
wait "$sp" 2>/dev/null
proc_runs "$sp" "$st" && fail "proc.sh: a reaped process counts as running"
proc_stat 999999999 >/dev/null && fail "proc.sh: a PID that does not exist has a stat"
ok "proc.sh: running, stopped, zombie, reaped and reused PIDs told apart"

# --- bring-up, twice ---------------------------------------------------------
bash "$STOP" >/dev/null 2>&1 || true
rm -rf "$PRH_SLURM_DIR"
t0=$(date +%s.%N)
out=$(bash "$START" 2>"$W/start.err") || die "start.sh failed: $(cat "$W/start.err")"
t1=$(date +%s.%N)
echo "$out" | grep -qx "export SLURM_CONF=$PRH_SLURM_DIR/slurm.conf" \
  || fail "start.sh did not print export SLURM_CONF=$PRH_SLURM_DIR/slurm.conf (got: $out)"
[ -f "$PRH_SLURM_DIR/env.sh" ] || die "no $PRH_SLURM_DIR/env.sh"
# shellcheck disable=SC1091
source "$PRH_SLURM_DIR/env.sh"
[ "${SLURM_CONF:-}" = "$PRH_SLURM_DIR/slurm.conf" ] || fail "env.sh sets SLURM_CONF=${SLURM_CONF:-}"
ok "start.sh: up in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
first=$(pids)
bash "$START" >/dev/null 2>"$W/start.err" || die "second start.sh failed: $(cat "$W/start.err")"
second=$(pids)
[ "$first" = "$second" ] || fail "second start.sh changed the daemons: $first -> $second"
n=$(live_daemons | wc -l)
[ "$n" -eq 3 ] || fail "expected 3 daemons (munged, slurmctld, slurmd), found $n: $(live_daemons)"
ok "start.sh twice: one set of daemons ($second)"
[ "$(sinfo -h -o %T | head -n1)" = idle ] || fail "node not idle: $(sinfo)"

# --- the signal job first: it waits in the background while the rest runs ----
# First run: USR1 arrives before the 1-minute limit, the trap writes a marker
# and requeues the job. Second run (SLURM_RESTART_COUNT=1) writes another.
cat >"$W/signal.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=prh-signal --time=1 --signal=B:USR1@50 --requeue
#SBATCH --open-mode=append --output=$W/signal-%j.out
if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
  echo "restarted \$SLURM_RESTART_COUNT" >$W/restarted
  exit 0
fi
trap 'echo USR1 >$W/marker; scontrol requeue \$SLURM_JOB_ID; exit 0' USR1
sleep 110 &
wait
echo "no USR1 before the end" >$W/no-signal
EOF
sig_job=$(sbatch --parsable --chdir="$W" "$W/signal.sbatch") || die "sbatch of the signal job failed"
sig_t0=$(date +%s)

# --- srun --------------------------------------------------------------------
out=$(timeout 60 srun -N1 -n2 hostname 2>&1)
if [ "$(printf '%s\n' "$out" | grep -cx "$(hostname -s)")" -eq 2 ]; then
  ok "srun -N1 -n2 hostname"
else
  fail "srun -N1 -n2 hostname printed: $out"
fi

# --- sbatch --wait -----------------------------------------------------------
if timeout 60 sbatch --wait --chdir="$W" --output="$W/hi-%j.out" --wrap 'echo hi' >"$W/hi.sbatch" 2>&1; then
  id=$(awk '{print $NF}' "$W/hi.sbatch" | head -n1)
  if [ "$(cat "$W/hi-$id.out" 2>/dev/null)" = hi ]; then
    ok "sbatch --wait --wrap 'echo hi' (job $id)"
  else
    fail "job $id's output is '$(cat "$W/hi-$id.out" 2>&1)', not 'hi'"
  fi
else
  fail "sbatch --wait failed: $(cat "$W/hi.sbatch")"
fi

# --- a failed dependency -----------------------------------------------------
a=$(sbatch --parsable --chdir="$W" --output=/dev/null --wrap 'exit 1')
b=$(sbatch --parsable --chdir="$W" --output=/dev/null --dependency=afterok:"$a" --wrap 'echo never')
if [ -z "$a" ] || [ -z "$b" ]; then
  fail "sbatch of the dependency chain failed"
else
  reason=""; state=""
  for _ in $(seq 150); do
    state=$(job_field "$b" JobState); reason=$(job_field "$b" Reason)
    [ "$reason" = DependencyNeverSatisfied ] && break
    sleep 0.2
  done
  if [ "$state" = PENDING ] && [ "$reason" = DependencyNeverSatisfied ]; then
    ok "afterok on a failed job ($a: $(job_field "$a" JobState)): $b PENDING, DependencyNeverSatisfied"
  else
    fail "job $b after failed $a: state $state, reason $reason"
  fi
  scancel "$b"
fi

# --- srun --mpi=pmix ----------------------------------------------------------
out=$(timeout 60 srun --mpi=pmix -n 2 /usr/bin/env 2>&1)
ranks=$(printf '%s\n' "$out" | sed -n 's/^PMIX_RANK=//p' | sort -n | tr '\n' ' ')
if [ "$ranks" = "0 1 " ]; then
  ok "srun --mpi=pmix -n 2: PMIX_RANK 0 and 1"
else
  fail "srun --mpi=pmix -n 2 /usr/bin/env: PMIX_RANK values '$ranks'; output: $(printf '%s\n' "$out" | grep -E 'PMIX|error' | head)"
fi
if command -v mpicc >/dev/null; then
  cat >"$W/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char** argv) {
  int rank, size, one = 1, sum = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d of %d sum %d\n", rank, size, sum);
  MPI_Finalize();
  return 0;
}
EOF
  if mpicc -o "$W/hello" "$W/hello.c" 2>"$W/mpicc.err"; then
    out=$(timeout 60 srun --mpi=pmix -n 2 "$W/hello" 2>&1)
    if [ "$(printf '%s\n' "$out" | grep -c '^rank [01] of 2 sum 2$')" -eq 2 ]; then
      ok "srun --mpi=pmix -n 2 of an Open MPI program (MPI_Allreduce over 2 ranks)"
    else
      fail "srun --mpi=pmix -n 2 of an Open MPI program printed: $out"
    fi
  else
    fail "mpicc failed: $(cat "$W/mpicc.err")"
  fi
fi

# --- the signal job: marker, requeue, restart ---------------------------------
# USR1 comes up to ~30 s late or early (slurmctld checks time limits
# periodically); the restart comes cred_expire (20 s) + a scheduler pass later.
while [ ! -e "$W/restarted" ] && [ $(($(date +%s) - sig_t0)) -lt 100 ]; do
  [ -e "$W/no-signal" ] && break
  sleep 1
done
if [ -e "$W/marker" ]; then
  ok "--signal=B:USR1@50: the batch shell's trap ran"
else
  fail "no USR1 marker after $(($(date +%s) - sig_t0)) s (job $sig_job: $(job_field "$sig_job" JobState))"
fi
if [ -e "$W/restarted" ] && [ "$(job_field "$sig_job" Restarts)" = 1 ]; then
  ok "scontrol requeue from the trap: job $sig_job ran again (Restarts=1) after $(($(date +%s) - sig_t0)) s"
else
  fail "job $sig_job did not run again after its requeue: state $(job_field "$sig_job" JobState)," \
       "reason $(job_field "$sig_job" Reason), restarts $(job_field "$sig_job" Restarts)"
fi

# --- shutdown, twice ------------------------------------------------------------
ids=$(pids)
bash "$STOP" >/dev/null 2>&1 || fail "stop.sh failed"
bash "$STOP" >/dev/null 2>&1 || fail "second stop.sh failed"
left=$(live_daemons)
if [ -n "$left" ]; then
  fail "daemons left after stop.sh: $left"
else
  ok "stop.sh twice: none of the cluster's daemons ($ids) remain"
fi
# Each recorded daemon, by PID and start time: one read of its stat (a
# process being reaped can vanish between two reads), and a PID reused since
# by another process does not count.
for p in $ids; do
  [ "$p" = - ] && continue
  if proc_runs "${p%%:*}" "${p#*:}"; then
    fail "PID ${p%%:*} ($(cat "/proc/${p%%:*}/comm" 2>/dev/null)) still runs: $(proc_stat "${p%%:*}")"
  fi
done

if ((failures)); then
  echo "test_local_cluster: $failures FAILED (daemon logs kept in $PRH_SLURM_DIR/log)"
  exit 1
fi
rm -rf "$PRH_SLURM_DIR"
echo "test_local_cluster: all passed"
exit 0
