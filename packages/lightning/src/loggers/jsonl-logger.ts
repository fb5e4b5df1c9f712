import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyState } from '../core/json.js';
import type { Logger } from './logger.js';
import { type FileLoggerOptions, resolveLogDir } from './version-dir.js';

/**
 * Writes one JSON object per `logMetrics` call to `<saveDir>/<name>/version_<N>/metrics.jsonl`
 * (`{"step": 100, "train_loss": 0.31, ...}`), and the hyperparameters to `hparams.json`.
 * Infinity and NaN are written as `{"$number": "Infinity"}`, since JSON has no spelling for them.
 *
 * @example
 * const trainer = new Trainer({ logger: new JSONLinesLogger({ saveDir: 'runs' }) });
 */
export class JSONLinesLogger implements Logger {
  readonly name: string;
  readonly version: number | string;
  readonly logDir: string;
  private pending: string[] = [];

  constructor(options: FileLoggerOptions = {}) {
    const resolved = resolveLogDir('JSONLinesLogger', options);
    this.name = resolved.name;
    this.version = resolved.version;
    this.logDir = resolved.logDir;
  }

  get metricsFile(): string {
    return join(this.logDir, 'metrics.jsonl');
  }

  logHyperparams(params: Readonly<Record<string, unknown>>): void {
    mkdirSync(this.logDir, { recursive: true });
    writeFileSync(join(this.logDir, 'hparams.json'), `${stringifyState(params, 2)}\n`);
  }

  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void {
    this.pending.push(`${stringifyState({ step, ...metrics })}\n`);
    if (this.pending.length >= 100) this.save();
  }

  save(): void {
    if (this.pending.length === 0) return;
    mkdirSync(this.logDir, { recursive: true });
    appendFileSync(this.metricsFile, this.pending.join(''));
    this.pending = [];
  }

  finalize(): void {
    this.save();
  }
}
