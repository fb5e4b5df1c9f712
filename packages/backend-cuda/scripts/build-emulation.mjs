#!/usr/bin/env node
// Builds the CPU emulation of @flint/backend-cuda's addon into build-emulation/: the addon's own
// sources compiled by the host C++ compiler, with the kernels running as fibers on the CPU and the
// CUDA runtime emulated (native/emulation/). It needs the CUDA toolkit's headers (for the
// runtime's types), CMake and g++, not nvcc's device compiler and not a GPU. Tests load it through
// FLINT_CUDA_ADDON to check the kernels' values and the addon's bookkeeping on machines without a
// GPU (src/emulation.test.ts); it is never picked up otherwise. Like build.mjs it never fails its
// caller: where it cannot build, it records why in build-emulation/flint-cuda-status.json.
//
//   node packages/backend-cuda/scripts/build-emulation.mjs
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildNativeAddon, CMAKE_AND_COMPILER } from '@flint/native-build';
import { nvccCandidates } from './build.mjs';

export const EMULATION_DIR = 'build-emulation';

/** The CUDA toolkit's include folder (it holds cuda_runtime_api.h), found next to an nvcc, or null. */
export function toolkitInclude() {
  const roots = [process.env.CUDA_HOME, process.env.CUDA_PATH].filter(Boolean);
  for (const nvcc of nvccCandidates()) roots.push(dirname(dirname(nvcc)));
  for (const root of roots) {
    if (existsSync(join(root, 'include', 'cuda_runtime_api.h'))) return { root, include: join(root, 'include') };
  }
  return null;
}

function configuration() {
  if (process.platform !== 'linux') return { unavailable: `the CUDA emulation builds on Linux only, not ${process.platform}` };
  const toolkit = toolkitInclude();
  if (toolkit === null) {
    return {
      unavailable:
        "the CUDA toolkit's headers were not found (cuda_runtime_api.h next to an nvcc, CUDA_HOME or /usr/local/cuda*): the emulation needs them for the runtime's types",
    };
  }
  return {
    // The launch rewriter shapes the compiled kernels as much as their sources do.
    fingerprint: ['emulation', toolkit.root, readFileSync(new URL('./emulation-source.mjs', import.meta.url), 'utf8')],
    stamp: { toolkit: toolkit.root, emulation: true },
    defines: ['--CDFLINT_CUDA_EMULATION=ON', `--CDCUDAToolkit_ROOT=${toolkit.root}`, `--CDFLINT_NODE=${process.execPath}`],
    description: 'the CPU emulation, with the host compiler, about a minute',
  };
}

/** Builds the emulation addon when it is missing or older than its sources; never throws. */
export function buildCudaEmulation(options = {}) {
  const packageUrl = new URL('../', import.meta.url);
  return buildNativeAddon(
    {
      packageUrl,
      id: 'cuda',
      buildDir: EMULATION_DIR,
      script: join('scripts', 'build-emulation.mjs'),
      logName: 'backend-cuda emulation',
      subject: 'CPU emulation of the cuda backend (used by tests only)',
      buildTimeoutMs: 20 * 60 * 1000,
      requirements: CMAKE_AND_COMPILER,
      configuration,
    },
    options,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildCudaEmulation();
  process.exit(0);
}
