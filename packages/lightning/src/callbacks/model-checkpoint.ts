import { join } from 'node:path';
import { ValueError } from '@flint/api';
import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Json } from '../core/json.js';
import { removeStaleTemporaryFiles } from '../io/atomic-write.js';
import type { Metrics, TrainerEvent, TrainingControl } from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';
import { Callback } from './callback.js';
import { formatCheckpointName } from './filename.js';

/** Options of `ModelCheckpoint` and the `checkpoint` operator (Lightning's names). */
export interface ModelCheckpointOptions {
  /** The folder (default: `<logDir>/checkpoints`, else `<defaultRootDir>/checkpoints`). */
  readonly dirpath?: string;
  /** A template such as '{epoch}-{val_loss:.2f}' (default '{epoch}-{step}'); '.ckpt' is appended. */
  readonly filename?: string;
  /** The metric that ranks checkpoints; without one, the latest checkpoint is kept. */
  readonly monitor?: string;
  /** 'min' (default): lower is better; 'max': higher is. */
  readonly mode?: 'min' | 'max';
  /** Keep the k best (default 1); -1 keeps all; 0 keeps none (only `last.ckpt` when saveLast). */
  readonly saveTopK?: number;
  /** Also write `last.ckpt` at every save (default false). */
  readonly saveLast?: boolean;
  /** Save every this many optimizer steps (default 0: by epochs). */
  readonly everyNTrainSteps?: number;
  /** Save every this many epochs (default 1, when everyNTrainSteps is 0). */
  readonly everyNEpochs?: number;
  /** Save at the end of the training epoch even when validation runs (default: at validation end when there is validation). */
  readonly saveOnTrainEpochEnd?: boolean;
  /** Write `name=value` in filled templates (default true). */
  readonly autoInsertMetricName?: boolean;
}

interface SavedState {
  readonly dirpath: string;
  readonly bestModelPath: string;
  readonly bestModelScore: number | null;
  readonly lastModelPath: string;
  readonly bestKModels: readonly (readonly [string, number])[];
}

/**
 * Saves checkpoints while training (Lightning's ModelCheckpoint): every epoch (at validation end
 * when there is validation) or every N steps, keeping the `saveTopK` best by `monitor`, and
 * optionally `last.ckpt`. Files are written atomically; the bookkeeping (best paths and scores)
 * travels in each checkpoint, so a resumed run keeps ranking where it left off.
 *
 * @example
 * const best = new ModelCheckpoint({ monitor: 'val_loss', saveTopK: 3, saveLast: true });
 * await new Trainer({ callbacks: [best] }).fit(model, data);
 * console.log(best.bestModelPath, best.bestModelScore);
 */
export class ModelCheckpoint extends Callback {
  readonly filename: string;
  readonly monitor: string | undefined;
  readonly mode: 'min' | 'max';
  readonly saveTopK: number;
  readonly saveLast: boolean;
  readonly everyNTrainSteps: number;
  readonly everyNEpochs: number;
  readonly saveOnTrainEpochEnd: boolean | undefined;
  readonly autoInsertMetricName: boolean;
  /** The folder, once known (the option, or decided at fit start). */
  dirpath: string | undefined;
  bestModelPath = '';
  bestModelScore: number | undefined;
  lastModelPath = '';
  /** Path to score of the checkpoints kept by rank. */
  readonly bestKModels = new Map<string, number>();
  private latestPath = '';

