#!/usr/bin/env bash
# Brings up (or tears down) a single-node Slurm cluster on this machine, for
# trying slurm/*.sbatch and for the end-to-end tests in slurm/ (make test).
#
#   scripts/slurm-up.sh          up: install, configure and start; wait until the node is idle
#   scripts/slurm-up.sh down     stop slurmd, slurmctld and munged (same as scripts/slurm-down.sh)
#   scripts/slurm-up.sh status   print whether the controller answers and the node's state
#
# Idempotent: running "up" when everything already runs changes nothing. Needs
# root (it writes /etc/slurm/slurm.conf and starts daemons) and Debian/Ubuntu
# packages slurm-wlm and munge (installed with apt-get when missing). No systemd
# is assumed: the daemons are started directly.
#
# The configuration is the smallest that works in a container: one node named
# after this host with CPUs=16 task slots (more than its cores, so a 4-rank job
# fits on a 2-core machine: SlurmdParameters=config_overrides), process tracking
# without cgroups (proctrack/linuxproc, task/none), no accounting database.
# An existing /etc/slurm/slurm.conf that this script did not write is never
# replaced: set SLURM_UP_FORCE=1 to replace it.
#
# Environment: SLURM_UP_TIMEOUT (seconds to wait for the node, default 60),
# SLURM_UP_CPUS (task slots, default 16), SLURM_UP_PARTITION (default debug).
set -euo pipefail

action=${1:-up}
conf_dir=/etc/slurm
conf=$conf_dir/slurm.conf
log_dir=/var/log/slurm
ctld_log=$log_dir/slurmctld.log
slurmd_log=$log_dir/slurmd.log
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munge_pid=/run/munge/munged.pid
marker="# Written by efmpi scripts/slurm-up.sh"
timeout=${SLURM_UP_TIMEOUT:-60}
cpus=${SLURM_UP_CPUS:-16}
partition=${SLURM_UP_PARTITION:-debug}
host=$(hostname -s 2>/dev/null || hostname)

say() { printf 'slurm-up: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# pid_alive FILE: the pid in FILE names a running process.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop_pidfile NAME FILE: SIGTERM the process in FILE, wait up to 10 s, then SIGKILL.
stop_pidfile() {
  local name=$1 file=$2 pid
  if ! pid_alive "$file"; then
    rm -f "$file"
    return 0
  fi
  pid=$(cat "$file")
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop in 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

show_logs() {
  local f
  for f in "$ctld_log" "$slurmd_log"; do
    echo "----- last lines of $f -----" >&2
    if [ -f "$f" ]; then tail -n 40 "$f" >&2; else echo "(no such file)" >&2; fi
  done
}

munge_ok() { command -v munge >/dev/null && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
ctld_ok() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { sinfo -h -N -n "$host" -o '%t' 2>/dev/null | head -n 1; }

install_packages() {
  local need=()
  command -v slurmctld >/dev/null || need+=(slurmctld)
  command -v slurmd >/dev/null || need+=(slurmd)
  command -v sbatch >/dev/null || need+=(slurm-client)
  command -v munged >/dev/null || need+=(munge)
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "Slurm is not installed and this is not a Debian/Ubuntu system: install slurm-wlm and munge"
  say "installing slurm-wlm munge (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq slurm-wlm munge >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
}

start_munge() {
  if munge_ok; then
    return 0
  fi
  install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then
      runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  # A stale socket or pid file from a killed munged makes a new one refuse to start.
  if ! pid_alive "$munge_pid"; then
    rm -f "$munge_pid" /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  fi
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do
    munge_ok && return 0
    sleep 0.2
  done
  tail -n 20 /var/log/munge/munged.log >&2 2>/dev/null || true
  die "munged does not answer (munge -n | unmunge fails)"
}

write_conf() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp" <<CONF
$marker: a single-node cluster on $host.
# Remove this file (or run scripts/slurm-up.sh down) when done.
ClusterName=efmpi
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
KillWait=30
InactiveLimit=0
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$ctld_log
SlurmdLogFile=$slurmd_log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  if [ -f "$conf" ] && cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
    return 1 # unchanged
  fi
  if [ -f "$conf" ] && ! grep -q "^$marker" "$conf" && [ "${SLURM_UP_FORCE:-0}" != 1 ]; then
    rm -f "$tmp"
    die "$conf exists and was not written by this script; move it away or set SLURM_UP_FORCE=1 to replace it"
  fi
  install -d -m 0755 "$conf_dir"
  install -m 0644 "$tmp" "$conf"
  rm -f "$tmp"
  say "wrote $conf"
  return 0
}

up() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it writes $conf and starts slurmctld, slurmd and munged)"
  install_packages
  start_munge
  install -d -m 0755 "$log_dir" /var/spool/slurmctld /var/spool/slurmd
  local changed=0
  write_conf && changed=1
  if [ "$changed" = 1 ]; then
    # A new configuration: restart whatever runs with the old one.
    stop_pidfile slurmd "$slurmd_pid"
    stop_pidfile slurmctld "$ctld_pid"
  fi
  if ! pid_alive "$ctld_pid"; then
    say "starting slurmctld"
    slurmctld || {
      show_logs
      die "slurmctld failed to start"
    }
  fi
  if ! pid_alive "$slurmd_pid"; then
    say "starting slurmd"
    slurmd || {
      show_logs
      die "slurmd failed to start"
    }
  fi
  local deadline=$((SECONDS + timeout)) state="" resumed=0
  while [ $SECONDS -lt $deadline ]; do
    if ctld_ok; then
      state=$(node_state)
      case "$state" in
        idle | mix | alloc | comp | idle~ | mixed | allocated | completing)
          say "node $host is $state; partition $partition ($cpus task slots)"
          return 0
          ;;
        down* | drain* | drng*)
          # Left down by an earlier unclean stop: bring it back once.
          if [ $resumed = 0 ]; then
            scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
            resumed=1
          fi
          ;;
      esac
    fi
    sleep 0.5
  done
  say "node $host did not become idle within ${timeout}s (state: ${state:-unknown}; controller: $(scontrol ping 2>&1 | tr '\n' ' '))"
  sinfo -N -l >&2 2>/dev/null || true
  show_logs
  exit 1
}

down() {
  [ "$(id -u)" -eq 0 ] || die "run as root"
  stop_pidfile slurmd "$slurmd_pid"
  stop_pidfile slurmctld "$ctld_pid"
  stop_pidfile munged "$munge_pid"
  say "stopped"
}

status() {
  if ctld_ok; then
    echo "slurmctld up; node $host: $(node_state)"
  else
    echo "slurmctld not answering"
    return 1
  fi
}

case "$action" in
  up | start) up ;;
  down | stop) down ;;
  status) status ;;
  *)
    echo "usage: $0 [up|down|status]" >&2
    exit 2
    ;;
esac
