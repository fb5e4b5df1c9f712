import * as E from 'fp-ts/lib/Either.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RNEA from 'fp-ts/lib/ReadonlyNonEmptyArray.js';
import type { Json } from '../core/json.js';

/** The format tag of Flint Lightning checkpoints, in the safetensors metadata. */
export const CHECKPOINT_FORMAT = 'flint-lightning-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Where the training loop stood when the checkpoint was written. */
export interface LoopState {
  /** The epoch in progress (or the next one, when `batchesDone` is 0). */
  readonly epoch: number;
  /** Training batches of `epoch` already consumed. */
  readonly batchesDone: number;
  /** Optimizer steps taken. */
  readonly globalStep: number;
  /** Training batches seen since the last validation check (for valCheckInterval as a count). */
  readonly batchesSinceValidation: number;
  /** The training data order's random state at the start of `epoch`, when the loader exposes it. */
  readonly samplerState: Json;
  /** The checkpoint was taken after a batch whose validation check has not run yet. */
  readonly validationPending?: boolean;
  /** The accumulators of metrics logged onEpoch in the unfinished epoch. */
  readonly trainAccumulators: Json;
  /** Lightning's callbackMetrics. */
  readonly callbackMetrics: Readonly<Record<string, number>>;
  /** '16-mixed': optimizer steps the GradScaler skipped so far (absent in older checkpoints). */
  readonly skippedSteps?: number;
}

/**
 * Everything of a checkpoint that is not a tensor, stored as JSON in the safetensors metadata.
 * Tensors in optimizer states are written as `{ "$tensor": "<name>" }` references.
 */
export interface CheckpointState {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly epoch: number;
  readonly globalStep: number;
  readonly loop: LoopState;
  readonly optimizerStates: readonly Json[];
  readonly lrSchedulers: readonly Json[];
  /** Flint's global generator ({ seed, counter }) at the boundary. */
  readonly rng: Json;
  readonly callbacks: Readonly<Record<string, Json>>;
  readonly datamodule: Json;
  readonly hyperParameters: Readonly<Record<string, Json>>;
  /** What the module's `onSaveCheckpoint` added. */
  readonly extra: Readonly<Record<string, Json>>;
  /** '16-mixed': the GradScaler's state (scale, growth settings and tracker), so a resumed run scales identically; null otherwise. */
  readonly gradScaler?: Json;
}

type Problems = RNEA.ReadonlyNonEmptyArray<string>;
type Checked<T> = E.Either<Problems, T>;
const validation = E.getApplicativeValidation(RNEA.getSemigroup<string>());
const fail = <T>(problem: string): Checked<T> => E.left([problem]);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function count(where: string, value: unknown): Checked<number> {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
    ? E.right(value)
    : fail(`${where} is ${JSON.stringify(value)}, not a non-negative integer`);
}

function record(where: string, value: unknown): Checked<Record<string, unknown>> {
  return isRecord(value) ? E.right(value) : fail(`${where} is ${JSON.stringify(value)}, not an object`);
}

function list(where: string, value: unknown): Checked<readonly unknown[]> {
  return Array.isArray(value) ? E.right(value) : fail(`${where} is ${JSON.stringify(value)}, not a list`);
}

function numbers(where: string, value: unknown): Checked<Record<string, number>> {
  if (!isRecord(value)) return fail(`${where} is not an object`);
  const bad = Object.entries(value).filter(([, v]) => typeof v !== 'number');
  return bad.length === 0 ? E.right(value as Record<string, number>) : fail(`${where}.${(bad[0] as [string, unknown])[0]} is not a number`);
}

function checkLoop(value: unknown): Checked<LoopState> {
  if (!isRecord(value)) return fail('loop is not an object');
  return E.map(() => value as unknown as LoopState)(
    RA.sequence(validation)([
      count('loop.epoch', value.epoch),
      count('loop.batchesDone', value.batchesDone),
      count('loop.globalStep', value.globalStep),
      count('loop.batchesSinceValidation', value.batchesSinceValidation),
      E.map(() => 0)(record('loop.trainAccumulators', value.trainAccumulators)),
      E.map(() => 0)(numbers('loop.callbackMetrics', value.callbackMetrics)),
    ]),
  );
}

/**
 * Validates the JSON state of a checkpoint, collecting every problem (each with its place in the
 * state) before failing.
 */
export function validateCheckpointState(value: unknown): Checked<CheckpointState> {
  if (!isRecord(value)) return fail('the trainer state is not an object');
  if (value.format !== CHECKPOINT_FORMAT) return fail(`the format is ${JSON.stringify(value.format)}, not '${CHECKPOINT_FORMAT}'`);
  if (typeof value.version !== 'number' || value.version > CHECKPOINT_VERSION) {
    return fail(`the checkpoint's version ${JSON.stringify(value.version)} is newer than this library reads (${CHECKPOINT_VERSION})`);
  }
  const checks: Checked<unknown>[] = [
    count('epoch', value.epoch),
    count('globalStep', value.globalStep),
    checkLoop(value.loop),
    list('optimizerStates', value.optimizerStates),
    list('lrSchedulers', value.lrSchedulers),
    record('callbacks', value.callbacks),
    record('hyperParameters', value.hyperParameters),
    record('extra', value.extra),
  ];
  return E.map(() => value as unknown as CheckpointState)(RA.sequence(validation)(checks));
}
