import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { initialSeed, manualSeed, rand, randint, randn, random, randperm, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function meanAndVariance(xs: readonly number[]): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return [mean, variance];
}

describe('keys', () => {
  it('key(seed) holds the high and low 32 bits of the seed', () => {
    const k = random.key(5);
    expect(k.dtype).toBe('int32');
    expect(k.shape).toEqual([2]);
    expect(values(k)).toEqual([0, 5]);
    expect(values(random.key(2 ** 32 + 7))).toEqual([1, 7]);
    expect(values(random.key(-1))).toEqual([-1, -1]);
    expect(() => random.key(1.5)).toThrow(/seed must be an integer/);
  });

  it('split derives distinct keys deterministically', () => {
    const k = random.key(0);
    const keys = random.split(k, 4);
    expect(keys.shape).toEqual([4, 2]);
    expect(values(random.split(k, 4))).toEqual(values(keys));
    const rows = new Set((keys.arraySync() as number[][]).map((r) => r.join(',')));
    expect(rows.size).toBe(4);
    expect(values(random.split(random.key(1), 4))).not.toEqual(values(keys));
    const [a, b] = random.splitKeys(k);
    expect(a!.shape).toEqual([2]);
    expect(values(a!)).toEqual((keys.arraySync() as number[][])[0]);
    expect(values(b!)).toEqual((keys.arraySync() as number[][])[1]);
    expect(values(random.keyAt(keys, -1))).toEqual((keys.arraySync() as number[][])[3]);
    expect(() => random.split(tensor([1, 2, 3]))).toThrow(/expected a random key/);
    expect(() => random.split(k, 0)).toThrow(ValueError);
  });

  it('split children give independent streams', () => {
    const [a, b] = random.splitKeys(random.key(7));
    const xs = values(random.uniform(a!, [4000]));
    const ys = values(random.uniform(b!, [4000]));
    const [mx, vx] = meanAndVariance(xs);
    const [my, vy] = meanAndVariance(ys);
    let covariance = 0;
    for (let i = 0; i < xs.length; i++) covariance += (xs[i]! - mx) * (ys[i]! - my);
    covariance /= xs.length;
    // Correlation of independent streams is ~ N(0, 1/sqrt(4000)) ~ 0.016.
    expect(Math.abs(covariance / Math.sqrt(vx * vy))).toBeLessThan(0.08);
  });

  it('foldIn is deterministic, depends on data, and separates structured seeds', () => {
    const k = random.key(3);
    expect(values(random.foldIn(k, 1))).toEqual(values(random.foldIn(k, 1)));
    expect(values(random.foldIn(k, 1))).not.toEqual(values(random.foldIn(k, 2)));
    expect(values(random.foldIn(k, tensor(2)))).toEqual(values(random.foldIn(k, 2)));
    // key(5) and key(6) differ by one in the low word; folding 1 and 0 must not collide.
    expect(values(random.foldIn(random.key(5), 1))).not.toEqual(values(random.foldIn(random.key(6), 0)));
    expect(() => random.foldIn(k, 0.5)).toThrow(/data must be an integer/);
  });
});

