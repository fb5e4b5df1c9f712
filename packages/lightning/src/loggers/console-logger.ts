import type { Logger } from './logger.js';

/** Where the console logger writes: anything with `write(text)` (process.stdout by default). */
export interface TextSink {
  write(text: string): unknown;
}

/** Options of `ConsoleLogger`. */
export interface ConsoleLoggerOptions {
  /** Default process.stdout. */
  readonly output?: TextSink;
  /** Significant digits of the printed values (default 4). */
  readonly precision?: number;
}

/**
 * Prints each `logMetrics` call as one line: `step 50  train_loss=0.3125  epoch=0`.
 *
 * @example
 * const trainer = new Trainer({ logger: new ConsoleLogger(), enableProgressBar: false });
 */
export class ConsoleLogger implements Logger {
  readonly name = 'console';
  readonly version = 0;
  readonly logDir = undefined;
  private readonly output: TextSink;
  private readonly precision: number;

  constructor(options: ConsoleLoggerOptions = {}) {
    this.output = options.output ?? process.stdout;
    this.precision = options.precision ?? 4;
  }

  logHyperparams(params: Readonly<Record<string, unknown>>): void {
    const entries = Object.entries(params);
    if (entries.length === 0) return;
    this.output.write(`hyperparameters: ${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('  ')}\n`);
  }

  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void {
    const parts = Object.entries(metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(this.precision)}`);
    this.output.write(`step ${step}  ${parts.join('  ')}\n`);
  }
}
