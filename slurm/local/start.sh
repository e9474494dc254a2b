#!/usr/bin/env bash
# Brings up a single-node SLURM cluster on this machine, as root, without
# systemd: munged (as user munge), slurmctld and slurmd, all pointed at files
# under one state directory, so nothing in /etc/slurm or /etc/munge is read or
# written.
#
#   slurm/local/start.sh            # then: source /tmp/prh-slurm/env.sh
#   slurm/local/stop.sh
#
# Environment (all optional):
#   PRH_SLURM_DIR           state directory (default /tmp/prh-slurm)
#   PRH_SLURM_CTLD_PORT     slurmctld port (default 6817)
#   PRH_SLURMD_PORT         slurmd port (default 6818)
#   PRH_SLURM_OVERSUBSCRIBE the partition's OverSubscribe (default FORCE:4:
#                           up to 4 jobs share a CPU, so concurrent test jobs
#                           on a 2-core machine run instead of queueing)
#   PRH_SLURM_TIMEOUT       seconds to wait for the node to be idle (default 60)
#   PRH_SLURM_CRED_EXPIRE   AuthInfo cred_expire: step credential lifetime,
#                           which is also how long a requeued job waits before
#                           it may start again (default 20; SLURM's is 120)
#
# Layout of $PRH_SLURM_DIR:
#   slurm.conf  env.sh  munge/{munge.key,munge.socket.2,munged.pid,munged.log,munged.seed}
#   ctld/ (StateSaveLocation)  spool/ (SlurmdSpoolDir)  tmp/ (TmpFS: the mpi/pmix
#   plugin's per-step directories)  log/{slurmctld,slurmd}.log
#   run/{slurmctld,slurmd}.pid
#
# Idempotent: daemons whose recorded PID is alive are left alone, so a second
# run starts nothing. Waits until `sinfo` shows the node idle; on a timeout it
# prints the tails of the daemons' logs and exits 1. Prints the exports a
# caller needs (the same lines are in $PRH_SLURM_DIR/env.sh).
#
# Configuration notes: ProctrackType=proctrack/linuxproc and TaskPlugin=task/none
# (no cgroups in a container), SelectType=select/cons_tres with CR_Core (memory
# is not a consumable resource), MpiDefault=pmix, no accounting (use
# `scontrol show job`; finished jobs stay visible MinJobAge=300 s),
# JobRequeue=1, KillWait=5, ReturnToService=2, cred_expire=20 (a requeued job
# restarts about 21 s after `scontrol requeue`), and the schedulers run every
# 5 s (sched_interval, bf_interval) so that it does start then. libmunge has no
# environment variable for its socket: slurm.conf's AuthInfo=socket=... tells
# every SLURM program (daemons and clients) where munged listens, so
# SLURM_CONF is all a caller needs.
set -euo pipefail

