#!/usr/bin/env node
// Builds @flint/distributed-mpi's native addon with cmake-js, installing Open MPI first (apt, as
// root) when it is missing. It never fails its caller: where the addon cannot be built it
// records why in build/flint-mpi-status.json (the transport reports that reason), prints it, and
// exits 0, so the rest of Flint still builds and works on one process.
//
//   node packages/distributed-mpi/scripts/build.mjs       (or import { buildMpiTransport } from it)
//
// Environment: FLINT_MPI_SKIP_BUILD=1 skips everything; FLINT_MPI_NO_INSTALL=1 never runs apt;
// FLINT_BOOTSTRAP_VERBOSE=1 shows the compiler's output.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADDON = join(PACKAGE_ROOT, 'build', 'Release', 'flint_mpi.node');
const STATUS = join(PACKAGE_ROOT, 'build', 'flint-mpi-status.json');
const STAMP = join(PACKAGE_ROOT, 'build', 'flint-mpi-stamp.json');
const APT_TIMEOUT_MS = 15 * 60 * 1000;
const BUILD_TIMEOUT_MS = 10 * 60 * 1000;
const MPI_FIX = 'MPI is not installed: apt-get install libopenmpi-dev openmpi-bin';

const MPI_HEADERS = [
  '/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h',
  '/usr/lib/aarch64-linux-gnu/openmpi/include/mpi.h',
  '/usr/include/x86_64-linux-gnu/openmpi/mpi.h',
  '/usr/include/openmpi/mpi.h',
  '/usr/include/mpi.h',
  '/usr/local/include/mpi.h',
  '/opt/homebrew/include/mpi.h',
];

/** What the build needs, how to find it, and the Debian package that provides it. */
const REQUIREMENTS = [
  { name: 'CMake', aptPackage: 'cmake', found: () => commandWorks('cmake', ['--version']) },
  {
    name: 'a C++ compiler',
    aptPackage: 'g++',
    found: () => ['c++', 'g++', 'clang++'].some((compiler) => commandWorks(compiler, ['--version'])),
  },
  {
    name: "Open MPI's headers",
    aptPackage: 'libopenmpi-dev',
    found: () => MPI_HEADERS.some((path) => existsSync(path)) || commandWorks('mpicc', ['--showme:version']),
  },
  { name: 'mpirun', aptPackage: 'openmpi-bin', found: () => commandWorks('mpirun', ['--version']) },
];

function log(message) {
  process.stderr.write(`[distributed-mpi] ${message}\n`);
}

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function missingRequirements() {
  return REQUIREMENTS.filter((requirement) => !requirement.found());
}

/** A hash of everything the addon is compiled from. */
function sourceHash() {
  const hash = createHash('sha256');
  for (const file of ['CMakeLists.txt', 'package.json', join('native', 'addon.cc')]) {
    hash.update(file).update(readFileSync(join(PACKAGE_ROOT, file)));
  }
  return hash.digest('hex');
}

function upToDate() {
  if (!existsSync(ADDON)) return false;
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8')).sources === sourceHash();
  } catch {
    return false;
  }
}

function writeStatus(status) {
  try {
    mkdirSync(dirname(STATUS), { recursive: true });
    writeFileSync(STATUS, `${JSON.stringify(status, null, 2)}\n`);
  } catch {
    // A read-only checkout: the transport then reports the generic "not built" reason.
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
  if (install().status === 0) return;
  spawnSync('apt-get', ['update'], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  const result = install();
  if (result.status !== 0) log(`apt-get could not install them: ${`${result.stderr ?? ''}`.trim().split('\n').slice(-2).join(' ')}`);
}

function unavailable(reason) {
  writeStatus({ built: false, reason });
  log(`the MPI transport will be unavailable: ${reason}`);
  log('everything else in Flint works without it (training runs on one process)');
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
 * `{ built: false, reason }` (also recorded for the transport to report); never throws.
 */
export function buildMpiTransport(options = {}) {
  const verbose = options.verbose ?? Boolean(process.env.FLINT_BOOTSTRAP_VERBOSE);
  try {
    if (process.env.FLINT_MPI_SKIP_BUILD) return unavailable('the native build was skipped (FLINT_MPI_SKIP_BUILD is set)');
    if (upToDate()) {
      rmSync(STATUS, { force: true });
      return { built: true };
    }
    if (process.platform === 'win32') return unavailable('building the MPI transport on Windows is not supported yet');
    let missing = missingRequirements();
    const canInstall = !process.env.FLINT_MPI_NO_INSTALL && isRoot() && commandWorks('apt-get', ['--version']);
    if (missing.length > 0 && canInstall) {
      aptInstall(missing.map((requirement) => requirement.aptPackage));
      missing = missingRequirements();
    }
    if (missing.length > 0) {
      const names = missing.map((requirement) => `${requirement.name} (${requirement.aptPackage})`).join(', ');
      const mpiMissing = missing.some((requirement) => requirement.aptPackage.includes('openmpi'));
      return unavailable(
        `${mpiMissing ? `${MPI_FIX}; ` : ''}missing ${names}: install with \`apt-get install ${missing.map((r) => r.aptPackage).join(' ')}\` (as root), then run node packages/distributed-mpi/scripts/build.mjs`,
      );
    }
    const bin = cmakeJsBin();
    if (bin === null) return unavailable('cmake-js is not installed: run pnpm install');
    log('building the native addon (Open MPI) with cmake-js');
    let result = runCmakeJs(bin, 'build', verbose);
    if (result.status !== 0) result = runCmakeJs(bin, 'rebuild', verbose);
    if (result.status !== 0 || !existsSync(ADDON)) {
      const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      const cause = result.error ? result.error.message : `cmake-js exited with ${result.status}`;
      return unavailable(
        `the native build failed (${cause}); run with FLINT_BOOTSTRAP_VERBOSE=1 to see why${output ? `:\n${output}` : ''}`,
      );
    }
    rmSync(STATUS, { force: true });
    try {
      writeFileSync(STAMP, `${JSON.stringify({ sources: sourceHash() }, null, 2)}\n`);
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
  buildMpiTransport();
  process.exit(0);
}
