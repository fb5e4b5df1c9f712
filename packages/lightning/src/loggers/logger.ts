/** How a run ended, as loggers are told in `finalize`. */
export type RunStatus = 'success' | 'failed' | 'aborted';

/**
 * Where metrics and hyperparameters go (Lightning's Logger). The Trainer, and the `logTo`
 * operator, call `logHyperparams` once at fit start, `logMetrics` whenever metrics are due,
 * `save` at epoch ends, and `finalize` when the run ends.
 *
 * @example
 * class MyLogger implements Logger {
 *   readonly name = 'mine';
 *   readonly version = 0;
 *   logHyperparams(params: Record<string, unknown>) { console.log(params); }
 *   logMetrics(metrics: Record<string, number>, step: number) { console.log(step, metrics); }
 * }
 */
export interface Logger {
  readonly name: string;
  readonly version: string | number;
  /** The folder this logger writes into, when it writes files; checkpoints default to `<logDir>/checkpoints`. */
  readonly logDir?: string | undefined;
  logHyperparams(params: Readonly<Record<string, unknown>>): void;
  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void;
  /** Flushes what is buffered. */
  save?(): void;
  /** Flushes and closes; the logger is not used afterwards. */
  finalize?(status: RunStatus): void;
}
