import { type MonoTypeOperatorFunction, Observable } from 'rxjs';
import type { TrainerEvent } from './events.js';

/** What an operator does as the stream passes through it. */
export interface EventObserver {
  /** Called for each event before it goes downstream; may return a replacement event. */
  // biome-ignore lint/suspicious/noConfusingVoidType: observers that only watch are declared `(): void`.
  event?(event: TrainerEvent): TrainerEvent | undefined | void;
  /** The stream completed (training ended normally). */
  complete?(): void;
  /** The stream failed. */
  error?(error: unknown): void;
  /** The subscriber left before the stream ended. */
  abort?(): void;
}

/**
 * An operator that watches (and may replace) events, told how the stream ended: completed,
 * failed, or abandoned by its subscriber. `create` runs once per subscription, so each run of a
 * cold training stream gets fresh per-run state.
 */
export function observeEvents(create: () => EventObserver): MonoTypeOperatorFunction<TrainerEvent> {
  return (source) =>
    new Observable<TrainerEvent>((subscriber) => {
      const observer = create();
      let ended = false;
      const subscription = source.subscribe({
        next(event) {
          let out: TrainerEvent = event;
          try {
            out = observer.event?.(event) ?? event;
          } catch (error) {
            ended = true;
            observer.error?.(error);
            subscriber.error(error);
            return;
          }
          subscriber.next(out);
        },
        error(error) {
          ended = true;
          observer.error?.(error);
          subscriber.error(error);
        },
        complete() {
          ended = true;
          observer.complete?.();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        if (!ended) observer.abort?.();
      };
    });
}
