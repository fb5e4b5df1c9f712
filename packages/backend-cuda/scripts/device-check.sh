#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine (the H200 this workplace lends), in one short run
# (under 6 minutes): the conformance tables on 'cuda' (float16 and bfloat16 cases included), the
# GPU checks (src/gpu.checks.ts; among them NCCL on one rank: ids, init, every collective, a
# group, destroy; two ranks would need two GPUs), the gradient checks against the CPU backend
# (test/gradcheck/cross-backend.ts), issue 10's measurements and the benchmarks (bf16/f16 matmuls
# on the tensor cores among them), a bf16 8192 matmul checked and timed against PyTorch
# (scripts/torch-compare.py), and PyTorch on the issue's workloads with the ratios
# (scripts/torch-bench.py), with results written to bench/results/cuda-<date>{,-torch}.{json,md}
# and to $OUT.
#
# Rehearsal without a GPU, on the CPU emulation of the addon (scripts/build-emulation.mjs):
#   FLINT_CUDA_ADDON=$PWD/packages/backend-cuda/build-emulation/Release/flint_cuda.node \
#     node packages/backend-cuda/.device/dist/device-check.mjs /tmp/dc --rehearsal
#   python3 packages/backend-cuda/scripts/torch-bench.py /tmp/dc/cuda-<date>.json /tmp/dc/torch --device cpu
#
# The device machine has CUDA, Python and the NVIDIA libraries (PyTorch's wheels) but no Node.js,
# so the work is split:
#
#   1. here, on a machine with nvcc (no GPU needed):
#        bash packages/backend-cuda/scripts/device-check.sh prepare
#      builds the addon, bundles scripts/device-check.ts and its imports into one file with
#      esbuild, and packs this machine's node binary with xz, all under packages/backend-cuda/.device/
#      (ignored by git), then prints the device call to make;
#   2. on the device, through the device tool's `run`, with the two prepared paths carried:
#        command: bash packages/backend-cuda/scripts/device-check.sh run
#        carry:   ["packages/backend-cuda/.device", "packages/backend-cuda/build/Release/flint_cuda.node"]
#        timeout_s: 380
#      unpacks node, points FLINT_CUDA_LIBRARY_PATH at the cuBLAS/cuDNN/NVRTC libraries it finds
#      (Python's nvidia-* wheels, /usr/local/cuda), and runs the bundle; add `--quick` after `run`
#      for smaller benchmarks;
#   3. back here: bash packages/backend-cuda/scripts/device-check.sh collect <files_at folder>
#      copies the returned results into bench/results/.
set -euo pipefail

PACKAGE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$PACKAGE/../.." && pwd)"
DEVICE="$PACKAGE/.device"
BUNDLE="$DEVICE/dist/device-check.mjs"
ADDON="$PACKAGE/build/Release/flint_cuda.node"

# Bundles scripts/device-check.ts and its imports into one file ($1) with esbuild.
bundle() {
  local target="${1:-$BUNDLE}"
  cd "$ROOT"
  mkdir -p "$(dirname "$target")"
  # Bundled two levels below the package root (in a dist/ folder, which the linter skips), so that
  # the sources' `new URL('../../', import.meta.url)` (the package root) finds
  # build/Release/flint_cuda.node and native/elementwise_math.cuh. Subpath aliases come first in
  # meaning: esbuild maps the longest one that matches.
  pnpm exec esbuild "$PACKAGE/scripts/device-check.ts" --bundle --platform=node --format=esm --target=node20 \
    --outfile="$target" --log-level=warning \
    --alias:@flint/api=./packages/api/src/index.ts \
    --alias:@flint/api/strided-backend=./packages/api/src/backend/strided-backend/index.ts \
    --alias:@flint/api/node=./packages/api/src/node/index.ts \
    --alias:@flint/backend-cpu=./packages/backend-cpu/src/index.ts \
    --alias:@flint/backend-cuda=./packages/backend-cuda/src/index.ts \
    --banner:js="import { createRequire as __flintCreateRequire } from 'node:module'; const require = __flintCreateRequire(import.meta.url);"
}

prepare() {
  cd "$ROOT"
  node "$PACKAGE/scripts/build.mjs"
  [ -f "$ADDON" ] || { echo "device-check: the addon did not build (see above)" >&2; exit 1; }
  bundle "$BUNDLE"
  if [ ! -f "$DEVICE/node.xz" ] || [ "$(cat "$DEVICE/node.version" 2>/dev/null)" != "$(node --version)" ]; then
    echo "device-check: packing $(command -v node) ($(node --version)) with xz (a minute or two)"
    xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$DEVICE/node.xz.tmp"
    mv "$DEVICE/node.xz.tmp" "$DEVICE/node.xz"
    node --version > "$DEVICE/node.version"
  fi
  du -sh "$DEVICE" "$ADDON"
  cat <<EOF
device-check: prepared. Make this device call (one short run):
  run(command: "bash packages/backend-cuda/scripts/device-check.sh run",
      carry: ["packages/backend-cuda/.device", "packages/backend-cuda/build/Release/flint_cuda.node"],
      timeout_s: 380)
then: bash packages/backend-cuda/scripts/device-check.sh collect <files_at>
EOF
}

