#!/usr/bin/env bash
# Build an mmcv wheel with compiled ops for the torch installed in the given interpreter.
#
#   bash tools/build_mmcv.sh PYTHON MMCV_VERSION OUT_DIR
#
# Why by hand: mmcv 2.x ships only as source on PyPI and its setup.py hard-codes -std=c++14,
# which current torch headers reject (torch 2.13 needs C++17, torch 2.14 C++20). We patch the
# flag to the standard torch's own cpp_extension uses. The ops are built for the CPU only
# (CUDA hidden): our models use no mmcv CUDA kernel, and this keeps the build ~10 min on 2 cores.
set -euo pipefail
PY="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; VER="$2"; OUT="$(mkdir -p "$3" && cd "$3" && pwd)"
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

std="$("$PY" - <<'EOF'
import re, inspect
import torch.utils.cpp_extension as ce
stds = [int(s) for s in re.findall(r"-std=c\+\+(\d+)", inspect.getsource(ce))]
print(max(stds) if stds else 17)
EOF
)"
echo "[build_mmcv] building mmcv $VER with ops, -std=c++$std, for $("$PY" -c 'import torch; print(torch.__version__)') (takes 10-20 min once per machine)"

"$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
  --no-build-isolation "mmcv==$VER" -d "$work" 2>&1 | grep -v "^WARNING: Location" || true
tar -xzf "$work/mmcv-$VER.tar.gz" -C "$work"
src="$work/mmcv-$VER"
sed -i "s/-std=c++14/-std=c++$std/g; s#/std:c++14#/std:c++$std#g" "$src/setup.py"
grep -q -- "-std=c++$std" "$src/setup.py" || { echo "[build_mmcv] could not patch the C++ standard in setup.py"; exit 1; }

start=$(date +%s)
( cd "$src" && CUDA_VISIBLE_DEVICES="" FORCE_CUDA=0 MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" \
    "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation . -w "$work/dist" \
    > "$work/build.log" 2>&1 ) || { tail -n 40 "$work/build.log"; echo "[build_mmcv] build failed"; exit 1; }
mv "$work"/dist/mmcv-*.whl "$OUT/"
echo "[build_mmcv] built $(ls "$OUT") in $(( $(date +%s) - start )) s"
