/**
 * Sampling for the TypeScript runners; peers/bench_common.py and peers/prng.h follow the same
 * rules so that every system is timed alike: warm-up, batching of fast iterations, a time budget.
 */
import type { TimingOptions } from './protocol.js';

export interface Measurement {
  /** Per-iteration time of each sample, ms. */
  readonly samplesMs: number[];
  readonly inner: number;
  readonly coresUsed: number;
  /** The correctness run was the only sample (the system is too slow for more). */
  readonly fromCheckRun?: boolean;
}

/**
 * Times `batch(count)`, which must run `count` iterations and return only once their results
 * exist. `caseStart` is when the case began; its correctness run, which took `firstRunMs` per
 * iteration, counts against the budget and as the first warm-up.
 */
export async function measure(
  batch: (count: number) => unknown,
  timing: TimingOptions,
  caseStart: number,
  firstRunMs: number,
): Promise<Measurement> {
  const elapsed = () => performance.now() - caseStart;
  // A system so slow that its correctness run used half the case's time limit is timed by that
  // run alone: one more iteration would double a figure that is minutes long.
  if (firstRunMs >= timing.maxCaseMs / 2) return { samplesMs: [firstRunMs], inner: 1, coresUsed: 0, fromCheckRun: true };
  let lastMs = firstRunMs;
  for (let w = 1; w < timing.warmup && elapsed() < timing.maxCaseMs / 3; w++) {
    const t0 = performance.now();
    await batch(1);
    lastMs = performance.now() - t0;
  }
  // Batch fast iterations: grow the count until one batch lasts a quarter of a sample.
  let inner = 1;
  if (!(lastMs >= timing.minSampleMs)) {
    let count = 1;
    for (;;) {
      const t0 = performance.now();
      await batch(count);
      const ms = performance.now() - t0;
      if (ms >= timing.minSampleMs / 4 || count >= 1 << 20) {
        inner = Math.max(1, Math.ceil((count * timing.minSampleMs) / Math.max(ms, 1e-3)));
        break;
      }
      count *= 4;
    }
  }
  const warmStart = performance.now();
  while (performance.now() - warmStart < timing.warmupMs && elapsed() < timing.budgetMs / 2) await batch(inner);
  const samplesMs: number[] = [];
  let cpuMicros = 0;
  let wallMs = 0;
  while (samplesMs.length < timing.repeats) {
    if (samplesMs.length >= timing.minSamples && elapsed() > timing.budgetMs) break;
    const last = samplesMs.at(-1);
    if (samplesMs.length > 0 && last !== undefined && elapsed() + last * inner > timing.maxCaseMs) break;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await batch(inner);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMicros += cpu.user + cpu.system;
    wallMs += ms;
    samplesMs.push(ms / inner);
  }
  return { samplesMs, inner, coresUsed: wallMs > 0 ? cpuMicros / 1000 / wallMs : 0 };
}
