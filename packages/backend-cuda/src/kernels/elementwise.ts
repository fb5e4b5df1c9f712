import type { Aval, BinaryPrimitive, ParamsOf, Primitive, UnaryPrimitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf, view } from '../handle.js';
import { BINARY_CODES, DTYPE_CODES, UNARY_CODES } from '../native/codes.js';

// Elementwise primitives run one native kernel each, reading their operands through their strides
// (broadcasts, transposes and slices are never packed first).

export function unaryKernel(op: UnaryPrimitive) {
  const code = UNARY_CODES[op];
  return (context: CudaContext, inputs: readonly CudaHandle[], out: Aval): CudaHandle => {
    const x = inputs[0] as CudaHandle;
    return context.adopt(context.addon.unary(code, DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x)), out.shape, out.dtype);
  };
}

export function binaryKernel(op: BinaryPrimitive) {
  const code = BINARY_CODES[op];
  return (context: CudaContext, inputs: readonly CudaHandle[], out: Aval): CudaHandle => {
    const a = inputs[0] as CudaHandle;
    const b = inputs[1] as CudaHandle;
    const id = context.addon.binary(code, DTYPE_CODES[a.dtype], a.storage.id, layoutOf(a), b.storage.id, layoutOf(b));
    return context.adopt(id, out.shape, out.dtype);
  };
}

export function whereKernel(context: CudaContext, inputs: readonly CudaHandle[], out: Aval): CudaHandle {
  const [condition, x, y] = inputs as [CudaHandle, CudaHandle, CudaHandle];
  const id = context.addon.where(
    DTYPE_CODES[x.dtype],
    condition.storage.id,
    layoutOf(condition),
    x.storage.id,
    layoutOf(x),
    y.storage.id,
    layoutOf(y),
  );
  return context.adopt(id, out.shape, out.dtype);
}

export function castKernel(context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Cast>, out: Aval): CudaHandle {
  const x = inputs[0] as CudaHandle;
  // A cast to the same dtype changes nothing: share the buffer.
  if (params.dtype === x.dtype) return view(x, x.shape, x.strides, x.offset);
  const id = context.addon.cast(DTYPE_CODES[x.dtype], DTYPE_CODES[params.dtype], x.storage.id, layoutOf(x));
  return context.adopt(id, out.shape, out.dtype);
}
