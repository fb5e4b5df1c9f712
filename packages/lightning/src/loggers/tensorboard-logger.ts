import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { encodeRecord, fileVersionEvent, scalarsEvent } from '../io/tfrecord.js';
import { toYaml } from '../io/yaml.js';
import type { Logger } from './logger.js';
import { type FileLoggerOptions, resolveLogDir } from './version-dir.js';

/** Options of `TensorBoardLogger`. */
export interface TensorBoardLoggerOptions extends FileLoggerOptions {
  /** Records buffered before they are appended to the file (default 10). */
  readonly flushEveryNRecords?: number;
}

/**
 * Writes TensorBoard event files (`events.out.tfevents.<time>.<host>`) under
 * `<saveDir>/<name>/version_<N>/`: TFRecords with masked CRC-32C checksums holding `Event`
 * protos, each metric a scalar summary (`simple_value`), so `tensorboard --logdir <saveDir>`
 * plots them. Hyperparameters go to `hparams.yaml`, as Lightning's logger also writes them.
 *
 * @example
 * const trainer = new Trainer({ logger: new TensorBoardLogger({ saveDir: 'runs' }) });
 */
export class TensorBoardLogger implements Logger {
  readonly name: string;
  readonly version: number | string;
  readonly logDir: string;
  private readonly flushEvery: number;
  private file: string | undefined;
  private pending: Uint8Array[] = [];

  constructor(options: TensorBoardLoggerOptions = {}) {
    const resolved = resolveLogDir('TensorBoardLogger', options);
    this.name = resolved.name;
    this.version = resolved.version;
    this.logDir = resolved.logDir;
    this.flushEvery = options.flushEveryNRecords ?? 10;
  }

  /** The event file's path (created at the first write). */
  get eventFile(): string {
    if (this.file === undefined) {
      const seconds = Math.floor(Date.now() / 1000);
      this.file = join(this.logDir, `events.out.tfevents.${seconds}.${hostname()}.${process.pid}.0`);
      mkdirSync(this.logDir, { recursive: true });
      writeFileSync(this.file, encodeRecord(fileVersionEvent(Date.now() / 1000)));
    }
    return this.file;
  }

  logHyperparams(params: Readonly<Record<string, unknown>>): void {
    mkdirSync(this.logDir, { recursive: true });
    writeFileSync(join(this.logDir, 'hparams.yaml'), toYaml(params));
  }

  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void {
    this.pending.push(encodeRecord(scalarsEvent(Date.now() / 1000, step, metrics)));
    if (this.pending.length >= this.flushEvery) this.save();
  }

  save(): void {
    const file = this.eventFile;
    if (this.pending.length === 0) return;
    const total = this.pending.reduce((n, r) => n + r.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const record of this.pending) {
      out.set(record, offset);
      offset += record.length;
    }
    appendFileSync(file, out);
    this.pending = [];
  }

  finalize(): void {
    this.save();
  }
}
