// Deterministic inputs for the profiling scripts in this folder.
import * as api from '@flint/api';

/** A float32 tensor of `shape` filled with sin(0.37 i): smooth, signed, no two rows alike. */
export function sineTensor(shape: readonly number[]): api.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37);
  return api.tensor(data, { shape: [...shape] });
}

/**
 * Pseudo-random floats in [-scale, scale) from one linear congruential sequence per script, as
 * the bench's own runners draw them: a script that draws in the same order gets the same values.
 */
export function seededValues(): (count: number, scale?: number) => Float32Array {
  let state = 1;
  return (count, scale = 1) => {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      values[i] = ((state / 2147483648) * 2 - 1) * scale;
    }
    return values;
  };
}
