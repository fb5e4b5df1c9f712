import type { MonoTypeOperatorFunction } from 'rxjs';
import { EarlyStopping, type EarlyStoppingOptions } from '../callbacks/early-stopping.js';
import type { TrainerEvent } from '../stream/events.js';

/**
 * Stops the training loop when a monitored metric stops improving (the operator form of
 * `EarlyStopping`). It asks the producer to stop at the step boundary, so the stream still ends
 * with `fitEnd` (reason 'stopRequested') and pending checkpoints are complete.
 *
 * @example
 * trainer.fit$(model, data).pipe(earlyStopping({ monitor: 'val_loss', patience: 3 })).subscribe();
 */
export function earlyStopping(options: EarlyStoppingOptions): MonoTypeOperatorFunction<TrainerEvent> {
  return new EarlyStopping(options).operator();
}
