import '@flint/backend-cpu';
import { grad, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;

/** PyTorch's formula: the mean of squares over channels [c - floor(size/2), c + floor((size-1)/2)], zeros outside, divided by size. */
function reference(x: number[], [n, c, spatial]: [number, number, number], size: number, alpha: number, beta: number, k: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let s = 0; s < spatial; s++) {
        let total = 0;
        for (let j = ch - Math.floor(size / 2); j <= ch + Math.floor((size - 1) / 2); j++) {
          if (j >= 0 && j < c) total += (x[(b * c + j) * spatial + s] as number) ** 2;
        }
        out.push((x[(b * c + ch) * spatial + s] as number) / (k + (alpha * total) / size) ** beta);
      }
  return out;
}

describe('localResponseNorm', () => {
  const random = seededRandom(61);
  const data = randomValues(random, 2 * 5 * 6, -3, 3);

  it('matches PyTorch’s formula for odd and even sizes, 3-d and 4-d inputs', () => {
    for (const [size, alpha, beta, k] of [
      [3, 1e-4, 0.75, 1],
      [2, 0.5, 0.5, 2],
      [5, 1, 1.5, 0.5],
    ] as const) {
      const expected = reference(data, [2, 5, 6], size, alpha, beta, k);
      const x3 = tensor(data, { shape: [2, 5, 6], ...f64 });
      expect(maxDifference(F.localResponseNorm(x3, size, { alpha, beta, k }).dataSync(), expected)).toBeLessThan(1e-12);
      const x4 = tensor(data, { shape: [2, 5, 2, 3], ...f64 });
      expect(maxDifference(F.localResponseNorm(x4, size, { alpha, beta, k }).dataSync(), expected)).toBeLessThan(1e-12);
    }
  });

  it('is differentiable, and the module computes what the function computes', () => {
    const x = tensor(data, { shape: [2, 5, 6], ...f64 });
    const g = grad((v: Tensor) => F.localResponseNorm(v, 3, { alpha: 0.5 }).sum())(x);
    const h = 1e-6;
    const bumped = data.slice();
    bumped[7] = (bumped[7] as number) + h;
    const lowered = data.slice();
    lowered[7] = (lowered[7] as number) - h;
    const sumOf = (d: number[]) => reference(d, [2, 5, 6], 3, 0.5, 0.75, 1).reduce((a, b) => a + b, 0);
    expect(Math.abs((g.dataSync()[7] as number) - (sumOf(bumped) - sumOf(lowered)) / (2 * h))).toBeLessThan(1e-6);
    const layer = new nn.LocalResponseNorm(4, { k: 2 });
    expect(Array.from(layer.forward(x).dataSync())).toEqual(Array.from(F.localResponseNorm(x, 4, { k: 2 }).dataSync()));
    expect(layer.toString()).toBe('LocalResponseNorm(4, alpha=0.0001, beta=0.75, k=2)');
  });

  it('checks its input and options, naming the op', () => {
    expect(() => F.localResponseNorm(tensor([[1, 2]], f64), 2)).toThrow(ShapeError);
    expect(() => F.localResponseNorm(tensor([[1, 2]], f64), 2)).toThrow(/^localResponseNorm: input must have at least 3 axes/);
    expect(() => F.localResponseNorm(tensor([[[1]]], f64), 0)).toThrow(/^localResponseNorm: size must be a positive integer/);
    expect(() => new nn.LocalResponseNorm(2, { beta: Number.NaN })).toThrow(ValueError);
  });
});
