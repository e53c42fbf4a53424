#!/usr/bin/env bash
# Multi-process train over torchrun (mmengine's launcher); multi-node via NNODES/NODE_RANK/MASTER_ADDR.
#   bash tools/dist_train.sh CONFIG NUM_PROCS [extra args for tools/train.py]
# On a machine without GPUs the processes use the gloo backend on the CPU.
set -euo pipefail
CONFIG=$1

NPROC=$2
PYTHON=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python
exec "$PYTHON" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" --nproc_per_node="$NPROC" \
  "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
