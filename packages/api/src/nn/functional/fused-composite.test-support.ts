import {
  type Aval,
  type Backend,
  type CompositeKernels,
  type NormalizationCotangents,
  registerBackend,
  type Tensor,
  type TypedArray,
  tensor,
  tidy,
} from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { expect } from 'vitest';

// Test support for the dispatch of composites to a backend's composite kernels: a test backend,
// 'cpu-fused', whose kernels are JavaScript references over the portable backend's handles, and
// 'cpu-broken', whose layer norm backward kernel breaks the SPI's contract. The tests compare it
// with 'cpu', which has no composite kernels, and count the calls that reach the kernels.

export type Handle = Parameters<CpuBackend['dispose']>[0];

/** How many times each reference kernel ran, and how many calls they declined. */
export const calls = {
  softmax: 0,
  softmaxBackward: 0,
  layerNorm: 0,
  layerNormBackward: 0,
  batchNorm: 0,
  batchNormBackward: 0,
  batchNormInference: 0,
  declined: 0,
};

/** Row-major strides of `shape`; the index of element `flat`'s coordinate along `axis` is (flat / stride) % size. */
function rowsAlong(shape: readonly number[], axis: number): { size: number; stride: number; count: number } {
  const size = shape[axis] as number;
  const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { size, stride, count: shape.reduce((a, b) => a * b, 1) / size };
}

/** Calls `visit` with the flat indices of each slice along `axis`. */
function forEachSlice(shape: readonly number[], axis: number, visit: (indices: number[]) => void): void {
  const { size, stride, count } = rowsAlong(shape, axis);
  for (let row = 0; row < count; row++) {
    const base = Math.floor(row / stride) * stride * size + (row % stride);
    visit(Array.from({ length: size }, (_, i) => base + i * stride));
  }
}

