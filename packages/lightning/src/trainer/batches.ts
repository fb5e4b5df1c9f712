import { cast, DataLoader, dispose, getBackend, isFloating, isTensor, type Tensor, tidy, ValueError } from '@flint/api';
import type { Json } from '../core/json.js';

/**
 * What the Trainer iterates for batches: a Flint `DataLoader`, or any iterable (sync or async)
 * of batches, such as an array. Each iteration is one epoch. `length`, when present, is the
 * number of batches per epoch (needed for fractions in limit options and for the progress bar).
 * Batches from a DataLoader belong to the Trainer, which disposes them after their step; batches
 * from other sources stay with their owner.
 */
export type BatchSource<B = unknown> = (Iterable<B> | AsyncIterable<B>) & { readonly length?: number };

/**
 * Validation or test data: one source, or several (Lightning's list of dataloaders), each run in
 * turn with its index passed to the step as `dataloaderIdx`.
 */
export type BatchSources<B = unknown> = BatchSource<B> | readonly BatchSource<B>[];

function isSourceLike(value: unknown): boolean {
  if (value instanceof DataLoader) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isTensor(value)) return false;
  return (
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Whether `value` is a list of loaders rather than one loader given as an array of batches: a
 * non-empty array whose every item is a DataLoader or another non-array iterable (an array item
 * is a batch, as `[x, y]` is).
 */
export function isSourceList(value: unknown): value is readonly BatchSource[] {
  return Array.isArray(value) && value.length > 0 && value.every(isSourceLike);
}

/** The sources of `value` (one or a list), each checked. */
export function checkSources(owner: string, what: string, value: unknown): BatchSource[] {
  if (isSourceList(value)) return value.map((source, i) => checkSource(owner, `${what} [${i}]`, source));
  return [checkSource(owner, what, value)];
}

/** Batches per epoch, or Infinity when the source does not say. */
export function sourceLength(source: BatchSource): number {
  const n = (source as { length?: unknown }).length;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : Infinity;
}

/** Checks that `value` can be iterated for batches. */
export function checkSource(owner: string, what: string, value: unknown): BatchSource {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
  if (!ok)
    throw new ValueError(`${owner}: ${what} must be a DataLoader or an iterable of batches, got ${value === null ? 'null' : typeof value}`);
  return value as BatchSource;
}

/** Whether the Trainer owns (and disposes) the source's batches. */
export function ownsBatches(source: BatchSource): boolean {
  return source instanceof DataLoader;
}

interface RandomStateful {
  getState(): number[];
  setState(state: readonly number[]): void;
}

function isRandomStateful(value: unknown): value is RandomStateful {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RandomStateful).getState === 'function' &&
    typeof (value as RandomStateful).setState === 'function'
  );
}

/** The random source that orders a loader's samples, when it can save and restore its state. */
function samplerRandom(source: BatchSource): RandomStateful | undefined {
  const s = source as {
    batchSampler?: { sampler?: { generator?: unknown }; generator?: unknown };
    sampler?: { generator?: unknown };
    generator?: unknown;
  };
  for (const candidate of [s.batchSampler?.sampler?.generator, s.batchSampler?.generator, s.sampler?.generator, s.generator]) {
    if (isRandomStateful(candidate)) return candidate;
  }
  return undefined;
}

/** The state of the source's sample order (null when it has none that can be saved). */
export function getSamplerState(source: BatchSource): Json {
  const random = samplerRandom(source);
  return random === undefined ? null : [...random.getState()];
}

/** Restores a state from `getSamplerState`. */
export function setSamplerState(source: BatchSource, state: Json): void {
  const random = samplerRandom(source);
  if (random !== undefined && Array.isArray(state)) random.setState(state as number[]);
}

/** Whether an error means "this dataset must be read asynchronously". */
function needsAsync(error: unknown): boolean {
  return error instanceof ValueError && /asynchronous|for await|Promise/.test(error.message);
}

const ASYNC_ONLY = new WeakSet<object>();

/**
 * One epoch of batches. Synchronous sources are read synchronously (no prefetch machinery on
 * the hot path); a DataLoader over an asynchronous dataset is detected at its first batch and
 * read with `for await` from then on (`restart` puts its sample order back first).
 */
