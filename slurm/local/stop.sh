#!/usr/bin/env bash
# Stops the single-node SLURM cluster that slurm/local/start.sh brought up.
#
#   slurm/local/stop.sh        # PRH_SLURM_DIR as for start.sh (default /tmp/prh-slurm)
#
# Cancels the cluster's jobs (so no slurmstepd is left behind), then stops
# slurmd, slurmctld and munged, in that order, each by the PID recorded in its
# PID file under $PRH_SLURM_DIR, and only if that PID still runs that program.
# Waits for each to exit (SIGTERM, then SIGKILL after 10 s). Idempotent: exits
# 0 when nothing is running. The state directory is kept (slurmctld's saved
# state, logs, munge key); remove it by hand for a clean slate.
set -euo pipefail

D=${PRH_SLURM_DIR:-/tmp/prh-slurm}
case "$D" in /*) ;; *) D=$(pwd)/$D ;; esac
PATH=$PATH:/usr/sbin:/sbin

alive_pid() {  # alive_pid PIDFILE NAME: prints the PID if it runs NAME
  local pid comm
  [ -s "$1" ] || return 1
  pid=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9)
  [ -n "$pid" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = "$2" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1  # exited
  echo "$pid"
}

stop_one() {  # stop_one NAME PIDFILE
  local pid i
  pid=$(alive_pid "$2" "$1") || { rm -f "$2"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    # Gone, or a zombie that PID 1 has not reaped yet: either way it has exited.
    [ -e "/proc/$pid" ] || break
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    sleep 0.1
  done
  if [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
    echo "stop.sh: $1 ($pid) ignored SIGTERM for 10 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [ -e "/proc/$pid" ] || break
      sleep 0.1
    done
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
exit 0
