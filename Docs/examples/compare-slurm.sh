#!/usr/bin/env bash
# A study split over a Slurm job array: task i of n runs `attractor compare --shard i/n` into its
# own folder; a dependent job merges the folders into one report.
#
#   sbatch Docs/examples/compare-slurm.sh my-study.json            # submits the array and the merge
#
# Each task passes --resume, so a task that was preempted and requeued continues where it stopped
# (finished cells are kept in runs/<study>/shard-<i>/cells.partial.jsonl).
#SBATCH --job-name=attractor-compare
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --requeue
set -euo pipefail

study="${1:?usage: sbatch compare-slurm.sh <study.json>}"
name="$(basename "$study" .json)"
attractor="${ATTRACTOR:-attractor}"   # path to the release binary (swift build -c release --show-bin-path)

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  echo "run this script with sbatch (it is a job array)" >&2
  exit 64
fi

n="${SLURM_ARRAY_TASK_COUNT:-8}"      # keep equal to the --array range above
i="$SLURM_ARRAY_TASK_ID"
cpus="${SLURM_CPUS_PER_TASK:-1}"
# One cell per CPU at a time (each on one OpenBLAS thread when there are several).
export OPENBLAS_NUM_THREADS="$cpus"

"$attractor" compare --study "$study" --shard "$i/$n" --output-dir "runs/$name/shard-$i" --resume --quiet \
  --workers "$cpus"

# The first task submits the merge, to start once every task of the array has succeeded.
if [ "$i" = "1" ]; then
  sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=attractor-merge \
    --wrap "$attractor compare merge runs/$name/shard-* --output-dir runs/$name/merged"
fi
