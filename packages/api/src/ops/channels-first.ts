import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape, type Shape, shapesEqual } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';

// PyTorch's channels-first layout ([N, C, ...spatial]) shared by convolution and pooling, which
// also accept an unbatched input ([C, ...spatial]).

const SPATIAL_AXES = ['', 'W', 'H, W', 'D, H, W'];

/** Adds a batch axis to an unbatched input ([C, ...spatial]); returns whether it did. */
export function batched(op: string, x: Tensor, n: number): [Tensor, boolean] {
  if (x.shape.length === n + 2) return [x, false];
  if (x.shape.length === n + 1) return [reshapeTo(x, [1, ...x.shape]), true];
  throw new ShapeError(`${op}: input must be [N, C, ${SPATIAL_AXES[n]}] (or unbatched, without N), got shape ${formatShape(x.shape)}`);
}

/** Removes the batch axis `batched` added. */
export function unbatch(x: Tensor, wasUnbatched: boolean): Tensor {
  return wasUnbatched ? reshapeTo(x, x.shape.slice(1)) : x;
}

function reshapeTo(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : bind(Primitive.Reshape, [x], { shape: [...shape] });
}

/**
 * Expands a per-dimension argument (kernel size, stride, padding, dilation) to `n` integers of at
 * least `minimum` (0 or 1); `fallback` fills it when undefined.
 */
export function spatialArgument(
  op: string,
  what: string,
  value: number | readonly number[] | undefined,
  n: number,
  fallback: number,
  minimum: number,
): number[] {
  const list =
    value === undefined ? new Array<number>(n).fill(fallback) : typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (list.length !== n) throw new ValueError(`${op}: ${what} must be one integer or ${n}, got ${JSON.stringify(value)}`);
  for (const v of list) {
    if (!Number.isInteger(v) || v < minimum) {
      throw new ValueError(`${op}: ${what} must be ${minimum === 0 ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(value)}`);
    }
  }
  return list;
}
