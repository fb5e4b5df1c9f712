import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcast, moveAxis, reshape } from './lax.js';
import type { ParamsOf, Primitive } from './primitive.js';
import type { BatchRule } from './rule.js';

// Helpers shared by the batching rules. Most rules move the batch axis to the front and shift
// their axis parameters by one; unbatched operands that must match a batched one are broadcast
// (a view, not a copy, on backends that support views).

/** `x` with its batch on axis 0; an unbatched `x` is broadcast to the batch. */
export function batchToFront(x: Tensor, dim: number | null, axisSize: number): Tensor {
  if (dim === null) return broadcast(reshape(x, [1, ...x.shape]), [axisSize, ...x.shape]);
  return moveAxis(x, dim, 0);
}

export function allToFront(values: readonly Tensor[], dims: readonly (number | null)[], axisSize: number): Tensor[] {
  return values.map((x, i) => batchToFront(x, dims[i] ?? null, axisSize));
}

/** The batched operand's value with its batch on axis 0 (for single-input primitives). */
export function onlyToFront(values: readonly Tensor[], dims: readonly (number | null)[], axisSize: number): Tensor {
  return batchToFront(values[0] as Tensor, dims[0] ?? null, axisSize);
}

/** Elementwise primitives: operands on one batch axis, computed as they are. */
export function elementwiseBatch<P extends Primitive>(primitive: P): BatchRule<P> {
  return (values, dims, params, axisSize) => {
    const first = dims[0] ?? null;
    if (first !== null && dims.every((d) => d === first)) return [bind(primitive, values, params), first];
    return [bind(primitive, allToFront(values, dims, axisSize), params), 0];
  };
}

/** Single-input primitives whose params do not mention axes (unary math, cast). */
export function passThroughBatch<P extends Primitive>(primitive: P): BatchRule<P> {
  return (values, dims, params) => [bind(primitive, values, params), dims[0] ?? null];
}

/** Single-input primitives: batch moved to the front, params adjusted by `shift`. */
export function frontBatch<P extends Primitive>(primitive: P, shift: (params: ParamsOf<P>, x: Tensor) => ParamsOf<P>): BatchRule<P> {
  return (values, dims, params, axisSize) => {
    const x = onlyToFront(values, dims, axisSize);
    return [bind(primitive, [x], shift(params, x)), 0];
  };
}

/** Rule for primitives without inputs, which vmap never batches. */
export function unreachableBatch(name: string): BatchRule<Primitive> {
  return () => {
    throw new Error(`flint internal error: ${name} has no inputs and cannot be batched`);
  };
}
