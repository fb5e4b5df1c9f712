/**
 * The report's data model and the arithmetic on it: statistics per figure, rates, and the ratios
 * of each Flint figure to the best correct peer, to the native libraries and to the machine's
 * physical ceilings. Figures that are wrong, unchecked, absent or failed never enter a ratio.
 */
import type { CaseResult } from '../common/protocol.js';
import type { CaseKind, CaseSpec, SuiteName } from '../common/suites.js';
import type { Correctness } from './compare.js';
import type { QuietCheck } from './quiet.js';
import type { SystemKind } from './systems.js';

export type FigureStatus = 'ok' | 'wrong' | 'unchecked' | 'absent' | 'error';

export interface Figure {
  readonly system: string;
  readonly systemKind: SystemKind;
  status: FigureStatus;
  reason?: string;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  samples?: number;
  inner?: number;
  coresUsed?: number;
  /** GFLOP/s or GB/s (see the case's unit). */
  rate?: number;
  /** max|y - ref| / max|ref| and the reference used. */
  error?: number;
  reference?: string;
  peakStepBytes?: number;
  note?: string;
  /** best correct peer's median / this median: above 1, this figure is faster. */
  vsBestPeer?: number;
  bestPeer?: string;
  vsNative?: number;
  bestNative?: string;
  /** rate / the machine's ceiling for the unit. */
  ofCeiling?: number;
  /** For jit and Trainer cases: the same system's baseline median / this median. */
  vsBaseline?: number;
}

export interface CaseReport {
  readonly id: string;
  readonly kind: CaseKind;
  readonly title: string;
  readonly unit?: 'GFLOP/s' | 'GB/s';
  readonly work?: number;
  readonly tolerance: number;
  readonly baseline?: string;
  readonly figures: Figure[];
}

export interface SuiteReport {
  readonly name: SuiteName;
  readonly cases: CaseReport[];
}

export interface Ceilings {
  readonly fmaPeakGflops?: number;
  readonly fmaPeakGflopsOneCore?: number;
  readonly isa?: string;
  readonly bandwidthGBs?: number;
  readonly copyGBs?: number;
  /** The figure that beat the measured FMA peak and so became the ceiling. */
  readonly raisedBy?: string;
  readonly reason?: string;
}

export interface SystemEntry {
  readonly name: string;
  readonly kind: SystemKind;
  readonly description: string;
  readonly available: boolean;
  readonly reason?: string;
  readonly version?: string;
  readonly notes?: readonly string[];
}

export interface LoadSeen {
  readonly job: string;
  readonly maxOtherCores: number;
  readonly meanOtherCores: number;
}

/**
 * What one invocation of the benchmarks measured, and under which conditions: a day's file holds
 * the suites of its latest run and, for suites that run did not measure, those of earlier runs.
 */
export interface RunRecord {
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly suites: readonly SuiteName[];
  readonly quiet: QuietCheck;
  readonly loadSeen: readonly LoadSeen[];
  readonly ceilings: Ceilings;
}

export interface Report {
  readonly schema: 1;
  readonly date: string;
  readonly host: string;
  readonly startedAt: string;
  durationSeconds: number;
  readonly quick: boolean;
  readonly command: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly os: string;
    readonly node: string;
  };
  readonly quiet: QuietCheck;
  /** Jobs during which other processes used more than the quiet threshold. */
  loadSeen: LoadSeen[];
  readonly ceilings: Ceilings;
  readonly systems: SystemEntry[];
  suites: SuiteReport[];
  /** Earlier runs of the same day whose suites this report still holds, newest first (the top-level fields describe the latest run). */
  readonly earlierRuns?: readonly RunRecord[];
}

const SUITE_ORDER: readonly SuiteName[] = ['matmul', 'elementwise', 'dispatch', 'conv2d', 'mlp', 'cnn', 'transformer', 'trainer', 'linalg'];

/** The latest run of a report, as a record: the suites no earlier run accounts for. */
export function latestRun(report: Report): RunRecord {
  const earlier = new Set((report.earlierRuns ?? []).flatMap((run) => run.suites));
  return {
    command: report.command,
    startedAt: report.startedAt,
    durationSeconds: report.durationSeconds,
    suites: report.suites.map((s) => s.name).filter((name) => !earlier.has(name)),
    quiet: report.quiet,
    loadSeen: report.loadSeen,
    ceilings: report.ceilings,
  };
}

/** The run that measured `suite` (its command, load and ceilings). */
export function runOfSuite(report: Report, suite: SuiteName): RunRecord {
  return (report.earlierRuns ?? []).find((run) => run.suites.includes(suite)) ?? latestRun(report);
}

/**
 * A fresh report merged over an earlier one of the same day, host and mode: the earlier suites
 * the fresh run did not measure are kept, with the record of the run that measured them, and so
 * are the earlier systems the fresh run did not list. Incompatible reports are not merged.
 */
