import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { distributed } from '@flint/api';
import type { MpiAddon } from './addon.js';

// src/native/ and dist/native/ both sit two levels below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADDON_PATH = `${PACKAGE_ROOT}build/Release/flint_mpi.node`;
/** Written by scripts/build.mjs when it could not build the addon: why, and the fix. */
export const STATUS_PATH = `${PACKAGE_ROOT}build/flint-mpi-status.json`;

const BUILD_COMMAND = 'node packages/distributed-mpi/scripts/build.mjs (or `npm run build` at the workspace root)';
const MPI_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/libmpi.so.40',
  '/usr/lib/aarch64-linux-gnu/libmpi.so.40',
  '/usr/lib64/openmpi/lib/libmpi.so.40',
  '/usr/local/lib/libmpi.so.40',
  '/usr/local/lib/libmpi.dylib',
  '/opt/homebrew/lib/libmpi.dylib',
];

export type LoadResult = { readonly addon: MpiAddon } | { readonly reason: string };

function buildFailure(statusPath: string): string | undefined {
  if (!existsSync(statusPath)) return undefined;
  try {
    const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { built?: boolean; reason?: string };
    return status.built === false && typeof status.reason === 'string' ? status.reason : undefined;
  } catch {
    return undefined;
  }
}

/** Whether Open MPI's library is somewhere the loader looks. */
function mpiLibraryFound(): boolean {
  const extra = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((dir) => dir !== '');
  return MPI_LIBRARIES.some((path) => existsSync(path)) || extra.some((dir) => existsSync(`${dir}/libmpi.so.40`));
}

/**
 * Loads the native addon, or says why it cannot: Open MPI missing (with the apt command), the
 * addon not built (with the build script's reason when it recorded one), or not loadable.
 */
export function loadAddon(paths: { addon: string; status: string } = { addon: ADDON_PATH, status: STATUS_PATH }): LoadResult {
  if (!existsSync(paths.addon)) {
    const failure = buildFailure(paths.status);
    if (failure !== undefined) return { reason: failure };
    if (!mpiLibraryFound()) return { reason: `${distributed.MPI_NOT_INSTALLED}, then run ${BUILD_COMMAND}` };
    return { reason: `its native addon is not built (${paths.addon} is missing): run ${BUILD_COMMAND}` };
  }
  try {
    const require = createRequire(import.meta.url);
    return { addon: require(paths.addon) as MpiAddon };
  } catch (error) {
    const message = (error as Error).message;
    const hint = /libmpi/.test(message) ? ` (${distributed.MPI_NOT_INSTALLED})` : '';
    return { reason: `its native addon failed to load: ${message}${hint}; rebuild with ${BUILD_COMMAND}` };
  }
}
