import type { Aval, ParamsOf, Primitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Releases the packed copies `grouped` made, whatever happened in between. */
function releaseAll(context: CudaContext, temporaries: readonly (CudaHandle | null)[]): void {
  for (const t of temporaries) if (t !== null) context.release(t.storage);
}

// x is seen as [outer, axis, inner] and the indices as one flat run, each merged in place when
// the strides allow (else packed once), so one kernel serves any rank.

export function gatherKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.Gather>,
  out: Aval,
): CudaHandle {
  const [x, indices] = inputs as [CudaHandle, CudaHandle];
  const { axis } = params;
  const xView = context.grouped(x, [range(0, axis), [axis], range(axis + 1, x.shape.length)]);
  const indexView = context.grouped(indices, [range(0, indices.shape.length)]);
  try {
    const id = context.addon.gather(DTYPE_CODES[x.dtype], xView.id, xView.layout, indexView.id, indexView.layout);
    return context.adopt(id, out.shape, out.dtype);
  } finally {
    releaseAll(context, [xView.temporary, indexView.temporary]);
  }
}

export function scatterAddKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.ScatterAdd>,
  out: Aval,
): CudaHandle {
  const [target, indices, updates] = inputs as [CudaHandle, CudaHandle, CudaHandle];
  const { axis } = params;
  const indexRank = indices.shape.length;
  const targetView = context.grouped(target, [range(0, axis), [axis], range(axis + 1, target.shape.length)]);
  const indexView = context.grouped(indices, [range(0, indexRank)]);
  const updateView = context.grouped(updates, [
    range(0, axis),
    range(axis, axis + indexRank),
    range(axis + indexRank, updates.shape.length),
  ]);
  try {
    const id = context.addon.scatterAdd(
      DTYPE_CODES[target.dtype],
      targetView.id,
      targetView.layout,
      indexView.id,
      indexView.layout,
      updateView.id,
      updateView.layout,
    );
    return context.adopt(id, out.shape, out.dtype);
  } finally {
    releaseAll(context, [targetView.temporary, indexView.temporary, updateView.temporary]);
  }
}
