import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Addon } from './addon.js';

// src/native/ and dist/native/ both sit two levels below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADDON_PATH = `${PACKAGE_ROOT}build/Release/flint_mkl.node`;
/** Written by scripts/build.mjs when it could not build the addon: why, and the fix. */
export const STATUS_PATH = `${PACKAGE_ROOT}build/flint-mkl-status.json`;
/** Written by scripts/build.mjs after a build: the sources' hash and the CPU it was built for. */
export const STAMP_PATH = `${PACKAGE_ROOT}build/flint-mkl-stamp.json`;

const BUILD_COMMAND = 'node packages/backend-mkl/scripts/build.mjs (or `npm test` / `npm run build` at the workspace root)';
const PACKAGES = 'libdnnl-dev libopenblas-dev';

/** Where the addon and the build script's files are (tests point elsewhere). */
export interface AddonPaths {
  readonly addon: string;
  readonly status: string;
  readonly stamp?: string;
}

/** The same signature as scripts/build.mjs's `cpuSignature`: instruction-set flags on Linux, else the model. */
export function cpuSignature(): string {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    if (flags?.[1] !== undefined) return createHash('sha256').update(flags[1].trim()).digest('hex');
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/**
 * Whether the build stamp says the addon was compiled with -march=native on a CPU other than this
 * one: loading it could end the process on an illegal instruction, which no exception catches.
 */
function builtForAnotherCpu(stampPath: string | undefined): boolean {
  if (stampPath === undefined || !existsSync(stampPath)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as { portable?: boolean; cpu?: string };
    return stamp.portable !== true && typeof stamp.cpu === 'string' && stamp.cpu !== cpuSignature();
  } catch {
    return false;
  }
}

export type LoadResult = { readonly addon: Addon } | { readonly reason: string };

/** Why the build script said it could not build, when it left a status file. */
function buildFailure(statusPath: string): string | undefined {
  if (!existsSync(statusPath)) return undefined;
  try {
    const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { built?: boolean; reason?: string };
    return status.built === false && typeof status.reason === 'string' ? status.reason : undefined;
  } catch {
    return undefined;
  }
}

/** Names the system package behind a shared library the loader could not find. */
function missingLibraryHint(message: string): string {
  if (/libdnnl/.test(message)) return ' (oneDNN is missing: apt-get install libdnnl-dev)';
  if (/openblas|libblas|libcblas/.test(message)) return ' (OpenBLAS is missing: apt-get install libopenblas-dev)';
  if (/libmkl/.test(message)) return ' (Intel MKL is missing from the library path: source oneAPI setvars.sh or rebuild)';
  if (/libgomp|libomp/.test(message)) return ' (the OpenMP runtime is missing: apt-get install libgomp1)';
  return '';
}

/**
 * How long (in pause instructions, about 26 ns each on the 2-core EPYC VM) an idle OpenMP worker
 * spins for the next parallel region before it sleeps: about 0.8 ms. A sleeping worker must be
 * woken for the next kernel (about 50 us, more when its virtual CPU has gone idle), and an eager
 * training step leaves gaps of JavaScript between its kernels that a short spin does not bridge:
 * over eight alternated pairs of runs on an idle machine the eager MLP step averaged 4.88 ms with
 * this spin against 5.14 ms at 3,000, a difference within the machine's noise. A long spin
 * holds a core that another process may need, which made the same step three times slower
 * (17 ms) while another process kept a core busy; the team sizer (native/team.ts) gives that
 * core up instead (5.4 ms; 5.2 with no spin at all). libgomp's default is 300,000.
 */
export const OPENMP_SPIN_COUNT = '30000';

/**
 * Loads the native addon, or says why it cannot: not built (with the build script's reason when
 * it recorded one, naming the system packages to install), or built but not loadable.
 */
export function loadAddon(paths: AddonPaths = { addon: ADDON_PATH, status: STATUS_PATH, stamp: STAMP_PATH }): LoadResult {
  if (!existsSync(paths.addon)) {
    const failure = buildFailure(paths.status);
    if (failure !== undefined) return { reason: failure };
    return {
      reason: `its native addon is not built (${paths.addon} is missing): run ${BUILD_COMMAND}; it needs the system packages ${PACKAGES} (Debian/Ubuntu: apt-get install ${PACKAGES}), oneDNN 2.6 or a later 2.x`,
    };
  }
  if (builtForAnotherCpu(paths.stamp)) {
    return {
      reason: `its native addon was compiled for another CPU's instruction set (-march=native): rebuild it here with ${BUILD_COMMAND}, or build with FLINT_MKL_PORTABLE=1 for any x86-64`,
    };
  }
  try {
    // libgomp reads its wait policy when the addon loads it, so it is chosen first (unless the
    // user chose a policy or a spin count): a bounded spin, see OPENMP_SPIN_COUNT.
    if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
      process.env.GOMP_SPINCOUNT = OPENMP_SPIN_COUNT;
    }
    const require = createRequire(import.meta.url);
    return { addon: require(paths.addon) as Addon };
  } catch (error) {
    const message = (error as Error).message;
    return { reason: `its native addon failed to load: ${message}${missingLibraryHint(message)}; rebuild with ${BUILD_COMMAND}` };
  }
}
