#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the integration tests and CI
# that submit real job arrays.
#
#   deploy/slurm/localhost.sh start    # install if missing, start, wait until the node is idle
#   deploy/slurm/localhost.sh status   # exit 0 when up, 3 when down
#   deploy/slurm/localhost.sh stop     # cancel jobs, stop the daemons this script started
#
# Everything lives under $UPSTREAM_SLURM_DIR (default /tmp/upstream-slurm):
# slurm.conf, controller state, slurmd spool, logs and pid files. Nothing is
# written into /etc/slurm; the daemons and every client (sbatch, squeue,
# sinfo, scontrol, scancel) find the configuration through SLURM_CONF, so a
# caller MUST export it:
#
#   eval "$(deploy/slurm/localhost.sh start)"   # stdout is just the export line
#   # or: export SLURM_CONF="${UPSTREAM_SLURM_DIR:-/tmp/upstream-slurm}/slurm.conf"
#
# Authentication is the system's munge (/etc/munge/munge.key, socket
# /run/munge/munge.socket.2): reused when a munged already answers, otherwise
# started here (and then stopped by `stop`). Without systemd, munged is
# started directly as the munge user; it forks into the background itself.
#
# Jobs run as the submitting user on this node (SlurmUser=root), one core
# per task (select/cons_tres, CR_Core), no cgroups, no accounting database:
# a finished job stays visible to `scontrol show job` for MinJobAge (300 s)
# and is recorded in $UPSTREAM_SLURM_DIR/log/jobcomp.log. `sacct` does not work.
#
# Other settings: UPSTREAM_SLURM_TIMEOUT (seconds to wait for the node,
# default 60), UPSTREAM_SLURMCTLD_PORT / UPSTREAM_SLURMD_PORT (6817 / 6818).
set -euo pipefail

STATE_DIR="${UPSTREAM_SLURM_DIR:-/tmp/upstream-slurm}"
TIMEOUT="${UPSTREAM_SLURM_TIMEOUT:-60}"
CTLD_PORT="${UPSTREAM_SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${UPSTREAM_SLURMD_PORT:-6818}"
CONF="$STATE_DIR/slurm.conf"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/log"
CTLD_STATE="$STATE_DIR/slurmctld"
SLURMD_SPOOL="$STATE_DIR/slurmd"
CTLD_PID="$RUN_DIR/slurmctld.pid"
SLURMD_PID="$RUN_DIR/slurmd.pid"
# Present only when this script started munged; holds its pid.
MUNGED_PID="$RUN_DIR/munged.started-here.pid"
MUNGE_KEY=/etc/munge/munge.key
MUNGE_RUN=/run/munge

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export SLURM_CONF="$CONF"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

log() { echo "localhost.sh: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

# Debian's packages, when a daemon or client is missing. Installing them
# starts nothing where policy-rc.d forbids it and, without
# /etc/slurm/slurm.conf, the Slurm init scripts do nothing anyway.
ensure_installed() {
  local need=()
  command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
  command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
  command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
  { command -v munged >/dev/null 2>&1 && command -v munge >/dev/null 2>&1; } || need+=(munge)
  [ "${#need[@]}" -eq 0 ] && return 0
  log "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; }
}

# pid_alive FILE NAME: the pid in FILE is a live process called NAME (or
# NAME-wlm, Debian's real binary behind the /usr/sbin/NAME alternative).
# Guards against a recycled pid and a zombie.
pid_alive() {
  local file=$1 name=$2 pid comm
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' 2>/dev/null <"$file") || return 1
  [ -n "$pid" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case "$comm" in "$name" | "$name-wlm") ;; *) return 1 ;; esac
  # A zombie is dead (in some sandboxes pid 1 is slow to reap orphans).
  ! is_zombie "$pid"
}

is_zombie() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [ "${stat%% *}" = Z ]
}

