import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, copyBetween, copyStrided, view, wrap } from '../view.js';

// Reshape (when the strides allow), Transpose, Broadcast, Slice and Flip return views of their
// input's storage; Pad and Concat copy.

/**
 * Strides that let `newShape` view the same elements as (`shape`, `strides`) in row-major order,
 * or null when no view can (NumPy's no-copy reshape: each group of old dims that merges into or
 * splits from new dims must itself be contiguous).
 */
export function reshapeStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  if (sizeOf(shape) === 0) return contiguousStrides(newShape);
  const oldDims: number[] = [];
  const oldStrides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) {
      oldDims.push(shape[i]!);
      oldStrides.push(strides[i]!);
    }
  }
  const out = new Array<number>(newShape.length).fill(1);
  let oi = 0;
  let ni = 0;
  while (ni < newShape.length && oi < oldDims.length) {
    let nj = ni + 1;
    let oj = oi + 1;
    let newProduct = newShape[ni]!;
    let oldProduct = oldDims[oi]!;
    while (newProduct !== oldProduct) {
      if (newProduct < oldProduct) newProduct *= newShape[nj++]!;
      else oldProduct *= oldDims[oj++]!;
    }
    for (let k = oi; k < oj - 1; k++) if (oldStrides[k] !== oldDims[k + 1]! * oldStrides[k + 1]!) return null;
    out[nj - 1] = oldStrides[oj - 1]!;
    for (let k = nj - 1; k > ni; k--) out[k - 1] = out[k]! * newShape[k]!;
    ni = nj;
    oi = oj;
  }
  return out;
}

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
