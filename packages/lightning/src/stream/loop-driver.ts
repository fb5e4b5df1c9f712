import { ValueError } from '@flint/api';
import { Observable, type Subscriber } from 'rxjs';
import type { Json } from '../core/json.js';
import type { CheckpointSavedEvent, TrainerEvent, TrainingControl } from './events.js';

/** What the loop's control needs from the trainer to save checkpoints. */
export interface CheckpointHost {
  readonly defaultCheckpointDir: string;
  /**
   * Captures the state at this boundary synchronously (counters, RNG, the tensors to write) and
   * returns the asynchronous write of it to `path`, which resolves to whether a file was written
   * (runs that write nothing, such as fastDevRun, resolve to false).
   */
  writeCheckpoint(path: string, callbackStates: Readonly<Record<string, Json>>): Promise<boolean>;
  removeCheckpoint(path: string): Promise<void>;
  /** What the checkpoint being resumed from stored for `key`. */
  restoredCallbackState(key: string): Json | undefined;
  /** The counters of the boundary, for the `checkpointSaved` event. */
  position(): { readonly epoch: number; readonly step: number };
}

type EventPayload = TrainerEvent extends infer E ? (E extends TrainerEvent ? Omit<E, 'control'> : never) : never;

const inspect = Symbol.for('nodejs.util.inspect.custom');

/** @internal The TrainingControl of one run. */
class LoopControl implements TrainingControl {
  private stop: string | undefined;
  private pending: Promise<unknown>[] = [];
  private saved: Omit<CheckpointSavedEvent, 'control'>[] = [];
  private readonly states = new Map<string, () => Json>();
  /** @internal Set by the loop once the run's state exists. */
  host: CheckpointHost | undefined;

  private requireHost(what: string): CheckpointHost {
    if (this.host === undefined) throw new ValueError(`TrainingControl.${what}: no training run is in progress at this point`);
    return this.host;
  }

  get stopRequested(): boolean {
    return this.stop !== undefined;
  }

  get stopReason(): string | undefined {
    return this.stop;
  }

  get defaultCheckpointDir(): string {
    return this.requireHost('defaultCheckpointDir').defaultCheckpointDir;
  }

  requestStop(reason: string): void {
    this.stop ??= reason;
  }

  waitFor(work: Promise<unknown>): void {
    // Held until the boundary awaits it; a rejection is reported there, not as unhandled.
    work.catch(() => undefined);
    this.pending.push(work);
  }

  saveCheckpoint(path: string, details: { readonly monitor?: string; readonly score?: number } = {}): Promise<void> {
    const states: Record<string, Json> = {};
    for (const [key, save] of this.states) states[key] = save();
    const host = this.requireHost('saveCheckpoint');
    const { epoch, step } = host.position();
    const write = host.writeCheckpoint(path, states).then((written) => {
      if (written) this.saved.push({ type: 'checkpointSaved', epoch, step, path, ...details });
    });
    this.waitFor(write);
    return write;
  }

  removeCheckpoint(path: string): void {
    this.waitFor(this.requireHost('removeCheckpoint').removeCheckpoint(path));
  }

  registerState(key: string, save: () => Json): Json | undefined {
    this.states.set(key, save);
    return this.host?.restoredCallbackState(key);
  }

  /** @internal Withdraws a stop request (one that must wait for minEpochs), returning its reason. */
  clearStop(): string | undefined {
    const reason = this.stop;
    this.stop = undefined;
    return reason;
  }

  /** @internal Takes the work requested so far. */
  takePending(): Promise<unknown>[] {
    return this.pending.splice(0);
  }

  /** @internal Takes the checkpointSaved events of completed writes. */
  takeSaved(): Omit<CheckpointSavedEvent, 'control'>[] {
    return this.saved.splice(0);
  }

  toJSON(): undefined {
    return undefined;
  }

  [inspect](): string {
    return '[TrainingControl]';
  }
}

/** The loop's side of a training stream: emits events and waits at step boundaries. */
export interface LoopDriver {
  /** Delivers an event to the subscriber (synchronously, through every operator). */
  emit(event: EventPayload): void;
  /**
   * The step boundary: waits for the work the events asked for (checkpoint writes), delivers
   * the resulting `checkpointSaved` events, and says whether the loop should go on: false once
   * the subscriber has unsubscribed or a stop was requested.
   */
  boundary(): Promise<boolean>;
  /** The subscriber has gone: emit nothing more, and stop at the next boundary. */
  readonly cancelled: boolean;
  /** The reason given to `requestStop`, if any. */
  readonly stopReason: string | undefined;
  /** Withdraws a stop request that must not take effect yet (before `minEpochs`). */
  clearStop(): void;
  /** Connects the control's checkpoint calls to the run, once its state exists. */
  attach(host: CheckpointHost): void;
}

class Driver implements LoopDriver {
  readonly control = new LoopControl();

  constructor(private readonly subscriber: Subscriber<TrainerEvent>) {}

  get cancelled(): boolean {
    return this.subscriber.closed;
  }

  get stopReason(): string | undefined {
    return this.control.stopReason;
  }

  clearStop(): void {
    this.control.clearStop();
  }

  attach(host: CheckpointHost): void {
    this.control.host = host;
  }

  emit(event: EventPayload): void {
    if (this.subscriber.closed) return;
    this.subscriber.next({ ...event, control: this.control } as TrainerEvent);
  }

  async boundary(): Promise<boolean> {
    for (;;) {
      const work = this.control.takePending();
      if (work.length === 0) break;
      await Promise.all(work);
      for (const saved of this.control.takeSaved()) this.emit(saved);
    }
    return !this.subscriber.closed && !this.control.stopRequested;
  }
}

/**
 * A cold Observable whose every subscription runs `run` once: the loop emits through the driver
 * and checks `boundary()` between steps, so unsubscribing ends it at the next boundary, after
 * pending checkpoint writes complete. A rejection of `run` is the stream's error.
 * `onSettled` is called when the loop has really finished, whatever the subscriber did.
 */
export function loopObservable(
  run: (driver: LoopDriver) => Promise<void>,
  onSettled?: (outcome: Promise<void>) => void,
): Observable<TrainerEvent> {
  return new Observable<TrainerEvent>((subscriber) => {
    const driver = new Driver(subscriber);
    const outcome = Promise.resolve().then(() => run(driver));
    onSettled?.(outcome);
    outcome.then(
      () => subscriber.complete(),
      (error: unknown) => subscriber.error(error),
    );
  });
}