describe('distributions', () => {
  it('uniform is deterministic per key and differs between keys', () => {
    const a = values(random.uniform(random.key(0), [100]));
    expect(values(random.uniform(random.key(0), [100]))).toEqual(a);
    expect(values(random.uniform(random.key(1), [100]))).not.toEqual(a);
  });

  it('uniform respects bounds and has the right moments', () => {
    const xs = values(random.uniform(random.key(11), [10000], { minval: -2, maxval: 4 }));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(4);
    const [mean, variance] = meanAndVariance(xs);
    expect(mean).toBeCloseTo(1, 1); // sd of the mean: 1.73 / 100
    expect(variance).toBeGreaterThan(3 * 0.93); // (b - a)^2 / 12 = 3
    expect(variance).toBeLessThan(3 * 1.07);
    expect(random.uniform(random.key(0), [2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => random.uniform(random.key(0), [2], { dtype: 'int32' })).toThrow(/dtype must be floating/);
    expect(() => random.uniform(random.key(0), [2], { minval: 2, maxval: 1 })).toThrow(/minval <= maxval/);
  });

  it('normal has mean 0, variance 1, symmetric tails and no infinities', () => {
    const t = random.normal(random.key(12), [100, 100]);
    expect(t.shape).toEqual([100, 100]);
    const xs = values(t);
    expect(xs.every(Number.isFinite)).toBe(true);
    const [mean, variance] = meanAndVariance(xs);
    expect(Math.abs(mean)).toBeLessThan(0.05); // sd of the mean: 0.01
    expect(variance).toBeGreaterThan(0.94);
    expect(variance).toBeLessThan(1.06);
    const beyond2 = xs.filter((x) => Math.abs(x) > 2).length / xs.length;
    expect(beyond2).toBeGreaterThan(0.035); // P(|z| > 2) = 0.0455
    expect(beyond2).toBeLessThan(0.056);
    // odd sizes use half of the last Box-Muller pair
    expect(random.normal(random.key(1), [3]).shape).toEqual([3]);
    expect(random.normal(random.key(1), []).shape).toEqual([]);
    expect(values(random.normal(random.key(1), [5]))).toEqual(values(random.normal(random.key(1), [5])));
  });

  it('randint stays in [minval, maxval) and hits every value', () => {
    const xs = values(random.randint(random.key(13), [10000], -3, 4));
    expect(Math.min(...xs)).toBe(-3);
    expect(Math.max(...xs)).toBe(3);
    for (let v = -3; v <= 3; v++) {
      const count = xs.filter((x) => x === v).length;
      expect(count).toBeGreaterThan(10000 / 7 - 200);
      expect(count).toBeLessThan(10000 / 7 + 200);
    }
    expect(random.randint(random.key(0), [2], 0, 5).dtype).toBe('int32');
    expect(() => random.randint(random.key(0), [2], 5, 5)).toThrow(/minval < maxval/);
  });

  it('bernoulli is true with probability p', () => {
    const xs = values(random.bernoulli(random.key(14), 0.3, [10000]));
    const frequency = xs.filter((x) => x === 1).length / xs.length;
    expect(frequency).toBeGreaterThan(0.27);
    expect(frequency).toBeLessThan(0.33);
    const perElement = random.bernoulli(random.key(15), tensor([0, 1, 0, 1]));
    expect(perElement.dtype).toBe('bool');
    expect(perElement.arraySync()).toEqual([false, true, false, true]);
    expect(() => random.bernoulli(random.key(0), tensor([0.1, 0.2]), [3])).toThrow(ShapeError);
  });

  it('permutation returns every index once, and shuffles rows', () => {
    const p = random.permutation(random.key(16), 50);
    expect(p.dtype).toBe('int32');
    const xs = values(p);
    expect([...xs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(xs).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const rows = tensor([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const shuffled = random.permutation(random.key(17), rows).arraySync() as number[][];
    expect(shuffled.map((r) => r[0]).sort()).toEqual([0, 1, 2, 3]);
    for (const r of shuffled) expect(r[0]).toBe(r[1]);
  });
});

describe('global generator', () => {
  it('manualSeed makes randn, rand, randint and randperm reproducible', () => {
    manualSeed(123);
    expect(initialSeed()).toBe(123);
    const a = [values(randn([5])), values(rand([5])), values(randint(10, [5])), values(randperm(6))];
    manualSeed(123);
    const b = [values(randn([5])), values(rand([5])), values(randint(10, [5])), values(randperm(6))];
    expect(b).toEqual(a);
    manualSeed(124);
    expect(values(randn([5]))).not.toEqual(a[0]);
  });

  it('successive calls draw different values', () => {
    manualSeed(0);
    expect(values(randn([4]))).not.toEqual(values(randn([4])));
  });

  it('supports both randint signatures, dtypes and ranges', () => {
    manualSeed(1);
    const low = values(randint(-5, 5, [1000]));
    expect(Math.min(...low)).toBe(-5);
    expect(Math.max(...low)).toBe(4);
    const high = values(randint(3, [1000]));
    expect(new Set(high)).toEqual(new Set([0, 1, 2]));
    expect(randint(3, [2], { dtype: 'float32' }).dtype).toBe('float32');
    expect(randn([2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => randn([2], { dtype: 'int32' })).toThrow(/dtype must be floating/);
    expect(() => manualSeed(0.5)).toThrow(ValueError);
    const perm = values(randperm(20));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
