import { ValueError } from '@flint/api';
import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Json } from '../core/json.js';
import type { Metrics, TrainerEvent, TrainingControl } from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';
import { Callback } from './callback.js';

/** Options of `EarlyStopping` and the `earlyStopping` operator (Lightning's names). */
export interface EarlyStoppingOptions {
  /** The metric to watch, such as 'val_loss'. */
  readonly monitor: string;
  /** 'min' (default): lower is better; 'max': higher is. */
  readonly mode?: 'min' | 'max';
  /** Checks without improvement before stopping (default 3). */
  readonly patience?: number;
  /** The least change that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** Stop at once when the metric gets better than this. */
  readonly stoppingThreshold?: number;
  /** Stop at once when the metric gets worse than this (training diverged). */
  readonly divergenceThreshold?: number;
  /** Stop when the metric is NaN or infinite (default true). */
  readonly checkFinite?: boolean;
  /** Fail when the metric is missing (default true); false skips the check. */
  readonly strict?: boolean;
  /** Check at the end of each training epoch instead of after validation (default: only when there is no validation). */
  readonly checkOnTrainEpochEnd?: boolean;
}

/**
 * Stops training when a monitored metric stops improving (Lightning's EarlyStopping): it asks
 * the loop to stop at the step boundary, the loop finishes cleanly, and `fitEnd` carries the
 * reason. Its counters travel in checkpoints.
 *
 * @example
 * await new Trainer({ callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 5 })] }).fit(model, data);
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly stoppingThreshold: number | undefined;
  readonly divergenceThreshold: number | undefined;
  readonly checkFinite: boolean;
  readonly strict: boolean;
  readonly checkOnTrainEpochEnd: boolean | undefined;
  /** Checks since the last improvement. */
  wait = 0;
  bestScore: number;
  /** The epoch at which it asked training to stop (0 when it has not). */
  stoppedEpoch = 0;
  /** Why it stopped training, once it has. */
  stoppingReason: string | undefined;

  constructor(options: EarlyStoppingOptions) {
    super();
    const problems: string[] = [];
    if (typeof options !== 'object' || options === null) throw new ValueError('EarlyStopping: expected options with at least { monitor }');
    this.monitor = options.monitor;
    if (typeof this.monitor !== 'string' || this.monitor === '')
      problems.push(`monitor must be a metric name, got ${JSON.stringify(options.monitor)}`);
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') problems.push(`mode must be 'min' or 'max', got ${JSON.stringify(options.mode)}`);
    this.patience = options.patience ?? 3;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      problems.push(`patience must be an integer >= 0, got ${JSON.stringify(options.patience)}`);
    this.minDelta = Math.abs(options.minDelta ?? 0);
    if (!Number.isFinite(this.minDelta)) problems.push(`minDelta must be a finite number, got ${JSON.stringify(options.minDelta)}`);
    this.stoppingThreshold = options.stoppingThreshold;
    this.divergenceThreshold = options.divergenceThreshold;
    for (const [name, value] of [
      ['stoppingThreshold', this.stoppingThreshold],
      ['divergenceThreshold', this.divergenceThreshold],
    ] as const) {
      if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value)))
        problems.push(`${name} must be a number, got ${JSON.stringify(value)}`);
    }
    this.checkFinite = options.checkFinite ?? true;
    this.strict = options.strict ?? true;
    this.checkOnTrainEpochEnd = options.checkOnTrainEpochEnd;
    if (problems.length > 0) throw new ValueError(`EarlyStopping: ${problems.join('; ')}`);
    this.bestScore = this.mode === 'min' ? Infinity : -Infinity;
  }

  get stateKey(): string {
    return `EarlyStopping{monitor=${this.monitor},mode=${this.mode}}`;
  }

  override operator(): MonoTypeOperatorFunction<TrainerEvent> {
    return observeEvents(() => {
      let onTrainEpochEnd = false;
      return {
        event: (event) => {
          if (event.type === 'fitStart') {
            onTrainEpochEnd = this.checkOnTrainEpochEnd ?? event.valBatches === 0;
            const restored = event.control.registerState(this.stateKey, () => this.stateDict());
            if (restored !== undefined) this.loadStateDict(restored);
          } else if (event.type === 'validationEnd' && !event.sanityCheck && !onTrainEpochEnd) {
            this.check(event.control, event.callbackMetrics, event.epoch);
          } else if (event.type === 'epochEnd' && onTrainEpochEnd) {
            this.check(event.control, event.callbackMetrics, event.epoch);
          }
          this.dispatch(event);
        },
        error: (error) => this.onException?.(error),
      };
    });
  }

  private improves(current: number, reference: number): boolean {
    return this.mode === 'min' ? current < reference : current > reference;
  }

  private check(control: TrainingControl, metrics: Metrics, epoch: number): void {
    const current = metrics[this.monitor];
    if (current === undefined) {
      if (!this.strict) return;
      throw new ValueError(
        `EarlyStopping(monitor='${this.monitor}') could not find '${this.monitor}' among the logged metrics (${Object.keys(metrics).join(', ') || 'none'}); log it with this.log('${this.monitor}', value), or pass strict: false`,
      );
    }
    const reason = this.evaluate(current);
    if (reason !== undefined) {
      this.stoppedEpoch = epoch;
      this.stoppingReason = reason;
      control.requestStop(reason);
    }
  }

  /** Lightning's stopping criteria, in its order; a reason to stop, or undefined. */
  private evaluate(current: number): string | undefined {
    const name = this.monitor;
    if (this.checkFinite && !Number.isFinite(current)) {
      return `Monitored metric ${name} = ${current} is not finite. Previous best value was ${this.bestScore.toFixed(3)}. Signaling Trainer to stop.`;
    }
    if (this.stoppingThreshold !== undefined && this.improves(current, this.stoppingThreshold)) {
      return `Stopping threshold reached: ${name} = ${current} ${this.mode === 'min' ? '<' : '>'} ${this.stoppingThreshold}. Signaling Trainer to stop.`;
    }
    if (this.divergenceThreshold !== undefined && this.improves(-current, -this.divergenceThreshold)) {
      return `Divergence threshold reached: ${name} = ${current} ${this.mode === 'min' ? '>' : '<'} ${this.divergenceThreshold}. Signaling Trainer to stop.`;
    }
    const shifted = this.mode === 'min' ? current + this.minDelta : current - this.minDelta;
    if (this.improves(shifted, this.bestScore)) {
      this.bestScore = current;
      this.wait = 0;
      return undefined;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      return `Monitored metric ${name} did not improve in the last ${this.wait} records. Best score: ${this.bestScore.toFixed(3)}. Signaling Trainer to stop.`;
    }
    return undefined;
  }

  stateDict(): Json {
    return { wait: this.wait, bestScore: this.bestScore, stoppedEpoch: this.stoppedEpoch, patience: this.patience };
  }

  loadStateDict(state: Json): void {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return;
    const saved = state as Readonly<Record<string, Json>>;
    if (typeof saved.wait === 'number') this.wait = saved.wait;
    if (typeof saved.bestScore === 'number') this.bestScore = saved.bestScore;
    if (typeof saved.stoppedEpoch === 'number') this.stoppedEpoch = saved.stoppedEpoch;
  }
}
