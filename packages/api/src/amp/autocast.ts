import type { Backend } from '../backend/spi.js';
import { type DType, type HalfDType, isHalf } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { cast } from '../ops/broadcast.js';
import type { Primitive } from '../primitives/primitive.js';
import { setInputHook } from '../tensor/dispatch.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { CAST_FLOAT32, CAST_LOWER, FLOAT32_OPS, policyTable } from './policy.js';

/** Options of `autocast` (torch.autocast's, without the device: tensors compute where they live). */
export interface AutocastOptions {
  /** The lower-precision dtype matmuls and convolutions run in (default 'float16'). */
  readonly dtype?: HalfDType;
  /** False runs `fn` without autocast, also inside an enclosing autocast region (default true). */
  readonly enabled?: boolean;
}

interface AutocastState {
  readonly dtype: HalfDType;
}

const POLICY = policyTable();
const FLOAT32_OP_NAMES: ReadonlySet<string> = new Set(FLOAT32_OPS);
let state: AutocastState | null = null;

function isEligibleForLower(dtype: DType, target: HalfDType): boolean {
  // As in PyTorch, float64 inputs are left alone: only float32 (and the other half type) is cast down.
  return dtype === 'float32' || (isHalf(dtype) && dtype !== target);
}

function autocastInputs(primitive: Primitive, inputs: readonly Tensor[]): readonly Tensor[] {
  const policy = POLICY[primitive];
  const current = state;
  if (policy === 0 || current === null) return inputs;
  let out: Tensor[] | undefined;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as Tensor;
    const dtype = input.dtype;
    if (policy === CAST_LOWER ? isEligibleForLower(dtype, current.dtype) : policy === CAST_FLOAT32 && isHalf(dtype)) {
      if (policy === CAST_LOWER) checkHalfSupport(input, current.dtype);
      out ??= [...inputs];
      out[i] = cast(input, policy === CAST_LOWER ? current.dtype : 'float32');
    }
  }
  return out ?? inputs;
}

/**
 * Half support is checked on the backend each cast input lives on, not the default one: a model
 * may sit on a backend with half kernels while the default has none (and the other way round).
 */
function checkHalfSupport(input: Tensor, dtype: HalfDType): void {
  const backend: Backend | undefined = backendOf(input);
  if (backend === undefined || backend.capabilities.dtypes.includes(dtype)) return;
  throw new DTypeError(
    `autocast: backend '${backend.name}' does not support ${dtype} (it supports ${backend.capabilities.dtypes.join(', ')}); move the model and data to a backend that does, or train in float32`,
  );
}

function resolve(op: string, options: AutocastOptions): AutocastState | null {
  if (typeof options !== 'object' || options === null)
    throw new ValueError(`${op}: options must be an object such as { dtype: 'bfloat16' }`);
  const { dtype = 'float16', enabled = true, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new ValueError(`${op}: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; expected { dtype, enabled }`);
  if (typeof enabled !== 'boolean') throw new ValueError(`${op}: enabled must be a boolean, got ${JSON.stringify(enabled)}`);
  if (dtype !== 'float16' && dtype !== 'bfloat16')
    throw new DTypeError(`${op}: dtype must be 'float16' or 'bfloat16', got ${JSON.stringify(dtype)}`);
  if (!enabled) return null;
  return { dtype };
}

function enter(next: AutocastState | null): AutocastState | null {
  const previous = state;
  state = next;
  setInputHook(next === null ? null : autocastInputs);
  return previous;
}

/**
 * Runs `fn` under automatic mixed precision (torch.autocast): matmuls, dots, einsums, linear
 * layers and convolutions cast their float32 inputs to `dtype` and compute in it; numerically
 * sensitive primitives (exp, log, pow, sums and products) cast half inputs up to float32, and the
 * ops of `FLOAT32_OPS` (the norms, softmax, logSoftmax and the losses) run whole in float32;
 * everything else follows type promotion. The
 * casts are recorded like any op, so gradients flow through them: float32 parameters get
 * float32 gradients. Run the forward pass and the loss inside, `backward()` after.
 *
 * `fn` runs synchronously; a promise it returns settles outside the region. The autocast dtype is
 * part of `jit`'s cache key, so a jitted function called inside and outside autocast compiles
 * once for each.
 *
 * @example
 * const loss = amp.autocast({ dtype: 'bfloat16' }, () => nn.functional.crossEntropy(model.forward(x), y));
 * loss.backward(); // gradients of the float32 parameters, in float32
 */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  const previous = enter(resolve('autocast', options));
  try {
    return fn();
  } finally {
    enter(previous);
  }
}

/** An autocast region that ends when disposed: the `using` form of `autocast`. */
export interface AutocastScope {
  /** Ends the region, restoring the autocast state that was active when it began. */
  [Symbol.dispose](): void;
  dispose(): void;
}

/**
 * Begins an autocast region that ends when the returned scope is disposed (`using`), for code
 * that reads better without a callback.
 *
 * @example
 * {
 *   using _ = amp.autocastScope({ dtype: 'float16' });
 *   loss = lossFn(model.forward(x), y);
 * }
 * loss.backward();
 */
export function autocastScope(options: AutocastOptions = {}): AutocastScope {
  const previous = enter(resolve('autocastScope', options));
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    enter(previous);
  };
  return { dispose: end, [Symbol.dispose]: end };
}

/** Whether an autocast region is active. */
export function isAutocastEnabled(): boolean {
  return state !== null;
}

/** The active region's lower-precision dtype, or null outside autocast. */
export function autocastDtype(): HalfDType | null {
  return state?.dtype ?? null;
}

/**
 * Runs the op `op` whole in float32 when autocast is on and `op` is in `FLOAT32_OPS` (PyTorch's
 * float32 list): its float16 and bfloat16 tensor inputs are cast up, and autocast's down-casts
 * are suspended while `fn` runs, so every intermediate stays in float32 and so does the result.
 * Other inputs (numbers, arrays, float32 and float64 tensors) pass through. Outside autocast, or
 * for an op not on the list, `fn` gets the inputs unchanged.
 *
 * @example
 * export function mseLoss(input: TensorLike, target: TensorLike): Tensor {
 *   return runInFloat32('mseLoss', [input, target], (x, y) => mean(square(sub(x, y))));
 * }
 */
export function runInFloat32<const A extends readonly unknown[], T>(op: string, inputs: A, fn: (...inputs: A) => T): T {
  if (state === null || !FLOAT32_OP_NAMES.has(op)) return fn(...inputs);
  const widened = inputs.map((v) => (isTensor(v) && isHalf(v.dtype) ? cast(v, 'float32') : v)) as unknown as A;
  const previous = enter(null);
  try {
    return fn(...widened);
  } finally {
    enter(previous);
  }
}
