// The addon as it is on a machine without a GPU (or before init): loading it, probing, and
// listing the optional libraries work; every other function throws a JavaScript error, whatever
// it is given, and nothing crashes the process.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Addon } from './addon.js';
import { DEVICE_FUNCTIONS } from './addon-functions.test-support.js';
import { ADDON_PATH, loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-cuda: addon tests skipped, the addon is unavailable: ${missing}`);

describe.skipIf(missing !== undefined)('the addon without an initialized device', () => {
  const addon = (loaded as { addon: Addon }).addon;
  const probe = addon.probe();

  it('loads with no CUDA driver present and links no CUDA library dynamically', () => {
    // cudart is linked statically and the rest is opened with dlopen, so the only dynamic
    // dependencies are the C and C++ runtimes.
    let linked = '';
    try {
      linked = execFileSync('ldd', [ADDON_PATH], { encoding: 'utf8' });
    } catch {
      return; // no ldd on this system
    }
    expect(linked).not.toMatch(/libcuda\.so|libcudart|libcublas|libcudnn|libnvrtc|libnccl/);
  });

  it('probes without throwing and says what is missing when there is no GPU', () => {
    expect(typeof probe.available).toBe('boolean');
    expect(probe.runtimeVersion).toBeGreaterThanOrEqual(12000);
    if (!probe.available) expect(probe.reason).toMatch(/no CUDA driver|no usable CUDA driver|no CUDA GPU/);
    if (!probe.available && /libcuda/.test(probe.reason ?? '')) expect(probe.reason).toMatch(/searched .*libcuda\.so\.1/);
  });

  it('reports each optional library as found with its path, or missing with the places searched', () => {
    const report = addon.libraries();
    expect(Object.keys(report).sort()).toEqual(['cublas', 'cublasLt', 'cudnn', 'nccl', 'nvrtc']);
    for (const status of Object.values(report)) {
      if (status.found) expect(status.path).toMatch(/\.so/);
      else expect(status.reason).toMatch(/not found \(searched .*\.so.* in FLINT_CUDA_LIBRARY_PATH|lacks/);
    }
  });

  it('reports zeroed memory statistics', () => {
    const stats = addon.memory();
    expect(stats.buffers).toBe(0);
    expect(stats.allocatedBytes).toBe(0);
  });

  it.each(DEVICE_FUNCTIONS.map((name) => [name]))('%s throws an Error before init, whatever its arguments', (name) => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 8 }), (args) => {
        let thrown: unknown = null;
        try {
          (addon[name] as (...a: unknown[]) => unknown)(...args);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(Error);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses bad init arguments with a RangeError or TypeError', () => {
    for (const bad of [-1, 1.5, Number.NaN, 'x', 5000]) {
      expect(() => addon.init(bad as number)).toThrow(probe.available ? /device/ : /./);
    }
  });
});
