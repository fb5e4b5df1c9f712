#!/usr/bin/env node
// Builds @flint/backend-mkl's native addon with cmake-js, installing the system libraries first
// (apt, as root) when they are missing. It never fails its caller: where the addon cannot be
// built it records why in build/flint-mkl-status.json (the backend reports that reason when
// asked to start), prints it, and exits 0, so the rest of Flint still builds and works.
//
//   node packages/backend-mkl/scripts/build.mjs       (or import { buildMklBackend } from it)
//
// Environment: FLINT_MKL_SKIP_BUILD=1 skips everything; FLINT_MKL_NO_INSTALL=1 never runs apt;
// FLINT_MKL_PORTABLE=1 builds for any x86-64 instead of this CPU; FLINT_BOOTSTRAP_VERBOSE=1
// shows the compiler's output.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADDON = join(PACKAGE_ROOT, 'build', 'Release', 'flint_mkl.node');
const STATUS = join(PACKAGE_ROOT, 'build', 'flint-mkl-status.json');
const STAMP = join(PACKAGE_ROOT, 'build', 'flint-mkl-stamp.json');
const APT_TIMEOUT_MS = 15 * 60 * 1000;
const BUILD_TIMEOUT_MS = 20 * 60 * 1000;

/** What the build needs, how to find it, and the Debian package that provides it. */
const REQUIREMENTS = [
  { name: 'CMake', aptPackage: 'cmake', found: () => commandWorks('cmake', ['--version']) },
  {
    name: 'a C++ compiler',
    aptPackage: 'g++',
    found: () => ['c++', 'g++', 'clang++'].some((compiler) => commandWorks(compiler, ['--version'])),
  },
  {
    name: 'oneDNN',
    aptPackage: 'libdnnl-dev',
    found: () => headerFound(['oneapi/dnnl/dnnl.hpp'], [process.env.DNNLROOT, process.env.DNNL_ROOT]),
  },
  {
    name: 'a CBLAS (Intel MKL or OpenBLAS)',
    aptPackage: 'libopenblas-dev',
    found: () =>
      headerFound(
        ['cblas.h', 'openblas/cblas.h', 'x86_64-linux-gnu/cblas.h', 'aarch64-linux-gnu/cblas.h', 'mkl_cblas.h'],
        [process.env.MKLROOT],
      ),
  },
];

function log(message) {
  process.stderr.write(`[backend-mkl] ${message}\n`);
}

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function headerFound(relativePaths, roots) {
  const includeDirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include', '/opt/intel/oneapi/mkl/latest/include'];
  for (const root of roots) if (root) includeDirs.push(join(root, 'include'));
  for (const prefix of (process.env.CMAKE_PREFIX_PATH ?? '').split(':')) if (prefix) includeDirs.push(join(prefix, 'include'));
  return includeDirs.some((dir) => relativePaths.some((path) => existsSync(join(dir, path))));
}

function missingRequirements() {
  return REQUIREMENTS.filter((requirement) => !requirement.found());
}

/** A hash of everything the addon is compiled from. */
function sourceHash() {
  const hash = createHash('sha256');
  const files = [
    'CMakeLists.txt',
    'package.json',
    ...readdirSync(join(PACKAGE_ROOT, 'native'))
      .sort()
      .map((f) => join('native', f)),
  ];
  for (const file of files) hash.update(file).update(readFileSync(join(PACKAGE_ROOT, file)));
  return hash.digest('hex');
}

/**
 * What the CPU can run: the instruction-set flags on Linux, else the model name. An addon built
 * with -march=native for one CPU can die of an illegal instruction on another, so the stamp
 * records this and src/native/load.ts refuses an addon built for a different CPU.
 */
export function cpuSignature() {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    if (flags) return createHash('sha256').update(flags[1].trim()).digest('hex');
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return null;
  }
}

