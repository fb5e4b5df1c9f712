import { isFloating, isHalf, toFloating } from '../core/dtype.js';
import { ShapeError } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { fullLike } from './creation.js';
import { add, equal, exp, log, maximum, minimum, sub, where } from './elementwise.js';
import { concat, narrow } from './movement.js';
import { isfinite } from './predicates.js';

// Inclusive scans with an associative combine that has no primitive of its own (torch.cummax,
// cummin, logcumsumexp), as a Hillis-Steele scan: log2(n) passes, each combining every element
// with the one `s` places earlier (s = 1, 2, 4, ...), the shifted-in places holding the combine's
// identity. The windows combined in a pass are disjoint, so ties between two paths to the same
// element cannot arise; only equal elements tie.

type Combine = (later: Tensor, earlier: Tensor) => Tensor;

function scan(op: string, x: TensorLike, axis: number, identity: number | null, combine: Combine, cast_: (t: Tensor) => Tensor): Tensor {
  const t = toTensor(op, x);
  if (typeof axis !== 'number') throw new ShapeError(`${op}: an axis is required (a single integer), got ${JSON.stringify(axis)}`);
  const a = normalizeAxis(op, axis, Math.max(t.ndim, 1));
  if (t.ndim === 0) return tidy(() => cast_(t));
  const n = t.shape[a] as number;
  return tidy(() => {
    let y = cast_(t);
    for (let s = 1; s < n; s *= 2) {
      // An idempotent combine (max, min) needs no identity: the first s places combine with
      // themselves, which also works for integer dtypes that hold no infinity.
      const head = narrow(y, a, 0, s);
      const filler = identity === null ? head : fullLike(head, identity);
      const shifted = concat([filler, narrow(y, a, 0, n - s)], a);
      y = combine(y, shifted);
    }
    return y;
  });
}

/**
 * The running maximum along `axis` (torch.cummax's values), in the input's dtype; NaN propagates.
 * The gradient goes to the element each running maximum came from (split evenly among equal
 * elements; torch picks the last).
 *
 * @example
 * cummax(tensor([1, 3, 2, 5]), 0); // [1, 3, 3, 5]
 */
export function cummax(x: TensorLike, axis: number): Tensor {
  return scan('cummax', x, axis, null, maximum, (t) => t);
}

/**
 * The running minimum along `axis` (torch.cummin's values); see `cummax`.
 *
 * @example
 * cummin(tensor([4, 3, 5, 1]), 0); // [4, 3, 3, 1]
 */
export function cummin(x: TensorLike, axis: number): Tensor {
  return scan('cummin', x, axis, null, minimum, (t) => t);
}

/**
 * `log(cumsum(exp(x)))` along `axis` without overflow or underflow (torch.logcumsumexp): each
 * pass combines with a log-add-exp shifted by the larger operand. Integers compute in float32,
 * float16 and bfloat16 in float32 rounded once. -Infinity is the empty sum.
 *
 * @example
 * logcumsumexp(tensor([0, 0, Math.log(2)]), 0); // [0, log 2, log 4]
 */
export function logcumsumexp(x: TensorLike, axis: number): Tensor {
  const t = toTensor('logcumsumexp', x);
  const compute = isHalf(t.dtype) || !isFloating(t.dtype) ? 'float32' : toFloating(t.dtype);
  const result = scan('logcumsumexp', t, axis, Number.NEGATIVE_INFINITY, logAddExp, (v) => cast(v, compute));
  return isHalf(t.dtype) ? tidy(() => cast(result, t.dtype)) : result;
}

/**
 * `log(exp(a) + exp(b))` as `m + log(exp(a - m) + exp(b - m))` with m = max(a, b): the gradient
 * of m cancels, so ties need no care. Where m is not finite (both -Infinity, either +Infinity, or
 * NaN) the answer is a where b is -Infinity and m otherwise, and the finite branch sees zeros so its gradient stays finite.
 */
function logAddExp(a: Tensor, b: Tensor): Tensor {
  const m = maximum(a, b);
  const finite = isfinite(m);
  const mSafe = where(finite, m, 0);
  const aSafe = sub(where(finite, a, 0), mSafe);
  const bSafe = sub(where(finite, b, 0), mSafe);
  // Not finite: a when b is -Infinity (log(exp(a) + 0), so the gradient reaches a whole), else m.
  return where(finite, add(mSafe, log(add(exp(aSafe), exp(bSafe)))), where(equal(b, Number.NEGATIVE_INFINITY), a, m));
}
