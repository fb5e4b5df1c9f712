import { type Aval, contiguousStrides, type ParamsOf, type Primitive, reshapeStrides, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, copyBetween, copyStrided, view, wrap } from '../view.js';

// Reshape (when the strides allow), Transpose, Broadcast, Slice and Flip return views of their
// input's storage; Pad and Concat copy.

export function reshapeKernel(inputs: readonly CpuHandle[], _params: ParamsOf<Primitive.Reshape>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const strides = reshapeStrides(x.shape, x.strides, out.shape);
  if (strides !== null) return view(x, out.shape, strides, x.offset);
  const data = allocateUninitialized(out.dtype, sizeOf(out.shape));
  copyStrided(x.storage.data, x.offset, x.shape, x.strides, data, 0);
  return wrap(data, out.shape, out.dtype);
}

export function transposeKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Transpose>): CpuHandle {
  const x = inputs[0]!;
  return view(
    x,
    params.perm.map((p) => x.shape[p]!),
    params.perm.map((p) => x.strides[p]!),
    x.offset,
  );
}

export function broadcastKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Broadcast>): CpuHandle {
  const x = inputs[0]!;
  const shape = params.shape;
  const lead = shape.length - x.shape.length;
  const strides = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < x.shape.length; i++) strides[lead + i] = x.shape[i] === shape[lead + i] ? x.strides[i]! : 0;
  return view(x, shape, strides, x.offset);
}

export function sliceKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Slice>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  let offset = x.offset;
  const strides = x.strides.map((s, i) => {
    offset += params.starts[i]! * s;
    return s * params.steps[i]!;
  });
  return view(x, out.shape, strides, offset);
}

export function flipKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Flip>): CpuHandle {
  const x = inputs[0]!;
  let offset = x.offset;
  const strides = [...x.strides];
  for (const axis of params.axes) {
    const dim = x.shape[axis]!;
    if (dim === 0) continue;
    offset += (dim - 1) * strides[axis]!;
    strides[axis] = -strides[axis]!;
  }
  return view(x, x.shape, strides, offset);
}

export function padKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Pad>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  const fill = out.dtype === 'bool' ? (params.value !== 0 ? 1 : 0) : params.value;
  result.fill(fill);
  const outStrides = contiguousStrides(out.shape);
  let offset = 0;
  for (let i = 0; i < outStrides.length; i++) offset += params.widths[i]![0] * outStrides[i]!;
  copyBetween(x.storage.data, x.offset, x.strides, result, offset, outStrides, x.shape);
  return wrap(result, out.shape, out.dtype);
}

export function concatKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Concat>, out: Aval): CpuHandle {
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  const outStrides = contiguousStrides(out.shape);
  let offset = 0;
  for (const x of inputs) {
    copyBetween(x.storage.data, x.offset, x.strides, result, offset, outStrides, x.shape);
    offset += x.shape[params.axis]! * outStrides[params.axis]!;
  }
  return wrap(result, out.shape, out.dtype);
}
