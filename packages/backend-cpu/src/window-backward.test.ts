import { bind, getBackend, grad, nn, Primitive, type Tensor, tensor, tidy, vjp } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { CPU_OPS } from '../../../test/support/cpu-ops.test-support.js';
import { type PoolCase, poolCase, poolGradient, poolGradientPaths, size } from '../../../test/support/max-pool.test-support.js';
import { squarePoolRuns } from './kernels/square-pool.js';
import { windowMaxBackwardRuns } from './kernels/window-backward.js';

// Max pooling's backward pass as the portable backend's composite kernel
// (kernels/window-backward.ts), against the api's ops on the same backend without it ('cpu-ops'):
// windows of every kind, ties, NaN and -Infinity; backward(), grad and jit; a backward pass that is
// differentiated again keeps the ops.

/** Largest difference, NaN matching NaN (and nothing else). */
function worstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) || Number.isNaN(y)) worst = Number.isNaN(x) && Number.isNaN(y) ? worst : Number.POSITIVE_INFINITY;
    else if (x !== y) worst = Math.max(worst, Math.abs(x - y));
  }
  return worst;
}

/** A max window over any dims of a rank-2 to 5 input: windows over N or C, size-1 dims padded, whole windows of padding. */
const reduceWindowCase = fc
  .integer({ min: 2, max: 5 })
  .chain((rank) => {
    const dims = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: rank, maxLength: rank });
    return fc.record({
      shape: dims(1, 4),
      window: dims(1, 3),
      strides: dims(1, 2),
      dilation: dims(1, 2),
      low: dims(0, 3),
      high: dims(0, 3),
      ties: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1000 }),
      // 2x2 windows of stride 2 over the last two dims (the kernel's own loop), a size-1 window before.
      usual: fc.boolean(),
    });
  })
  .map(({ usual, ...c }) => {
    if (!usual) return c;
    const last2 = (two: number, other: number[]) => other.map((v, i) => (i >= other.length - 2 ? two : i === other.length - 3 ? 1 : v));
    return { ...c, window: last2(2, c.window), strides: last2(2, c.strides), dilation: last2(1, c.dilation), low: last2(0, c.low) };
  })
  .map((c) => ({
    ...c,
    // At most one dilated window of padding on a side: windows wholly in padding, but not only those.
    padding: c.low.map((lo, i) => {
      const span = (c.window[i]! - 1) * c.dilation[i]! + 1;
      return [Math.min(lo, span), Math.min(c.high[i]!, span)] as const;
    }),
  }))
  .filter((c) => c.shape.every((n, i) => n + c.padding[i]![0] + c.padding[i]![1] >= (c.window[i]! - 1) * c.dilation[i]! + 1));

/** Dims from the first the window touches (size, stride, dilation or padding) to the last. */
function touchedDims(c: { window: number[]; strides: number[]; dilation: number[]; padding: (readonly [number, number])[] }): number {
  const touches = (i: number) =>
    c.window[i] !== 1 || c.strides[i] !== 1 || c.dilation[i] !== 1 || c.padding[i]![0] !== 0 || c.padding[i]![1] !== 0;
  const first = c.window.findIndex((_, i) => touches(i));
  return first < 0 ? 0 : c.window.length - first;
}

/** A float32 [planes, 1, height, width] input for the usual pool: `values` drawn from a short list (ties, zeros, NaN) or spread. */
interface SquarePoolCase {
  readonly height: number;
  readonly width: number;
  readonly planes: number;
  readonly values: readonly number[] | null;
  readonly seed: number;
}

/**
 * The usual pool (2 x 2, stride 2) of `c` on cpu, through the WebAssembly kernels, against a
 * plain loop (forward) and the ops (backward), Object.is element by element.
 */
