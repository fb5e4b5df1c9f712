import type { Tensor } from '../tensor/tensor.js';
import { conv, dotGeneral, moveAxis, reshape, transpose } from './lax.js';
import type { ParamsOf, Primitive } from './primitive.js';

// Batching rules of dotGeneral and conv: the vmapped axis becomes a batch dimension of the
// contraction, or is folded into the convolution's batch, channels or groups.

const shift = (axes: readonly number[]): number[] => axes.map((a) => a + 1);

export function dotGeneralBatch(
  values: readonly Tensor[],
  dims: readonly (number | null)[],
  params: ParamsOf<Primitive.DotGeneral>,
): readonly [Tensor, number | null] {
  const [lhs, rhs] = values as [Tensor, Tensor];
  const [lhsDim, rhsDim] = [dims[0] ?? null, dims[1] ?? null];
  const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
  if (lhsDim !== null && rhsDim !== null) {
    const out = dotGeneral(moveAxis(lhs, lhsDim, 0), moveAxis(rhs, rhsDim, 0), {
      lhsContracting: shift(lhsContracting),
      rhsContracting: shift(rhsContracting),
      lhsBatch: [0, ...shift(lhsBatch)],
      rhsBatch: [0, ...shift(rhsBatch)],
    });
    return [out, 0];
  }
  if (lhsDim !== null) {
    // The vmapped axis is lhs's first free axis: it lands right after the batch dims.
    const out = dotGeneral(moveAxis(lhs, lhsDim, 0), rhs, { ...params, lhsContracting: shift(lhsContracting), lhsBatch: shift(lhsBatch) });
    return [out, lhsBatch.length];
  }
  const lhsFree = lhs.shape.length - lhsContracting.length - lhsBatch.length;
  const out = dotGeneral(lhs, moveAxis(rhs, rhsDim as number, 0), {
    ...params,
    rhsContracting: shift(rhsContracting),
    rhsBatch: shift(rhsBatch),
  });
  return [out, lhsBatch.length + lhsFree];
}

export function convBatch(
  values: readonly Tensor[],
  dims: readonly (number | null)[],
  params: ParamsOf<Primitive.Conv>,
  axisSize: number,
): readonly [Tensor, number | null] {
  const [x, w] = values as [Tensor, Tensor];
  const [xDim, wDim] = [dims[0] ?? null, dims[1] ?? null];
  const b = axisSize;
  const { groups } = params;
  if (wDim === null) {
    // Fold the batch into N.
    const bx = moveAxis(x, xDim as number, 0);
    const [, n, ...rest] = bx.shape as [number, number, ...number[]];
    const out = conv(reshape(bx, [b * n, ...rest]), w, params);
    return [reshape(out, [b, n, ...out.shape.slice(1)]), 0];
  }
  const bw = moveAxis(w, wDim, 0);
  const [, o, inPerGroup, ...kernel] = bw.shape as [number, number, number, ...number[]];
  const kernelAxes = kernel.map((_, i) => i + 4);
  if (xDim === null) {
    // Fold the batch into the output channels of each group: [G, B, O/G] ordering.
    const grouped = reshape(bw, [b, groups, o / groups, inPerGroup, ...kernel]);
    const folded = reshape(transpose(grouped, [1, 0, 2, 3, ...kernelAxes]), [groups * b * (o / groups), inPerGroup, ...kernel]);
    const out = conv(x, folded, params);
    const [n, , ...spatial] = out.shape as [number, number, ...number[]];
    const split = reshape(out, [n, groups, b, o / groups, ...spatial]);
    const reordered = transpose(split, [0, 2, 1, 3, ...spatial.map((_, i) => i + 4)]);
    return [reshape(reordered, [n, b, o, ...spatial]), 1];
  }
  // Both batched: the batch becomes extra groups; channels ordered [B, G, C/G].
  const bx = moveAxis(x, xDim, 0);
  const [, n, c, ...inSpatial] = bx.shape as [number, number, number, ...number[]];
  const lhs = reshape(moveAxis(bx, 0, 1), [n, b * c, ...inSpatial]);
  const out = conv(lhs, reshape(bw, [b * o, inPerGroup, ...kernel]), { ...params, groups: groups * b });
  return [reshape(out, [n, b, o, ...out.shape.slice(2)]), 1];
}
