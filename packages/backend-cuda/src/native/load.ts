import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { distributed } from '@flint/api';
import type { Addon, DeviceInfo } from './addon.js';

// src/native/ and dist/native/ both sit two levels below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADDON_PATH = `${PACKAGE_ROOT}build/Release/flint_cuda.node`;
/** Written by scripts/build.mjs when it could not build the addon: why, and the fix. */
export const STATUS_PATH = `${PACKAGE_ROOT}build/flint-cuda-status.json`;

const BUILD_COMMAND = 'node packages/backend-cuda/scripts/build.mjs (or `npm test` / `npm run build` at the workspace root)';

/** Where the addon and the build script's status are (tests point elsewhere). */
export interface AddonPaths {
  readonly addon: string;
  readonly status: string;
}

export type LoadResult = { readonly addon: Addon } | { readonly reason: string };

/**
 * The addon to load: FLINT_CUDA_ADDON when set (tests point it at the CPU emulation in
 * build-emulation/, see scripts/build-emulation.mjs), else the one scripts/build.mjs builds.
 */
export function defaultAddonPaths(env: Readonly<Record<string, string | undefined>> = process.env): AddonPaths {
  const chosen = env.FLINT_CUDA_ADDON;
  if (chosen === undefined || chosen === '') return { addon: ADDON_PATH, status: STATUS_PATH };
  return { addon: chosen, status: `${chosen.replace(/\/Release\/[^/]+$/, '')}/flint-cuda-status.json` };
}

function buildFailure(statusPath: string): string | undefined {
  if (!existsSync(statusPath)) return undefined;
  try {
    const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { built?: boolean; reason?: string };
    return status.built === false && typeof status.reason === 'string' ? status.reason : undefined;
  } catch {
    return undefined;
  }
}

const loaded = new Map<string, LoadResult>();

/**
 * Loads the native addon, or says why it cannot: not built (with the build script's reason when
 * it recorded one), or built but not loadable. Loading starts nothing on the GPU.
 */
export function loadAddon(paths: AddonPaths = defaultAddonPaths()): LoadResult {
  const cached = loaded.get(paths.addon);
  if (cached !== undefined && 'addon' in cached) return cached;
  let result: LoadResult;
  if (!existsSync(paths.addon)) {
    const failure = buildFailure(paths.status);
    result = {
      reason:
        failure !== undefined
          ? `its native addon is not built: ${failure}`
          : `its native addon is not built (${paths.addon} is missing): run ${BUILD_COMMAND}; building needs the CUDA toolkit's nvcc and CMake, not a GPU`,
    };
  } else {
    try {
      const require = createRequire(import.meta.url);
      result = { addon: require(paths.addon) as Addon };
    } catch (error) {
      result = { reason: `its native addon failed to load: ${(error as Error).message}; rebuild with ${BUILD_COMMAND}` };
    }
  }
  loaded.set(paths.addon, result);
  return result;
}

/**
 * The device index to use: FLINT_CUDA_DEVICE, else the launcher's local rank modulo the device
 * count (so the ranks of a `flint-run` job on one machine take one GPU each, as NCCL needs),
 * else 0.
 */
export function deviceIndex(devices = 1, env: Readonly<Record<string, string | undefined>> = process.env): number {
  if (env.FLINT_CUDA_DEVICE !== undefined && env.FLINT_CUDA_DEVICE !== '') {
    const value = Number(env.FLINT_CUDA_DEVICE);
    return Number.isInteger(value) && value >= 0 ? value : 0;
  }
  const { localRank } = distributed.environmentRank(env);
  return devices > 0 ? localRank % devices : 0;
}

export type StartResult = { readonly info: DeviceInfo } | { readonly reason: string };

/**
 * Starts the device: `probe` first, which names what is missing (no driver, a driver too old
 * for this build's runtime, no GPU) without throwing, then `init`.
 */
export function startDevice(addon: Addon, chosen?: number): StartResult {
  const probe = addon.probe();
  if (!probe.available) return { reason: probe.reason ?? 'no usable CUDA device' };
  const device = chosen ?? deviceIndex(probe.devices);
  try {
    return { info: addon.init(device) };
  } catch (error) {
    return { reason: `the CUDA device ${device} could not be started: ${(error as Error).message}` };
  }
}