  constructor(options: ModelCheckpointOptions = {}) {
    super();
    const owner = 'ModelCheckpoint';
    const problems: string[] = [];
    const count = (name: string, value: unknown, min: number, fallback: number) => {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
        problems.push(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
        return fallback;
      }
      return value;
    };
    this.filename = options.filename ?? '{epoch}-{step}';
    if (typeof this.filename !== 'string' || this.filename === '')
      problems.push(`filename must be a non-empty template, got ${JSON.stringify(options.filename)}`);
    this.monitor = options.monitor;
    if (this.monitor !== undefined && (typeof this.monitor !== 'string' || this.monitor === ''))
      problems.push(`monitor must be a metric name, got ${JSON.stringify(this.monitor)}`);
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') problems.push(`mode must be 'min' or 'max', got ${JSON.stringify(options.mode)}`);
    this.saveTopK = count('saveTopK', options.saveTopK, -1, 1);
    if (this.monitor === undefined && this.saveTopK > 1)
      problems.push(`saveTopK ${this.saveTopK} needs a monitor to rank checkpoints by; without one, use 1 (the latest) or -1 (all)`);
    this.saveLast = options.saveLast ?? false;
    this.everyNTrainSteps = count('everyNTrainSteps', options.everyNTrainSteps, 0, 0);
    this.everyNEpochs = count('everyNEpochs', options.everyNEpochs, 1, 1);
    if (options.everyNTrainSteps !== undefined && options.everyNEpochs !== undefined && this.everyNTrainSteps > 0) {
      problems.push('everyNTrainSteps and everyNEpochs are exclusive; give one of them');
    }
    this.saveOnTrainEpochEnd = options.saveOnTrainEpochEnd;
    this.autoInsertMetricName = options.autoInsertMetricName ?? true;
    this.dirpath = options.dirpath;
    if (problems.length > 0) throw new ValueError(`${owner}: ${problems.join('; ')}`);
  }

  /** The key of this callback's state in checkpoints. */
  get stateKey(): string {
    return `ModelCheckpoint{monitor=${this.monitor ?? ''},mode=${this.mode},everyNTrainSteps=${this.everyNTrainSteps},everyNEpochs=${this.everyNEpochs}}`;
  }

  override operator(): MonoTypeOperatorFunction<TrainerEvent> {
    return observeEvents(() => {
      let hasValidation = false;
      let known: Record<string, number> = {};
      return {
        event: (event) => {
          switch (event.type) {
            case 'fitStart': {
              hasValidation = event.valBatches > 0;
              known = {};
              this.dirpath ??= event.control.defaultCheckpointDir;
              // Leftovers of a process killed mid-write; the checkpoints themselves are intact.
              event.control.waitFor(removeStaleTemporaryFiles(this.dirpath));
              const restored = event.control.registerState(this.stateKey, () => this.stateDict());
              if (restored !== undefined) this.loadStateDict(restored);
              break;
            }
            case 'batchEnd':
              Object.assign(known, event.metrics);
              if (this.everyNTrainSteps > 0 && event.optimizerStepped && event.step % this.everyNTrainSteps === 0) {
                this.save(event.control, { ...known, epoch: event.epoch, step: event.step });
              }
              break;
            case 'validationEnd':
              if (event.sanityCheck) break;
              known = { ...known, ...event.callbackMetrics };
              if (
                this.everyNTrainSteps === 0 &&
                hasValidation &&
                this.saveOnTrainEpochEnd !== true &&
                (event.epoch + 1) % this.everyNEpochs === 0
              ) {
                this.save(event.control, { ...known, epoch: event.epoch, step: event.step });
              }
              break;
            case 'epochEnd':
              known = { ...known, ...event.callbackMetrics };
              if (
                this.everyNTrainSteps === 0 &&
                (!hasValidation || this.saveOnTrainEpochEnd === true) &&
                (event.epoch + 1) % this.everyNEpochs === 0
              ) {
                this.save(event.control, { ...known, epoch: event.epoch, step: event.step });
              }
              break;
          }
          this.dispatch(event);
        },
        error: (error) => this.onException?.(error),
      };
    });
  }

  private better(a: number, b: number): boolean {
    return this.mode === 'min' ? a < b : a > b;
  }

  /** The worst of the kept checkpoints. */
  private worstKept(): [string, number] | undefined {
    let worst: [string, number] | undefined;
    for (const entry of this.bestKModels) if (worst === undefined || this.better(worst[1], entry[1])) worst = entry;
    return worst;
  }

