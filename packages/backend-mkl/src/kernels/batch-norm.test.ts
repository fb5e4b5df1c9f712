import type { TypedArray } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { MklBackend } from '../backend.js';
import type { MklHandle } from '../handle.js';
import type { Addon } from '../native/addon.js';
import { loadAddon } from '../native/load.js';
import { expectClose, randomValues } from '../values.test-support.js';

// The batch norm composite kernels (training, inference, backward) on MklHandles against a
// reference that takes the composite's steps (sums in double, each elementwise step rounded to
// float32), on plain and strided views, NaN, infinities and magnitudes near the float32 range's
// edge, inputs past the parallel threshold and their thread splits (whole channels per thread,
// channels split by samples, rows of channels); their run counts; and their declines (other
// dtypes), which must leave nothing behind.

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: batch norm tests skipped, the addon is unavailable: ${missing}`);

const f = Math.fround;
const EPS = 1e-5;

/** The composite's batch norm: per channel of a contiguous [N, C, ...] array. */
function reference(x: ArrayLike<number>, shape: readonly number[]) {
  const [batch, channels] = shape as [number, number];
  const spatial = shape.slice(2).reduce((p, d) => p * d, 1);
  const count = batch * spatial;
  const channel = (c: number, visit: (k: number) => void) => {
    for (let n = 0; n < batch; n++) for (let i = 0; i < spatial; i++) visit((n * channels + c) * spatial + i);
  };
  const sum = (c: number, term: (k: number) => number) => {
    let total = 0;
    channel(c, (k) => {
      total += term(k);
    });
    return total;
  };
  return {
    training(weight: ArrayLike<number> | null, bias: ArrayLike<number> | null) {
      const mean = new Float32Array(channels);
      const variance = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        mean[c] = f(sum(c, (k) => x[k]!) / count);
        variance[c] = f(sum(c, (k) => f(f(x[k]! - mean[c]!) ** 2)) / count);
      }
      return { output: this.inference(mean, variance, weight, bias), mean, variance };
    },
    inference(mean: ArrayLike<number>, variance: ArrayLike<number>, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null) {
      const output = new Float32Array(x.length);
      for (let c = 0; c < channels; c++) {
        const r = f(1 / Math.sqrt(f(variance[c]! + EPS)));
        channel(c, (k) => {
          let y = f(f(x[k]! - mean[c]!) * r);
          if (weight !== null) y = f(y * weight[c]!);
          if (bias !== null) y = f(y + bias[c]!);
          output[k] = y;
        });
      }
      return output;
    },
    backward(mean: ArrayLike<number>, variance: ArrayLike<number>, weight: ArrayLike<number> | null, g: ArrayLike<number>) {
      const input = new Float32Array(x.length);
      const weightCotangent = new Float32Array(channels);
      const biasCotangent = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        const r = f(1 / Math.sqrt(f(variance[c]! + EPS)));
        const w = weight === null ? 1 : weight[c]!;
        const normalized = (k: number) => f(f(x[k]! - mean[c]!) * r);
        const h = (k: number) => f(g[k]! * w);
        const hMean = f(sum(c, h) / count);
        const projection = f(sum(c, (k) => f(h(k) * normalized(k))) / count);
        channel(c, (k) => {
          input[k] = f(r * f(f(h(k) - hMean) - f(normalized(k) * projection)));
        });
        weightCotangent[c] = f(sum(c, (k) => f(g[k]! * normalized(k))));
        biasCotangent[c] = f(sum(c, (k) => g[k]!));
      }
      return { input, weight: weightCotangent, bias: biasCotangent };
    },
  };
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

describe.skipIf(missing !== undefined)('batch norm composite kernels on mkl', () => {
  const addon = (loaded as { addon: Addon }).addon;
  let mkl: MklBackend;
  beforeAll(() => {
    mkl = new MklBackend(addon);
  });
  const composites = () => mkl.composites as Required<MklBackend['composites']>;
  const handle = (values: TypedArray, shape: readonly number[]) =>
    mkl.fromTypedArray(values, shape, values instanceof Float64Array ? 'float64' : 'float32');
  const read = (h: MklHandle) => mkl.readSync(h) as Float32Array;
  const runs = () => [mkl.compositeRuns('batchNorm'), mkl.compositeRuns('batchNormInference'), mkl.compositeRuns('batchNormBackward')];
  const disposeAll = (...handles: (MklHandle | null | undefined)[]) => {
    for (const h of handles) if (h !== null && h !== undefined) mkl.dispose(h);
  };

  /**
   * Runs the three kernels on `x` (values of a contiguous [N, C, ...] array, passed as `view`
   * makes a handle of them) and checks them against the reference.
   */
  const check = (
    shape: readonly number[],
    values: { x: Float32Array; g: Float32Array; weight: Float32Array | null; bias: Float32Array | null },
    view: (values: Float32Array, shape: readonly number[]) => MklHandle = handle,
    tolerance = 2e-5,
  ) => {
    const ref = reference(values.x, shape);
    const channels = shape[1]!;
    const x = view(values.x, shape);
    const g = view(values.g, shape);
    const weight = values.weight === null ? null : handle(values.weight, [channels]);
    const bias = values.bias === null ? null : handle(values.bias, [channels]);
    const before = runs();
    const trained = composites().batchNorm(x, weight, bias, EPS, { shape, dtype: 'float32' });
    expect(trained).not.toBeNull();
    const { output, mean, variance } = trained!;
    expect(mean.shape).toEqual([channels]);
    const expected = ref.training(values.weight, values.bias);
    expectClose(read(mean), expected.mean, tolerance);
    expectClose(read(variance), expected.variance, tolerance);
    expectClose(read(output), expected.output, tolerance);
    // The statistics the kernel returned feed the other two, as the api passes them.
    const statistics = [read(mean), read(variance)] as const;
    const inferred = composites().batchNormInference(x, mean, variance, weight, bias, EPS, { shape, dtype: 'float32' });
    expectClose(read(inferred!), ref.inference(...statistics, values.weight, values.bias), tolerance);
    const cotangents = composites().batchNormBackward(x, mean, variance, weight, g, EPS, values.bias !== null, { shape, dtype: 'float32' });
    const expectedCotangents = ref.backward(...statistics, values.weight, values.g);
    expectClose(read(cotangents!.input), expectedCotangents.input, tolerance);
    expect(cotangents!.weight === null).toBe(values.weight === null);
    expect(cotangents!.bias === null).toBe(values.bias === null);
    if (cotangents!.weight !== null) expectClose(read(cotangents!.weight), expectedCotangents.weight, tolerance);
    if (cotangents!.bias !== null) expectClose(read(cotangents!.bias), expectedCotangents.bias, tolerance);
    expect(runs()).toEqual(before.map((count) => count + 1));
    disposeAll(x, g, weight, bias, output, mean, variance, inferred, cotangents!.input, cotangents!.weight, cotangents!.bias);
  };

  const inputs = (shape: readonly number[], seed: number, affine: { weight: boolean; bias: boolean }) => ({
    x: randomValues(size(shape), seed).map((v) => v * 3 + 0.5),
    g: randomValues(size(shape), seed + 1),
    weight: affine.weight ? randomValues(shape[1]!, seed + 2).map((v) => v + 1.5) : null,
    bias: affine.bias ? randomValues(shape[1]!, seed + 3) : null,
  });

  it('agree with the composite on ranks 2 to 5, weight and bias absent or present, and count their runs', () => {
    const memoryBefore = mkl.memory();
    const shapes = [
      [6, 5],
      [64, 40],
      [4, 3, 7],
      [3, 20, 5, 4],
      [2, 17, 3, 2, 3],
    ];
    let seed = 10;
    for (const shape of shapes) {
      for (const weight of [false, true]) {
        for (const bias of [false, true]) check(shape, inputs(shape, seed++, { weight, bias }));
      }
    }
    expect(mkl.memory()).toEqual(memoryBefore);
  });

  it('read transposed and sliced views', () => {
    // [N, C, H, W] read from a [H, N, C, W] array, and from every other row of a [N, 2C, H, W] one.
    const transposed = (values: Float32Array, shape: readonly number[]) => {
      const [n, c, h, w] = shape as [number, number, number, number];
      const permuted = new Float32Array(values.length);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < c; j++)
          for (let k = 0; k < h; k++)
            for (let l = 0; l < w; l++) permuted[((k * n + i) * c + j) * w + l] = values[((i * c + j) * h + k) * w + l]!;
      const base = handle(permuted, [h, n, c, w]);
      return { ...base, shape: [n, c, h, w], strides: [c * w, w, n * c * w, 1] };
    };
    const sliced = (values: Float32Array, shape: readonly number[]) => {
      const [n, c, h, w] = shape as [number, number, number, number];
      const wide = new Float32Array(2 * values.length).fill(Number.NaN);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < c; j++) wide.set(values.subarray((i * c + j) * h * w, (i * c + j + 1) * h * w), (i * 2 * c + 2 * j) * h * w);
      const base = handle(wide, [n, 2 * c, h, w]);
      return { ...base, shape: [n, c, h, w], strides: [2 * c * h * w, 2 * h * w, w, 1] };
    };
    check([3, 18, 4, 5], inputs([3, 18, 4, 5], 40, { weight: true, bias: true }), transposed);
    check([5, 4, 3, 3], inputs([5, 4, 3, 3], 41, { weight: true, bias: false }), sliced);
  });

  it('give the composite NaN, infinities and the results of magnitudes near the float32 range edge', () => {
    const shape = [4, 12, 3, 3];
    const values = inputs(shape, 50, { weight: true, bias: true });
    const at = (n: number, c: number, i: number) => (n * 12 + c) * 9 + i;
    values.x[at(1, 0, 2)] = Number.NaN;
    values.x[at(0, 1, 0)] = Number.POSITIVE_INFINITY;
    values.x[at(3, 2, 8)] = Number.NEGATIVE_INFINITY;
    values.x[at(0, 3, 0)] = Number.POSITIVE_INFINITY;
    values.x[at(2, 3, 1)] = Number.NEGATIVE_INFINITY;
    // Their float32 sum overflows: oneDNN's mean is infinite, the composite's finite (its variance infinite).
    values.x[at(0, 4, 0)] = 3e38;
    values.x[at(1, 4, 0)] = 3e38;
    values.x[at(2, 5, 4)] = -3e38;
    values.x[at(3, 5, 4)] = -3e38;
    values.g[at(0, 6, 0)] = Number.NaN;
    values.g[at(1, 7, 0)] = Number.POSITIVE_INFINITY;
    values.g[at(0, 8, 1)] = 3e38;
    values.g[at(3, 8, 1)] = 3e38;
    values.weight![9] = Number.NaN;
    values.weight![10] = Number.POSITIVE_INFINITY; // the backward pass: oneDNN gives infinities, the composite NaN
    values.weight![11] = 0;
    check(shape, values, handle, 1e-4);
  });

  it('give NaN statistics and zero weight and bias cotangents for no elements per channel', () => {
    const shape = [0, 3, 4];
    const x = handle(new Float32Array(0), shape);
    const weight = handle(Float32Array.from([1, 2, 3]), [3]);
    const trained = composites().batchNorm(x, weight, null, EPS, { shape, dtype: 'float32' })!;
    expect(Array.from(read(trained.mean)).every(Number.isNaN)).toBe(true);
    expect(Array.from(read(trained.variance)).every(Number.isNaN)).toBe(true);
    expect(trained.output.shape).toEqual(shape);
    const cotangents = composites().batchNormBackward(x, trained.mean, trained.variance, weight, x, EPS, true, {
      shape,
      dtype: 'float32',
    })!;
    expect(Array.from(read(cotangents.weight!))).toEqual([0, 0, 0]);
    expect(Array.from(read(cotangents.bias!))).toEqual([0, 0, 0]);
    disposeAll(x, weight, trained.output, trained.mean, trained.variance, cotangents.input, cotangents.weight, cotangents.bias);
  });

  it('agree with the composite past the parallel threshold, however the channels split over the threads', () => {
    // From 131,072 elements the loops run on every thread: channels taken whole by a thread, the
    // rest split by samples (on two threads [64, 3, 32, 32] has one channel each and one shared,
    // [32, 1, 64, 64] only a shared one), or samples read as rows of channels (rank 2; S = 9; S = 20,
    // where the sums run along rows and the writes on planes). The sums are in double, as the
    // reference's: the weight's cotangent of [8, 32, 96, 96] sums 73,728 elements a channel.
    const shapes = [
      [8, 32, 96, 96],
      [64, 3, 32, 32],
      [32, 1, 64, 64],
      [2048, 96],
      [256, 64, 3, 3],
      [200, 40, 4, 5],
    ];
    shapes.forEach((shape, i) => {
      const values = inputs(shape, 60 + i, { weight: true, bias: true });
      const channels = shape[1]!;
      const spatial = size(shape.slice(2));
      // The last channel (the shared one) with a NaN in the input, the first an infinite weight,
      // a middle one a cotangent of 3e38: each channel computed as the composite does.
      values.x[(3 * channels + channels - 1) * spatial] = Number.NaN;
      values.weight![0] = Number.POSITIVE_INFINITY;
      values.g[(5 * channels + (channels >> 1)) * spatial] = 3e38;
      check(shape, values);
    });
  });

  it('decline other dtypes with null, allocating nothing', () => {
    const shape = [4, 3, 5];
    const x32 = handle(randomValues(60, 70), shape);
    const x64 = handle(Float64Array.from(randomValues(60, 70)), shape);
    const vector32 = handle(Float32Array.from([1, 2, 3]), [3]);
    const vector64 = handle(Float64Array.from([1, 2, 3]), [3]);
    const before = runs();
    const memoryBefore = mkl.memory();
    const out32 = { shape, dtype: 'float32' } as const;
    expect(composites().batchNorm(x64, null, null, EPS, { shape, dtype: 'float64' })).toBeNull();
    expect(composites().batchNorm(x32, vector64, null, EPS, out32)).toBeNull();
    expect(composites().batchNorm(x32, null, vector64, EPS, out32)).toBeNull();
    expect(composites().batchNormInference(x64, vector64, vector64, null, null, EPS, { shape, dtype: 'float64' })).toBeNull();
    expect(composites().batchNormInference(x32, vector64, vector32, null, null, EPS, out32)).toBeNull();
    expect(composites().batchNormBackward(x64, vector64, vector64, null, x64, EPS, true, { shape, dtype: 'float64' })).toBeNull();
    expect(composites().batchNormBackward(x32, vector32, vector32, vector64, x32, EPS, true, out32)).toBeNull();
    expect(composites().batchNormBackward(x32, vector32, vector32, null, x64, EPS, false, out32)).toBeNull();
    expect(runs()).toEqual(before);
    expect(mkl.memory()).toEqual(memoryBefore);
    disposeAll(x32, x64, vector32, vector64);
  });

  it('run with oneDNN primitives refused (the test hook): they are loops and create none', () => {
    // Batch norm ran oneDNN's primitives once, and declined (null) when oneDNN refused one; the
    // loops that replaced them have nothing to refuse, so the hook changes nothing.
    const shape = [16, 32, 8, 8];
    const values = inputs(shape, 80, { weight: true, bias: true });
    addon.refuseNormalizationPrimitives(true);
    try {
      check(shape, values);
    } finally {
      addon.refuseNormalizationPrimitives(false);
    }
  });
});