# Job steps left by a slurmd that died without its jobs being cancelled:
# slurmstepd processes carrying this cluster's SLURM_CONF, and everything
# under them (the job scripts).
kill_stray_steps() {
  local d pid steps=() all=() ppid stat changed
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] || continue
    tr '\0' '\n' 2>/dev/null <"$d/environ" | grep -qxF "SLURM_CONF=$CONF" || continue
    steps+=("$pid")
  done
  [ "${#steps[@]}" -eq 0 ] && return 0
  all=("${steps[@]}")
  # Descendants, by walking parent pids until nothing new turns up.
  changed=1
  while [ "$changed" -eq 1 ]; do
    changed=0
    for d in /proc/[0-9]*; do
      pid=${d#/proc/}
      stat=$(cat "$d/stat" 2>/dev/null) || continue
      stat=${stat##*) }
      ppid=$(echo "$stat" | cut -d' ' -f2)
      case " ${all[*]} " in *" $pid "*) continue ;; esac
      case " ${all[*]} " in *" $ppid "*) all+=("$pid"); changed=1 ;; esac
    done
  done
  log "killing job steps left by an earlier slurmd: ${all[*]}"
  kill -KILL "${all[@]}" 2>/dev/null || true
}

# stop_pid FILE NAME: TERM, then KILL after 15 s; removes FILE.
stop_pid() {
  local file=$1 name=$2 pid i
  if pid_alive "$file" "$name"; then
    pid=$(tr -dc '0-9' 2>/dev/null <"$file") || pid=""
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      pid_alive "$file" "$name" || break
      sleep 0.1
    done
    if pid_alive "$file" "$name"; then
      log "$name ($pid) ignored TERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$file"
}

port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

munge_works() {
  munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1
}

ensure_munge() {
  if munge_works; then
    # Ours from an earlier start, or someone else's (then not ours to stop).
    pid_alive "$MUNGED_PID" munged || rm -f "$MUNGED_PID"
    return 0
  fi
  if [ ! -s "$MUNGE_KEY" ]; then
    log "creating $MUNGE_KEY"
    mkdir -p /etc/munge
    mungekey --create --keyfile="$MUNGE_KEY" 2>/dev/null ||
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
  fi
  # munged insists on these owners and modes.
  chown munge:munge /etc/munge "$MUNGE_KEY"
  chmod 700 /etc/munge
  chmod 400 "$MUNGE_KEY"
  mkdir -p "$MUNGE_RUN" /var/lib/munge /var/log/munge
  chown munge:munge "$MUNGE_RUN" /var/lib/munge /var/log/munge
  chmod 755 "$MUNGE_RUN"
  chmod 711 /var/lib/munge
  chmod 700 /var/log/munge
  log "starting munged"
  # munged forks itself and writes $MUNGE_RUN/munged.pid; --force lets it
  # replace the socket left by a munged that was killed.
  runuser -u munge -- munged --force ||
    die "munged did not start; see /var/log/munge/munged.log"
  local i
  for ((i = 0; i < 100; i++)); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged started but munge -n | unmunge fails; see /var/log/munge/munged.log"
  cp "$MUNGE_RUN/munged.pid" "$MUNGED_PID"
}

write_conf() {
  local node=$1 hw
  # The node as slurmd sees it (CPUs, sockets, cores, threads, memory),
  # so that the controller does not drain it for a mismatch.
  hw=$(slurmd -C 2>/dev/null | head -n 1 | tr ' ' '\n' |
    grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' |
    tr '\n' ' ' || true)
  [ -n "$hw" ] || hw="CPUs=$(nproc)"
  cat >"$CONF" <<EOF
# Written by deploy/slurm/localhost.sh; rewritten at every start.
ClusterName=upstream
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$CTLD_STATE
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, no systemd, no accounting database.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
MpiDefault=none
SwitchType=switch/none
LaunchType=launch/slurm
PropagateResourceLimits=NONE
MailProg=/bin/true
# Several array tasks share the node, one core each.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Start batch jobs at the next scheduler pass (about once a second) instead
# of deferring them for up to 3 s each wave.
SchedulerParameters=batch_sched_delay=0
# A job whose dependency can never be met (afterok on a failed job) is
# cancelled instead of pending for ever.
DependencyParameters=kill_invalid_depend
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
MaxArraySize=100001
MaxJobCount=200000
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node ${hw}State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

# node_state: the node's state as sinfo prints it (idle, mix, alloc, down*, ...).
node_state() {
  timeout 10 sinfo -h -o %t 2>/dev/null | head -n 1 || true
}

running() {
  pid_alive "$CTLD_PID" slurmctld && pid_alive "$SLURMD_PID" slurmd &&
    case "$(node_state)" in idle | mix | alloc | comp) return 0 ;; *) return 1 ;; esac
}

