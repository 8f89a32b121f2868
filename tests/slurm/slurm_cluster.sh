#!/usr/bin/env bash
# A one-node Slurm cluster of this machine for the Slurm.* tests: munged, slurmctld and slurmd with every file
# (keys, sockets, state, spool, logs, slurm.conf) under one folder, so that nothing outside it is touched.
#
#   slurm_cluster.sh up DIR      start it; DIR/client.env then holds what a client needs (SLURM_CONF, PATH), and
#                                DIR/skip the reason instead when this machine must not get one (exit 0)
#   slurm_cluster.sh down DIR    stop every daemon that `up` started, by pid, and remove DIR
#
# `up` refuses (writes DIR/skip) where Slurm is already configured (/etc/slurm/slurm.conf, SLURM_CONF, a running
# slurmctld or slurmd) or when not root: the tests never touch a real installation. A watchdog stops the daemons
# after PIXAB_SLURM_TEST_LIFETIME seconds (default 3600) should `down` never run (ctest killed).
set -euo pipefail

action=${1:?usage: slurm_cluster.sh up|down DIR}
dir=${2:?usage: slurm_cluster.sh up|down DIR}

skip() {
  mkdir -p "$dir"
  echo "$1" >"$dir/skip"
  echo "Slurm tests skipped: $1"
  started=skipped
  exit 0
}

# The pids `up` recorded, one per line in DIR/pids: the only processes `down` signals.
stop_daemons() {
  [ -f "$dir/pids" ] || return 0
  local pid
  while read -r pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done <"$dir/pids"
  for _ in $(seq 50); do
    local alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$dir/pids"
    [ $alive -eq 0 ] && return 0
    sleep 0.2
  done
  while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/pids"
}

# The pid a daemon wrote into its pid file, waiting for it to appear.
pid_from_file() {
  local file=$1
  for _ in $(seq 100); do
    if [ -s "$file" ]; then
      cat "$file"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

up() {
  [ -n "${PIXAB_SLURM_KEEP:-}" ] || rm -rf "$dir"
  [ "$(id -u)" -eq 0 ] || skip "not root: the test cluster's daemons need root (run scripts/test.sh as root)"
  [ -z "${SLURM_CONF:-}" ] || skip "SLURM_CONF is set ($SLURM_CONF): this machine has a Slurm of its own"
  [ ! -e /etc/slurm/slurm.conf ] || skip "/etc/slurm/slurm.conf exists: this machine has a Slurm of its own"
  [ ! -e /etc/slurm-llnl/slurm.conf ] || skip "/etc/slurm-llnl/slurm.conf exists: this machine has a Slurm of its own"
  if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    skip "a slurmctld or slurmd is running: this machine has a Slurm of its own"
  fi
  for tool in munged slurmctld slurmd sbatch scontrol; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null ||
      skip "$tool is missing: install slurm-wlm and munge (scripts/packages.txt)"
  done
  export PATH=$PATH:/usr/sbin:/sbin

  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 755 "$dir" "$dir/munge"  # munged wants its socket's folders searchable by all
  touch "$dir/pids"
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  # Daemons get no descriptor of ours: ctest waits for the test's output pipe to close.
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/daemons.out" 2>&1
  pid_from_file "$dir/munge/munged.pid" >>"$dir/pids"

  local host cpus memory ctld_port slurmd_port
  host=$(hostname -s)
  cpus=$(nproc --all)
  memory=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)  # MiB: half the machine's
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  # What works in a container: no cgroups (linuxproc process tracking, no task binding), no accounting
  # database. Two stand-in GPUs let jobs ask for --gpus-per-task as the job script does.
  cat >"$dir/slurm.conf" <<EOF
ClusterName=pixab-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=3600
SchedulerParameters=sched_interval=2
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Slurm keeps only GPUs with a device file: two harmless character devices stand in for them.
  cat >"$dir/gres.conf" <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null
NodeName=$host Name=gpu File=/dev/zero
EOF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" -i </dev/null >>"$dir/log/daemons.out" 2>&1
  pid_from_file "$dir/slurmctld.pid" >>"$dir/pids"
  slurmd -f "$SLURM_CONF" </dev/null >>"$dir/log/daemons.out" 2>&1
  pid_from_file "$dir/slurmd.pid" >>"$dir/pids"

  # The watchdog: stops the daemons if `down` has not run by the deadline; `down` stops it first.
  (
    sleep "${PIXAB_SLURM_TEST_LIFETIME:-3600}" &
    sleeper=$!
    trap 'kill $sleeper; exit 0' TERM
    wait $sleeper
    "$0" down "$dir"
  ) </dev/null >/dev/null 2>&1 &
  echo "$!" >"$dir/watchdog.pid"

  for _ in $(seq 120); do
    if sinfo -h -n "$host" -o '%t' 2>/dev/null | grep -qx idle; then
      printf 'export SLURM_CONF=%q\nexport PATH=%q\n' "$SLURM_CONF" "$PATH" >"$dir/client.env"
      echo "Slurm test cluster up in $dir: node $host idle, $cpus CPUs"
      started=yes
      return 0
    fi
    sleep 0.5
  done
  echo "the test cluster's node never became idle:" >&2
  sinfo -N -l >&2 || true
  tail -n 30 "$dir"/log/*.log >&2 || true
  exit 1
}

# Jobs a failed or timed-out test left behind: cancelled, and their steps given KillWait to end, before the
# daemons that manage them stop.
cancel_jobs() {
  [ -f "$dir/client.env" ] || return 0
  (
    source "$dir/client.env"
    scancel --user="$(id -un)" 2>/dev/null || return 0
    for _ in $(seq 30); do
      [ -z "$(squeue -h 2>/dev/null)" ] && return 0
      sleep 0.5
    done
  ) || true
}

down() {
  [ -d "$dir" ] || return 0
  if [ -f "$dir/watchdog.pid" ]; then
    kill -TERM "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
  fi
  cancel_jobs
  stop_daemons
  [ -n "${PIXAB_SLURM_KEEP:-}" ] || rm -rf "$dir"
}

# A failed `up` (any command, under set -e) leaves nothing running and no folder behind.
started=no
undo_failed_up() { [ "$started" != no ] || down; }

case "$action" in
  up)
    trap undo_failed_up EXIT
    up
    ;;
  down) down ;;
  *) echo "usage: slurm_cluster.sh up|down DIR" >&2; exit 2 ;;
esac
