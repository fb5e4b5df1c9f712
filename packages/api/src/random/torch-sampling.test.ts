import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import {
  bernoulli,
  finfo,
  iinfo,
  jit,
  manualSeed,
  multinomial,
  poisson,
  randintLike,
  randLike,
  randnLike,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '@flint/api';

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function frequencies(xs: readonly number[], categories: number): number[] {
  const counts = new Array<number>(categories).fill(0);
  for (const x of xs) counts[x]! += 1;
  return counts.map((c) => c / xs.length);
}

/** Within five standard errors of a binomial proportion. */
function expectProportion(observed: number, p: number, n: number): void {
  expect(Math.abs(observed - p), `observed ${observed}, expected ${p}`).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
}

describe('multinomial', () => {
  it('with replacement draws in proportion to unnormalized weights, never a zero weight', () => {
    manualSeed(1);
    const n = 20_000;
    const draws = multinomial(tensor([2, 0, 6, 2, 0]), n, { replacement: true });
    expect(draws.dtype).toBe('int32');
    expect(draws.shape).toEqual([n]);
    const f = frequencies(values(draws), 5);
    expect(f[1]).toBe(0);
    expect(f[4]).toBe(0);
    for (const [i, p] of [0.2, 0, 0.6, 0.2, 0].entries()) expectProportion(f[i] as number, p, n);
  });

  it('without replacement draws distinct categories of each row, first picks weighted as torch', () => {
    manualSeed(2);
    const weights = tensor([
      [0.1, 0.2, 0.7, 0],
      [1, 1, 1, 1],
    ]);
    const picks = multinomial(weights, 3);
    expect(picks.shape).toEqual([2, 3]);
    const [first, second] = picks.arraySync() as number[][];
    expect(new Set(first).size).toBe(3);
    expect(first).not.toContain(3);
    expect(new Set(second).size).toBe(3);
    // The first pick of a weighted draw without replacement is a draw from the weights.
    const rows = 5000;
    const batch = multinomial(tensor(Array.from({ length: rows }, () => [0.1, 0.2, 0.7])), 1);
    const f = frequencies(values(batch), 3);
    for (const [i, p] of [0.1, 0.2, 0.7].entries()) expectProportion(f[i] as number, p, rows);
  });

  it('repeats after manualSeed, differs between calls, and runs under jit', () => {
    const w = tensor([1, 2, 3, 4]);
    manualSeed(7);
    const a = values(multinomial(w, 10, { replacement: true }));
    const b = values(multinomial(w, 10, { replacement: true }));
    manualSeed(7);
    expect(values(multinomial(w, 10, { replacement: true }))).toEqual(a);
    expect(b).not.toEqual(a);
    manualSeed(7);
    const compiled = jit((x: Tensor) => multinomial(x, 10, { replacement: true }));
    expect(values(compiled(w))).toEqual(a);
  });

  it('names bad input', () => {
    expect(() => multinomial(tensor([0.5, -0.1]), 1)).toThrow(/finite and non-negative, got -0\.1\d* at row 0, category 1/);
    expect(() => multinomial(tensor([0.5, Number.NaN]), 1)).toThrow(/got NaN at row 0, category 1/);
    expect(() =>
      multinomial(
        tensor([
          [1, 1],
          [0, 0],
        ]),
        1,
      ),
    ).toThrow(/row 1 has no positive weight/);
    expect(() => multinomial(tensor([1, 0, 0]), 2)).toThrow(/1 positive weights, too few to draw 2 distinct/);
    expect(() => multinomial(tensor([1, 1]), 3)).toThrow(/without replacement from 2 categories/);
    expect(() => multinomial(tensor([1, 1]), 0)).toThrow(/positive integer/);
    expect(() => multinomial(zeros([2, 2, 2]), 1)).toThrow(ShapeError);
  });
});

describe('poisson, bernoulli and the *Like samplers', () => {
  it('poisson keeps the rates dtype and shape, with mean the rate', () => {
    manualSeed(3);
    const draws = poisson(tensor(Array.from({ length: 10_000 }, () => 3.5)));
    expect(draws.dtype).toBe('float32');
    const xs = values(draws);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 3.5)).toBeLessThan(5 * Math.sqrt(3.5 / xs.length));
    expect(() => poisson(tensor([1, 2]))).toThrow(/rates must be floating/);
  });

  it('bernoulli draws 0 or 1 with the given probabilities, or with p', () => {
    manualSeed(4);
    const xs = bernoulli(tensor([0, 1, 0.5, 0.5]));
    expect(xs.dtype).toBe('float32');
    const v = values(xs);
    expect(v[0]).toBe(0);
    expect(v[1]).toBe(1);
    const n = 10_000;
    const half = values(bernoulli(zeros([n]), { p: 0.3 }));
    expectProportion(half.reduce((a, b) => a + b, 0) / n, 0.3, n);
    expect(() => bernoulli(zeros([2]), { p: 2 })).toThrow(ValueError);
  });

  it('randLike, randnLike and randintLike follow the template', () => {
    manualSeed(5);
    const template = zeros([3, 4], { dtype: 'float64' });
    expect(randLike(template).shape).toEqual([3, 4]);
    expect(randLike(template).dtype).toBe('float64');
    expect(randnLike(template, { dtype: 'float32' }).dtype).toBe('float32');
    const ints = randintLike(tensor([1, 2, 3]), 5, 8);
    expect(ints.dtype).toBe('int32');
    expect(values(ints).every((x) => x >= 5 && x < 8)).toBe(true);
    expect(values(randintLike(tensor([1, 2, 3]), 2)).every((x) => x === 0 || x === 1)).toBe(true);
    expect(() => randnLike(tensor([1, 2]))).toThrow(/dtype must be floating/);
  });
});

describe('finfo and iinfo', () => {
  it('match torch.finfo and torch.iinfo', () => {
    expect(finfo('float32')).toMatchObject({ bits: 32, eps: 2 ** -23, max: 3.4028234663852886e38, tiny: 2 ** -126, resolution: 1e-6 });
    expect(finfo('float64')).toMatchObject({ eps: Number.EPSILON, max: Number.MAX_VALUE, tiny: 2 ** -1022, precision: 15 });
    expect(finfo('float16')).toMatchObject({ bits: 16, eps: 2 ** -10, max: 65504, min: -65504, tiny: 2 ** -14 });
    expect(finfo('bfloat16')).toMatchObject({ eps: 2 ** -7, max: 3.3895313892515355e38, tiny: 2 ** -126, precision: 2 });
    expect(iinfo('int32')).toMatchObject({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    expect(iinfo('uint8')).toMatchObject({ min: 0, max: 255 });
    expect(() => finfo('int32')).toThrow(/not a floating dtype/);
    expect(() => iinfo('float32')).toThrow(/not an integer dtype/);
  });
});
