#!/usr/bin/env node
// Builds @flint/backend-cuda's native addon with cmake-js and nvcc. It never fails its caller:
// where the addon cannot be built (no nvcc, no CMake, a compiler error) it records why in
// build/flint-cuda-status.json (the backend reports that reason when asked to start), prints it,
// and exits 0, so the rest of Flint still builds and works. A GPU is not needed to build.
//
//   node packages/backend-cuda/scripts/build.mjs       (or import { buildCudaBackend } from it)
//
// Environment: FLINT_CUDA_SKIP_BUILD=1 skips everything; FLINT_CUDA_NVCC=/path/to/nvcc picks the
// compiler (else CUDACXX, nvcc on the PATH, /usr/local/cuda*/bin/nvcc); FLINT_CUDA_ARCHITECTURES
// overrides the GPU targets (CMake syntax, default "80-real;90-real;90-virtual");
// FLINT_CUDA_NO_INSTALL=1 never runs apt for CMake or g++; FLINT_BOOTSTRAP_VERBOSE=1 shows the
// compiler's output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildNativeAddon, CMAKE_AND_COMPILER } from '@flint/native-build';

const BUILD_TIMEOUT_MS = 30 * 60 * 1000;

/** The places nvcc is looked for, in order. */
export function nvccCandidates() {
  const candidates = [];
  for (const variable of ['FLINT_CUDA_NVCC', 'CUDACXX']) if (process.env[variable]) candidates.push(process.env[variable]);
  for (const folder of (process.env.PATH ?? '').split(':')) if (folder) candidates.push(join(folder, 'nvcc'));
  for (const root of [process.env.CUDA_HOME, process.env.CUDA_PATH]) if (root) candidates.push(join(root, 'bin', 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  try {
    for (const entry of readdirSync('/usr/local').sort().reverse()) {
      if (entry.startsWith('cuda-')) candidates.push(join('/usr/local', entry, 'bin', 'nvcc'));
    }
  } catch {
    // no /usr/local
  }
  return candidates;
}

/** The first nvcc that runs, with its version line, or null. */
function findNvcc() {
  for (const candidate of nvccCandidates()) {
    if (!existsSync(candidate)) continue;
    const result = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (!result.error && result.status === 0) {
      const release = /release ([0-9.]+)/.exec(result.stdout ?? '');
      return { path: candidate, version: release ? release[1] : 'unknown' };
    }
  }
  return null;
}

function architectures() {
  return process.env.FLINT_CUDA_ARCHITECTURES || '80-real;90-real;90-virtual';
}

/** nvcc and the GPU targets: part of the stamp, since objects from another compiler must be rebuilt. */
function configuration() {
  if (process.platform !== 'linux')
    return { unavailable: `building the CUDA addon on ${process.platform} is not supported yet (Linux only)` };
  const nvcc = findNvcc();
  if (nvcc === null) {
    return {
      unavailable:
        'nvcc not found (searched FLINT_CUDA_NVCC, CUDACXX, the PATH, CUDA_HOME, /usr/local/cuda*/bin): install the CUDA toolkit, then run node packages/backend-cuda/scripts/build.mjs',
    };
  }
  return {
    fingerprint: [nvcc.path, nvcc.version, architectures()],
    stamp: { nvcc: nvcc.path, nvccVersion: nvcc.version, architectures: architectures() },
    defines: [`--CDCMAKE_CUDA_COMPILER=${nvcc.path}`, `--CDFLINT_CUDA_ARCHITECTURES=${architectures()}`],
    description: `nvcc ${nvcc.version} for ${architectures()}, a few minutes`,
  };
}

/**
 * Builds the addon when it is missing or older than its sources. Returns `{ built: true }`, or
 * `{ built: false, reason }` (also recorded for the backend to report); never throws.
 */
export function buildCudaBackend(options = {}) {
  return buildNativeAddon(
    {
      packageUrl: new URL('../', import.meta.url),
      id: 'cuda',
      logName: 'backend-cuda',
      subject: 'cuda backend',
      buildTimeoutMs: BUILD_TIMEOUT_MS,
      requirements: CMAKE_AND_COMPILER,
      configuration,
    },
    options,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildCudaBackend();
  process.exit(0);
}
