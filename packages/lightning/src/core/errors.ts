import { FlintError } from '@flint/api';

/**
 * An error thrown by user code (a training, validation or test step, a hook, a data loader)
 * while the Trainer ran it. It names where it happened, so that the stream's error says which
 * step and which batch to look at; the original error is its `cause`.
 */
export class TrainingStepError extends FlintError {
  override name = 'TrainingStepError';
  /** 'train', 'validate', 'test', 'predict' or 'sanityCheck'. */
  readonly stage: string;
  /** What was running: 'trainingStep', 'backward', 'optimizerStep', 'onTrainEpochEnd', ... */
  readonly phase: string;
  readonly epoch: number;
  /** The global optimizer step the failing batch would have completed. */
  readonly step: number;
  /** The index of the batch in its epoch; -1 when no batch was involved (an epoch hook). */
  readonly batchIdx: number;

  constructor(where: { stage: string; phase: string; epoch: number; step: number; batchIdx: number }, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const batch = where.batchIdx >= 0 ? `, batch ${where.batchIdx}` : '';
    super(`${where.stage}: ${where.phase} failed at epoch ${where.epoch}, step ${where.step}${batch}: ${detail}`, { cause });
    this.stage = where.stage;
    this.phase = where.phase;
    this.epoch = where.epoch;
    this.step = where.step;
    this.batchIdx = where.batchIdx;
  }
}

/** A checkpoint that cannot be read: a missing file, a foreign format, or state that does not fit. */
export class CheckpointError extends FlintError {
  override name = 'CheckpointError';
}
