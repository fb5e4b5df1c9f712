import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  experimentSummary,
  flattenHParams,
  type HParamValue,
  SESSION_STATUS,
  sessionEndSummary,
  sessionStartSummary,
} from '../io/hparams-plugin.js';
import { encodeRecord, fileVersionEvent, scalarsEvent, summaryEvent } from '../io/tfrecord.js';
import { toYaml } from '../io/yaml.js';
import type { Logger, RunStatus } from './logger.js';
import { type FileLoggerOptions, resolveLogDir } from './version-dir.js';

/** Options of `TensorBoardLogger`. */
export interface TensorBoardLoggerOptions extends FileLoggerOptions {
  /** Records buffered before they are appended to the file (default 10). */
  readonly flushEveryNRecords?: number;
  /**
   * Lightning's `default_hp_metric`: log `hp_metric` = -1 with the hyperparameters, a metric
   * the HPARAMS tab lists that the module may update with `this.log('hp_metric', value)`
   * (default true).
   */
  readonly defaultHpMetric?: boolean;
  /**
   * The metrics the HPARAMS tab shows beside the hyperparameters, such as the monitored
   * `val_loss`. Default: every metric the run logged (except `epoch`), listed when it ends.
   */
  readonly hparamsMetrics?: readonly string[];
}

/**
 * Writes TensorBoard event files (`events.out.tfevents.<time>.<host>`) under
 * `<saveDir>/<name>/version_<N>/`: TFRecords with masked CRC-32C checksums holding `Event`
 * protos, each metric a scalar summary (`simple_value`), so `tensorboard --logdir <saveDir>`
 * plots them. Hyperparameters go to `hparams.yaml`, as Lightning's logger also writes them, and
 * to the HParams plugin's records (session start, experiment, session end), so TensorBoard's
 * HPARAMS tab shows them beside the run's metrics.
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
  private readonly defaultHpMetric: boolean;
  private readonly hparamsMetrics: readonly string[] | undefined;
  /** The flattened hyperparameters once logged; the experiment record still to write, if deferred. */
  private hparams: Record<string, HParamValue> | undefined;
  private experimentPending = false;
  private readonly tags = new Set<string>();
  private finalized = false;

  constructor(options: TensorBoardLoggerOptions = {}) {
    const resolved = resolveLogDir('TensorBoardLogger', options);
    this.name = resolved.name;
    this.version = resolved.version;
    this.logDir = resolved.logDir;
    this.flushEvery = options.flushEveryNRecords ?? 10;
    this.defaultHpMetric = options.defaultHpMetric ?? true;
    this.hparamsMetrics = options.hparamsMetrics === undefined ? undefined : [...options.hparamsMetrics];
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

  /**
   * Writes `hparams.yaml` and the HParams plugin's session start record (the values, flattened
   * with '/'); with `defaultHpMetric`, `hp_metric` = -1; with `hparamsMetrics`, the experiment
   * record at once (otherwise when the run ends, listing the metrics it logged).
   */
  logHyperparams(params: Readonly<Record<string, unknown>>): void {
    mkdirSync(this.logDir, { recursive: true });
    writeFileSync(join(this.logDir, 'hparams.yaml'), toYaml(params));
    const now = Date.now() / 1000;
    this.hparams = flattenHParams(params);
    this.pending.push(encodeRecord(summaryEvent(now, 0, sessionStartSummary(this.hparams, now))));
    if (this.defaultHpMetric) this.logMetrics({ hp_metric: -1 }, 0);
    this.experimentPending = this.hparamsMetrics === undefined;
    if (this.hparamsMetrics !== undefined) {
      const metrics = this.defaultHpMetric ? ['hp_metric', ...this.hparamsMetrics.filter((m) => m !== 'hp_metric')] : this.hparamsMetrics;
      this.pending.push(encodeRecord(summaryEvent(now, 0, experimentSummary(this.hparams, metrics, now))));
    }
    this.save();
  }

  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void {
    for (const tag of Object.keys(metrics)) if (tag !== 'epoch') this.tags.add(tag);
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

  /** Flushes, and ends the HParams session: the experiment record if deferred, then the status (an aborted run's is unknown). */
  finalize(status: RunStatus = 'success'): void {
    if (!this.finalized && this.hparams !== undefined) {
      const now = Date.now() / 1000;
      if (this.experimentPending)
        this.pending.push(encodeRecord(summaryEvent(now, 0, experimentSummary(this.hparams, [...this.tags], now))));
      const code = status === 'success' ? SESSION_STATUS.success : status === 'failed' ? SESSION_STATUS.failure : SESSION_STATUS.unknown;
      this.pending.push(encodeRecord(summaryEvent(now, 0, sessionEndSummary(code, now))));
    }
    this.finalized = true;
    this.save();
  }
}
