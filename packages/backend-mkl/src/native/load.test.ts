import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuSignature, loadAddon, OPENMP_SPIN_COUNT } from './load.js';

const folder = mkdtempSync(join(tmpdir(), 'flint-mkl-load-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('loadAddon', () => {
  it('names the build step and the system packages when the addon is not built', () => {
    const result = loadAddon({ addon: join(folder, 'missing.node'), status: join(folder, 'no-status.json') });
    expect('reason' in result && result.reason).toMatch(/not built/);
    expect('reason' in result && result.reason).toMatch(/libdnnl-dev libopenblas-dev/);
    expect('reason' in result && result.reason).toMatch(/oneDNN 2\.6 or a later 2\.x/);
    expect('reason' in result && result.reason).toMatch(/scripts\/build\.mjs/);
  });

  it("reports the build script's recorded reason", () => {
    const status = join(folder, 'status.json');
    writeFileSync(status, JSON.stringify({ built: false, reason: 'missing oneDNN (libdnnl-dev)' }));
    const result = loadAddon({ addon: join(folder, 'missing.node'), status });
    expect(result).toEqual({ reason: 'missing oneDNN (libdnnl-dev)' });
  });

  it("bounds idle OpenMP workers' spin unless the user chose a wait policy or a spin count", () => {
    const policy = process.env.OMP_WAIT_POLICY;
    const spin = process.env.GOMP_SPINCOUNT;
    const result = loadAddon();
    if ('reason' in result) return; // nothing was loaded, so nothing was configured
    expect(process.env.OMP_WAIT_POLICY).toBe(policy);
    expect(process.env.GOMP_SPINCOUNT).toBe(policy === undefined && spin === undefined ? OPENMP_SPIN_COUNT : spin);
  });

  it('ignores an unreadable status file', () => {
    const status = join(folder, 'garbage.json');
    writeFileSync(status, '{not json');
    const result = loadAddon({ addon: join(folder, 'missing.node'), status });
    expect('reason' in result && result.reason).toMatch(/not built/);
  });

  it('explains an addon that exists but does not load', () => {
    const addon = join(folder, 'broken.node');
    writeFileSync(addon, 'not a shared library');
    const result = loadAddon({ addon, status: join(folder, 'no-status.json') });
    expect('reason' in result && result.reason).toMatch(/failed to load/);
  });
});

describe('loadAddon and the build stamp', () => {
  it('refuses an addon compiled with -march=native for another CPU', () => {
    const addon = join(folder, 'other-cpu.node');
    writeFileSync(addon, 'never loaded');
    const stamp = join(folder, 'stamp.json');
    writeFileSync(stamp, JSON.stringify({ sources: 'x', portable: false, cpu: 'some other cpu' }));
    const result = loadAddon({ addon, status: join(folder, 'no-status.json'), stamp });
    expect('reason' in result && result.reason).toMatch(/another CPU/);
  });

  it('loads past a stamp for this CPU or a portable build', () => {
    const addon = join(folder, 'this-cpu.node');
    writeFileSync(addon, 'not a shared library');
    for (const content of [
      { portable: false, cpu: cpuSignature() },
      { portable: true, cpu: 'elsewhere' },
    ]) {
      const stamp = join(folder, 'stamp-ok.json');
      writeFileSync(stamp, JSON.stringify(content));
      const result = loadAddon({ addon, status: join(folder, 'no-status.json'), stamp });
      expect('reason' in result && result.reason).toMatch(/failed to load/);
    }
  });
});
