import { describe, expect, it } from 'vitest';
import type { SuiteName } from '../common/suites.js';
import { markdownReport } from './format.js';
import { type Ceilings, mergeReports, type Report, runOfSuite, type SuiteReport } from './report.js';
import { suiteChart } from './svg.js';

const suite = (name: SuiteName): SuiteReport => ({ name, cases: [] });

function report(command: string, suites: SuiteName[], systems: string[], ceilings: Ceilings, startedAt: string): Report {
  return {
    schema: 1,
    date: '2026-12-02',
    host: 'vm',
    startedAt,
    durationSeconds: 60,
    quick: false,
    command,
    machine: { cpu: 'cpu', cores: 2, memoryGiB: 24, os: 'linux', node: '20' },
    quiet: { supported: true, quiet: true, cores: 2, loadAverage: [0, 0, 0], otherCoresAtStart: 0, thresholdCores: 0.25, waitedSeconds: 1 },
    loadSeen: [],
    ceilings,
    systems: systems.map((name) => ({ name, kind: 'peer', description: name, available: true })),
    suites: suites.map(suite),
  };
}

const full = report('npm run bench', ['matmul', 'mlp', 'trainer'], ['flint-cpu', 'torch'], { fmaPeakGflops: 400, bandwidthGBs: 50 }, 't1');
const partial = report(
  'npm run bench -- trainer --systems flint',
  ['trainer'],
  ['flint-cpu'],
  { fmaPeakGflops: 300, bandwidthGBs: 40 },
  't2',
);

describe('mergeReports', () => {
  it("keeps the earlier run's suites with the record of the run that measured them", () => {
    const merged = mergeReports(partial, full);
    expect(merged.suites.map((s) => s.name)).toEqual(['matmul', 'mlp', 'trainer']);
    expect(merged.earlierRuns).toEqual([expect.objectContaining({ command: 'npm run bench', suites: ['matmul', 'mlp'], startedAt: 't1' })]);
    expect(runOfSuite(merged, 'matmul').ceilings.fmaPeakGflops).toBe(400);
    expect(runOfSuite(merged, 'trainer').ceilings.fmaPeakGflops).toBe(300);
    // A system only the earlier run listed stays in the systems table.
    expect(merged.systems.map((s) => s.name)).toEqual(['flint-cpu', 'torch']);
  });

  it('drops an earlier run once a later one has measured all its suites again', () => {
    const third = report('npm run bench -- matmul mlp', ['matmul', 'mlp'], ['flint-cpu'], { fmaPeakGflops: 350 }, 't3');
    const merged = mergeReports(third, mergeReports(partial, full));
    expect(merged.earlierRuns?.map((run) => [run.command, run.suites])).toEqual([
      ['npm run bench -- trainer --systems flint', ['trainer']],
    ]);
    expect(runOfSuite(merged, 'matmul').command).toBe('npm run bench -- matmul mlp');
  });

  it('does not merge a quick run into a full one', () => {
    expect(mergeReports({ ...partial, quick: true }, full).suites.map((s) => s.name)).toEqual(['trainer']);
  });

  it("names every run in the Markdown header, and draws each suite's chart with its own run's ceilings", () => {
    const merged = mergeReports(partial, full);
    const markdown = markdownReport(merged, new Map());
    expect(markdown).toContain('- Command: `npm run bench -- trainer --systems flint`; took 60 s; measured trainer');
    expect(markdown).toMatch(/- Kept from an earlier run \(matmul, mlp\): `npm run bench` at t1; .*FMA peak 400 GFLOP\/s/);
    expect(suiteChart(merged, suite('matmul'))).toContain('ceiling: 400 GFLOP/s');
    expect(suiteChart(merged, suite('trainer'))).toContain('ceiling: 300 GFLOP/s');
  });
});
