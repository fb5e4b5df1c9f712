import type { Aval, ParamsOf, Primitive } from '@flint/api';
import { asDataGradient, asFilterGradient, operandOf } from '@flint/api/strided-backend';
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
    const conv = Int32Array.from([
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

/** The convolution through cuDNN's backward filter or data pass when it is one of autodiff's gradients (null otherwise, or when cuDNN declines). */
function backwardPass(context: CudaContext, x: CudaHandle, w: CudaHandle, params: ParamsOf<Primitive.Conv>, out: Aval): CudaHandle | null {
  const code = DTYPE_CODES[x.dtype];
  const filter = asFilterGradient(x, w, params, out);
  if (filter !== null) {
    // A grouped convolution's x, which autodiff's reshape copied with its groups apart, is packed
    // back into x's layout (a copy of x); otherwise x is read in place.
    const input = context.packed({ ...x, offset: filter.first.offset, shape: filter.first.shape, strides: filter.first.strides });
    let id: number | null;
    try {
      id = context.addon.convBackwardFilter(
        code,
        input.handle.storage.id,
        layoutOf(operandOf(filter, input.handle)),
        w.storage.id,
        layoutOf(filter.dy),
        Int32Array.from(filter.geometry),
      );
    } finally {
      if (input.temporary) context.release(input.handle.storage);
    }
    if (id === null) return null;
    // cuDNN writes dw [K, C / groups, ...]; the convolution's output is its view [C / groups, K, ...].
    const dw = context.adopt(id, [out.shape[1] as number, out.shape[0] as number, ...out.shape.slice(2)], out.dtype);
    return { ...dw, shape: out.shape, strides: [dw.strides[1] as number, dw.strides[0] as number, ...dw.strides.slice(2)] };
  }
  const data = asDataGradient(x, w, params, out);
  if (data === null) return null;
  // cuDNN reads dy and the filter dense: a broadcast or strided cotangent is packed first, and so
  // is a filter autodiff's reshape copied with its channels regrouped (a grouped convolution).
  const dy = context.packed(x);
  let packedFilter: { handle: CudaHandle; temporary: boolean } | null = null;
  try {
    packedFilter = context.packed({ ...w, offset: data.first.offset, shape: data.first.shape, strides: data.first.strides });
    const id = context.addon.convBackwardData(
      code,
      packedFilter.handle.storage.id,
      layoutOf(operandOf(data, packedFilter.handle)),
      dy.handle.storage.id,
      layoutOf(dy.handle),
      Int32Array.from(data.geometry),
    );
    return id === null ? null : context.adopt(id, out.shape, out.dtype);
  } finally {
    if (dy.temporary) context.release(dy.handle.storage);
    if (packedFilter?.temporary) context.release(packedFilter.handle.storage);
  }
}
