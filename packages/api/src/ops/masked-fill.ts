import { DTypeError, ShapeError } from '../core/errors.js';
import { broadcastShapes, formatShape, shapesEqual } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { where } from './elementwise.js';

/**
 * `x` with `value` where `mask` is true (torch.masked_fill). `mask` is a bool tensor that
 * broadcasts to `x`'s shape; `value` is a number, boolean or tensor that does too (PyTorch takes
 * a number or a 0-dim tensor). The result has `x`'s shape and dtype: `value` is cast to it, as
 * `astype` casts. The gradient reaches `x` only where it is kept (zero where filled), and a
 * tensor `value` the sum over the filled positions.
 *
 * @example
 * maskedFill(tensor([1, 2, 3]), tensor([true, false, true]), 0);          // [0, 2, 0]
 * maskedFill(scores, causalMask(4), Number.NEGATIVE_INFINITY);            // attention masking
 */
export function maskedFill(x: TensorLike, mask: TensorLike, value: TensorLike): Tensor {
  const op = 'maskedFill';
  const t = toTensor(op, x);
  return tidy(() => {
    const m = toTensor(op, mask, undefined, t);
    if (m.dtype !== 'bool') {
      throw new DTypeError(
        `${op}: the mask must be a bool tensor, got ${m.dtype}; compare to make one, e.g. x.equal(0), or cast with mask.astype('bool')`,
      );
    }
    const fill = cast(toTensor(op, value, undefined, t), t.dtype);
    const shape = broadcastShapes(op, t.shape, m.shape, fill.shape);
    if (!shapesEqual(shape, t.shape)) {
      throw new ShapeError(
        `${op}: the mask (shape ${formatShape(m.shape)}) and the value (shape ${formatShape(fill.shape)}) must broadcast to the input's shape ${formatShape(t.shape)}, not widen it to ${formatShape(shape)}`,
      );
    }
    return where(m, broadcastTo(fill, shape), t);
  });
}
