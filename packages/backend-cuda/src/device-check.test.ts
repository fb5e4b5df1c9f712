// The device script, rehearsed: scripts/device-check.sh bundles scripts/device-check.ts with
// esbuild exactly as `prepare` does for the GPU machine, and the bundle runs with --rehearsal on
// this backend (the CPU emulation in the cuda-emulation project of vitest.config.ts, or a GPU):
// conformance, GPU checks, gradient checks and issue 10's measurements at toy sizes must all pass
// and land in the report. A bundle that no longer builds, or a phase that throws, fails here
// instead of in the few minutes a GPU machine is lent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../test/support/python-torch.test-support.js';
import { cudaUnavailable } from './cuda-availability.test-support.js';

const PACKAGE = fileURLToPath(new URL('../', import.meta.url));

describe.skipIf(cudaUnavailable('device-check rehearsal') !== undefined)('the device check, rehearsed', () => {
  it('bundles, runs every phase and reports them', () => {
    // Two levels below the package root, where the bundle finds the addon and the CUDA C sources.
    const bundle = join(PACKAGE, '.device', 'dist', 'device-check-rehearsal.mjs');
    execFileSync('bash', [join(PACKAGE, 'scripts', 'device-check.sh'), 'bundle', bundle], { stdio: 'pipe' });
    expect(existsSync(bundle)).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'flint-device-check-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    // Every 8th composite gradient case: gradients.test.ts compares them all on the emulation.
    const run = spawnSync(process.execPath, [bundle, out, '--rehearsal', '--gradient-stride=8'], {
      encoding: 'utf8',
      env: process.env,
      timeout: 240_000,
    });
    expect(run.stdout, run.stderr).toMatch(/done: conformance (\d+)\/\1, checks (\d+)\/\2, gradients (\d+)\/\3/);
    expect(run.status, run.stdout.slice(-2000)).toBe(0);
    const reportFile = readdirSync(out).find((f) => f.startsWith('cuda-') && f.endsWith('.json'));
    const report = JSON.parse(readFileSync(join(out, reportFile as string), 'utf8'));
    expect(report.rehearsal).toBe(true);
    expect(report.conformance.failed).toBe(0);
    expect(report.gradients.failures).toEqual([]);
    expect(report.gradients.compositeStride).toBe(8);
    expect(report.issue.cnnStepMs).toBeGreaterThan(0);
    expect(report.issue.transformerStepMs).toBeGreaterThan(0);
    expect(report.issue.copyGBs).toBeGreaterThan(0);
    // One profiled step each: its host time within its total, the engines it ran, and no device
    // allocation once the caching allocator has seen the steps before it.
    for (const key of ['cnnStepProfile', 'transformerStepProfile']) {
      const profile = JSON.parse(report.issue[key]);
      expect(profile.issuedMs, key).toBeGreaterThan(0);
      expect(profile.totalMs, key).toBeGreaterThanOrEqual(profile.issuedMs);
      expect(profile.deviceAllocations ?? 0, key).toBe(0);
      expect(profile.vendorFailures ?? 0, key).toBe(0);
      // The addon calls that enqueued work, by entry, and their total.
      expect(profile.deviceCalls, key).toBe(Object.values(profile.calls as Record<string, number>).reduce((a, b) => a + b, 0));
      expect(profile.calls.matmul, key).toBeGreaterThan(0);
      expect(profile.calls.free, key).toBeUndefined();
    }
    const [cnn, encoder] = [JSON.parse(report.issue.cnnStepProfile), JSON.parse(report.issue.transformerStepProfile)];
    expect((cnn.convKernel ?? 0) + (cnn.convCudnn ?? 0)).toBeGreaterThan(0);
    expect(encoder.compositeKernel).toBeGreaterThan(0);

    // PyTorch's side (scripts/torch-bench.py) reads this report on the device: rehearsed on the CPU.
    if (torchReason !== '') {
      console.log(`device-check rehearsal: torch-bench.py not rehearsed: ${torchReason}`);
      return;
    }
    const stem = join(out, 'torch');
    const bench = spawnSync(
      PYTHON,
      [join(PACKAGE, 'scripts', 'torch-bench.py'), join(out, reportFile as string), stem, '--device', 'cpu', '--no-compile'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(bench.status, `${bench.stdout.slice(-2000)}\n${bench.stderr.slice(-2000)}`).toBe(0);
    const torch = JSON.parse(readFileSync(`${stem}.json`, 'utf8'));
    for (const name of ['CNN step', 'transformer step']) {
      const issued = torch.measurements[`${name}, host time to issue one step (ms)`];
      expect(issued?.flint, name).toMatch(/ms$/);
      expect(
        Object.keys(torch.ratios).some((r) => r.startsWith(`${name}: Flint's time`)),
        name,
      ).toBe(true);
    }
  }, 300_000);
});

const torchReason = torchUnavailable();