export function referenceKernels(cpu: CpuBackend): CompositeKernels<Handle> {
  const read = (h: Handle) => Float64Array.from(cpu.readSync(h) as ArrayLike<number>);
  const make = (values: Float64Array, out: Aval) => cpu.fromTypedArray(Float32Array.from(values) as TypedArray, out.shape, 'float32');
  const declines = (...dtypes: string[]) => {
    const decline = dtypes.some((d) => d !== 'float32');
    if (decline) calls.declined++;
    return decline;
  };
  return {
    softmax(x, axis, log, out) {
      if (declines(x.dtype)) return null;
      calls.softmax++;
      const v = read(x);
      const y = new Float64Array(v.length);
      forEachSlice(x.shape, axis, (indices) => {
        const peak = Math.max(...indices.map((i) => v[i] as number));
        const total = indices.reduce((a, i) => a + Math.exp((v[i] as number) - peak), 0);
        for (const i of indices) y[i] = log ? (v[i] as number) - peak - Math.log(total) : Math.exp((v[i] as number) - peak) / total;
      });
      return make(y, out);
    },
    softmaxBackward(yHandle, gHandle, axis, log, out) {
      if (declines(yHandle.dtype, gHandle.dtype)) return null;
      calls.softmaxBackward++;
      const y = read(yHandle);
      const g = read(gHandle);
      const result = new Float64Array(y.length);
      forEachSlice(yHandle.shape, axis, (indices) => {
        const total = indices.reduce((a, i) => a + (g[i] as number) * (log ? 1 : (y[i] as number)), 0);
        for (const i of indices) {
          result[i] = log ? (g[i] as number) - Math.exp(y[i] as number) * total : (y[i] as number) * ((g[i] as number) - total);
        }
      });
      return make(result, out);
    },
    layerNorm(x, weight, bias, normalizedDims, eps, out) {
      if (declines(x.dtype, ...[weight, bias].flatMap((h) => (h === null ? [] : [h.dtype])))) return null;
      calls.layerNorm++;
      const v = read(x);
      const w = weight === null ? null : read(weight);
      const b = bias === null ? null : read(bias);
      const length = x.shape.slice(x.shape.length - normalizedDims).reduce((p, d) => p * d, 1);
      const y = new Float64Array(v.length);
      for (let start = 0; start < v.length; start += length) {
        const row = v.subarray(start, start + length);
        const mean = row.reduce((a, c) => a + c, 0) / length;
        const r = 1 / Math.sqrt(row.reduce((a, c) => a + (c - mean) ** 2, 0) / length + eps);
        row.forEach((c, i) => {
          y[start + i] = (c - mean) * r * (w === null ? 1 : (w[i] as number)) + (b === null ? 0 : (b[i] as number));
        });
      }
      return make(y, out);
    },
    layerNormBackward(x, weight, gHandle, normalizedDims, eps, withBias, out): NormalizationCotangents<Handle> | null {
      if (declines(x.dtype, gHandle.dtype)) return null;
      calls.layerNormBackward++;
      const v = read(x);
      const g = read(gHandle);
      const w = weight === null ? null : read(weight);
      const vectorShape = x.shape.slice(x.shape.length - normalizedDims);
      const length = vectorShape.reduce((p, d) => p * d, 1);
      const dx = new Float64Array(v.length);
      const dw = new Float64Array(length);
      const db = new Float64Array(length);
      for (let start = 0; start < v.length; start += length) {
        const row = v.subarray(start, start + length);
        const mean = row.reduce((a, c) => a + c, 0) / length;
        const r = 1 / Math.sqrt(row.reduce((a, c) => a + (c - mean) ** 2, 0) / length + eps);
        const normalized = Array.from(row, (c) => (c - mean) * r);
        const h = normalized.map((_, i) => (g[start + i] as number) * (w === null ? 1 : (w[i] as number)));
        const hMean = h.reduce((a, c) => a + c, 0) / length;
        const projection = h.reduce((a, c, i) => a + c * (normalized[i] as number), 0) / length;
        h.forEach((c, i) => {
          dx[start + i] = r * (c - hMean - (normalized[i] as number) * projection);
          dw[i] = (dw[i] as number) + (g[start + i] as number) * (normalized[i] as number);
          db[i] = (db[i] as number) + (g[start + i] as number);
        });
      }
      const vector = { shape: vectorShape, dtype: out.dtype };
      return { input: make(dx, out), weight: weight === null ? null : make(dw, vector), bias: withBias ? make(db, vector) : null };
    },
    batchNorm(x, weight, bias, eps, out) {
      if (declines(x.dtype, ...[weight, bias].flatMap((h) => (h === null ? [] : [h.dtype])))) return null;
      calls.batchNorm++;
      const v = read(x);
      const w = weight === null ? null : read(weight);
      const b = bias === null ? null : read(bias);
      const { mean, variance } = channelMoments(v, x.shape);
      const y = new Float64Array(v.length);
      forEachChannel(x.shape, (c, i) => {
        const r = 1 / Math.sqrt((variance[c] as number) + eps);
        y[i] = ((v[i] as number) - (mean[c] as number)) * r * (w === null ? 1 : (w[c] as number)) + (b === null ? 0 : (b[c] as number));
      });
      const vector = { shape: [x.shape[1] as number], dtype: out.dtype };
      return { output: make(y, out), mean: make(mean, vector), variance: make(variance, vector) };
    },
    batchNormInference(x, meanHandle, varianceHandle, weight, bias, eps, out) {
      const given = [meanHandle, varianceHandle, weight, bias].flatMap((h) => (h === null ? [] : [h.dtype]));
      if (declines(x.dtype, ...given)) return null;
      calls.batchNormInference++;
      const v = read(x);
      const [mean, variance] = [read(meanHandle), read(varianceHandle)];
      const w = weight === null ? null : read(weight);
      const b = bias === null ? null : read(bias);
      const y = new Float64Array(v.length);
      forEachChannel(x.shape, (c, i) => {
        const r = 1 / Math.sqrt((variance[c] as number) + eps);
        y[i] = ((v[i] as number) - (mean[c] as number)) * r * (w === null ? 1 : (w[c] as number)) + (b === null ? 0 : (b[c] as number));
      });
      return make(y, out);
    },
    batchNormBackward(x, meanHandle, varianceHandle, weight, gHandle, eps, withBias, out): NormalizationCotangents<Handle> | null {
      if (declines(x.dtype, gHandle.dtype, meanHandle.dtype, varianceHandle.dtype)) return null;
      calls.batchNormBackward++;
      const v = read(x);
      const g = read(gHandle);
      const mean = read(meanHandle);
      const variance = read(varianceHandle);
      const w = weight === null ? null : read(weight);
      const channels = x.shape[1] as number;
      const count = v.length / channels;
      const r = Array.from(variance, (s) => 1 / Math.sqrt(s + eps));
      const normalized = (c: number, i: number) => ((v[i] as number) - (mean[c] as number)) * (r[c] as number);
      const h = (c: number, i: number) => (g[i] as number) * (w === null ? 1 : (w[c] as number));
      const hSum = new Float64Array(channels);
      const projection = new Float64Array(channels);
      const db = new Float64Array(channels);
      forEachChannel(x.shape, (c, i) => {
        hSum[c] = (hSum[c] as number) + h(c, i);
        projection[c] = (projection[c] as number) + (g[i] as number) * normalized(c, i);
        db[c] = (db[c] as number) + (g[i] as number);
      });
      const dx = new Float64Array(v.length);
      forEachChannel(x.shape, (c, i) => {
        const hProjection = (projection[c] as number) * (w === null ? 1 : (w[c] as number));
        dx[i] = (r[c] as number) * (h(c, i) - (hSum[c] as number) / count - (normalized(c, i) * hProjection) / count);
      });
      const vector = { shape: [channels], dtype: out.dtype };
      return { input: make(dx, out), weight: weight === null ? null : make(projection, vector), bias: withBias ? make(db, vector) : null };
    },
  };
}

