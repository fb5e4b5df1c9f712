import { ValueError } from '@flint/api';
import type { MonoTypeOperatorFunction } from 'rxjs';
import type { TrainerEvent } from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';
import { Callback } from './callback.js';

/** Options of `LearningRateMonitor` and the `lrMonitor` operator. */
export interface LearningRateMonitorOptions {
  /** 'step' (default): add the rates to each step's metrics; 'epoch': to each epoch's. */
  readonly loggingInterval?: 'step' | 'epoch';
}

/**
 * Adds each parameter group's learning rate (`lr-Adam`, `lr-SGD/pg2`, ...) to the logged metrics
 * (Lightning's LearningRateMonitor), so that a logger downstream records them.
 *
 * @example
 * await new Trainer({ callbacks: [new LearningRateMonitor({ loggingInterval: 'step' })] }).fit(model, data);
 */
export class LearningRateMonitor extends Callback {
  readonly loggingInterval: 'step' | 'epoch';

  constructor(options: LearningRateMonitorOptions = {}) {
    super();
    this.loggingInterval = options.loggingInterval ?? 'step';
    if (this.loggingInterval !== 'step' && this.loggingInterval !== 'epoch') {
      throw new ValueError(
        `LearningRateMonitor: loggingInterval must be 'step' or 'epoch', got ${JSON.stringify(options.loggingInterval)}`,
      );
    }
  }

  override operator(): MonoTypeOperatorFunction<TrainerEvent> {
    return observeEvents(() => ({
      event: (event) => {
        this.dispatch(event);
        if (this.loggingInterval === 'step' && event.type === 'batchEnd')
          return { ...event, metrics: { ...event.metrics, ...event.learningRates } };
        if (this.loggingInterval === 'epoch' && event.type === 'epochEnd')
          return { ...event, metrics: { ...event.metrics, ...event.learningRates } };
        return undefined;
      },
      error: (error) => this.onException?.(error),
    }));
  }
}
