import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';

// Threefry-2x32-20 on the device, bit for bit the stream of packages/backend-cpu/src/kernels/random.ts:
// block j encrypts the counter (j, 0); RandomBits takes words in order; uniform float32 element i is
// (word i >>> 8) * 2^-24, float64 element i is built from words 2i and 2i + 1.

export function randomBitsKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  _params: ParamsOf<Primitive.RandomBits>,
  out: Aval,
): CudaHandle {
  const key = inputs[0] as CudaHandle;
  return context.adopt(context.addon.randomBits(key.storage.id, layoutOf(key), sizeOf(out.shape)), out.shape, out.dtype);
}

export function randomUniformKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.RandomUniform>,
  out: Aval,
): CudaHandle {
  const key = inputs[0] as CudaHandle;
  const id = context.addon.randomUniform(DTYPE_CODES[params.dtype], key.storage.id, layoutOf(key), sizeOf(out.shape));
  return context.adopt(id, out.shape, out.dtype);
}
