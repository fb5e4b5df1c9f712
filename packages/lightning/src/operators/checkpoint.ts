import type { MonoTypeOperatorFunction } from 'rxjs';
import { ModelCheckpoint, type ModelCheckpointOptions } from '../callbacks/model-checkpoint.js';
import type { TrainerEvent } from '../stream/events.js';

/**
 * Saves checkpoints as the stream passes (the operator form of `ModelCheckpoint`): the loop waits
 * at the step boundary until each write is complete, and a `checkpointSaved` event follows it.
 *
 * @example
 * trainer.fit$(model, data).pipe(
 *   checkpoint({ dirpath: 'ckpt', monitor: 'val_loss', mode: 'min', saveTopK: 2, saveLast: true }),
 * ).subscribe();
 */
export function checkpoint(options: ModelCheckpointOptions = {}): MonoTypeOperatorFunction<TrainerEvent> {
  return new ModelCheckpoint(options).operator();
}
