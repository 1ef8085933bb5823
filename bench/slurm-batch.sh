#!/usr/bin/env bash
# Run a tradesim batch across the nodes of a SLURM cluster as a job array, then merge.
#
#   sbatch --array=1-8 bench/slurm-batch.sh scenarios/lac-asia-options.ron results
#   # when all array tasks are done:
#   tradesim merge results/shard-* --out results/merged
#
# Each task runs one of N equal parts of the batch (N = the array size) on the cores SLURM
# gives it; results do not depend on the number of shards or threads, so the merged files are
# the same bytes as a single run's.
#SBATCH --job-name=tradesim-batch
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=02:00:00
#SBATCH --output=tradesim-%A_%a.log
set -euo pipefail
batch=${1:?usage: sbatch --array=1-N slurm-batch.sh BATCH.ron OUTDIR}
outdir=${2:?usage: sbatch --array=1-N slurm-batch.sh BATCH.ron OUTDIR}
k=${SLURM_ARRAY_TASK_ID:?run as a job array: sbatch --array=1-N}
n=${SLURM_ARRAY_TASK_COUNT:?run as a job array: sbatch --array=1-N}
tradesim batch "$batch" --out "$outdir/shard-$k" --shard "$k/$n" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --keep-going --quiet
