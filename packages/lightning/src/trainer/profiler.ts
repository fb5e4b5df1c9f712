import type { TextSink } from '../loggers/console-logger.js';

/**
 * Times the phases of training (Lightning's Profiler). The Trainer calls `start(action)` and
 * `stop(action)` around each phase ('trainingStep', 'backward', 'optimizerStep', 'fetchBatch',
 * 'validation', 'checkpoint', ...) and `summary()` at the end of `fit`.
 */
export interface Profiler {
  start(action: string): void;
  stop(action: string): void;
  /** A human-readable report. */
  summary(): string;
}

/** Options of `SimpleProfiler`. */
export interface SimpleProfilerOptions {
  /** Where `report()` prints the summary (default process.stdout). */
  readonly output?: TextSink;
}

interface ActionStats {
  calls: number;
  totalMs: number;
  started: number | undefined;
}

/**
 * Records calls and total time per action, and reports them sorted by total time, as
 * Lightning's SimpleProfiler does.
 *
 * @example
 * const trainer = new Trainer({ profiler: new SimpleProfiler() });
 */
export class SimpleProfiler implements Profiler {
  private readonly actions = new Map<string, ActionStats>();
  private readonly output: TextSink;

  constructor(options: SimpleProfilerOptions = {}) {
    this.output = options.output ?? process.stdout;
  }

  start(action: string): void {
    let stats = this.actions.get(action);
    if (stats === undefined) {
      stats = { calls: 0, totalMs: 0, started: undefined };
      this.actions.set(action, stats);
    }
    stats.started = performance.now();
  }

  stop(action: string): void {
    const stats = this.actions.get(action);
    if (stats?.started === undefined) return;
    stats.totalMs += performance.now() - stats.started;
    stats.calls++;
    stats.started = undefined;
  }

  /** Calls and total milliseconds per action. */
  get records(): ReadonlyMap<string, { readonly calls: number; readonly totalMs: number }> {
    return this.actions;
  }

  summary(): string {
    const rows = [...this.actions.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs);
    const total = rows.reduce((n, [, s]) => n + s.totalMs, 0);
    const width = Math.max(6, ...rows.map(([name]) => name.length));
    const lines = [
      `${'Action'.padEnd(width)}  ${'calls'.padStart(8)}  ${'mean ms'.padStart(10)}  ${'total s'.padStart(10)}  ${'%'.padStart(6)}`,
    ];
    for (const [name, s] of rows) {
      const mean = s.calls === 0 ? 0 : s.totalMs / s.calls;
      const share = total === 0 ? 0 : (100 * s.totalMs) / total;
      lines.push(
        `${name.padEnd(width)}  ${String(s.calls).padStart(8)}  ${mean.toFixed(3).padStart(10)}  ${(s.totalMs / 1000).toFixed(3).padStart(10)}  ${share.toFixed(1).padStart(6)}`,
      );
    }
    return `Profiler report\n${lines.join('\n')}\n`;
  }

  /** Prints the summary to the output. */
  report(): void {
    this.output.write(this.summary());
  }
}

/** A profiler that does nothing, so the loop never branches on whether one is set. */
export const NO_PROFILER: Profiler = {
  start: () => undefined,
  stop: () => undefined,
  summary: () => '',
};
