import { getBackend, grad, nn, type Tensor, tensor } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { CPU_OPS } from '../../../test/support/cpu-ops.test-support.js';
import { type PoolCase, poolCase, poolGradient, poolGradientPaths, size } from '../../../test/support/max-pool.test-support.js';
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

describe('max pooling backward on cpu through the composite kernel', () => {
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
