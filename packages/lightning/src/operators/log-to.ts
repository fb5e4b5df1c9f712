import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Logger } from '../loggers/logger.js';
import type { TrainerEvent } from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';

/**
 * Sends the stream's metrics to loggers, as Lightning's Trainer does: hyperparameters at
 * `fitStart`; step metrics on `batchEnd` every `logEveryNSteps`; validation metrics at each
 * `validationEnd` (not the sanity check); epoch metrics at `epochEnd` (then `save()`); under
 * '16-mixed', `skipped_steps` and `grad_scale` whenever the GradScaler skips a step; and
 * `finalize` with 'success', 'failed' or 'aborted' (when the subscriber leaves early). Every row
 * has an `epoch` column.
 *
 * @example
 * trainer.fit$(model, data).pipe(logTo(new CSVLogger({ saveDir: 'runs' }))).subscribe();
 */
export function logTo(...loggers: (Logger | readonly Logger[])[]): MonoTypeOperatorFunction<TrainerEvent> {
  const targets = loggers.flat() as Logger[];
  const log = (metrics: Readonly<Record<string, number>>, epoch: number, step: number) => {
    if (Object.keys(metrics).length === 0) return;
    for (const logger of targets) logger.logMetrics({ ...metrics, epoch }, step);
  };
  return observeEvents(() => ({
    event: (event) => {
      switch (event.type) {
        case 'fitStart':
          for (const logger of targets) logger.logHyperparams(event.hparams);
          break;
        case 'batchEnd':
          if (event.shouldLog) log(event.metrics, event.epoch, event.step);
          // '16-mixed': a step the GradScaler skipped is always recorded, with the reduced scale.
          if (event.optimizerSkipped)
            log(
              { skipped_steps: event.skippedSteps, ...(event.gradScale === null ? {} : { grad_scale: event.gradScale }) },
              event.epoch,
              event.step,
            );
          break;
        case 'validationEnd':
          if (!event.sanityCheck) log(event.metrics, event.epoch, event.step);
          break;
        case 'epochEnd':
          log(event.metrics, event.epoch, event.step);
          for (const logger of targets) logger.save?.();
          break;
      }
    },
    complete: () => {
      for (const logger of targets) logger.finalize?.('success');
    },
    error: () => {
      for (const logger of targets) logger.finalize?.('failed');
    },
    abort: () => {
      for (const logger of targets) logger.finalize?.('aborted');
    },
  }));
}
