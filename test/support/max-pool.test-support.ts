import { grad, jit, nn, type Tensor, tensor, tidy } from '@flint/api';
import fc from 'fast-check';

// Max pooling cases for the backward kernels' property tests (mkl's, cpu's): windows of every
// kind (1 to 3 spatial dims, strides, padding, dilation, ceil mode, overlap), values with ties,
// NaN and -Infinity, special cotangents; and x's cotangent through the public API on a backend.

/** Pseudo-random floats in [-1, 1) from a 32-bit xorshift seeded with `seed`. */
function randomValues(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    values[i] = (state / 2 ** 32) * 2 - 1;
  }
  return values;
}

export interface PoolCase {
  readonly spatial: number[];
  readonly batch: number;
  readonly channels: number;
  readonly kernel: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly ceilMode: boolean;
  /** Values from a handful (ties, NaN, -Infinity), or spread floats. */
  readonly values: readonly number[] | null;
  /** Some cotangents are ±Infinity or NaN: a window's other taps must still get 0. */
  readonly specialCotangents?: boolean;
  readonly seed: number;
}

const pool = (x: Tensor, c: PoolCase) => {
  const options = { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode };
  if (c.spatial.length === 1) return nn.functional.maxPool1d(x, c.kernel, options);
  if (c.spatial.length === 2) return nn.functional.maxPool2d(x, c.kernel, options);
  return nn.functional.maxPool3d(x, c.kernel, options);
};

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function inputValues(c: PoolCase, count: number): Float32Array {
  const spread = randomValues(count, c.seed);
  if (c.values === null) return spread;
  const few = c.values;
  return spread.map((v) => few[Math.floor(((v + 1) / 2) * few.length) % few.length] as number);
}

/** x's cotangent of sum(maxPool(x) * weights) on `backend` (weights vary, so that each window's cotangent differs). */
export function poolGradient(backend: string, c: PoolCase): Float32Array {
  return tidy(() => {
    const shape = [c.batch, c.channels, ...c.spatial];
    const x = tensor(inputValues(c, size(shape)), { shape, backend });
    const outShape = pool(x, c).shape;
    const cotangents = randomValues(size(outShape), c.seed + 1);
    if (c.specialCotangents)
      for (let i = 0; i < cotangents.length; i += 5) cotangents[i] = [Infinity, -Infinity, Number.NaN][i % 3] as number;
    const weights = tensor(cotangents, { shape: outShape, backend });
    const gradient = grad((t: Tensor) => pool(t, c).mul(weights).sum())(x) as Tensor;
    return gradient.dataSync() as Float32Array;
  });
}

/** 2x2 windows of stride 2 over the last two of `rank` spatial dims, 1 over a third. */
function usualWindows(rank: number) {
  const last2 = (two: number, other: number) => Array.from({ length: rank }, (_, i) => (i >= rank - 2 ? two : other));
  return { kernel: last2(2, 1), stride: last2(2, 1), padding: last2(0, 0), dilation: last2(1, 1) };
}

export const poolCase: fc.Arbitrary<PoolCase> = fc.integer({ min: 1, max: 3 }).chain((rank) => {
  const dims = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: rank, maxLength: rank });
  return fc
    .record({
      spatial: dims(1, 7),
      batch: fc.integer({ min: 1, max: 3 }),
      channels: fc.integer({ min: 1, max: 3 }),
      kernel: dims(1, 3),
      stride: dims(1, 3),
      padding: dims(0, 1),
      dilation: dims(1, 2),
      ceilMode: fc.boolean(),
      values: fc.oneof(
        fc.constant(null),
        fc.constant([1, 2, 2, 0]),
        fc.constant([Number.NEGATIVE_INFINITY, -1, Number.NaN, 3]),
        fc.constant([Number.NEGATIVE_INFINITY]),
      ),
      seed: fc.integer({ min: 1, max: 1000 }),
      specialCotangents: fc.boolean(),
      // The usual pool (2x2 windows of stride 2 over the last two dims), which has its own loop.
      usual: fc.boolean(),
    })
    .map(({ usual, ...c }) => (usual && rank >= 2 ? { ...c, ...usualWindows(rank) } : c))
    .map((c) => ({
      ...c,
      // Padding at most half the dilated kernel (as PyTorch), and windows that fit the padded input.
      padding: c.padding.map((p, i) => Math.min(p, Math.floor(((c.kernel[i]! - 1) * c.dilation[i]! + 1) / 2))),
      spatial: c.spatial.map((s, i) => Math.max(s, (c.kernel[i]! - 1) * c.dilation[i]! + 1)),
    }));
});

/**
 * x's gradient of sum(maxPool2d(x, 2)^2) on `backend` three ways: `backward()`, `jit(grad)` of a
 * constant x, and the second-order gradient of its sum (2 at each window's maximum); with how
 * many times `runs` (a backend's count of its fused kernel) went up in each.
 */
export function poolGradientPaths(backend: string, data: Float32Array, shape: number[], runs: () => number) {
  return tidy(() => {
    const counts: number[] = [];
    const x = tensor(data, { shape, backend, requiresGrad: true });
    const loss = (t: Tensor) => nn.functional.maxPool2d(t, 2).square().sum();
    let before = runs();
    loss(x).backward();
    counts.push(runs() - before);
    const imperative = (x.grad as Tensor).dataSync() as Float32Array;
    // (On an input that requires grad, jit runs the program as ops the tape can record.)
    const constant = tensor(data, { shape, backend });
    before = runs();
    const jitted = (jit(grad(loss))(constant) as Tensor).dataSync() as Float32Array;
    counts.push(runs() - before);
    before = runs();
    const second = (grad((t: Tensor) => (grad(loss)(t) as Tensor).sum())(x) as Tensor).dataSync() as Float32Array;
    counts.push(runs() - before);
    return { counts, values: [imperative, jitted, second] };
  });
}
