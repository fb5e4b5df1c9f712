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
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADDON = join(PACKAGE_ROOT, 'build', 'Release', 'flint_cuda.node');
const STATUS = join(PACKAGE_ROOT, 'build', 'flint-cuda-status.json');
const STAMP = join(PACKAGE_ROOT, 'build', 'flint-cuda-stamp.json');
const APT_TIMEOUT_MS = 15 * 60 * 1000;
const BUILD_TIMEOUT_MS = 30 * 60 * 1000;

function log(message) {
  process.stderr.write(`[backend-cuda] ${message}\n`);
}

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

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

const REQUIREMENTS = [
  { name: 'CMake', aptPackage: 'cmake', found: () => commandWorks('cmake', ['--version']) },
  {
    name: 'a C++ compiler',
    aptPackage: 'g++',
    found: () => ['c++', 'g++', 'clang++'].some((compiler) => commandWorks(compiler, ['--version'])),
  },
];

function architectures() {
  return process.env.FLINT_CUDA_ARCHITECTURES || '80-real;90-real;90-virtual';
}

/** A hash of everything the addon is compiled from, and with. */
function sourceHash(nvcc) {
  const hash = createHash('sha256');
  const files = [
    'CMakeLists.txt',
    'package.json',
    ...readdirSync(join(PACKAGE_ROOT, 'native'))
      .sort()
      .map((f) => join('native', f)),
  ];
  for (const file of files) hash.update(file).update(readFileSync(join(PACKAGE_ROOT, file)));
  hash.update(nvcc.path).update(nvcc.version).update(architectures());
  return hash.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return null;
  }
}

function writeStatus(status) {
  try {
    mkdirSync(dirname(STATUS), { recursive: true });
    writeFileSync(STATUS, `${JSON.stringify(status, null, 2)}\n`);
  } catch {
    // A read-only checkout: the backend then reports the generic "not built" reason.
  }
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  log(`installing ${packages.join(' ')} with apt-get`);
  if (install().status === 0) return true;
  spawnSync('apt-get', ['update'], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  return install().status === 0;
}

function unavailable(reason) {
  writeStatus({ built: false, reason });
  log(`the cuda backend will be unavailable: ${reason}`);
  log('everything else in Flint works without it');
  return { built: false, reason };
}

function cmakeJsBin() {
  try {
    const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
    return join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  } catch {
    return null;
  }
}

function runCmakeJs(bin, command, nvcc, verbose) {
  const args = [bin, command, '--directory', PACKAGE_ROOT, '--parallel', String(availableParallelism())];
  args.push(`--CDCMAKE_CUDA_COMPILER=${nvcc.path}`, `--CDFLINT_CUDA_ARCHITECTURES=${architectures()}`);
  if (!verbose) args.push('--log-level', 'warn');
  return spawnSync(process.execPath, args, {
    cwd: PACKAGE_ROOT,
    stdio: verbose ? 'inherit' : 'pipe',
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
}

/**
 * Builds the addon when it is missing or older than its sources. Returns `{ built: true }`, or
 * `{ built: false, reason }` (also recorded for the backend to report); never throws.
 */
export function buildCudaBackend(options = {}) {
  const verbose = options.verbose ?? Boolean(process.env.FLINT_BOOTSTRAP_VERBOSE);
  try {
    if (process.env.FLINT_CUDA_SKIP_BUILD) return unavailable('the native build was skipped (FLINT_CUDA_SKIP_BUILD is set)');
    if (process.platform !== 'linux')
      return unavailable(`building the CUDA addon on ${process.platform} is not supported yet (Linux only)`);
    const nvcc = findNvcc();
    if (nvcc === null) {
      return unavailable(
        'nvcc not found (searched FLINT_CUDA_NVCC, CUDACXX, the PATH, CUDA_HOME, /usr/local/cuda*/bin): install the CUDA toolkit, then run node packages/backend-cuda/scripts/build.mjs',
      );
    }
    const stamp = readStamp();
    const hash = sourceHash(nvcc);
    if (existsSync(ADDON) && stamp?.sources === hash) {
      rmSync(STATUS, { force: true });
      return { built: true };
    }
    let missing = REQUIREMENTS.filter((requirement) => !requirement.found());
    const canInstall = !process.env.FLINT_CUDA_NO_INSTALL && isRoot() && commandWorks('apt-get', ['--version']);
    if (missing.length > 0 && canInstall) {
      aptInstall(missing.map((requirement) => requirement.aptPackage));
      missing = REQUIREMENTS.filter((requirement) => !requirement.found());
    }
    if (missing.length > 0) {
      const names = missing.map((requirement) => `${requirement.name} (${requirement.aptPackage})`).join(', ');
      return unavailable(`missing ${names}; install with \`apt-get install ${missing.map((r) => r.aptPackage).join(' ')}\``);
    }
    const bin = cmakeJsBin();
    if (bin === null) return unavailable('cmake-js is not installed: run pnpm install');
    log(`building the native addon with nvcc ${nvcc.version} for ${architectures()} (a few minutes)`);
    // A stamp from another compiler or target list means every object must be rebuilt.
    const stale = stamp !== null && (stamp.nvcc !== nvcc.path || stamp.architectures !== architectures());
    let result = runCmakeJs(bin, stale ? 'rebuild' : 'build', nvcc, verbose);
    // A configuration cached from another checkout or toolchain: start over once.
    if (result.status !== 0) result = runCmakeJs(bin, 'rebuild', nvcc, verbose);
    if (result.status !== 0 || !existsSync(ADDON)) {
      const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      const cause = result.error ? result.error.message : `cmake-js exited with ${result.status}`;
      return unavailable(
        `the native build failed (${cause}); run with FLINT_BOOTSTRAP_VERBOSE=1 to see why${output ? `:\n${output}` : ''}`,
      );
    }
    rmSync(STATUS, { force: true });
    try {
      writeFileSync(
        STAMP,
        `${JSON.stringify({ sources: hash, nvcc: nvcc.path, nvccVersion: nvcc.version, architectures: architectures() }, null, 2)}\n`,
      );
    } catch {
      // Without a stamp the next run rebuilds; the addon itself is fine.
    }
    log('native addon built');
    return { built: true };
  } catch (error) {
    return unavailable(`the native build could not run: ${error instanceof Error ? error.message : String(error)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildCudaBackend();
  process.exit(0);
}
