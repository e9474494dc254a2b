#!/usr/bin/env bash
# Stops the single-node SLURM cluster that slurm/local/start.sh brought up.
#
#   slurm/local/stop.sh        # PRH_SLURM_DIR as for start.sh (default /tmp/prh-slurm)
#
# Cancels the cluster's jobs (so no slurmstepd is left behind), then stops
# slurmd, slurmctld and munged, in that order, each by the PID recorded in its
# PID file under $PRH_SLURM_DIR, and only if that PID still runs that program.
# Returns only once each has exited (SIGTERM, then SIGKILL after 10 s; a
# zombie counts as exited), checked by PID and start time (proc.sh). Exit 1,
# naming the daemon, if one still runs 5 s after SIGKILL. Idempotent: exits
# 0 when nothing is running. The state directory is kept (slurmctld's saved
# state, logs, munge key); remove it by hand for a clean slate.
set -euo pipefail

D=${PRH_SLURM_DIR:-/tmp/prh-slurm}
case "$D" in /*) ;; *) D=$(pwd)/$D ;; esac
PATH=$PATH:/usr/sbin:/sbin

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=slurm/local/proc.sh
source "$HERE/proc.sh"
alive_pid() { proc_alive "$@"; }

stuck=()
stop_one() {  # stop_one NAME PIDFILE
  local pid start
  pid=$(alive_pid "$2" "$1") || { rm -f "$2"; return 0; }
  start=$(proc_start_time "$pid") || { rm -f "$2"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! proc_wait_gone "$pid" "$start" 100; then
    echo "stop.sh: $1 ($pid) ignored SIGTERM for 10 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    if ! proc_wait_gone "$pid" "$start" 50; then
      echo "stop.sh: error: $1 ($pid) would not stop: still running 5 s after SIGKILL" \
           "(state $(proc_stat "$pid" | cut -d' ' -f1))" >&2
      stuck+=("$1 ($pid)")
      return 0
    fi
  fi
  rm -f "$2"
  echo "stop.sh: stopped $1 ($pid)" >&2
}

# Cancel what still runs, while slurmctld and slurmd can still do it.
if [ -f "$D/slurm.conf" ] && alive_pid "$D/run/slurmctld.pid" slurmctld >/dev/null \
   && alive_pid "$D/run/slurmd.pid" slurmd >/dev/null; then
  export SLURM_CONF=$D/slurm.conf
  jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    timeout 10 scancel $jobs 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do  # KillWait is 5 s; allow for the epilog
      [ -z "$(timeout 5 squeue -h -t R,CG,S -o %i 2>/dev/null || true)" ] && break
      sleep 0.1
    done
  fi
fi

stop_one slurmd "$D/run/slurmd.pid"
stop_one slurmctld "$D/run/slurmctld.pid"
stop_one munged "$D/munge/munged.pid"
if [ "${#stuck[@]}" -gt 0 ]; then
  echo "stop.sh: error: still running: ${stuck[*]}" >&2
  exit 1
fi
exit 0
