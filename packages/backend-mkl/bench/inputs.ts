// Deterministic inputs for the profiling scripts in this folder.
import * as api from '@flint/api';

/** A float32 tensor of `shape` filled with sin(0.37 i): smooth, signed, no two rows alike. */
export function sineTensor(shape: readonly number[]): api.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37);
  return api.tensor(data, { shape: [...shape] });
}
