import { type Aval, type DType, Primitive } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { mapKernel } from './elementwise.js';

// float16 on WebGPU: each element is one u32 word holding the 16-bit pattern, so movement kernels
// (which move words) serve it unchanged. Arithmetic widens float16 operands to float32, runs the
// float32 kernel, and rounds the result back to float16: every op rounds once, to nearest-even,
// as on the CPU backend. The conversions work on the bits (wgsl/math.ts, halfF), exactly.

type AnyKernel = (inputs: readonly WebGpuHandle[], params: unknown, out: Aval) => WebGpuHandle;

/** Primitives that move or fill whole words: float16 needs no conversion there. */
const WORD_MOVING = new Set<Primitive>([
  Primitive.Reshape,
  Primitive.Transpose,
  Primitive.Broadcast,
  Primitive.Slice,
  Primitive.Flip,
  Primitive.Pad,
  Primitive.Concat,
  Primitive.Gather,
  Primitive.Where,
  Primitive.Full,
]);

const HALF = ['halfF'];

/** A float16 view's values as a new contiguous float32 tensor. */
export function widenHalf(context: WebGpuContext, x: WebGpuHandle): WebGpuHandle {
  return mapKernel(context, 'float16 to float32', [x], ['u32'], { shape: x.shape, dtype: 'float32' }, 'f32', {
    code: 'halfToFloat(a & 0xffffu)',
    helpers: HALF,
  });
}

/**
 * A float32 view's values rounded to float16 (to nearest-even, or toward zero for uniform samples,
 * which must stay below 1, as on the CPU), as a new contiguous float16 tensor.
 */
export function narrowHalf(context: WebGpuContext, x: WebGpuHandle, towardZero = false): WebGpuHandle {
  return mapKernel(context, 'float32 to float16', [x], ['f32'], { shape: x.shape, dtype: 'float16' }, 'u32', {
    code: towardZero ? 'floatToHalfTowardZero(a)' : 'floatToHalf(a)',
    helpers: HALF,
  });
}

const isHalfParams = (params: unknown): boolean =>
  typeof params === 'object' && params !== null && (params as { dtype?: DType }).dtype === 'float16';

/** `kernel` taking and returning float16 through float32 (unchanged for word-moving primitives). */
export function withFloat16(context: WebGpuContext, primitive: Primitive, kernel: AnyKernel): AnyKernel {
  if (WORD_MOVING.has(primitive)) return kernel;
  return (inputs, params, out) => {
    const halfOutput = out.dtype === 'float16';
    const halfParams = isHalfParams(params);
    if (!halfOutput && !halfParams && !inputs.some((h) => h.dtype === 'float16')) return kernel(inputs, params, out);
    const temporaries: WebGpuHandle[] = [];
    const widened = inputs.map((h) => {
      if (h.dtype !== 'float16') return h;
      const wide = widenHalf(context, h);
      temporaries.push(wide);
      return wide;
    });
    let result: WebGpuHandle;
    try {
      result = kernel(
        widened,
        halfParams ? { ...(params as object), dtype: 'float32' } : params,
        halfOutput ? { shape: out.shape, dtype: 'float32' } : out,
      );
    } finally {
      for (const t of temporaries) context.release(t.storage);
    }
    if (!halfOutput) return result;
    const narrowed = narrowHalf(context, result, primitive === Primitive.RandomUniform);
    context.release(result.storage);
    return narrowed;
  };
}