export async function* epochBatches<B>(source: BatchSource<B>, restart: () => void): AsyncGenerator<B, void, undefined> {
  const syncIterable = typeof (source as Iterable<B>)[Symbol.iterator] === 'function';
  const asyncIterable = typeof (source as AsyncIterable<B>)[Symbol.asyncIterator] === 'function';
  if (syncIterable && !ASYNC_ONLY.has(source)) {
    const iterator = (source as Iterable<B>)[Symbol.iterator]();
    let first = true;
    try {
      for (;;) {
        let next: IteratorResult<B>;
        try {
          next = iterator.next();
        } catch (error) {
          if (first && asyncIterable && needsAsync(error)) {
            ASYNC_ONLY.add(source);
            break;
          }
          throw error;
        }
        first = false;
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      iterator.return?.();
    }
    restart();
  }
  yield* source as AsyncIterable<B>;
}

/** The batch's size: the first dimension of its first tensor (1 when it holds none). */
export function inferBatchSize(batch: unknown): number {
  let size: number | undefined;
  const visit = (value: unknown): void => {
    if (size !== undefined || value === null || typeof value !== 'object') return;
    if (isTensor(value)) {
      size = value.shape.length > 0 ? (value.shape[0] as number) : 1;
      return;
    }
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (Object.getPrototypeOf(value) === Object.prototype) for (const item of Object.values(value)) visit(item);
  };
  visit(batch);
  return size ?? 1;
}

/** What a step's batch must be: on the accelerator's backend (when one was chosen), and in float64 for '64-true'. */
export interface BatchTarget {
  /** The backend every tensor of the batch must live on; undefined leaves them where they are ('auto'). */
  readonly backend?: string | undefined;
  readonly float64: boolean;
}

/** The target of a Trainer's accelerator and precision. */
export function batchTarget(accelerator: string, precision: string): BatchTarget {
  return { backend: accelerator === 'auto' ? undefined : accelerator, float64: precision === '64-true' };
}

/**
 * The batch a step sees (Lightning's transfer of batches to the device): tensors on another
 * backend moved to the target's (awaiting the read where their backend reads only
 * asynchronously, as webgpu and cuda do), floating ones cast to float64 for '64-true'. Returns
 * the batch (the same object when nothing changes) and the tensors it made; owned originals that
 * were replaced are released. The caller then disposes the whole batch when it owns it, else only
 * `created`. On failure, what it made is released.
 */
export async function prepareBatch<B>(batch: B, owned: boolean, target: BatchTarget): Promise<{ batch: B; created: Tensor[] }> {
  const originals: Tensor[] = [];
  const created: Tensor[] = [];
  // Moves first (a move off an asynchronous backend is awaited), then the casts.
  const moved = new Map<Tensor, Tensor>();
  const collect = (value: unknown): void => {
    if (isTensor(value)) {
      if (target.backend !== undefined && value.backend !== target.backend) moved.set(value, value);
    } else if (Array.isArray(value)) for (const item of value) collect(item);
    else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      for (const item of Object.values(value)) collect(item);
    }
  };
  collect(batch);
  try {
    for (const t of moved.keys()) {
      const copy = hasSyncRead(t) ? t.to(target.backend as string) : await t.toAsync(target.backend as string);
      moved.set(t, copy);
      created.push(copy);
    }
    let changed = moved.size > 0;
    const mapped = tidy(() => {
      const map = (value: unknown): unknown => {
        if (isTensor(value)) {
          const there = moved.get(value) ?? value;
          if (!(target.float64 && isFloating(there.dtype) && there.dtype !== 'float64')) {
            if (there !== value) originals.push(value);
            return there;
          }
          changed = true;
          const cast64 = cast(there, 'float64');
          originals.push(value);
          created.push(cast64);
          return cast64;
        }
        if (Array.isArray(value)) return value.map(map);
        if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, map(v)]));
        }
        return value;
      };
      return map(batch) as B;
    });
    if (!changed) return { batch, created };
    // A moved copy that was then cast is an intermediate: only the cast reaches the step.
    for (const copy of moved.values()) if (!containsTensor(mapped, copy)) copy.dispose();
    if (owned) dispose([...new Set(originals)]);
    return { batch: mapped, created: created.filter((t) => !t.isDisposed) };
  } catch (error) {
    dispose(created);
    throw error;
  }
}

/** Whether `t`'s backend reads synchronously, so that moving it needs no await. */
function hasSyncRead(t: Tensor): boolean {
  return getBackend(t.backend).readSync !== undefined;
}

/** Whether `tensor` appears in the (nested) batch. */
function containsTensor(value: unknown, tensor: Tensor): boolean {
  if (value === tensor) return true;
  if (Array.isArray(value)) return value.some((item) => containsTensor(item, tensor));
  if (typeof value === 'object' && value !== null && !isTensor(value) && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).some((item) => containsTensor(item, tensor));
  }
  return false;
}