# Folders holding the optional NVIDIA libraries on the device: Python's nvidia-* wheels (PyTorch's
# cuBLAS, cuDNN, NVRTC) and the toolkit's own.
library_path() {
  local folders=()
  local python
  for python in python3 /opt/torch/.venv/bin/python3; do
    command -v "$python" > /dev/null 2>&1 || continue
    local site
    site="$("$python" -c 'import site, sys; print("\n".join(site.getsitepackages()))' 2>/dev/null || true)"
    local dir
    while IFS= read -r dir; do
      [ -d "$dir/nvidia" ] || continue
      local lib
      for lib in "$dir"/nvidia/*/lib; do [ -d "$lib" ] && folders+=("$lib"); done
    done <<< "$site"
  done
  local cuda
  for cuda in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$cuda" ] && folders+=("$cuda"); done
  local IFS=:
  echo "${folders[*]}"
}

run() {
  cd "$ROOT"
  local out="${OUT:-$ROOT/.tmp/device-out}"
  mkdir -p "$out" "$ROOT/bench/results"
  [ -f "$BUNDLE" ] && [ -f "$DEVICE/node.xz" ] || { echo "device-check: run 'prepare' first and carry packages/backend-cuda/.device" >&2; exit 1; }
  [ -f "$ADDON" ] || { echo "device-check: carry packages/backend-cuda/build/Release/flint_cuda.node" >&2; exit 1; }
  local node=/tmp/flint-node
  if command -v xz > /dev/null 2>&1; then
    xz -dc "$DEVICE/node.xz" > "$node"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$DEVICE/node.xz" "$node"
  fi
  chmod +x "$node"
  export FLINT_CUDA_LIBRARY_PATH="${FLINT_CUDA_LIBRARY_PATH:-$(library_path)}"
  echo "device-check: node $("$node" --version); FLINT_CUDA_LIBRARY_PATH=$FLINT_CUDA_LIBRARY_PATH"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>/dev/null || true
  local status=0
  local compare=/tmp/flint-torch-compare
  rm -rf "$compare"
  FLINT_TORCH_COMPARE="$compare" timeout 190 "$node" "$BUNDLE" "$ROOT/bench/results" "$@" 2>&1 | tee "$out/device-check.log" || status=$?
  local report
  report="$(ls -t "$ROOT"/bench/results/cuda-*.json 2>/dev/null | grep -v -- '-torch.json' | head -1 || true)"
  local python
  for python in /opt/torch/.venv/bin/python3 python3; do
    command -v "$python" > /dev/null 2>&1 && "$python" -c 'import torch' > /dev/null 2>&1 || continue
    if [ -f "$compare/meta.json" ]; then
      timeout 40 "$python" "$PACKAGE/scripts/torch-compare.py" "$compare" 2>&1 | tee "$out/torch-compare.json" || status=1
      grep -q '"ok": true' "$out/torch-compare.json" || status=1
    fi
    # PyTorch on the same workloads (eager and torch.compile) and the issue's ratios.
    if [ -n "$report" ]; then
      timeout 120 "$python" "$PACKAGE/scripts/torch-bench.py" "$report" "${report%.json}-torch" 2>&1 | tee "$out/torch-bench.log" || status=1
    fi
    break
  done
  rm -rf "$compare"
  cp "$ROOT"/bench/results/cuda-*.json "$ROOT"/bench/results/cuda-*.md "$out/" 2>/dev/null || true
  # Deleted when the device goes back: each run's results are fetched from $OUT.
  echo "device-check: exit $status; files in $out: $(ls "$out" | tr '\n' ' ')"
  return "$status"
}

collect() {
  local from="${1:?usage: device-check.sh collect <folder the device results were fetched to>}"
  mkdir -p "$ROOT/bench/results"
  cp -v "$from"/cuda-*.json "$from"/cuda-*.md "$ROOT/bench/results/"
}

command="${1:-}"
shift || true
case "$command" in
  prepare) prepare "$@" ;;
  bundle) bundle "$@" ;;
  run) run "$@" ;;
  collect) collect "$@" ;;
  *)
    echo "usage: device-check.sh prepare | bundle [file] | run [--quick] | collect <folder>" >&2
    exit 2
    ;;
esac
