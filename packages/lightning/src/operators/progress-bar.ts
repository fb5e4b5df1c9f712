import type { MonoTypeOperatorFunction } from 'rxjs';
import { ProgressBar, type ProgressBarOptions } from '../callbacks/progress-bar.js';
import type { TrainerEvent } from '../stream/events.js';

/**
 * Draws a terminal progress bar from the stream (epoch, step, loss, it/s, time left); quiet when
 * the output is not a terminal.
 *
 * @example
 * trainer.fit$(model, data).pipe(progressBar()).subscribe();
 */
export function progressBar(options: ProgressBarOptions = {}): MonoTypeOperatorFunction<TrainerEvent> {
  return new ProgressBar(options).operator();
}
