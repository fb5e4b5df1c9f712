import type { DType } from '@flint/api';

/**
 * The dtypes the addon hands to cuDNN's convolution and max pooling (native/dnn.cc): float32 and
 * float64, and float16/bfloat16 in cuDNN's pseudo-half configurations (float accumulation). Their
 * operands are packed to contiguous for it when cuDNN is present.
 */
export function cudnnTakes(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}
