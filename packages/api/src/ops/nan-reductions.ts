import { isFloating, isHalf, toFloating } from '../core/dtype.js';
import { normalizeAxes } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { div, logicalNot, where } from './elementwise.js';
import { isnan } from './predicates.js';
import { type ReductionAxes, sum } from './reduce.js';

// Reductions that skip NaN (torch.nansum, torch.nanmean). NaN is replaced by a `where`, not by
// multiplying with a mask: the gradient at a NaN position is then exactly zero (where sends it a
// zero cotangent), where `NaN * 0` would make it NaN.

/** Checks `axis` before any kernel runs, so that a bad axis names the op the user called. */
function checkAxes(op: string, t: Tensor, axis: ReductionAxes | undefined): void {
  // A 0-dim tensor takes axis 0 or -1, as sum does.
  if (axis !== undefined && axis !== null) normalizeAxes(op, axis, Math.max(t.ndim, 1));
}

/**
 * `sum` treating NaN as zero (torch.nansum): the sum of an all-NaN slice is 0. Dtypes as `sum`
 * (integers hold no NaN and sum as usual). The gradient is 1 at every non-NaN element, 0 at NaN.
 *
 * @example
 * nansum(tensor([1, NaN, 2]));             // 3
 * nansum(tensor([[1, NaN], [NaN, NaN]]), 1); // [1, 0]
 */
export function nansum(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  const t = toTensor('nansum', x);
  checkAxes('nansum', t, axis);
  if (!isFloating(t.dtype)) return sum(t, axis, keepdims);
  return tidy(() => sum(where(isnan(t), 0, t), axis, keepdims));
}

/**
 * `mean` over the non-NaN elements (torch.nanmean): an all-NaN or empty slice gives NaN. Integer
 * and bool tensors compute in float32, as `mean` does; float16 and bfloat16 accumulate in
 * float32 and round once.
 *
 * @example
 * nanmean(tensor([1, NaN, 2]));               // 1.5
 * nanmean(tensor([[1, NaN], [NaN, NaN]]), 1); // [1, NaN]
 */
export function nanmean(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  const t = toTensor('nanmean', x);
  checkAxes('nanmean', t, axis);
  return tidy(() => {
    const floating = cast(t, isHalf(t.dtype) ? 'float32' : toFloating(t.dtype));
    const missing = isnan(floating);
    const total = sum(where(missing, 0, floating), axis, keepdims);
    const count = cast(sum(logicalNot(missing), axis, keepdims), floating.dtype);
    // 0 / 0 gives the NaN that the mean of nothing should be.
    const result = div(total, count);
    return isHalf(t.dtype) ? cast(result, t.dtype) : result;
  });
}