show_logs() {
  local f
  for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
    [ -r "$f" ] || continue
    echo "---- tail $f" >&2
    tail -n 30 "$f" >&2
  done
}

stop_slurm() {
  if pid_alive "$CTLD_PID" slurmctld; then
    local jobs i
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      log "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_pid "$SLURMD_PID" slurmd
  stop_pid "$CTLD_PID" slurmctld
  kill_stray_steps
}

cmd_start() {
  local t0 node i state port f
  t0=$(date +%s)
  if running; then
    log "already running (node $(node_state))"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  # Whatever is left of an earlier start: daemons, controller state, spool.
  stop_slurm
  node=$(hostname -s)
  for port in "$CTLD_PORT" "$SLURMD_PORT"; do
    port_in_use "$port" && die "port $port is taken by another process (another Slurm?); set UPSTREAM_SLURMCTLD_PORT / UPSTREAM_SLURMD_PORT"
  done
  mkdir -p "$STATE_DIR" "$RUN_DIR" "$LOG_DIR"
  # A cold start: no jobs, node or reservation state from the last run
  # (job ids start again at 1); the last run's logs are kept as *.prev.
  rm -rf "$CTLD_STATE" "$SLURMD_SPOOL"
  for f in slurmctld.log slurmd.log jobcomp.log; do
    if [ -f "$LOG_DIR/$f" ]; then mv -f "$LOG_DIR/$f" "$LOG_DIR/$f.prev"; fi
  done
  mkdir -p "$CTLD_STATE" "$SLURMD_SPOOL"
  chmod 755 "$STATE_DIR" "$RUN_DIR" "$LOG_DIR"
  write_conf "$node"
  ensure_munge

  log "starting slurmctld and slurmd (node $node, $CONF)"
  slurmctld -f "$CONF" || { show_logs; die "slurmctld failed to start"; }
  slurmd -f "$CONF" -N "$node" || { show_logs; die "slurmd failed to start"; }

  state=""
  for ((i = 0; i < TIMEOUT * 2; i++)); do
    state=$(node_state)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    show_logs
    die "node $node not idle after ${TIMEOUT}s (state: '${state:-no answer}')"
  fi
  log "up in $(($(date +%s) - t0))s; clients need: export SLURM_CONF=$CONF"
  echo "export SLURM_CONF=$CONF"
}

cmd_stop() {
  stop_slurm
  if [ -f "$MUNGED_PID" ]; then
    stop_pid "$MUNGED_PID" munged
  fi
  log "stopped"
}

cmd_status() {
  local s
  pid_alive "$CTLD_PID" slurmctld && s=running || s=stopped
  echo "slurmctld: $s"
  pid_alive "$SLURMD_PID" slurmd && s=running || s=stopped
  echo "slurmd:    $s"
  if [ -f "$MUNGED_PID" ]; then
    pid_alive "$MUNGED_PID" munged && s="running (started here)" || s="stopped"
  else
    munge_works && s="running (not started here)" || s="stopped"
  fi
  echo "munged:    $s"
  echo "SLURM_CONF=$CONF"
  if running; then
    timeout 10 sinfo 2>/dev/null || true
    return 0
  fi
  return 3
}

[ $# -eq 1 ] || usage
case "$1" in
  start | stop)
    [ "$1" = start ] && ensure_installed
    if [ "$(id -u)" -ne 0 ]; then
      exec sudo env "UPSTREAM_SLURM_DIR=$STATE_DIR" "UPSTREAM_SLURM_TIMEOUT=$TIMEOUT" \
        "UPSTREAM_SLURMCTLD_PORT=$CTLD_PORT" "UPSTREAM_SLURMD_PORT=$SLURMD_PORT" "$0" "$1"
    fi
    "cmd_$1"
    ;;
  status) cmd_status ;;
  *) usage ;;
esac
