import { isFloating, toFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { abs, add, equal, less, lessEqual, logicalAnd, logicalOr, mul, notEqual, sub } from './elementwise.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { all } from './reduce.js';

// Elementwise tests of values (torch.isnan, isinf, isfinite, isclose, allclose): composites of
// comparisons, so every backend has them. Each returns bool, as in PyTorch and NumPy; integer and
// bool tensors hold no NaN or infinity, and get a constant answer without a kernel per element.

/** A bool tensor of `t`'s shape holding `value` everywhere, on `t`'s backend. */
function constantMask(t: Tensor, value: boolean): Tensor {
  return bind(Primitive.Full, [], { shape: [...t.shape], dtype: 'bool', value: value ? 1 : 0 }, backendOf(t));
}

/**
 * Where `x` is NaN, as a bool tensor of its shape (torch.isnan). Integer and bool tensors give
 * all false.
 *
 * @example
 * isnan(tensor([1, NaN, Infinity])); // [false, true, false]
 */
export function isnan(x: TensorLike): Tensor {
  const t = toTensor('isnan', x);
  if (!isFloating(t.dtype)) return constantMask(t, false);
  // NaN is the only value that differs from itself.
  return notEqual(t, t);
}

/**
 * Where `x` is +Infinity or -Infinity, as a bool tensor (torch.isinf). NaN is not infinite;
 * integer and bool tensors give all false.
 *
 * @example
 * isinf(tensor([1, NaN, -Infinity])); // [false, false, true]
 */
export function isinf(x: TensorLike): Tensor {
  const t = toTensor('isinf', x);
  if (!isFloating(t.dtype)) return constantMask(t, false);
  return tidy(() => equal(abs(t), Number.POSITIVE_INFINITY));
}

/**
 * Where `x` is neither NaN nor infinite, as a bool tensor (torch.isfinite). Integer and bool
 * tensors give all true.
 *
 * @example
 * isfinite(tensor([1, NaN, -Infinity])); // [true, false, false]
 */
export function isfinite(x: TensorLike): Tensor {
  const t = toTensor('isfinite', x);
  if (!isFloating(t.dtype)) return constantMask(t, true);
  // |NaN| < inf is false, as is inf < inf.
  return tidy(() => less(abs(t), Number.POSITIVE_INFINITY));
}

/** Options of `isclose` and `allclose` (PyTorch's defaults). */
export interface IsCloseOptions {
  /** Relative tolerance, a multiple of `|b|` (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  readonly atol?: number;
  /** Whether two NaNs count as close (default false). */
  readonly equalNan?: boolean;
}

const IS_CLOSE = optionsSignature<IsCloseOptions>(3, { rtol: true, atol: true, equalNan: true });

function tolerances(op: string, options: IsCloseOptions): { rtol: number; atol: number; equalNan: boolean } {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-8;
  const equalNan = options.equalNan ?? false;
  for (const [name, value] of [
    ['rtol', rtol],
    ['atol', atol],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
      throw new ValueError(`${op}: ${name} must be a non-negative finite number, got ${JSON.stringify(value)}`);
    }
  }
  if (typeof equalNan !== 'boolean') throw new ValueError(`${op}: equalNan must be a boolean, got ${JSON.stringify(equalNan)}`);
  return { rtol, atol, equalNan };
}

function iscloseOf(op: string, a: TensorLike, b: TensorLike, options: IsCloseOptions): Tensor {
  const { rtol, atol, equalNan } = tolerances(op, options);
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  const ta = toTensor(op, a, undefined, like);
  const tb = toTensor(op, b, undefined, like);
  broadcastShapes(op, ta.shape, tb.shape);
  // The tolerance test runs in floating point (integers in float32, as their difference could
  // overflow int32); exact equality in the operands' own dtypes, so equal infinities are close.
  const dtype = toFloating(resultDType(ta, tb));
  const fa = cast(ta, dtype);
  const fb = cast(tb, dtype);
  const error = abs(sub(fa, fb));
  const allowed = add(mul(abs(fb), rtol), atol);
  // As torch.isclose: an infinite difference is never within tolerance, even of an infinite b.
  let close = logicalOr(equal(ta, tb), logicalAnd(less(error, Number.POSITIVE_INFINITY), lessEqual(error, allowed)));
  if (equalNan) close = logicalOr(close, logicalAnd(isnan(fa), isnan(fb)));
  return close;
}

/**
 * Where `a` and `b` are close, as a bool tensor of their broadcast shape (torch.isclose):
 * `a == b`, or `|a - b| <= atol + rtol * |b|` with a finite difference. The test is asymmetric in
 * `b`, as PyTorch's and NumPy's are. NaN is close to nothing unless `equalNan`.
 *
 * @example
 * isclose(tensor([1, 1.1, NaN]), tensor([1 + 1e-7, 1, NaN]));                    // [true, false, false]
 * isclose(tensor([1, 1.1, NaN]), tensor([1, 1, NaN]), { rtol: 0.2, equalNan: true }); // [true, true, true]
 */
export const isclose = withCheckedOptions('isclose', IS_CLOSE, (a: TensorLike, b: TensorLike, options: IsCloseOptions = {}): Tensor => {
  return tidy(() => iscloseOf('isclose', a, b, options));
});

/**
 * Whether every element of `a` is close to `b`'s (see `isclose`), as a JavaScript boolean
 * (torch.allclose). It reads the answer back, so it needs a backend with synchronous reads (cpu,
 * mkl); on an asynchronous one (webgpu, cuda) it throws a ValueError: use
 * `await all(isclose(a, b)).data()` there. Inside `jit`, `grad` or `vmap` the answer is not yet a
 * value, and it throws as `item()` does. Empty operands are close.
 *
 * @example
 * allclose(tensor([1, 2]), tensor([1, 2 + 1e-6])); // true
 */
export const allclose = withCheckedOptions('allclose', IS_CLOSE, (a: TensorLike, b: TensorLike, options: IsCloseOptions = {}): boolean => {
  const op = 'allclose';
  const verdict = tidy(() => all(iscloseOf(op, a, b, options)));
  try {
    // The operands' backend, or the default one for JavaScript values.
    const backend = backendOf(verdict);
    if (backend !== undefined && backend.readSync === undefined) {
      throw new ValueError(
        `${op}: backend '${backend.name}' reads asynchronously, so allclose cannot return a boolean; use \`(await all(isclose(a, b)).data())[0] === 1\``,
      );
    }
    return verdict.item() as boolean;
  } finally {
    verdict.dispose();
  }
});