function expectSquarePoolExact(c: SquarePoolCase, simdRuns = 2): void {
  const shape = [c.planes, 1, c.height, c.width];
  const count = size(shape);
  const spread = Array.from({ length: count }, (_, i) => Math.sin((i + 1) * c.seed * 0.61));
  const data = c.values === null ? spread : spread.map((v) => c.values![Math.floor(Math.abs(v) * 997) % c.values!.length]!);
  const pooledShape = [c.planes, 1, Math.floor(c.height / 2), Math.floor(c.width / 2)];
  // Cotangents with -0 among them: it must land as +0 wherever the ops add it to zeros.
  const cotangents = Array.from({ length: size(pooledShape) }, (_, i) => (i % 7 === 3 ? -0 : Math.cos(i * 0.37 + c.seed)));
  const run = (backend: string) =>
    tidy(() => {
      const x = tensor(data, { shape, dtype: 'float32', backend });
      const g = tensor(cotangents, { shape: pooledShape, dtype: 'float32', backend });
      const [y, pullback] = vjp((t: Tensor) => nn.functional.maxPool2d(t, 2), x);
      return [Array.from(y.dataSync()), Array.from((pullback(g)[0] as Tensor).dataSync())];
    });
  const before = windowMaxBackwardRuns();
  const simdBefore = squarePoolRuns();
  const [y, dx] = run('cpu');
  expect(windowMaxBackwardRuns() - before).toBe(1);
  // Both passes ran in WebAssembly, not the loops they fall back to.
  expect(squarePoolRuns() - simdBefore).toBe(simdRuns);
  const [, dxOps] = run(CPU_OPS);
  // The forward pass against a plain loop (the ops' pooling is the same kernel): each
  // window's first maximum in row-major order, a NaN replacing it. Object.is: NaN equals
  // NaN, and +0 differs from -0.
  const [outHeight, outWidth] = pooledShape.slice(2) as [number, number];
  const expected: number[] = [];
  for (let p = 0; p < c.planes; p++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const at = (r: number, q: number) => Math.fround(data[(p * c.height + 2 * oh + r) * c.width + 2 * ow + q]!);
        let best = at(0, 0);
        for (const v of [at(0, 1), at(1, 0), at(1, 1)]) if (v > best || Number.isNaN(v)) best = v;
        expected.push(best);
      }
    }
  }
  expect(
    y!.every((v, i) => Object.is(v, expected[i])),
    'forward',
  ).toBe(true);
  expect(
    dx!.every((v, i) => Object.is(v, dxOps![i])),
    'backward',
  ).toBe(true);
}