/** Whether the addon was built from these sources, for this CPU (or portably), by this script. */
function upToDate() {
  const stamp = readStamp();
  const portable = Boolean(process.env.FLINT_MKL_PORTABLE);
  return (
    existsSync(ADDON) &&
    stamp !== null &&
    stamp.sources === sourceHash() &&
    stamp.portable === portable &&
    (portable || stamp.cpu === cpuSignature())
  );
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

/** Installs Debian packages with apt-get; tries without `apt-get update` first (offline caches). */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  log(`installing ${packages.join(' ')} with apt-get`);
  let result = install();
  if (result.status === 0) return true;
  log('apt-get install failed; running apt-get update and trying again');
  spawnSync('apt-get', ['update'], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  result = install();
  if (result.status === 0) return true;
  const output = `${result.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ');
  log(`apt-get could not install them${output ? `: ${output}` : ''}`);
  return false;
}

function unavailable(reason) {
  writeStatus({ built: false, reason });
  log(`the mkl backend will be unavailable: ${reason}`);
  log('everything else in Flint works without it (the portable cpu backend is used instead)');
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

function runCmakeJs(bin, command, verbose) {
  const args = [bin, command, '--directory', PACKAGE_ROOT, '--parallel', String(availableParallelism())];
  args.push(`--CDFLINT_MKL_PORTABLE=${process.env.FLINT_MKL_PORTABLE ? 'ON' : 'OFF'}`);
  if (!verbose) args.push('--log-level', 'warn');
  return spawnSync(process.execPath, args, {
    cwd: PACKAGE_ROOT,
    stdio: verbose ? 'inherit' : 'pipe',
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
}

/**
 * Builds the addon when it is missing or older than its sources. Returns `{ built: true }`,
 * or `{ built: false, reason }` (also recorded for the backend to report); never throws.
 */
export function buildMklBackend(options = {}) {
  const verbose = options.verbose ?? Boolean(process.env.FLINT_BOOTSTRAP_VERBOSE);
  try {
    if (process.env.FLINT_MKL_SKIP_BUILD) return unavailable('the native build was skipped (FLINT_MKL_SKIP_BUILD is set)');
    if (upToDate()) {
      rmSync(STATUS, { force: true });
      return { built: true };
    }
    if (process.platform === 'win32') return unavailable('building the native addon on Windows is not supported yet');

    let missing = missingRequirements();
    const canInstall = !process.env.FLINT_MKL_NO_INSTALL && isRoot() && commandWorks('apt-get', ['--version']);
    if (missing.length > 0 && canInstall) {
      aptInstall(missing.map((requirement) => requirement.aptPackage));
      missing = missingRequirements();
    }
    if (missing.length > 0) {
      const names = missing.map((requirement) => `${requirement.name} (${requirement.aptPackage})`).join(', ');
      const packages = missing.map((requirement) => requirement.aptPackage).join(' ');
      const how = canInstall ? 'apt-get could not install it; install' : 'install';
      return unavailable(
        `missing ${names}; ${how} with \`apt-get install ${packages}\` (as root), then run node packages/backend-mkl/scripts/build.mjs`,
      );
    }

    const bin = cmakeJsBin();
    if (bin === null) return unavailable('cmake-js is not installed: run pnpm install');
    log('building the native addon (oneDNN + CBLAS) with cmake-js');
    // Objects compiled for another CPU or with other flags must all be recompiled.
    const stamp = readStamp();
    const stale = stamp !== null && (stamp.cpu !== cpuSignature() || stamp.portable !== Boolean(process.env.FLINT_MKL_PORTABLE));
    let result = runCmakeJs(bin, stale ? 'rebuild' : 'build', verbose);
    // A configuration cached from another checkout or toolchain: start over once.
    if (result.status !== 0) result = runCmakeJs(bin, 'rebuild', verbose);
    if (result.status !== 0 || !existsSync(ADDON)) {
      const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      const cause = result.error ? result.error.message : `cmake-js exited with ${result.status}`;
      return unavailable(
        `the native build failed (${cause}); run with FLINT_BOOTSTRAP_VERBOSE=1 to see why${output ? `:\n${output}` : ''}`,
      );
    }
    rmSync(STATUS, { force: true });
    const portable = Boolean(process.env.FLINT_MKL_PORTABLE);
    try {
      writeFileSync(STAMP, `${JSON.stringify({ sources: sourceHash(), portable, cpu: cpuSignature() }, null, 2)}\n`);
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
  buildMklBackend();
  process.exit(0);
}
