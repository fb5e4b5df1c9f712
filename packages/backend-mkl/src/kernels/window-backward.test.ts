import '@flint/backend-cpu';
import { initBackend } from '@flint/api';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_OPS } from '../../../../test/support/cpu-ops.test-support.js';
import { type PoolCase, poolCase, poolGradient, poolGradientPaths, size } from '../../../../test/support/max-pool.test-support.js';
import { loadAddon, type MklBackend } from '../index.js';
import { DTYPE_CODES } from '../native/codes.js';
import { expectClose, randomValues } from '../values.test-support.js';

// Max pooling's backward pass on mkl, which reaches the addon's loops (native/pool.cc) through
// Backend.composites.windowMaxBackward, against the ops on the portable backend ('cpu-ops', which
// has no composite kernels): windows of every
// kind (strides, padding, dilation, ceil mode, overlap), ties, NaN and -Infinity; backward(),
// grad and jit; a recorded backward pass, which must stay differentiable, keeps the ops.

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;

describe.skipIf(missing !== undefined)('max pooling backward on mkl through the fused kernel', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });
  const runs = () => mkl.compositeRuns('windowMaxBackward');

  it('agrees with the ops on cpu for any window, ties, NaN and -Infinity included', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const before = runs();
        const fused = poolGradient('mkl', c);
        expect(runs() - before).toBe(1);
        // Overlapping windows sum their cotangents in another order than the ops: a few ulps.
        expectClose(fused, poolGradient(CPU_OPS, c), 1e-6);
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
    const fused = poolGradient('mkl', c);
    expectClose(fused, poolGradient(CPU_OPS, c), 0);
    // Windows at -1..1 (padding first: dropped), 0..2, 1..3 and 2..4 (x[0], x[1], x[2] first).
    expect(fused[3]).toBe(0);
    expect(fused.slice(0, 3).every((v) => v !== 0)).toBe(true);
  });

  it('backward() and jit(grad) run the kernel; a backward pass that is differentiated again runs the ops', () => {
    const shape = [4, 3, 8, 8];
    const data = randomValues(size(shape), 7);
    const onMkl = poolGradientPaths('mkl', data, shape, runs);
    const onCpu = poolGradientPaths(CPU_OPS, data, shape, runs);
    expect(onMkl.counts).toEqual([1, 1, 0]);
    onMkl.values.forEach((values, i) => {
      expectClose(values, onCpu.values[i] as Float32Array, 0);
    });
    expect(onMkl.values[2]?.filter((v) => v === 2).length).toBe(size(shape) / 4);
  });

  it('the addon refuses a cotangent whose shape is not the pool output shape, naming both', () => {
    const addon = (loaded as { addon: import('../native/addon.js').Addon }).addon;
    const x = new Float32Array(16);
    const layout = (shape: number[]) => Int32Array.from([0, shape.length, ...shape, ...shape.map((_, d) => size(shape.slice(d + 1)))]);
    const params = Int32Array.from([1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const call = (gShape: number[]) =>
      addon.windowMaxBackward(
        DTYPE_CODES.float32,
        x,
        layout([1, 1, 4, 4]),
        new Float32Array(size(gShape)),
        layout(gShape),
        new Float32Array(16),
        params,
      );
    expect(call([1, 1, 2, 2])).toBe(true);
    expect(() => call([1, 1, 3, 2])).toThrow(/cotangent's shape \[1, 1, 3, 2\] is not the pool's output shape \[1, 1, 2, 2\]/);
  });

  it('takes windows of 2^30 taps (mostly padding) in time proportional to the taps inside', () => {
    // Each output's taps inside the input are found in closed form: walking 2^30 taps per output
    // row took minutes (the test's timeout fails it).
    const addon = (loaded as { addon: import('../native/addon.js').Addon }).addon;
    const big = 2 ** 30;
    const x = Float32Array.from({ length: 16 }, (_, i) => (i * 7) % 5);
    const layout = (shape: number[]) => Int32Array.from([0, shape.length, ...shape, ...shape.map((_, d) => size(shape.slice(d + 1)))]);
    const params = Int32Array.from([1, 1, big, 2, 1, 1, big, 2, 0, 0, big - 2, 0, 0, 0, big - 2, 0, 1, 1, 1, 1]);
    const pooled = new Float32Array(4);
    expect(addon.pool(1, DTYPE_CODES.float32, x, layout([1, 1, 4, 4]), pooled, params)).toBe(true);
    // Two windows down (padding 2^30 - 2 on both sides), each reaching two rows of the input:
    // the maxima of the 2x2 blocks of 0 2 4 1 / 3 0 2 4 / 1 3 0 2 / 4 1 3 0.
    expect(Array.from(pooled)).toEqual([3, 4, 4, 3]);
    const dx = new Float32Array(16);
    expect(
      addon.windowMaxBackward(DTYPE_CODES.float32, x, layout([1, 1, 4, 4]), new Float32Array(4).fill(1), layout([1, 1, 2, 2]), dx, params),
    ).toBe(true);
    expect(dx.reduce((a, b) => a + b, 0)).toBe(4);
  });
});