describe('max pooling backward on cpu through the composite kernel', () => {
  it('agrees with the ops for ReduceWindow geometries no pooling layer makes', () => {
    fc.assert(
      fc.property(reduceWindowCase, (c) => {
        const { shape, seed } = c;
        const params = { window: c.window, strides: c.strides, dilation: c.dilation, padding: c.padding, op: 'max' as const };
        const gradientOn = (backend: string) =>
          tidy(() => {
            const count = size(shape);
            const data = Array.from({ length: count }, (_, i) => Math.sin((i + 1) * seed * 0.37));
            const x = tensor(c.ties ? data.map((v) => Math.round(v * 2)) : data, { shape, dtype: 'float32', backend });
            const outShape = bind(Primitive.ReduceWindow, [x], params).shape;
            const weights = tensor(
              Array.from({ length: size(outShape) }, (_, i) => 1 + ((i * 7) % 5)),
              { shape: outShape, dtype: 'float32', backend },
            );
            const loss = (t: Tensor) => bind(Primitive.ReduceWindow, [t], params).mul(weights).sum();
            return (grad(loss)(x) as Tensor).dataSync() as Float32Array;
          });
        const before = windowMaxBackwardRuns();
        const fused = gradientOn('cpu');
        // The kernel takes windows over the last three dims (with any leading dims as planes).
        expect(windowMaxBackwardRuns() - before).toBe(touchedDims(c) <= 3 ? 1 : 0);
        expect(worstDifference(fused, gradientOn(CPU_OPS))).toBeLessThanOrEqual(1e-5);
      }),
      { numRuns: 200 },
    );
  });

  it('runs the usual pool (2 x 2, stride 2) on wide and odd planes exactly as the ops: forward and backward, signed zeros, NaN, ties', () => {
    const plane = fc.record({
      height: fc.integer({ min: 2, max: 21 }),
      width: fc.integer({ min: 2, max: 41 }),
      planes: fc.integer({ min: 1, max: 5 }),
      values: fc.constantFrom([0, -0, 1, 1, -1], [Number.NaN, 2, 2, -0, Number.NEGATIVE_INFINITY], null),
      seed: fc.integer({ min: 1, max: 10_000 }),
    });
    fc.assert(
      fc.property(plane, (c) => expectSquarePoolExact(c)),
      { numRuns: 120 },
    );
    // 120 odd planes, 538 KB: the kernels stream them through their memory in five chunks.
    expectSquarePoolExact({ height: 33, width: 34, planes: 120, values: null, seed: 7 });
    expectSquarePoolExact({ height: 33, width: 34, planes: 120, values: [Number.NaN, 2, 2, -0, Number.NEGATIVE_INFINITY], seed: 8 });
  });

  it('pools planes over 4 MiB in bands of rows: odd sizes, forward and backward exactly as the ops', () => {
    // 1027 x 1025 floats (4.2 MB): two bands of at most 1022 and 4 rows each way (four runs),
    // the odd last row and column in none. Two arrays of ones of that size freed first: the
    // gradient reuses one, so its odd last row must be written, not found zero.
    const ones = () => tensor(new Float32Array(1027 * 1025).fill(1), { shape: [1, 1, 1027, 1025] });
    const [first, second] = [ones(), ones()];
    first.dispose();
    second.dispose();
    expectSquarePoolExact({ height: 1027, width: 1025, planes: 1, values: [0, -0, 1, 1, -1], seed: 9 }, 4);
  });

  it('agrees with the ops for any window, ties, NaN and -Infinity included', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const before = windowMaxBackwardRuns();
        const fused = poolGradient('cpu', c);
        expect(windowMaxBackwardRuns() - before).toBe(1);
        // Overlapping windows sum their cotangents in another order than the ops: a few ulps.
        expect(worstDifference(fused, poolGradient(CPU_OPS, c))).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 150 },
    );
  });

  it('sends a window whose taps inside are all -Infinity to its first tap, dropped when that is padding', () => {
    const c: PoolCase = {
      spatial: [4],
      batch: 1,
      channels: 1,
      kernel: [3],
      stride: [1],
      padding: [1],
      dilation: [1],
      ceilMode: false,
      values: [Number.NEGATIVE_INFINITY],
      seed: 1,
    };
    const fused = poolGradient('cpu', c);
    expect(worstDifference(fused, poolGradient(CPU_OPS, c))).toBe(0);
    // Windows at -1..1 (padding first: dropped), 0..2, 1..3 and 2..4 (x[0], x[1], x[2] first).
    expect(fused[3]).toBe(0);
    expect(fused.slice(0, 3).every((v) => v !== 0)).toBe(true);
  });

  it('computes float64, and leaves half dtypes and windows over four dims to the ops', () => {
    const shape = [2, 3, 6, 6];
    const data = Float64Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 0.7) * 1e10 + i * 1e-6);
    const loss = (t: Tensor) => nn.functional.maxPool2d(t, 3, { stride: 2, padding: 1 }).mul(1.5).sum();
    const gradients = ['cpu', CPU_OPS].map((backend) => {
      const before = windowMaxBackwardRuns();
      const g = (grad(loss)(tensor(data, { shape, dtype: 'float64', backend })) as Tensor).dataSync();
      return { g, runs: windowMaxBackwardRuns() - before };
    });
    expect(gradients.map((r) => r.runs)).toEqual([1, 0]);
    expect(Array.from(gradients[0]!.g)).toEqual(Array.from(gradients[1]!.g));

    const before = windowMaxBackwardRuns();
    const half = tensor(data, { shape, dtype: 'float64' }).astype('bfloat16');
    const halfGradient = grad((t: Tensor) => nn.functional.maxPool2d(t, 2).astype('float32').sum())(half) as Tensor;
    expect(halfGradient.dtype).toBe('bfloat16');
    expect(halfGradient.astype('float32').sum().item()).toBe(2 * 3 * 9);
    // A window over every dim of a 4-d tensor (no leading dim left for planes).
    const cpu = getBackend('cpu');
    const x4 = tensor(
      new Float32Array(16).map((_, i) => (i * 7) % 11),
      { shape: [2, 2, 2, 2] },
    );
    const geometry = {
      window: [2, 2, 2, 2],
      strides: [1, 1, 1, 1],
      padding: [0, 0, 0, 0].map(() => [0, 0] as const),
      dilation: [1, 1, 1, 1],
    };
    const g4 = tensor([1], { shape: [1, 1, 1, 1] });
    expect(cpu.composites?.windowMaxBackward?.(x4._handle, g4._handle, geometry, { shape: [2, 2, 2, 2], dtype: 'float32' })).toBeNull();
    expect(windowMaxBackwardRuns()).toBe(before);
  });

  it('backward() and jit(grad) run the kernel; a backward pass that is differentiated again runs the ops', () => {
    const shape = [4, 3, 8, 8];
    const data = Float32Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 1.37));
    const fused = poolGradientPaths('cpu', data, shape, windowMaxBackwardRuns);
    const ops = poolGradientPaths(CPU_OPS, data, shape, windowMaxBackwardRuns);
    expect(fused.counts).toEqual([1, 1, 0]);
    expect(ops.counts).toEqual([0, 0, 0]);
    fused.values.forEach((values, i) => {
      expect(worstDifference(values, ops.values[i] as Float32Array), `result ${i}`).toBe(0);
    });
    expect(fused.values[2]?.filter((v) => v === 2).length).toBe(size(shape) / 4);
  });
});