export function mergeReports(fresh: Report, earlier: Report): Report {
  if (earlier.schema !== 1 || earlier.quick !== fresh.quick) return fresh;
  const kept = earlier.suites.filter((s) => !fresh.suites.some((n) => n.name === s.name));
  if (!kept.length) return fresh;
  const keptNames = new Set(kept.map((s) => s.name));
  const earlierRuns = [latestRun(earlier), ...(earlier.earlierRuns ?? [])]
    .map((run) => ({ ...run, suites: run.suites.filter((name) => keptNames.has(name)) }))
    .filter((run) => run.suites.length > 0);
  const freshSystems = new Set(fresh.systems.map((s) => s.name));
  return {
    ...fresh,
    systems: [...fresh.systems, ...earlier.systems.filter((s) => !freshSystems.has(s.name))],
    suites: [...kept, ...fresh.suites].sort((a, b) => SUITE_ORDER.indexOf(a.name) - SUITE_ORDER.indexOf(b.name)),
    earlierRuns,
  };
}

/** Baselines of the "speed-up over" figures: jit over eager, Trainer over the hand-written loop. */
export const BASELINES: Partial<Record<CaseKind, CaseKind>> = {
  'elementwise-jit': 'elementwise-eager',
  'mlp-step-jit': 'mlp-step',
  'trainer-fit': 'trainer-hand-loop',
};

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A figure from a child's case result and its correctness verdict. */
export function makeFigure(
  system: string,
  systemKind: SystemKind,
  spec: CaseSpec,
  result: CaseResult | undefined,
  correctness: Correctness | undefined,
): Figure {
  if (!result) return { system, systemKind, status: 'error', reason: 'the runner reported nothing for this case' };
  if (result.status !== 'ok') return { system, systemKind, status: result.status, ...(result.reason ? { reason: result.reason } : {}) };
  const samples = [...(result.samplesMs ?? [])].sort((a, b) => a - b);
  if (samples.length === 0) return { system, systemKind, status: 'error', reason: 'no timed samples' };
  const figure: Figure = {
    system,
    systemKind,
    status: correctness?.status === 'wrong' ? 'wrong' : correctness?.status === 'correct' ? 'ok' : 'unchecked',
    medianMs: median(samples),
    minMs: samples[0] as number,
    maxMs: samples.at(-1) as number,
    samples: samples.length,
    ...(result.inner === undefined ? {} : { inner: result.inner }),
    ...(result.coresUsed === undefined ? {} : { coresUsed: Math.round(result.coresUsed * 100) / 100 }),
    ...(result.peakStepBytes === undefined ? {} : { peakStepBytes: result.peakStepBytes }),
    ...(result.note === undefined ? {} : { note: result.note }),
  };
  if (correctness?.error !== undefined) figure.error = correctness.error;
  if (correctness?.reference !== undefined) figure.reference = correctness.reference;
  if (correctness?.status === 'wrong')
    figure.reason = `WRONG vs ${correctness.reference}: ${correctness.detail ?? ''} (error ${correctness.error?.toExponential(2)}, tolerance ${correctness.tolerance})`;
  if (correctness?.status === 'unchecked') figure.reason = correctness.detail ?? 'no reference output to check against';
  const medianSeconds = (figure.medianMs as number) / 1000;
  if (spec.flops !== undefined) figure.rate = spec.flops / medianSeconds / 1e9;
  else if (spec.bytes !== undefined) figure.rate = spec.bytes / medianSeconds / 1e9;
  return figure;
}

export function caseUnit(spec: CaseSpec): 'GFLOP/s' | 'GB/s' | undefined {
  if (spec.flops !== undefined) return 'GFLOP/s';
  if (spec.bytes !== undefined) return 'GB/s';
  return undefined;
}

function fastest(figures: readonly Figure[]): Figure | undefined {
  let best: Figure | undefined;
  for (const f of figures) if (f.status === 'ok' && f.medianMs !== undefined && (!best || f.medianMs < (best.medianMs as number))) best = f;
  return best;
}

/** Fills in every ratio of a suite's figures. */
export function computeRatios(suite: SuiteReport, ceilings: Ceilings): void {
  for (const c of suite.cases) {
    const bestPeer = fastest(c.figures.filter((f) => f.systemKind === 'peer'));
    const bestNative = fastest(c.figures.filter((f) => f.systemKind === 'native'));
    const ceiling = c.unit === 'GFLOP/s' ? ceilings.fmaPeakGflops : c.unit === 'GB/s' ? ceilings.bandwidthGBs : undefined;
    const baselineCase = c.baseline ? suite.cases.find((b) => b.kind === c.baseline) : undefined;
    for (const f of c.figures) {
      if (f.status !== 'ok' || f.medianMs === undefined) continue;
      if (ceiling !== undefined && f.rate !== undefined) f.ofCeiling = f.rate / ceiling;
      if (baselineCase) {
        const base = baselineCase.figures.find((b) => b.system === f.system);
        if (base?.status === 'ok' && base.medianMs !== undefined) f.vsBaseline = base.medianMs / f.medianMs;
      }
      if (f.systemKind !== 'flint') continue;
      if (bestPeer?.medianMs !== undefined) {
        f.vsBestPeer = bestPeer.medianMs / f.medianMs;
        f.bestPeer = bestPeer.system;
      }
      if (bestNative?.medianMs !== undefined) {
        f.vsNative = bestNative.medianMs / f.medianMs;
        f.bestNative = bestNative.system;
      }
    }
  }
}
