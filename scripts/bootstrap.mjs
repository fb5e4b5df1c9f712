#!/usr/bin/env node
// Makes a fresh clone ready to run: the pinned pnpm, the workspace's dependencies, and the
// TypeScript build. Every step is idempotent, so `npm test` and `npm run demo` can always call it.
import { execFileSync, spawnSync } from 'node:child_process';
import { ensureSystemPackages } from './system-packages.mjs';

const PNPM_VERSION = '12.4.2';
const quiet = process.env.FLINT_BOOTSTRAP_VERBOSE ? 'inherit' : 'pipe';

function log(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  }
}

function installedPnpmVersion() {
  try {
    return execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The command that runs pnpm: the global one when it is the pinned version, else installs it. */
function ensurePnpm() {
  if (installedPnpmVersion() === PNPM_VERSION) return ['pnpm'];
  log(`installing pnpm ${PNPM_VERSION} globally with npm`);
  const result = spawnSync('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`], { stdio: quiet });
  if (result.status === 0 && installedPnpmVersion() === PNPM_VERSION) return ['pnpm'];
  // Without rights to install globally, run the pinned version through npx instead.
  log('global install failed; using npx');
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

const [pnpm, ...pnpmPrefix] = ensurePnpm();
const pnpmRun = (args) => run(pnpm, [...pnpmPrefix, ...args]);

ensureSystemPackages(log);
log('installing dependencies');
pnpmRun(['install', '--frozen-lockfile', '--reporter=append-only']);
log('building packages');
pnpmRun(['exec', 'tsc', '-b']);
// The native oneDNN/CBLAS addon: built when its libraries exist, else the backend reports why not.
const { buildMklBackend } = await import('../packages/backend-mkl/scripts/build.mjs');
buildMklBackend();
// The Open MPI transport of distributed training: built when Open MPI exists, else it reports why not.
const { buildMpiTransport } = await import('../packages/distributed-mpi/scripts/build.mjs');
buildMpiTransport();
// The CUDA addon: built wherever nvcc is (no GPU needed), else the backend reports why not.
const { buildCudaBackend } = await import('../packages/backend-cuda/scripts/build.mjs');
buildCudaBackend();
// Its CPU emulation, for the tests of its kernels on machines without a GPU (the cuda-emulation
// project in vitest.config.ts): built wherever the CUDA toolkit's headers are.
// Its sanitized build runs the same kernels under AddressSanitizer (src/native/sanitized.test.ts).
const { buildCudaEmulation } = await import('../packages/backend-cuda/scripts/build-emulation.mjs');
buildCudaEmulation();
buildCudaEmulation({ asan: true });
log('ready');
