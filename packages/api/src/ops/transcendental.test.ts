import '@flint/backend-cpu';
import { cosh, type DType, exp2, grad, jit, log2, log10, sinh, sum, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';

/** Checks shape, dtype and values; NaN matches NaN, infinities match exactly, others relatively to `tolerance`. */
function expectTensor(actual: Tensor, shape: number[], dtype: DType, expected: readonly number[], tolerance = 1e-6): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  const data = Array.from(actual.dataSync());
  expect(data).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    const got = data[i] as number;
    if (Number.isNaN(want)) expect(got, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(want)) expect(got, `element ${i}`).toBe(want);
    else expect(Math.abs(got - want), `element ${i}: ${got} vs ${want}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want)));
  });
}

describe('log2 and log10', () => {
  test('are exact at powers of the base (as torch.log2 and numpy.log10)', () => {
    const powers = Array.from({ length: 41 }, (_, i) => 2 ** (i - 20));
    expect(Array.from(log2(tensor(powers)).dataSync())).toEqual(powers.map((_, i) => i - 20));
    expect(Array.from(log2(tensor(powers, { dtype: 'float64' })).dataSync())).toEqual(powers.map((_, i) => i - 20));
    const tens = [1e-3, 0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7];
    expect(Array.from(log10(tensor(tens, { dtype: 'float64' })).dataSync())).toEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(log10(tensor(tens)).dataSync())).toEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('give -Infinity at 0, NaN below it and Infinity at Infinity; other values to float precision', () => {
    const x = [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 3, 0.7];
    expectTensor(log2(tensor(x, { dtype: 'float64' })), [6], 'float64', x.map(Math.log2), 1e-15);
    expectTensor(log10(tensor(x, { dtype: 'float64' })), [6], 'float64', x.map(Math.log10), 1e-15);
    expectTensor(log2(tensor(x)), [6], 'float32', x.map(Math.log2), 2e-7);
  });

  test('promote integers and bools to float32 as log does, and keep halves', () => {
    expectTensor(log2(tensor([1, 4, 6], { dtype: 'int32' })), [3], 'float32', [0, 2, Math.log2(6)]);
    expectTensor(log10(tensor([true, false])), [2], 'float32', [0, Number.NEGATIVE_INFINITY]);
    expectTensor(log2(tensor([8, 3], { dtype: 'float16' })), [2], 'float16', [3, Math.log2(3)], 1e-3);
    expectTensor(log2([[2, 4]]), [1, 2], 'float32', [1, 2]);
  });

  test('have the derivative 1 / (x ln b), at exact powers too', () => {
    const x = tensor([1, 2, 8, 3], { dtype: 'float64' });
    expectTensor(
      grad((t: Tensor) => sum(log2(t)))(x),
      [4],
      'float64',
      [1, 2, 8, 3].map((v) => 1 / (v * Math.LN2)),
      1e-14,
    );
    expectTensor(
      grad((t: Tensor) => sum(log10(t)))(x),
      [4],
      'float64',
      [1, 2, 8, 3].map((v) => 1 / (v * Math.LN10)),
      1e-14,
    );
  });

  test('are methods', () => {
    expect(tensor([8]).log2().item()).toBe(3);
    expect(tensor([100]).log10().item()).toBe(2);
  });
});

describe('exp2', () => {
  test('is 2 ** x, exact at integers, float32 for integer inputs', () => {
    expectTensor(exp2(tensor([0, 3, -1, 10], { dtype: 'int32' })), [4], 'float32', [1, 8, 0.5, 1024], 0);
    expectTensor(
      exp2(tensor([0.5, Number.NEGATIVE_INFINITY, Number.NaN], { dtype: 'float64' })),
      [3],
      'float64',
      [Math.SQRT2, 0, Number.NaN],
      1e-15,
    );
    expect(tensor([3]).exp2().item()).toBe(8);
  });

  test('has the derivative 2 ** x ln 2', () => {
    const x = tensor([0, 1.5, -2], { dtype: 'float64' });
    expectTensor(
      grad((t: Tensor) => sum(exp2(t)))(x),
      [3],
      'float64',
      [0, 1.5, -2].map((v) => 2 ** v * Math.LN2),
      1e-14,
    );
  });
});

describe('sinh and cosh', () => {
  const xs = [0, 1e-6, -1e-4, 0.5, -1, 3, -20, 88, -89];
  test('match Math.sinh and Math.cosh, accurately near 0', () => {
    expectTensor(sinh(tensor(xs, { dtype: 'float64' })), [9], 'float64', xs.map(Math.sinh), 1e-14);
    expectTensor(cosh(tensor(xs, { dtype: 'float64' })), [9], 'float64', xs.map(Math.cosh), 1e-14);
    expectTensor(sinh(tensor(xs)), [9], 'float32', xs.map(Math.sinh), 1e-6);
    expectTensor(cosh(tensor(xs)), [9], 'float32', xs.map(Math.cosh), 1e-6);
    // Relative accuracy near 0, where exp(x) - exp(-x) would cancel.
    const tiny = sinh(tensor([1e-6, -3e-5])).dataSync();
    expect(Math.abs((tiny[0] as number) / 1e-6 - 1)).toBeLessThan(1e-6);
    expect(Math.abs((tiny[1] as number) / -3e-5 - 1)).toBeLessThan(1e-6);
  });

  test('overflow only where the result does (float32: sinh(89) is finite, exp(89) is not)', () => {
    expect(Number.isFinite(sinh(tensor([89])).item() as number)).toBe(true);
    expect(Number.isFinite(cosh(tensor([-89])).item() as number)).toBe(true);
    expectTensor(sinh(tensor([90, -90, Number.POSITIVE_INFINITY, Number.NaN])), [4], 'float32', [
      Infinity,
      -Infinity,
      Infinity,
      Number.NaN,
    ]);
    expectTensor(cosh(tensor([90, Number.NEGATIVE_INFINITY, Number.NaN])), [3], 'float32', [Infinity, Infinity, Number.NaN]);
  });

  test('promote integers to float32 and keep float16', () => {
    expectTensor(sinh(tensor([0, 1], { dtype: 'int32' })), [2], 'float32', [0, Math.sinh(1)]);
    expectTensor(cosh(tensor([true])), [1], 'float32', [Math.cosh(1)]);
    expectTensor(cosh(tensor([2], { dtype: 'float16' })), [1], 'float16', [Math.cosh(2)], 1e-3);
  });

  test('have the derivatives cosh and sinh', () => {
    const x = tensor([0, 0.3, -2, 5], { dtype: 'float64' });
    expectTensor(grad((t: Tensor) => sum(sinh(t)))(x), [4], 'float64', [0, 0.3, -2, 5].map(Math.cosh), 1e-14);
    expectTensor(grad((t: Tensor) => sum(cosh(t)))(x), [4], 'float64', [0, 0.3, -2, 5].map(Math.sinh), 1e-14);
    // Second derivatives at 0 too (an abs inside cosh would give 0 there, not cosh(0) = 1).
    const second = (f: (t: Tensor) => Tensor) => grad((t: Tensor) => sum(grad((u: Tensor) => sum(f(u)))(t)));
    expectTensor(second(cosh)(tensor([0, 1], { dtype: 'float64' })), [2], 'float64', [1, Math.cosh(1)], 1e-14);
    expectTensor(second(sinh)(tensor([0, 1], { dtype: 'float64' })), [2], 'float64', [0, Math.sinh(1)], 1e-14);
  });

  test('are methods', () => {
    expect(tensor([0]).sinh().item()).toBe(0);
    expect(tensor([0]).cosh().item()).toBe(1);
  });
});

describe('under jit', () => {
  test('log2, log10, exp2, sinh and cosh give the eager values', () => {
    const x = tensor([0.5, 1, 8, 1000, 3]);
    const f = jit((t: Tensor) => [log2(t), log10(t), exp2(t), sinh(t), cosh(t)]);
    const traced = f(x) as Tensor[];
    for (const [i, want] of [log2(x), log10(x), exp2(x), sinh(x), cosh(x)].entries()) {
      expect(Array.from((traced[i] as Tensor).dataSync()), `output ${i}`).toEqual(Array.from(want.dataSync()));
    }
  });
});
