import type { MonoTypeOperatorFunction } from 'rxjs';
import { Subject } from 'rxjs';
import type { Json } from '../core/json.js';
import type { Metrics, TrainerEvent, TrainingControl } from '../stream/events.js';

/** A TrainingControl that records what operators ask of it. */
export class RecordingControl implements TrainingControl {
  readonly saved: { path: string; monitor?: string; score?: number; states: Record<string, Json> }[] = [];
  readonly removed: string[] = [];
  stopReason: string | undefined;
  readonly states = new Map<string, () => Json>();
  constructor(
    readonly defaultCheckpointDir = '/ckpt',
    private readonly restored: Record<string, Json> = {},
  ) {}
  get stopRequested() {
    return this.stopReason !== undefined;
  }
  requestStop(reason: string) {
    this.stopReason ??= reason;
  }
  waitFor() {}
  saveCheckpoint(path: string, details: { monitor?: string; score?: number } = {}) {
    const states: Record<string, Json> = {};
    for (const [k, f] of this.states) states[k] = f();
    this.saved.push({ path, ...details, states });
    return Promise.resolve();
  }
  removeCheckpoint(path: string) {
    this.removed.push(path);
  }
  registerState(key: string, save: () => Json) {
    this.states.set(key, save);
    return this.restored[key];
  }
}

/** Feeds events through an operator, collecting what comes out. */
export function drive(operator: MonoTypeOperatorFunction<TrainerEvent>) {
  const input = new Subject<TrainerEvent>();
  const output: TrainerEvent[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const subscription = input
    .pipe(operator)
    .subscribe({ next: (e) => output.push(e), error: (e) => errors.push(e), complete: () => (completed = true) });
  return { input, output, errors, subscription, isCompleted: () => completed };
}

export const events = {
  fitStart: (control: TrainingControl, valBatches = 2, trainBatches = 4): TrainerEvent => ({
    type: 'fitStart',
    control,
    epoch: 0,
    step: 0,
    maxEpochs: 3,
    maxSteps: -1,
    trainBatches,
    valBatches,
    resumedFrom: null,
    hparams: { lr: 0.1 },
  }),
  batchEnd: (control: TrainingControl, step: number, metrics: Metrics = {}, extra: Partial<Record<string, unknown>> = {}): TrainerEvent =>
    ({
      type: 'batchEnd',
      control,
      epoch: 0,
      step,
      batchIdx: step - 1,
      loss: 1 / step,
      metrics,
      progressBarMetrics: {},
      learningRates: { 'lr-SGD': 0.1 },
      batchSize: 8,
      samplesPerSecond: 100,
      optimizerStepped: true,
      optimizerSkipped: false,
      skippedSteps: 0,
      gradScale: null,
      shouldLog: true,
      ...extra,
    }) as TrainerEvent,
  validationEnd: (control: TrainingControl, epoch: number, step: number, metrics: Metrics, sanityCheck = false): TrainerEvent => ({
    type: 'validationEnd',
    control,
    epoch,
    step,
    metrics,
    progressBarMetrics: {},
    callbackMetrics: metrics,
    batches: 2,
    dataloaders: [{ metrics, callbackMetrics: metrics, batches: 2 }],
    sanityCheck,
  }),
  epochEnd: (control: TrainingControl, epoch: number, step: number, metrics: Metrics = {}): TrainerEvent => ({
    type: 'epochEnd',
    control,
    epoch,
    step,
    metrics,
    progressBarMetrics: {},
    callbackMetrics: metrics,
    learningRates: { 'lr-SGD': 0.05 },
  }),
};
