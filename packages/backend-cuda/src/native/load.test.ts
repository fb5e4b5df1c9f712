import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Addon, ProbeResult } from './addon.js';
import { deviceIndex, loadAddon, startDevice } from './load.js';

const folder = mkdtempSync(join(tmpdir(), 'flint-cuda-load-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('loadAddon', () => {
  it('names the build step and what it needs when the addon is not built', () => {
    const result = loadAddon({ addon: join(folder, 'missing.node'), status: join(folder, 'no-status.json') });
    expect('reason' in result && result.reason).toMatch(/not built/);
    expect('reason' in result && result.reason).toMatch(/scripts\/build\.mjs/);
    expect('reason' in result && result.reason).toMatch(/nvcc/);
  });

  it("reports the build script's recorded reason", () => {
    const status = join(folder, 'status.json');
    writeFileSync(status, JSON.stringify({ built: false, reason: 'nvcc not found (searched the PATH)' }));
    const result = loadAddon({ addon: join(folder, 'missing-too.node'), status });
    expect(result).toEqual({ reason: 'its native addon is not built: nvcc not found (searched the PATH)' });
  });

  it('explains an addon that exists but does not load', () => {
    const addon = join(folder, 'broken.node');
    writeFileSync(addon, 'not a shared library');
    const result = loadAddon({ addon, status: join(folder, 'no-status.json') });
    expect('reason' in result && result.reason).toMatch(/failed to load/);
  });
});

/** An addon stand-in whose probe returns `probe` and whose init records its calls. */
function fakeAddon(probe: ProbeResult, initCalls: number[]): Addon {
  return {
    probe: () => probe,
    init: (device: number) => {
      initCalls.push(device);
      if (device > 0) throw new RangeError(`flint-cuda init: device ${device} does not exist (1 found)`);
      return {
        device,
        name: 'Fake GPU',
        computeCapability: '9.0',
        multiprocessors: 132,
        totalMemory: 1,
        runtimeVersion: 13000,
        driverVersion: 13000,
      };
    },
  } as unknown as Addon;
}

describe('startDevice', () => {
  it("passes on the probe's reason without initializing", () => {
    const calls: number[] = [];
    const reason = 'no CUDA driver: libcuda.so.1 not found (searched ...)';
    const result = startDevice(fakeAddon({ available: false, reason, devices: 0, runtimeVersion: 13000 }, calls), 0);
    expect(result).toEqual({ reason });
    expect(calls).toEqual([]);
  });

  it('initializes the requested device when the probe finds one', () => {
    const calls: number[] = [];
    const result = startDevice(fakeAddon({ available: true, devices: 1, runtimeVersion: 13000 }, calls), 0);
    expect('info' in result && result.info.name).toBe('Fake GPU');
    expect(calls).toEqual([0]);
  });

  it('names the device when init fails', () => {
    const result = startDevice(fakeAddon({ available: true, devices: 1, runtimeVersion: 13000 }, []), 3);
    expect('reason' in result && result.reason).toMatch(/device 3 could not be started: .*does not exist/);
  });
});

describe('deviceIndex', () => {
  it('takes FLINT_CUDA_DEVICE, else the launcher’s local rank modulo the devices, else 0', () => {
    expect(deviceIndex(8, { FLINT_CUDA_DEVICE: '3', OMPI_COMM_WORLD_LOCAL_RANK: '1' })).toBe(3);
    expect(deviceIndex(8, { OMPI_COMM_WORLD_LOCAL_RANK: '5', OMPI_COMM_WORLD_SIZE: '8' })).toBe(5);
    expect(deviceIndex(2, { LOCAL_RANK: '3', WORLD_SIZE: '4', RANK: '3' })).toBe(1);
    expect(deviceIndex(1, {})).toBe(0);
  });
});
