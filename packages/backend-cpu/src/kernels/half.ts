import { type Aval, type DType, decodeHalf, encodeHalf, type HalfDType, isHalf, type KernelTable, Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized, recycle } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';

// float16 and bfloat16 on the CPU, the way PyTorch's CPU computes most half ops: every input is
// widened to float32, the float32 kernel runs (so reductions, matmul and conv accumulate in
// float32), and each result is rounded once to the half dtype when stored. One adapter around
// the kernel table instead of a half variant of every kernel.

type AnyKernel = (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle;

// Primitives that only move or pick elements: they run on the 16-bit storage itself, so views of
// half tensors stay views and copies move bit patterns unchanged.
const BIT_EXACT = new Set<Primitive>([
  Primitive.Reshape,
  Primitive.Transpose,
  Primitive.Broadcast,
  Primitive.Slice,
  Primitive.Flip,
  Primitive.Concat,
  Primitive.Gather,
]);

// Primitives whose params name a dtype (the output's): the float32 kernel must produce float32.
const DTYPE_PARAM = new Set<Primitive>([Primitive.Cast, Primitive.Iota, Primitive.Full, Primitive.RandomUniform]);

function involvesHalf(inputs: readonly CpuHandle[], out: Aval): boolean {
  if (isHalf(out.dtype)) return true;
  for (let i = 0; i < inputs.length; i++) if (isHalf((inputs[i] as CpuHandle).dtype)) return true;
  return false;
}

/** Drops a temporary handle's reference without the backend's ledger (it never saw it). */
function releaseTemporary(h: CpuHandle): void {
  h.storage.life.refs--;
  if (h.storage.life.refs === 0) recycle(h.storage.data);
}

/**
 * A float32 handle with the values of half handle `h`. Where the view covers its whole storage
 * or more (a broadcast), the storage is decoded as is and the view's strides kept; otherwise
 * only the view's elements are copied out and decoded.
 */
function widen(h: CpuHandle, dtype: HalfDType): CpuHandle {
  const size = sizeOf(h.shape);
  const storageBits = h.storage.data as Uint16Array;
  if (size >= storageBits.length) {
    const values = decodeHalf(dtype, storageBits, allocateUninitialized('float32', storageBits.length) as Float32Array);
    return { ...wrap(values, h.shape, 'float32'), strides: h.strides, offset: h.offset };
  }
  const bits = contiguousData(h) as Uint16Array;
  return wrap(decodeHalf(dtype, bits, allocateUninitialized('float32', size) as Float32Array), h.shape, 'float32');
}

/** The half-dtype handle holding `h`'s float32 values rounded to `dtype`. */
function narrow(h: CpuHandle, dtype: HalfDType, roundDown: boolean): CpuHandle {
  const values = contiguousData(h) as Float32Array;
  const bits = encodeHalf(dtype, values, allocateUninitialized(dtype, values.length) as Uint16Array);
  if (roundDown) {
    // Uniform samples in [0, 1) must stay below 1: round toward zero instead of to nearest.
    const back = decodeHalf(dtype, bits);
    for (let i = 0; i < bits.length; i++) if ((back[i] as number) > (values[i] as number)) bits[i] = (bits[i] as number) - 1;
  }
  return wrap(bits, h.shape, dtype);
}

function float32Params(params: unknown): unknown {
  const dtype = (params as { dtype: DType }).dtype;
  return isHalf(dtype) ? { ...(params as object), dtype: 'float32' } : params;
}

/** `kernel` extended to half dtypes: widened to float32, computed, rounded once on store. */
function halfAdapter(primitive: Primitive, kernel: AnyKernel): AnyKernel {
  const mapsParams = DTYPE_PARAM.has(primitive);
  const roundDown = primitive === Primitive.RandomUniform;
  return (inputs, params, out) => {
    if (!involvesHalf(inputs, out)) return kernel(inputs, params, out);
    const wide = inputs.map((h) => (isHalf(h.dtype) ? widen(h, h.dtype) : h));
    const outDType = out.dtype;
    const result = kernel(
      wide,
      mapsParams ? float32Params(params) : params,
      isHalf(outDType) ? { shape: out.shape, dtype: 'float32' } : out,
    );
    for (let i = 0; i < wide.length; i++) if (wide[i] !== inputs[i]) releaseTemporary(wide[i] as CpuHandle);
    if (!isHalf(outDType)) return result;
    const narrowed = narrow(result, outDType, roundDown);
    releaseTemporary(result);
    return narrowed;
  };
}

/** The kernel table with float16 and bfloat16 support added to every primitive. */
export function withHalfDTypes(table: KernelTable<CpuHandle>): KernelTable<CpuHandle> {
  const out: Record<number, AnyKernel> = {};
  for (const key of Object.keys(table)) {
    const primitive = Number(key) as Primitive;
    const kernel = table[primitive] as AnyKernel;
    out[primitive] = BIT_EXACT.has(primitive) ? kernel : halfAdapter(primitive, kernel);
  }
  return out as unknown as KernelTable<CpuHandle>;
}
