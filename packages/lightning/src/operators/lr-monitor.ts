import type { MonoTypeOperatorFunction } from 'rxjs';
import { LearningRateMonitor, type LearningRateMonitorOptions } from '../callbacks/learning-rate-monitor.js';
import type { TrainerEvent } from '../stream/events.js';

/**
 * Adds the learning rates to the metrics of each step (or epoch), for a `logTo` downstream.
 *
 * @example
 * trainer.fit$(model, data).pipe(lrMonitor(), logTo(csv)).subscribe();
 */
export function lrMonitor(options: LearningRateMonitorOptions = {}): MonoTypeOperatorFunction<TrainerEvent> {
  return new LearningRateMonitor(options).operator();
}
