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
        this.onFitStart?.(event);
        return;
      case 'epochStart':
        this.onTrainEpochStart?.(event);
        return;
      case 'batchEnd':
        this.onTrainBatchEnd?.(event);
        return;
      case 'validationEnd':
        this.onValidationEnd?.(event);
        return;
      case 'epochEnd':
        this.onTrainEpochEnd?.(event);
        return;
      case 'checkpointSaved':
        this.onCheckpointSaved?.(event);
        return;
      case 'fitEnd':
        this.onFitEnd?.(event);
        return;
    }
  }
}
