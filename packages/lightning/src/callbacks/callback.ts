import type { MonoTypeOperatorFunction } from 'rxjs';
import type {
  BatchEndEvent,
  CheckpointSavedEvent,
  EpochEndEvent,
  EpochStartEvent,
  FitEndEvent,
  FitStartEvent,
  TrainerEvent,
  ValidationEndEvent,
} from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';

/**
 * A Lightning-style callback for `await trainer.fit(...)`. Each is an operator on the training
 * stream (`operator()`); the default operator calls the hook of each event's type. Hooks get the
 * event, which carries the counters, metrics and `control` (to stop training or save a
 * checkpoint), instead of Lightning's `(trainer, pl_module)` pair.
 *
 * @example
 * class PrintLoss extends Callback {
 *   override onTrainBatchEnd(event: BatchEndEvent) {
 *     if (event.batchIdx % 100 === 0) console.log(event.step, event.loss);
 *   }
 * }
 * await new Trainer({ callbacks: [new PrintLoss()] }).fit(model, data);
 */
export abstract class Callback {
  onFitStart?(event: FitStartEvent): void;
  onTrainEpochStart?(event: EpochStartEvent): void;
  onTrainBatchEnd?(event: BatchEndEvent): void;
  onValidationEnd?(event: ValidationEndEvent): void;
  onTrainEpochEnd?(event: EpochEndEvent): void;
  onCheckpointSaved?(event: CheckpointSavedEvent): void;
  onFitEnd?(event: FitEndEvent): void;
  /** Training failed with `error`. */
  onException?(error: unknown): void;

  /** This callback as an operator on the training stream. */
  operator(): MonoTypeOperatorFunction<TrainerEvent> {
    return observeEvents(() => ({
      event: (event) => {
        this.dispatch(event);
      },
      error: (error) => this.onException?.(error),
    }));
  }

  /** Calls the hook for the event's type. */
  protected dispatch(event: TrainerEvent): void {
    switch (event.type) {
      case 'fitStart':
        return this.onFitStart?.(event);
      case 'epochStart':
        return this.onTrainEpochStart?.(event);
      case 'batchEnd':
        return this.onTrainBatchEnd?.(event);
      case 'validationEnd':
        return this.onValidationEnd?.(event);
      case 'epochEnd':
        return this.onTrainEpochEnd?.(event);
      case 'checkpointSaved':
        return this.onCheckpointSaved?.(event);
      case 'fitEnd':
        return this.onFitEnd?.(event);
    }
  }
}
