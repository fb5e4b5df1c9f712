import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, wrap } from '../view.js';

export function iotaKernel(_inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Iota>, out: Aval): CpuHandle {
  const total = sizeOf(out.shape);
  const result = allocateUninitialized(out.dtype, total);
  const length = out.shape[params.axis]!;
  const inner = sizeOf(out.shape.slice(params.axis + 1));
  for (let p = 0; p < total; ) {
    for (let i = 0; i < length; i++) {
      for (let j = 0; j < inner; j++) result[p++] = i;
    }
  }
  return wrap(result, out.shape, out.dtype);
}

export function fullKernel(_inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Full>, out: Aval): CpuHandle {
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  // A store converts like a cast (truncation for integers); bool needs `!= 0` explicitly.
  const value = out.dtype === 'bool' ? (params.value !== 0 ? 1 : 0) : params.value;
  result.fill(value);
  return wrap(result, out.shape, out.dtype);
}
