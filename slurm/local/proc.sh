# Process checks shared by start.sh, stop.sh and tests/slurm (sourced, not run).
#
# Each check reads /proc/PID/stat once: a process being torn down can vanish
# between two reads (its comm readable, then its stat not), so a check that
# reads two files can see a half-gone process as running. A PID is also
# compared with the start time recorded for it, so a PID reused by another
# process after the daemon exited is not mistaken for the daemon.

# proc_stat PID: prints "STATE STARTTIME" (fields 3 and 22 of /proc/PID/stat,
# read once); fails when the process is gone.
proc_stat() {
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$s" ] || return 1
  # The command name (field 2) is in parentheses and may hold spaces or ')'.
  s=${s##*) }
  read -ra f <<<"$s"
  [ "${#f[@]}" -ge 20 ] || return 1
  echo "${f[0]} ${f[19]}"
}

# proc_start_time PID: the start time (clock ticks after boot) of a running PID.
proc_start_time() {
  local st
  st=$(proc_stat "$1") || return 1
  echo "${st#* }"
}

# proc_runs PID [STARTTIME]: PID is a process that has not exited (a zombie,
# Z, or a dead task, X, has: it holds no resources and only waits for its
# parent to reap it) and, with STARTTIME, is the process that started then.
proc_runs() {
  local st
  st=$(proc_stat "$1") || return 1
  case "${st%% *}" in Z | X | x) return 1 ;; esac
  [ -z "${2:-}" ] || [ "${st#* }" = "$2" ]
}

# proc_wait_gone PID STARTTIME TENTHS: waits up to TENTHS tenths of a second
# for PID (started at STARTTIME) to exit; fails if it still runs then.
proc_wait_gone() {
  local i
  for ((i = 0; i < $3; i++)); do
    proc_runs "$1" "$2" || return 0
    sleep 0.1
  done
  ! proc_runs "$1" "$2"
}

# proc_alive PIDFILE NAME: prints the PID recorded in PIDFILE if it is a
# running process of the program NAME.
proc_alive() {
  local pid comm
  [ -s "$1" ] || return 1
  pid=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9)
  [ -n "$pid" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = "$2" ] || return 1
  proc_runs "$pid" || return 1
  echo "$pid"
}
