import '@flint/backend-cpu';
import { acosh, asinh, atanh, cosh, type DType, exp2, grad, jit, log2, log10, sinh, sum, type Tensor, tensor } from '@flint/api';
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

describe('asinh, acosh and atanh', () => {
  const nan = Number.NaN;
  const inf = Number.POSITIVE_INFINITY;
  const signs = (t: Tensor): boolean[] => Array.from(t.dataSync(), (v) => Object.is(v, -0));

  test('asinh matches Math.asinh: accurately near 0, keeping -0, and without overflow for large |x|', () => {
    const xs = [0, -0, 1e-10, -3e-5, 0.5, -1, 2, 30, -1e5, 1e10, 1e300, -1e300, inf, -inf, nan];
    expectTensor(asinh(tensor(xs, { dtype: 'float64' })), [15], 'float64', xs.map(Math.asinh), 2e-16 * 4);
    const f32 = xs.filter((v) => Math.abs(v) < 1e38 || !Number.isFinite(v));
    expectTensor(asinh(tensor(f32)), [f32.length], 'float32', f32.map(Math.asinh), 2 ** -22);
    expectTensor(asinh(tensor([1e30, -1e38])), [2], 'float32', [Math.asinh(1e30), Math.asinh(-1e38)], 2 ** -22);
    expect(signs(asinh(tensor([-0, 0], { dtype: 'float32' })))).toEqual([true, false]);
  });

  test('keep relative accuracy near their zeros (asinh and atanh at 0, acosh at 1)', () => {
    const relative = (t: Tensor, want: number[]) => Array.from(t.dataSync(), (v, i) => Math.abs(v / (want[i] as number) - 1));
    const tiny = [1e-10, -3e-7, 2e-30];
    for (const dtype of ['float32', 'float64'] as const) {
      const bound = dtype === 'float32' ? 2 ** -22 : 2 ** -50;
      const x = tensor(tiny, { dtype });
      const exact = Array.from(x.dataSync());
      for (const error of relative(asinh(x), exact.map(Math.asinh))) expect(error).toBeLessThan(bound);
      for (const error of relative(atanh(x), exact.map(Math.atanh))) expect(error).toBeLessThan(bound);
      const nearOne = tensor([1 + 2 ** -20, 1.0001], { dtype });
      const at = Array.from(nearOne.dataSync());
      for (const error of relative(acosh(nearOne), at.map(Math.acosh))) expect(error).toBeLessThan(bound);
    }
  });

  test('acosh matches Math.acosh: accurately near 1, NaN below 1 (also far below), finite for large x', () => {
    const xs = [1, 1 + 1e-10, 1.5, 2, 10, 1e10, 1e300, inf, 0.999, 0, -1, -2, -1e8, -inf, nan];
    expectTensor(acosh(tensor(xs, { dtype: 'float64' })), [15], 'float64', xs.map(Math.acosh), 2e-16 * 4);
    const f32 = [1, 1.0000001, 1.5, 2, 10, 1e10, 3e38, inf, 0.5, -1e8, nan];
    expectTensor(
      acosh(tensor(f32)),
      [f32.length],
      'float32',
      f32.map((v) => Math.acosh(Math.fround(v))),
      2 ** -22,
    );
  });

  test('atanh matches Math.atanh: ±Infinity at ±1, NaN outside [-1, 1], -0 kept, accurate near 0 and ±1', () => {
    const xs = [0, -0, 1e-10, -3e-5, 0.5, -0.5, 0.999999, -0.9999999999, 1, -1, 1.5, -2, inf, nan];
    expectTensor(atanh(tensor(xs, { dtype: 'float64' })), [14], 'float64', xs.map(Math.atanh), 2e-16 * 4);
    const f32 = [0, 1e-10, -3e-5, 0.5, -0.99999994, 0.999, 1, -1, 1.0000001, nan];
    expectTensor(
      atanh(tensor(f32)),
      [f32.length],
      'float32',
      f32.map((v) => Math.atanh(Math.fround(v))),
      2 ** -22,
    );
    expect(signs(atanh(tensor([-0, 0], { dtype: 'float32' })))).toEqual([true, false]);
  });

  test('compute integers in float32 and keep float16, as methods too', () => {
    expectTensor(asinh(tensor([0, 1], { dtype: 'int32' })), [2], 'float32', [0, Math.asinh(1)]);
    expectTensor(acosh(tensor([1, 2], { dtype: 'uint8' })), [2], 'float32', [0, Math.acosh(2)]);
    expectTensor(atanh(tensor([false, true])), [2], 'float32', [0, inf]);
    expectTensor(asinh(tensor([0.5, 300], { dtype: 'float16' })), [2], 'float16', [Math.asinh(0.5), Math.asinh(300)], 2e-3);
    expectTensor(acosh(tensor([1.5, 300], { dtype: 'float16' })), [2], 'float16', [Math.acosh(1.5), Math.acosh(300)], 2e-3);
    expectTensor(atanh(tensor([0.5, -0.25], { dtype: 'float16' })), [2], 'float16', [Math.atanh(0.5), Math.atanh(-0.25)], 2e-3);
    expectTensor(tensor([2]).asinh(), [1], 'float32', [Math.asinh(2)]);
    expectTensor(tensor([2]).acosh(), [1], 'float32', [Math.acosh(2)]);
    expectTensor(tensor([0.5]).atanh(), [1], 'float32', [Math.atanh(0.5)]);
  });

  test('have the derivatives 1/sqrt(x^2 + 1), 1/sqrt(x^2 - 1) and 1/(1 - x^2), at 0 too', () => {
    const d = (f: (t: Tensor) => Tensor, xs: number[]) => grad((t: Tensor) => sum(f(t)))(tensor(xs, { dtype: 'float64' }));
    const around0 = [0, -0.3, 0.7, -2, 5];
    expectTensor(
      d(asinh, around0),
      [5],
      'float64',
      around0.map((v) => 1 / Math.sqrt(v * v + 1)),
      1e-14,
    );
    const above1 = [1.2, 2, 7];
    expectTensor(
      d(acosh, above1),
      [3],
      'float64',
      above1.map((v) => 1 / Math.sqrt(v * v - 1)),
      1e-13,
    );
    const inside = [0, -0.3, 0.9];
    expectTensor(
      d(atanh, inside),
      [3],
      'float64',
      inside.map((v) => 1 / (1 - v * v)),
      1e-14,
    );
    // Second derivatives at 0: -x/(x^2 + 1)^(3/2) and 2x/(1 - x^2)^2 vanish there.
    const second = (f: (t: Tensor) => Tensor) => grad((t: Tensor) => sum(grad((u: Tensor) => sum(f(u)))(t)));
    expectTensor(second(asinh)(tensor([0, 1], { dtype: 'float64' })), [2], 'float64', [0, -1 / 2 ** 1.5], 1e-14);
    expectTensor(second(atanh)(tensor([0, 0.5], { dtype: 'float64' })), [2], 'float64', [0, 1 / 0.5625], 1e-14);
    // Large arguments take the log branch; its gradient is finite there, and the other branch adds no NaN.
    expectTensor(d(asinh, [1e30, -1e30]), [2], 'float64', [1e-30, 1e-30], 1e-14);
    expectTensor(d(acosh, [1e30]), [1], 'float64', [1e-30], 1e-14);
  });
});

describe('under jit', () => {
  test('log2, log10, exp2, sinh, cosh, asinh, acosh and atanh give the eager values', () => {
    const x = tensor([0.5, 1, 8, 1000, 3]);
    const f = jit((t: Tensor) => [log2(t), log10(t), exp2(t), sinh(t), cosh(t), asinh(t), acosh(t), atanh(t)]);
    const traced = f(x) as Tensor[];
    for (const [i, want] of [log2(x), log10(x), exp2(x), sinh(x), cosh(x), asinh(x), acosh(x), atanh(x)].entries()) {
      expect(Array.from((traced[i] as Tensor).dataSync()), `output ${i}`).toEqual(Array.from(want.dataSync()));
    }
  });
});
