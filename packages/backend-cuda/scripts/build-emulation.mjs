#!/usr/bin/env node
// Builds the CPU emulation of @flint/backend-cuda's addon into build-emulation/: the addon's own
// sources compiled by the host C++ compiler, with the kernels running as fibers on the CPU and the
// CUDA runtime emulated (native/emulation/). It needs the CUDA toolkit's headers (for the
// runtime's types), CMake and g++, not nvcc's device compiler and not a GPU. Tests load it through
// FLINT_CUDA_ADDON to check the kernels' values and the addon's bookkeeping on machines without a
// GPU (src/emulation.test.ts); it is never picked up otherwise. Like build.mjs it never fails its
// caller: where it cannot build, it records why in build-emulation/flint-cuda-status.json.
// With --asan it builds the same under AddressSanitizer into build-emulation-asan/ (buffers
// allocated to the byte, the caching allocator's blocks poisoned past what was asked for and
// while cached), for src/native/sanitized.test.ts, which runs it in a node started with libasan
// preloaded: a kernel reading or writing past its buffer then faults, naming the kernel.
//
//   node packages/backend-cuda/scripts/build-emulation.mjs [--asan]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildNativeAddon, CMAKE_AND_COMPILER } from '@flint/native-build';
import { nvccCandidates } from './build.mjs';

export const EMULATION_DIR = 'build-emulation';
export const SANITIZED_EMULATION_DIR = 'build-emulation-asan';

/** The host compiler's AddressSanitizer runtime (libasan.so), which the sanitized emulation needs preloaded, or null. */
export function asanRuntime() {
  try {
    const path = execFileSync(process.env.CXX || 'c++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    return isAbsolute(path) && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** The CUDA toolkit's include folder (it holds cuda_runtime_api.h), found next to an nvcc, or null. */
export function toolkitInclude() {
  const roots = [process.env.CUDA_HOME, process.env.CUDA_PATH].filter(Boolean);
  for (const nvcc of nvccCandidates()) roots.push(dirname(dirname(nvcc)));
  for (const root of roots) {
    if (existsSync(join(root, 'include', 'cuda_runtime_api.h'))) return { root, include: join(root, 'include') };
  }
  return null;
}

function configuration(asan) {
  if (process.platform !== 'linux') return { unavailable: `the CUDA emulation builds on Linux only, not ${process.platform}` };
  if (asan && asanRuntime() === null) {
    return {
      unavailable:
        "the host compiler has no AddressSanitizer runtime (c++ -print-file-name=libasan.so found none; Debian's gcc brings libasan)",
    };
  }
  const toolkit = toolkitInclude();
  if (toolkit === null) {
    return {
      unavailable:
        "the CUDA toolkit's headers were not found (cuda_runtime_api.h next to an nvcc, CUDA_HOME or /usr/local/cuda*): the emulation needs them for the runtime's types",
    };
  }
  return {
    // The launch rewriter shapes the compiled kernels as much as their sources do.
    fingerprint: [
      'emulation',
      asan ? 'asan' : 'plain',
      toolkit.root,
      readFileSync(new URL('./emulation-source.mjs', import.meta.url), 'utf8'),
    ],
    stamp: { toolkit: toolkit.root, emulation: true, asan },
    defines: [
      '--CDFLINT_CUDA_EMULATION=ON',
      `--CDFLINT_CUDA_EMULATION_ASAN=${asan ? 'ON' : 'OFF'}`,
      `--CDCUDAToolkit_ROOT=${toolkit.root}`,
      `--CDFLINT_NODE=${process.execPath}`,
    ],
    description: `the CPU emulation${asan ? ' under AddressSanitizer' : ''}, with the host compiler, about a minute`,
  };
}

/** Builds the emulation addon (`asan`: the sanitized one) when it is missing or older than its sources; never throws. */
export function buildCudaEmulation(options = {}) {
  const asan = options.asan === true;
  const packageUrl = new URL('../', import.meta.url);
  return buildNativeAddon(
    {
      packageUrl,
      id: 'cuda',
      buildDir: asan ? SANITIZED_EMULATION_DIR : EMULATION_DIR,
      script: join('scripts', 'build-emulation.mjs'),
      logName: asan ? 'backend-cuda emulation (asan)' : 'backend-cuda emulation',
      subject: `CPU emulation of the cuda backend${asan ? ' under AddressSanitizer' : ''} (used by tests only)`,
      buildTimeoutMs: 20 * 60 * 1000,
      requirements: CMAKE_AND_COMPILER,
      configuration: () => configuration(asan),
    },
    options,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildCudaEmulation({ asan: process.argv.includes('--asan') });
  process.exit(0);
}
