/**
 * The benchmark's correctness check must catch a fast wrong kernel: with
 * FLINT_BENCH_INJECT_FAULT=matmul the Flint runner's matmul kernel corrupts one output element,
 * and the run must report the figure WRONG, keep it out of the ratios and exit non-zero; without
 * the fault the same run reports it correct.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from './report.js';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDirs: string[] = [];

function runQuickMatmul(fault: string | undefined): { status: number | null; report: Report; output: string } {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'flint-bench-test-'));
  outDirs.push(outDir);
  const env = { ...process.env };
  delete env.FLINT_BENCH_INJECT_FAULT;
  if (fault) env.FLINT_BENCH_INJECT_FAULT = fault;
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'run.ts',
      'matmul',
      '--quick',
      '--systems',
      'flint',
      '--no-ceiling',
      '--quiet-wait',
      '0',
      '--repeats',
      '2',
      '--out',
      outDir,
    ],
    { cwd: benchDir, env, encoding: 'utf8', timeout: 120_000 },
  );
  const json = readdirSync(outDir).find((f) => f.endsWith('.json'));
  if (!json) throw new Error(`no report written; output:\n${result.stdout}\n${result.stderr}`);
  return { status: result.status, report: JSON.parse(readFileSync(path.join(outDir, json), 'utf8')) as Report, output: result.stdout };
}

function flintMatmulFigures(report: Report) {
  const suite = report.suites.find((s) => s.name === 'matmul');
  return (suite?.cases ?? []).map((c) => ({ id: c.id, figure: c.figures.find((f) => f.systemKind === 'flint') }));
}

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe('bench correctness check', () => {
  it('reports a deliberately wrong Flint matmul as WRONG, with no ratio, and fails the command', () => {
    const { status, report, output } = runQuickMatmul('matmul');
    const figures = flintMatmulFigures(report);
    expect(figures.length).toBeGreaterThan(0);
    for (const { id, figure } of figures) {
      expect(figure, `Flint figure for ${id}`).toBeDefined();
      expect(figure?.status, `${id}: ${figure?.reason}`).toBe('wrong');
      expect(figure?.reason).toMatch(/WRONG vs/);
      expect(figure?.vsBestPeer).toBeUndefined();
      expect(figure?.ofCeiling).toBeUndefined();
    }
    expect(output).toMatch(/WRONG/);
    expect(status).toBe(1);
  });

  it('reports the same run without the fault as correct', () => {
    const { status, report } = runQuickMatmul(undefined);
    const figures = flintMatmulFigures(report);
    expect(figures.length).toBeGreaterThan(0);
    for (const { id, figure } of figures) {
      expect(figure?.status, `${id}: ${figure?.reason}`).toBe('ok');
      expect(figure?.error).toBeLessThan(2e-5);
      expect(figure?.reference).toMatch(/f64/);
    }
    expect(status).toBe(0);
  });
});
