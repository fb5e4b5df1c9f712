/**
 * The parent/child protocol. The parent starts one child per (system, suite) with a Job as JSON
 * in argv; the child prints one marked JSON line per finished case (so that a crash loses only
 * the case it happened in) and one info line, and writes each case's output values to
 * `<outputDir>/<system>/<case id>.f32` (or `.f64` for float64 references) for the parent to
 * compare. Other stdout (libraries like to print banners) is ignored.
 */
import type { CaseSpec } from './suites.js';

export const RESULT_MARKER = '@@flint-bench-result ';
export const INFO_MARKER = '@@flint-bench-info ';

export interface TimingOptions {
  /** Untimed runs before the samples; the correctness run counts as the first. */
  readonly warmup: number;
  /**
   * Then untimed batches until this much time is spent warming up: JavaScript engines need
   * thousands of calls before a fast path is compiled, so counting runs is not enough.
   */
  readonly warmupMs: number;
  /**
   * The warm-up of training steps (cases with `training`), in place of `warmupMs`: an eager step
   * calls dozens of a library's functions once or a few times each, and V8 keeps optimizing them,
   * on a background thread that competes with the kernels for the cores, for the first hundred or
   * so steps (Flint's eager transformer step: 59 ms a step after 10 steps, 43 ms after 150). A
   * training run spends nearly all its steps past that, so its steady state is what is timed,
   * for every system alike. The case's budget grows by twice the difference.
   */
  readonly trainingWarmupMs: number;
  /** Timed samples wanted. */
  readonly repeats: number;
  /** Samples taken even past the budget (unless maxCaseMs is reached first). */
  readonly minSamples: number;
  /** Once this much time is spent on a case, stop after minSamples. */
  readonly budgetMs: number;
  /** Fast iterations are batched so that one sample lasts at least this long. */
  readonly minSampleMs: number;
  /** Hard limit per case: no new sample starts if it would end past it (at least one is taken). */
  readonly maxCaseMs: number;
}

export interface Job {
  /** System name as the report shows it: 'flint-cpu', 'tfjs-wasm', 'torch', 'torch-f64'. */
  readonly system: string;
  readonly cases: readonly CaseSpec[];
  readonly timing: TimingOptions;
  /** Folder for the output files; the child creates `<outputDir>/<system>/`. */
  readonly outputDir: string;
  /** Only compute outputs (references): no warm-up, no timing. */
  readonly referenceOnly?: boolean;
  /** Runner-specific: the Flint backend name. */
  readonly backend?: string;
}

export type CaseStatus = 'ok' | 'absent' | 'error';

export interface CaseResult {
  readonly id: string;
  readonly status: CaseStatus;
  /** Why absent, or the error. */
  readonly reason?: string;
  /** Time per iteration of each sample, milliseconds. */
  readonly samplesMs?: readonly number[];
  /** Iterations per sample. */
  readonly inner?: number;
  /** Process CPU time / wall time while sampling: how many cores the system kept busy. */
  readonly coresUsed?: number;
  /** Output file written for the correctness check, relative to outputDir. */
  readonly output?: string;
  /** Peak resident memory added by one training step, bytes. */
  readonly peakStepBytes?: number;
  /** Free-form notes (how completion was awaited, fallbacks taken). */
  readonly note?: string;
}

export interface SystemInfo {
  readonly system: string;
  readonly version?: string;
  readonly threads?: number;
  readonly notes?: readonly string[];
}

/** Default timing for full runs and for `--quick`. */
export function defaultTiming(quick: boolean): TimingOptions {
  return quick
    ? { warmup: 2, warmupMs: 50, trainingWarmupMs: 50, repeats: 3, minSamples: 2, budgetMs: 300, minSampleMs: 5, maxCaseMs: 5_000 }
    : {
        warmup: 2,
        warmupMs: 1_000,
        trainingWarmupMs: 3_000,
        repeats: 10,
        minSamples: 3,
        budgetMs: 3_000,
        minSampleMs: 20,
        maxCaseMs: 40_000,
      };
}

/** The timing of one case: a training step warms up for `trainingWarmupMs`, its budget grown to match. */
export function caseTiming(timing: TimingOptions, training: boolean | undefined): TimingOptions {
  if (!training) return timing;
  const extra = Math.max(0, timing.trainingWarmupMs - timing.warmupMs);
  return { ...timing, warmupMs: timing.warmupMs + extra, budgetMs: timing.budgetMs + 2 * extra };
}
