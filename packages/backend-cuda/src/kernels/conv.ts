import type { Aval, ParamsOf, Primitive } from '@flint/api';
import {
  asDataGradient,
  asFilterGradient,
  type BackwardConvolution,
  filterPassOutput,
  filterPassShape,
  int32ArgumentOf,
  operandOf,
} from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES, Engine } from '../native/codes.js';
import { cudnnTakes } from './cudnn-dtypes.js';

/**
 * N-d convolution: cuDNN for the float types with 2 or 3 spatial dims, symmetric padding and no
 * input dilation when it is present (operands packed to contiguous for it), else the addon's
 * direct kernel, which takes any view and every configuration of the primitive. Autodiff's
 * gradient convolutions go to cuDNN's backward passes where they are recognised
 * (the api's strided-backend/conv-gradients.ts).
 */
export function convKernel(engine: () => Engine, cudnnPresent: () => boolean) {
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): CudaHandle => {
    let [x, w] = inputs as [CudaHandle, CudaHandle];
    const vendor = engine() !== Engine.kernel && cudnnPresent() && cudnnTakes(x.dtype);
    const gradient = vendor ? backwardPass(context, x, w, params, out) : null;
    if (gradient !== null) return gradient;
    const temporaries: CudaHandle[] = [];
    if (vendor) {
      const px = context.packed(x);
      const pw = context.packed(w);
      if (px.temporary) temporaries.push(px.handle);
      if (pw.temporary) temporaries.push(pw.handle);
      x = px.handle;
      w = pw.handle;
    }
    const conv = int32ArgumentOf([
      params.groups,
      ...params.strides,
      ...params.padding.map((p) => p[0]),
      ...params.padding.map((p) => p[1]),
      ...params.lhsDilation,
      ...params.rhsDilation,
    ]);
    try {
      const id = context.addon.conv(DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), w.storage.id, layoutOf(w), conv, engine());
      return context.adopt(id, out.shape, out.dtype);
    } finally {
      for (const t of temporaries) context.release(t.storage);
    }
  };
}

/**
 * Runs `call` on a backward pass's first operand as cuDNN reads it, dense: `of`'s memory seen
 * through `pass.first`, packed when it is not contiguous (autodiff's reshapes copied a grouped
 * operand with its groups apart), the copy released afterwards.
 */
function withFirstOperand<T>(
  context: CudaContext,
  pass: BackwardConvolution,
  of: CudaHandle,
  call: (handle: CudaHandle, layout: Int32Array) => T,
): T {
  const first = context.packed({ ...of, offset: pass.first.offset, shape: pass.first.shape, strides: pass.first.strides });
  try {
    return call(first.handle, layoutOf(operandOf(pass, first.handle)));
  } finally {
    if (first.temporary) context.release(first.handle.storage);
  }
}

/** The convolution through cuDNN's backward filter or data pass when it is one of autodiff's gradients (null otherwise, or when cuDNN declines). */
function backwardPass(context: CudaContext, x: CudaHandle, w: CudaHandle, params: ParamsOf<Primitive.Conv>, out: Aval): CudaHandle | null {
  const code = DTYPE_CODES[x.dtype];
  const filter = asFilterGradient(x, w, params, out);
  if (filter !== null) {
    const id = withFirstOperand(context, filter, x, (input, layout) =>
      context.addon.convBackwardFilter(code, input.storage.id, layout, w.storage.id, layoutOf(filter.dy), int32ArgumentOf(filter.geometry)),
    );
    return id === null ? null : filterPassOutput(context.adopt(id, filterPassShape(out), out.dtype));
  }
  const data = asDataGradient(x, w, params, out);
  if (data === null) return null;
  // cuDNN reads dy dense too: a broadcast or strided cotangent is packed first.
  const dy = context.packed(x);
  try {
    const id = withFirstOperand(context, data, w, (filterHandle, layout) =>
      context.addon.convBackwardData(
        code,
        filterHandle.storage.id,
        layout,
        dy.handle.storage.id,
        layoutOf(dy.handle),
        int32ArgumentOf(data.geometry),
      ),
    );
    return id === null ? null : context.adopt(id, out.shape, out.dtype);
  } finally {
    if (dy.temporary) context.release(dy.handle.storage);
  }
}