  private pathFor(metrics: Metrics): string {
    const dirpath = this.dirpath as string;
    const base = formatCheckpointName(this.filename, metrics, this.autoInsertMetricName);
    let path = join(dirpath, `${base}.ckpt`);
    // Lightning's rule: a name already taken by another kept checkpoint gets a -vN suffix.
    for (let version = 1; this.bestKModels.has(path) && path !== this.latestPath; version++)
      path = join(dirpath, `${base}-v${version}.ckpt`);
    return path;
  }

  private save(control: TrainingControl, metrics: Metrics): void {
    if (this.saveTopK !== 0) {
      if (this.monitor === undefined) this.saveLatest(control, metrics);
      else this.saveRanked(control, metrics, this.monitor);
    }
    if (this.saveLast) {
      const last = join(this.dirpath as string, 'last.ckpt');
      this.lastModelPath = last;
      void control.saveCheckpoint(last);
    }
  }

  private saveLatest(control: TrainingControl, metrics: Metrics): void {
    const path = this.pathFor(metrics);
    const previous = this.latestPath;
    this.latestPath = path;
    this.bestModelPath = path;
    if (this.saveTopK === 1) this.bestKModels.clear();
    this.bestKModels.set(path, metrics.step ?? 0);
    void control.saveCheckpoint(path);
    if (this.saveTopK === 1 && previous !== '' && previous !== path) control.removeCheckpoint(previous);
  }

  private saveRanked(control: TrainingControl, metrics: Metrics, monitor: string): void {
    const raw = metrics[monitor];
    if (raw === undefined) {
      const available = Object.keys(metrics).filter((k) => k !== 'epoch' && k !== 'step');
      throw new ValueError(
        `ModelCheckpoint(monitor='${monitor}') could not find '${monitor}' among the logged metrics (${available.join(', ') || 'none'}); log it with this.log('${monitor}', value), or change monitor`,
      );
    }
    // NaN ranks last, as Lightning ranks it.
    const score = Number.isNaN(raw) ? (this.mode === 'min' ? Infinity : -Infinity) : raw;
    const worst = this.worstKept();
    const full = this.saveTopK !== -1 && this.bestKModels.size >= this.saveTopK;
    if (full && worst !== undefined && !this.better(score, worst[1])) return;
    const path = this.pathFor(metrics);
    this.bestKModels.set(path, score);
    this.latestPath = path;
    let evicted: string | undefined;
    if (this.saveTopK !== -1 && this.bestKModels.size > this.saveTopK) {
      const out = this.worstKept();
      if (out !== undefined) {
        this.bestKModels.delete(out[0]);
        evicted = out[0];
      }
    }
    let best: [string, number] | undefined;
    for (const entry of this.bestKModels) if (best === undefined || this.better(entry[1], best[1])) best = entry;
    if (best !== undefined) {
      this.bestModelPath = best[0];
      this.bestModelScore = best[1];
    }
    void control.saveCheckpoint(path, { monitor, score: raw });
    if (evicted !== undefined && evicted !== path) control.removeCheckpoint(evicted);
  }

  /** The bookkeeping stored in checkpoints. */
  stateDict(): Json {
    const state: SavedState = {
      dirpath: this.dirpath ?? '',
      bestModelPath: this.bestModelPath,
      bestModelScore: this.bestModelScore ?? null,
      lastModelPath: this.lastModelPath,
      bestKModels: [...this.bestKModels],
    };
    return state as unknown as Json;
  }

  /** Restores the bookkeeping when the checkpoint was written into the same folder (as Lightning does). */
  loadStateDict(state: Json): void {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return;
    const saved = state as unknown as SavedState;
    if (saved.dirpath !== this.dirpath) return;
    this.bestModelPath = saved.bestModelPath;
    this.bestModelScore = saved.bestModelScore ?? undefined;
    this.lastModelPath = saved.lastModelPath;
    this.bestKModels.clear();
    for (const [path, score] of saved.bestKModels) this.bestKModels.set(path, score);
    this.latestPath = saved.bestKModels.length > 0 ? (saved.bestKModels[saved.bestKModels.length - 1] as readonly [string, number])[0] : '';
  }
}
