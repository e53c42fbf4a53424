#!/usr/bin/env bash
# Train on a Slurm cluster (see slurm_run.sh for GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS):
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [args for train.py]
exec bash "$(dirname "$0")/slurm_run.sh" "$1" "$2" train.py "$3" --work-dir="$4" "${@:5}"