/** Calls `visit(channel, flat index)` for every element of a [N, C, ...] tensor. */
function forEachChannel(shape: readonly number[], visit: (channel: number, index: number) => void): void {
  const channels = shape[1] as number;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const total = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < total; i++) visit(Math.floor(i / inner) % channels, i);
}

/** The mean and biased variance per channel of a [N, C, ...] tensor's values. */
function channelMoments(v: Float64Array, shape: readonly number[]): { mean: Float64Array; variance: Float64Array } {
  const channels = shape[1] as number;
  const count = v.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  forEachChannel(shape, (c, i) => {
    mean[c] = (mean[c] as number) + (v[i] as number) / count;
  });
  forEachChannel(shape, (c, i) => {
    variance[c] = (variance[c] as number) + ((v[i] as number) - (mean[c] as number)) ** 2 / count;
  });
  return { mean, variance };
}

registerBackend({
  name: 'cpu-fused',
  priority: -1,
  create: () => {
    const cpu = new CpuBackend();
    return Object.assign(cpu, { name: 'cpu-fused', composites: referenceKernels(cpu) }) as unknown as Backend;
  },
});

// A backend whose layer norm backward kernel breaks the SPI's contract: no weight cotangent.
registerBackend({
  name: 'cpu-broken',
  priority: -1,
  create: () => {
    const cpu = new CpuBackend();
    const reference = referenceKernels(cpu);
    const composites: CompositeKernels<Handle> = {
      layerNormBackward(x, weight, g, normalizedDims, eps, withBias, out) {
        const result = reference.layerNormBackward?.(x, weight, g, normalizedDims, eps, withBias, out) ?? null;
        if (result?.weight) cpu.dispose(result.weight);
        return result === null ? null : { ...result, weight: null };
      },
    };
    return Object.assign(cpu, { name: 'cpu-broken', composites }) as unknown as Backend;
  },
});

export function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}

export type BackendName = 'cpu-fused' | 'cpu';
export const input = (backend: BackendName, shape: number[], seed: number, requiresGrad = false) =>
  tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    { shape, backend, requiresGrad },
  );

/** Runs `fn` on both backends and checks that what it read agrees (float32: within 1e-5). */
export function expectAgree(fn: (backend: BackendName) => Tensor[], tolerance = 1e-5): void {
  const [fused, composite] = (['cpu-fused', 'cpu'] as const).map((backend) => tidy(() => fn(backend).map((t) => Array.from(t.dataSync()))));
  expect(fused?.length).toBe(composite?.length);
  fused?.forEach((list, i) => {
    const reference = composite?.[i] as number[];
    expect(list.length).toBe(reference.length);
    list.forEach((v, k) => {
      expect(Math.abs(v - (reference[k] as number))).toBeLessThanOrEqual(tolerance * (1 + Math.abs(reference[k] as number)));
    });
  });
}

/** How many calls of each kernel `fn` made. */
export function counted(fn: () => void): typeof calls {
  const before = { ...calls };
  fn();
  const made = { ...calls };
  for (const key of Object.keys(made) as (keyof typeof calls)[]) made[key] -= before[key];
  return made;
}
