import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Addon } from './addon.js';

// src/native/ and dist/native/ both sit two levels below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADDON_PATH = `${PACKAGE_ROOT}build/Release/flint_mkl.node`;
/** Written by scripts/build.mjs when it could not build the addon: why, and the fix. */
export const STATUS_PATH = `${PACKAGE_ROOT}build/flint-mkl-status.json`;

const BUILD_COMMAND = 'node packages/backend-mkl/scripts/build.mjs (or `npm test` / `npm run build` at the workspace root)';
const PACKAGES = 'libdnnl-dev libopenblas-dev';

/** Where the addon and the build script's status file are (tests point elsewhere). */
export interface AddonPaths {
  readonly addon: string;
  readonly status: string;
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
 * Loads the native addon, or says why it cannot: not built (with the build script's reason when
 * it recorded one, naming the system packages to install), or built but not loadable.
 */
export function loadAddon(paths: AddonPaths = { addon: ADDON_PATH, status: STATUS_PATH }): LoadResult {
  if (!existsSync(paths.addon)) {
    const failure = buildFailure(paths.status);
    if (failure !== undefined) return { reason: failure };
    return {
      reason: `its native addon is not built (${paths.addon} is missing): run ${BUILD_COMMAND}; it needs the system packages ${PACKAGES} (Debian/Ubuntu: apt-get install ${PACKAGES})`,
    };
  }
  try {
    const require = createRequire(import.meta.url);
    return { addon: require(paths.addon) as Addon };
  } catch (error) {
    const message = (error as Error).message;
    return { reason: `its native addon failed to load: ${message}${missingLibraryHint(message)}; rebuild with ${BUILD_COMMAND}` };
  }
}