D=${PRH_SLURM_DIR:-/tmp/prh-slurm}
CTLD_PORT=${PRH_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${PRH_SLURMD_PORT:-6818}
OVERSUBSCRIBE=${PRH_SLURM_OVERSUBSCRIBE:-FORCE:4}
TIMEOUT=${PRH_SLURM_TIMEOUT:-60}
CRED_EXPIRE=${PRH_SLURM_CRED_EXPIRE:-20}

die() { echo "start.sh: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (munged runs as user munge, slurmd as root)"
for cmd in munged mungekey slurmctld slurmd sinfo scontrol; do
  command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found: run tools/bootstrap.sh"
done
id munge >/dev/null 2>&1 || die "user munge missing: run tools/bootstrap.sh (package munge)"
case "$D" in /*) ;; *) D=$(pwd)/$D ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
HOST=$(hostname -s)
CONF=$D/slurm.conf
MUNGE_DIR=$D/munge
SOCKET=$MUNGE_DIR/munge.socket.2

# shellcheck source=slurm/local/proc.sh
source "$HERE/proc.sh"
# alive PIDFILE NAME: the PID recorded in PIDFILE runs the program NAME (and
# is not a zombie that PID 1 has yet to reap).
alive() { proc_alive "$1" "$2" >/dev/null; }

log_tails() {
  local f
  for f in "$MUNGE_DIR/munged.log" "$D/log/slurmctld.log" "$D/log/slurmd.log" \
           "$D/log/munged.out" "$D/log/slurmctld.out" "$D/log/slurmd.out"; do
    [ -s "$f" ] || continue
    echo "----- tail $f" >&2
    tail -n 20 "$f" >&2
  done
}

# On failure: the error, the logs' tails, and the cluster's daemons stopped
# again (a half-started cluster is no use and would hold its ports).
fail() {
  echo "start.sh: error: $*" >&2
  log_tails
  PRH_SLURM_DIR=$D bash "$HERE/stop.sh" >/dev/null 2>&1 || true
  echo "start.sh: error: $* (logs in $D/log, $MUNGE_DIR/munged.log)" >&2
  exit 1
}

# port_busy PORT: something listens on TCP PORT (unknown without ss: no).
port_busy() {
  command -v ss >/dev/null 2>&1 || return 1
  [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]
}

mkdir -p "$D" "$D/ctld" "$D/spool" "$D/log" "$D/run" "$D/tmp"
chmod 755 "$D"
chmod 1777 "$D/tmp"
# munged insists on owning its directories and on no group/other write access.
mkdir -p "$MUNGE_DIR"
chown munge:munge "$MUNGE_DIR"
chmod 755 "$MUNGE_DIR"

if [ ! -s "$MUNGE_DIR/munge.key" ]; then
  rm -f "$MUNGE_DIR/munge.key"
  if ! mungekey --create --keyfile="$MUNGE_DIR/munge.key" 2>/dev/null; then
    dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
  fi
fi
chown munge:munge "$MUNGE_DIR/munge.key"
chmod 600 "$MUNGE_DIR/munge.key"

# The machine, as slurmd sees it (CPUs, sockets, cores, threads, memory).
hw=$(slurmd -C 2>/dev/null | head -n1)
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$hw"; }
CPUS=$(field CPUs); SOCKETS=$(field SocketsPerBoard); CORES=$(field CoresPerSocket)
THREADS=$(field ThreadsPerCore); MEM=$(field RealMemory)
[ -n "$CPUS" ] || CPUS=$(nproc)
[ -n "$MEM" ] || MEM=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
topo=""
if [ -n "$SOCKETS" ] && [ -n "$CORES" ] && [ -n "$THREADS" ]; then
  topo=" SocketsPerBoard=$SOCKETS CoresPerSocket=$CORES ThreadsPerCore=$THREADS"
fi
# Leave a little memory slack so slurmd never reports less than configured.
MEM=$((MEM > 256 ? MEM - 128 : MEM))

new_conf=$(cat <<EOF
# Generated by slurm/local/start.sh; regenerated when no daemon is running.
ClusterName=prh-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET,cred_expire=$CRED_EXPIRE
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/spool
TmpFS=$D/tmp
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
PlugStackConfig=$D/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
JobRequeue=1
KillWait=5
MinJobAge=300
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS$topo RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=$OVERSUBSCRIBE
EOF
)

running=0
alive "$MUNGE_DIR/munged.pid" munged && running=1
alive "$D/run/slurmctld.pid" slurmctld && running=1
alive "$D/run/slurmd.pid" slurmd && running=1

if [ ! -f "$CONF" ] || [ "$running" -eq 0 ]; then
  printf '%s\n' "$new_conf" >"$CONF"
elif [ "$new_conf" != "$(cat "$CONF")" ]; then
  echo "start.sh: note: $CONF differs from what would be generated now;" \
       "daemons are running, so it is kept (stop.sh, then start.sh, to regenerate)" >&2
fi
: >"$D/plugstack.conf"

export SLURM_CONF=$CONF

# munged: as user munge, on our key, socket, log, pid and seed files.
if ! alive "$MUNGE_DIR/munged.pid" munged; then
  rm -f "$SOCKET" "$SOCKET.lock" "$MUNGE_DIR/munged.pid"
  touch "$D/log/munged.out"
  if ! runuser -u munge -- munged \
      --socket="$SOCKET" --key-file="$MUNGE_DIR/munge.key" \
      --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" \
      --seed-file="$MUNGE_DIR/munged.seed" >"$D/log/munged.out" 2>&1 </dev/null; then
    fail "munged did not start"
  fi
fi
for _ in $(seq 50); do
  [ -S "$SOCKET" ] && alive "$MUNGE_DIR/munged.pid" munged && break
  sleep 0.1
done
[ -S "$SOCKET" ] || fail "munged socket $SOCKET did not appear"

# slurmctld, then slurmd; both daemonise and write their PID files.
if ! alive "$D/run/slurmctld.pid" slurmctld; then
  port_busy "$CTLD_PORT" && fail "port $CTLD_PORT is in use (another SLURM cluster?):" \
    "set PRH_SLURM_CTLD_PORT and PRH_SLURMD_PORT to free ports"
  rm -f "$D/run/slurmctld.pid"
  slurmctld -f "$CONF" >"$D/log/slurmctld.out" 2>&1 </dev/null || fail "slurmctld did not start"
fi
if ! alive "$D/run/slurmd.pid" slurmd; then
  port_busy "$SLURMD_PORT" && fail "port $SLURMD_PORT is in use (another SLURM cluster?):" \
    "set PRH_SLURM_CTLD_PORT and PRH_SLURMD_PORT to free ports"
  rm -f "$D/run/slurmd.pid"
  slurmd -f "$CONF" >"$D/log/slurmd.out" 2>&1 </dev/null || fail "slurmd did not start"
fi

cat >"$D/env.sh" <<EOF
# Generated by slurm/local/start.sh: source it to use the local cluster.
export SLURM_CONF=$CONF
export PRH_SLURM_DIR=$D
EOF

# Wait until the node is idle (or mixed/allocated: already running jobs).
deadline=$((SECONDS + TIMEOUT))
state=""
while :; do
  for p in munged:"$MUNGE_DIR/munged.pid" slurmctld:"$D/run/slurmctld.pid" slurmd:"$D/run/slurmd.pid"; do
    name=${p%%:*}; file=${p#*:}
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      alive "$file" "$name" && break
      sleep 0.1
    done
    alive "$file" "$name" || fail "$name is not running"
  done
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n1 || true)
  case "$state" in
    idle | mixed | allocated | completing) break ;;
  esac
  if ((SECONDS >= deadline)); then
    fail "node $HOST not idle after ${TIMEOUT}s (sinfo state: '${state:-no answer}')"
  fi
  sleep 0.2
done

echo "export SLURM_CONF=$CONF"
echo "# local SLURM cluster prh-local up: node $HOST ($CPUS CPUs) $state; env in $D/env.sh" >&2
