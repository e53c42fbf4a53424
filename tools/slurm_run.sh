#!/usr/bin/env bash
# srun one of our tools with one task per GPU (mmengine's slurm launcher); used by
# slurm_train.sh and slurm_test.sh, as OpenMMLab's scripts do it:
#   bash tools/slurm_run.sh PARTITION JOB_NAME TOOL.py [args for the tool]
# GPUS (default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS, PYTHON, MASTER_PORT.
set -x
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}

PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}

srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "${PYTHON}" -u "$(dirname "$0")/${TOOL}" "${@:4}" --launcher=slurm
