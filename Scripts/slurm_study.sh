#!/usr/bin/env bash
# A sharded study on a real Slurm, on this machine: installs Slurm and MUNGE (Debian's slurm-wlm
# and munge) when missing, starts a single-node cluster on loopback (slurmctld and one slurmd,
# every file under a temporary folder, no cgroups: proctrack/linuxproc, task/none), submits the
# study with Docs/examples/compare-slurm.sh as a job array of shards (`sbatch --array=1-n`, task i
# running `attractor compare --shard i/n`, task 1 submitting the merge with
# --dependency=afterok), waits for the merge, runs the same study unsharded outside Slurm, checks
# that the merged cells and report rows equal the unsharded ones (times aside), and stops the
# daemons.
#
#   bash Scripts/slurm_study.sh                          # the built-in study, 4 shards
#   bash Scripts/slurm_study.sh --shards 8 --study my-study.json
#   bash Scripts/slurm_study.sh --keep                   # keep the temporary folder (logs, runs)
#
# Needs root or sudo for apt-get (Debian or Ubuntu); the daemons and jobs run as the calling user
# (tested as root).
# The daemons listen on 127.0.0.1 (ports 16817/16818 unless SLURM_STUDY_PORT is set) and are
# stopped on exit, also on failure. Not part of the default test run (the built-in study takes
# under a minute here once Slurm is installed; Docs/Studies.md, "Running on many machines").
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

shards=4
study=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="$2"; shift 2 ;;
    --study) study="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done
case "$shards" in ''|*[!0-9]*) echo "error: --shards takes a whole number ≥ 1, got $shards" >&2; exit 64 ;; esac
[ "$shards" -ge 1 ] || { echo "error: --shards must be at least 1" >&2; exit 64; }
if [ -n "$study" ] && [ ! -f "$study" ]; then echo "error: no such study file: $study" >&2; exit 64; fi

# 1. Packages: Slurm and MUNGE (and python3 for the comparison), plus what the build needs.
missing=()
for p in slurm-wlm munge python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  echo "Installing ${missing[*]} ..." >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash Scripts/install-dependencies.sh

# 2. The release binary.
swift build -c release --product attractor >&2
attractor="$(swift build -c release --show-bin-path)/attractor"

# 3. A single-node cluster under a temporary folder.
work="$(mktemp -d /tmp/attractor-slurm.XXXXXX)"
chmod 700 "$work"
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/etc"
pids=()
cleanup() {
  status=$?
  # Jobs still running (after a failure) end first, so that no job step outlives slurmd.
  if [ ${#pids[@]} -ge 3 ]; then
    scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do squeue -h 2>/dev/null | grep -q . || break; sleep 0.2; done
  fi
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
  done
  if [ "$keep" = 1 ] || [ $status -ne 0 ]; then
    echo "files kept in $work (daemon logs in $work/log)" >&2
  else
    rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT

user="$(id -un)"
node="$(hostname -s)"
port="${SLURM_STUDY_PORT:-16817}"
cpus="$(nproc)"
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))

# MUNGE authenticates Slurm's messages: a fresh key, its own socket.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed"
pids+=("$(cat "$work/munge/munged.pid")")

export SLURM_CONF="$work/etc/slurm.conf"
cat > "$SLURM_CONF" <<EOF
# Written by Scripts/slurm_study.sh: one controller and one node on 127.0.0.1.
ClusterName=attractor
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/state/slurmctld.pid
SlurmdPidFile=$work/spool/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$SLURM_CONF" -i
for _ in $(seq 50); do [ -s "$work/state/slurmctld.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$work/state/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$node"
for _ in $(seq 50); do [ -s "$work/spool/slurmd.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$work/spool/slurmd.pid")")
for _ in $(seq 100); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null || true)"
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 0.3
done
echo "Slurm $(sinfo -V | awk '{print $2}'): node $node, $cpus CPUs, state ${state:-unknown}" >&2
case "$state" in idle*) ;; *) echo "error: the node did not come up (see $work/log)" >&2; exit 1 ;; esac

# 4. The study as a job array of shards, through the documented example job script.
if [ -z "$study" ]; then
  study="$work/builtin-study.json"
  "$attractor" compare print-study > "$study"
fi
name="$(basename "$study" .json)"
export ATTRACTOR="$attractor"
export OPENBLAS_NUM_THREADS=1
start=$(date +%s.%N)
array_job="$(sbatch --parsable --chdir="$work" --array="1-$shards" --cpus-per-task=1 \
  --mem=1G --output="$work/log/shard-%a.out" "$root/Docs/examples/compare-slurm.sh" "$study")"
echo "submitted job array $array_job (sbatch --array=1-$shards), $shards shards of $name" >&2

# Task 1 submits the merge job (afterok on the array): wait until it has ended. A failed task
# leaves the merge pending for ever (its dependency can never be satisfied), so stop then too.
job_states() { scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' || true; }
merge_job_id() {
  scontrol show job -o 2>/dev/null | sed -n 's/^JobId=\([0-9]*\) .*JobName=attractor-merge .*/\1/p' | head -1 || true
}
merge_job=""
while :; do
  [ -n "$merge_job" ] || merge_job="$(merge_job_id)"
  tasks="$(job_states "$array_job")"
  if echo "$tasks" | grep -qE 'FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE'; then
    echo "error: a task of the array failed:" >&2
    scontrol show job -o "$array_job" >&2
    exit 1
  fi
  if [ -n "$merge_job" ]; then
    merge_state="$(job_states "$merge_job")"
    case "$merge_state" in PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|SUSPENDED|"") ;; *) break ;; esac
  elif [ -n "$tasks" ] && ! echo "$tasks" | grep -qvE '^COMPLETED$' 2>/dev/null; then
    sleep 2  # every task done: the merge job must have been submitted by now
    [ -n "$(merge_job_id)" ] && continue
    echo "error: the array finished without submitting the merge (task logs in $work/log)" >&2
    exit 1
  fi
  sleep 0.5
done
end=$(date +%s.%N)
echo "array tasks: $(job_states "$array_job" | sort | uniq -c | xargs); merge job $merge_job: $merge_state" >&2
[ "$merge_state" = "COMPLETED" ] || { echo "error: the merge job ended $merge_state (logs in $work)" >&2; exit 1; }
slurm_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

# 5. The same study unsharded, outside Slurm, and the comparison.
start=$(date +%s.%N)
"$attractor" compare --study "$study" --output-dir "$work/whole" --quiet > /dev/null
end=$(date +%s.%N)
whole_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if ! verdict="$(python3 Scripts/compare_study_runs.py --equal "$work/runs/$name/merged" "$work/whole")"; then
  echo "error: the merged report of the Slurm run differs from the unsharded run (folders in $work)" >&2
  exit 1
fi
echo "merged (Slurm) against unsharded: $verdict"
echo "sharded through Slurm ($shards shards, submission to merged report): $slurm_seconds s; unsharded run: $whole_seconds s"
