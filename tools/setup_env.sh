#!/usr/bin/env bash
# Create or refresh the project virtual environment (.venv) with the pinned OpenMMLab stack.
#
#   bash tools/setup_env.sh            # what `make demo` / `make test` call
#
# Environment knobs (all optional):
#   VENV=.venv                         where the environment lives
#   PYTHON=python3                     interpreter used to create it
#   TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
#                                      the torch/torchvision pair to install; e.g. a CUDA build:
#                                      TORCH_SPEC="torch==2.1.2 torchvision==0.16.2"
#                                      PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cu118
#   TORCH_SPEC=system                  reuse the torch already installed in $PYTHON's
#                                      site-packages (venv made with --system-site-packages)
#   MNSP_CACHE=~/.cache/mnsp_mm        where the mmcv wheel built for this torch is kept
#   MMCV_FORCE_REBUILD=1               ignore the cached mmcv wheel
#
# mmcv 2.0.1 ships only as source on PyPI and mmocr/mmdet need its compiled ops (mmcv._ext).
# We build it once per (torch version, python, platform), with the C++ standard the installed
# torch requires (mmcv hard-codes C++14), and keep the wheel in $MNSP_CACHE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
MNSP_CACHE="${MNSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mnsp_mm}"
MMCV_VERSION=2.0.1
STAMP="$VENV/.mnsp_env_stamp"

log() { printf '[setup_env] %s\n' "$*"; }
pip_q() { "$VENV/bin/python" -m pip -q --disable-pip-version-check "$@" 2>&1 \
            | grep -v "^WARNING: Location .* is ignored" || true; }

# The stamp is the hash of every input that shapes the environment; equal stamp => nothing to do.
want_stamp="$(cat requirements/*.txt tools/setup_env.sh setup.py | sha256sum | cut -c1-16) $TORCH_SPEC"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] \
   && "$VENV/bin/python" -c "import mnsp_mm" 2>/dev/null; then
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  if [[ "$TORCH_SPEC" == system ]]; then
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PY="$VENV/bin/python"

# 0. Debian packages (fonts for the renderer, Tesseract for the demo's reference row)
debs="$(grep -v '^#' requirements/debian.txt | tr -s ' \n' ' ')"
missing=""
for deb in $debs; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $deb"
done
if [[ -n "$missing" ]]; then
  SUDO=""; [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null && SUDO="sudo -n"
  log "installing Debian packages:$missing"
  if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
           $missing >/dev/null 2>&1 \
         || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive \
              apt-get install -y -q --no-install-recommends $missing >/dev/null; }; }; then
    log "WARNING: could not install$missing (needs root or sudo): the renderer falls back"
    log "to its bundled fonts and the demo's held-out-fonts set cannot be rendered"
  fi
fi

# 1. torch / torchvision
if [[ "$TORCH_SPEC" == system ]]; then
  "$PY" -c "import torch, torchvision" \
    || { log "TORCH_SPEC=system but $PYTHON has no importable torch+torchvision"; exit 1; }
else
  # shellcheck disable=SC2086
  if ! "$PY" - $TORCH_SPEC <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, _, ver = spec.partition('==')
    if ver and version(name).split('+')[0] != ver.split('+')[0]:
        sys.exit(1)
EOF
  then
    log "installing $TORCH_SPEC (large, from the local wheel store when present)"
    # shellcheck disable=SC2086
    pip_q install $TORCH_SPEC
  fi
fi
pip_q install -c requirements/constraints.txt setuptools wheel ninja

# 2. mmcv with compiled ops, cached per torch build
TORCH_TAG="$("$PY" -c 'import torch, sys, platform; v = torch.__version__.replace("+", "_"); print(f"torch{v}-py{sys.version_info[0]}{sys.version_info[1]}-{platform.machine()}")')"
WHEEL_DIR="$MNSP_CACHE/wheels/$TORCH_TAG"
have_ops() { "$PY" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }
if ! have_ops || [[ "${MMCV_FORCE_REBUILD:-0}" == 1 ]]; then
  wheel="$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$wheel" || "${MMCV_FORCE_REBUILD:-0}" == 1 ]]; then
    bash tools/build_mmcv.sh "$PY" "$MMCV_VERSION" "$WHEEL_DIR"
    wheel="$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl | head -n1)"
  else
    log "reusing cached $wheel"
  fi
  pip_q install --no-deps --force-reinstall "$wheel"
fi

# 3. the rest of the stack, fully pinned; then this package in editable mode
log "installing the pinned stack"
pip_q install -c requirements/constraints.txt -r requirements/runtime.txt -r requirements/tests.txt
pip_q install --no-deps --no-build-isolation -e .

"$PY" -m mnsp_mm.utils.env_check
echo "$want_stamp" > "$STAMP"
log "ready: $VENV"
