// @flint/native-build: the build of one native addon with cmake-js, shared by backend-cuda,
// backend-mkl and distributed-mpi (a package of its own, so that their published scripts/build.mjs
// resolve it like any dependency). It never fails its caller: where the addon cannot be built it records why in
// build/flint-<id>-status.json (the package reports that reason when asked to start), prints
// it, and returns `{ built: false, reason }`, so the rest of Flint still builds and works.
//
// A stamp (build/flint-<id>-stamp.json) holds the hash of the sources the addon was built from,
// so that a rebuild with nothing changed costs a hash and no compiler run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const APT_TIMEOUT_MS = 15 * 60 * 1000;

export function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/** CMake and a C++ compiler, which every addon needs, with the Debian packages that provide them. */
export const CMAKE_AND_COMPILER = [
  { name: 'CMake', aptPackage: 'cmake', found: () => commandWorks('cmake', ['--version']) },
  {
    name: 'a C++ compiler',
    aptPackage: 'g++',
    found: () => ['c++', 'g++', 'clang++'].some((compiler) => commandWorks(compiler, ['--version'])),
  },
];

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian packages with apt-get; tries without `apt-get update` first (offline caches). */
function aptInstall(packages, log) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  log(`installing ${packages.join(' ')} with apt-get`);
  let result = install();
  if (result.status === 0) return;
  log('apt-get install failed; running apt-get update and trying again');
  spawnSync('apt-get', ['update'], { stdio: 'pipe', env, timeout: APT_TIMEOUT_MS });
  result = install();
  if (result.status === 0) return;
  const output = `${result.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ');
  log(`apt-get could not install them${output ? `: ${output}` : ''}`);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function cmakeJsBin(packageRoot) {
  try {
    const require = createRequire(join(packageRoot, 'package.json'));
    return join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  } catch {
    return null;
  }
}

/**
 * Builds one package's addon when it is missing or older than its sources. Returns
 * `{ built: true }`, or `{ built: false, reason }` (also recorded for the package to report);
 * never throws.
 *
 * `spec` describes the package:
 * - `packageUrl`: the package root as a file URL (`new URL('../', import.meta.url)`).
 * - `id`: 'cuda', 'mkl', 'mpi': names build/Release/flint_<id>.node, the status and stamp files,
 *   and the FLINT_<ID>_SKIP_BUILD and FLINT_<ID>_NO_INSTALL variables.
 * - `logName`: the log prefix; `subject`: what becomes unavailable; `fallback`: what happens then;
 *   `description`: what the addon is built with, for the log (unless the configuration says).
 * - `buildDir`: the package-relative build folder (default 'build'), so one package can build two
 *   variants of its addon (backend-cuda's CPU emulation) side by side.
 * - `script`: the package-relative script that builds it (default scripts/build.mjs), for messages.
 * - `buildTimeoutMs`, `requirements` (name, aptPackage, found()), `sources` (package-relative
 *   files to hash; default CMakeLists.txt, package.json and every file under native/).
 * - `configuration()`: optional, run first; `{ unavailable: reason }` or `{ fingerprint,
 *   stamp, defines, description }`: strings added to the sources' hash, fields recorded in the
 *   stamp (a previous build whose stamp differs in one is recompiled from scratch), cmake-js
 *   arguments, and words for the log line.
 * - `platformProblem()`: a reason when this platform cannot build the addon, else null.
 * - `stampMatches(stamp, configuration)`: whether a stamp of the same sources also fits this
 *   machine (default: yes).
 * - `missingHint(missing)`: words to put before the list of missing requirements.
 */
export function buildNativeAddon(spec, options = {}) {
  const verbose = options.verbose ?? Boolean(process.env.FLINT_BOOTSTRAP_VERBOSE);
  const root = fileURLToPath(spec.packageUrl);
  const variable = (name) => `FLINT_${spec.id.toUpperCase()}_${name}`;
  const buildDir = spec.buildDir ?? 'build';
  const addon = join(root, buildDir, 'Release', `flint_${spec.id}.node`);
  const statusFile = join(root, buildDir, `flint-${spec.id}-status.json`);
  const stampFile = join(root, buildDir, `flint-${spec.id}-stamp.json`);
  // Relative to where the build was started (the repository root for the bootstrap), else the
  // whole path (an installed package, started from its own folder by `npm run build:native`).
  const script = join(root, spec.script ?? join('scripts', 'build.mjs'));
  const fromHere = relative(process.cwd(), script);
  const buildCommand = `node ${fromHere.startsWith('..') || isAbsolute(fromHere) ? script : fromHere}`;
  const log = (message) => process.stderr.write(`[${spec.logName}] ${message}\n`);

  const unavailable = (reason) => {
    try {
      mkdirSync(dirname(statusFile), { recursive: true });
      writeFileSync(statusFile, `${JSON.stringify({ built: false, reason }, null, 2)}\n`);
    } catch {
      // A read-only checkout: the package then reports the generic "not built" reason.
    }
    log(`the ${spec.subject} will be unavailable: ${reason}`);
    log(`everything else in Flint works without it${spec.fallback ? ` (${spec.fallback})` : ''}`);
    return { built: false, reason };
  };

  const sourceHash = (fingerprint) => {
    const hash = createHash('sha256');
    const files = spec.sources ?? [
      'CMakeLists.txt',
      'package.json',
      ...readdirSync(join(root, 'native'), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
        .sort(),
    ];
    for (const file of files) hash.update(file).update(readFileSync(join(root, file)));
    for (const part of fingerprint) hash.update(part);
    return hash.digest('hex');
  };

  const missingRequirements = () => spec.requirements.filter((requirement) => !requirement.found());

  const runCmakeJs = (bin, command, defines) => {
    const args = [
      bin,
      command,
      '--directory',
      root,
      '--out',
      join(root, buildDir),
      '--parallel',
      String(availableParallelism()),
      ...defines,
    ];
    if (!verbose) args.push('--log-level', 'warn');
    return spawnSync(process.execPath, args, {
      cwd: root,
      stdio: verbose ? 'inherit' : 'pipe',
      encoding: 'utf8',
      timeout: spec.buildTimeoutMs,
    });
  };

  try {
    if (process.env[variable('SKIP_BUILD')]) return unavailable(`the native build was skipped (${variable('SKIP_BUILD')} is set)`);
    const configuration = spec.configuration?.() ?? {};
    if (configuration.unavailable) return unavailable(configuration.unavailable);
    const recorded = configuration.stamp ?? {};
    const stamp = readJson(stampFile);
    const hash = sourceHash(configuration.fingerprint ?? []);
    if (existsSync(addon) && stamp?.sources === hash && (spec.stampMatches?.(stamp, configuration) ?? true)) {
      rmSync(statusFile, { force: true });
      return { built: true };
    }
    const platformProblem = spec.platformProblem?.() ?? null;
    if (platformProblem !== null) return unavailable(platformProblem);

    let missing = missingRequirements();
    const canInstall = !process.env[variable('NO_INSTALL')] && isRoot() && commandWorks('apt-get', ['--version']);
    if (missing.length > 0 && canInstall) {
      aptInstall(
        missing.map((requirement) => requirement.aptPackage),
        log,
      );
      missing = missingRequirements();
    }
    if (missing.length > 0) {
      const names = missing.map((requirement) => `${requirement.name} (${requirement.aptPackage})`).join(', ');
      const packages = missing.map((requirement) => requirement.aptPackage).join(' ');
      const how = canInstall ? 'apt-get could not install it; install' : 'install';
      const hint = spec.missingHint?.(missing) ?? '';
      return unavailable(
        `${hint ? `${hint}; ` : ''}missing ${names}; ${how} with \`apt-get install ${packages}\` (as root), then run ${buildCommand}`,
      );
    }

    const bin = cmakeJsBin(root);
    if (bin === null) return unavailable('cmake-js is not installed: run pnpm install');
    log(`building the native addon (${configuration.description ?? spec.description}) with cmake-js`);
    const defines = configuration.defines ?? [];
    // Objects compiled for another CPU, compiler or target list must all be recompiled.
    const stale = stamp !== null && Object.entries(recorded).some(([key, value]) => stamp[key] !== value);
    let result = runCmakeJs(bin, stale ? 'rebuild' : 'build', defines);
    // A configuration cached from another checkout or toolchain: start over once.
    if (result.status !== 0) result = runCmakeJs(bin, 'rebuild', defines);
    if (result.status !== 0 || !existsSync(addon)) {
      const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      const cause = result.error ? result.error.message : `cmake-js exited with ${result.status}`;
      return unavailable(
        `the native build failed (${cause}); run with FLINT_BOOTSTRAP_VERBOSE=1 to see why${output ? `:\n${output}` : ''}`,
      );
    }
    rmSync(statusFile, { force: true });
    try {
      writeFileSync(stampFile, `${JSON.stringify({ sources: hash, ...recorded }, null, 2)}\n`);
    } catch {
      // Without a stamp the next run rebuilds; the addon itself is fine.
    }
    log('native addon built');
    return { built: true };
  } catch (error) {
    return unavailable(`the native build could not run: ${error instanceof Error ? error.message : String(error)}`);
  }
}
