import '@flint/backend-cpu';
import { grad, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float64Array);

describe('pairwiseDistance (torch.nn.functional.pairwise_distance)', () => {
  const a = tensor(
    [
      [0, 0],
      [1, 1],
    ],
    f64,
  );
  const b = tensor(
    [
      [3, 4],
      [1, 1],
    ],
    f64,
  );

  it('is the p-norm of x1 - x2 + eps over the last axis', () => {
    expect(values(F.pairwiseDistance(a, b, { eps: 0 }))).toEqual([5, 0]);
    expect(values(F.pairwiseDistance(a, b, { p: 1, eps: 0 }))).toEqual([7, 0]);
    const [d0, d1] = values(F.pairwiseDistance(a, b));
    expect(d0).toBeCloseTo(Math.hypot(-3 + 1e-6, -4 + 1e-6), 12);
    expect(d1).toBeCloseTo(Math.SQRT2 * 1e-6, 18);
    expect(values(F.pairwiseDistance(a, b, { p: 3, eps: 0 }))[0]).toBeCloseTo(Math.cbrt(27 + 64), 12);
    expect(F.pairwiseDistance(a, b, { keepdims: true }).shape).toEqual([2, 1]);
    // A row broadcast against a batch, as PyTorch.
    const [near, far] = values(F.pairwiseDistance(a, tensor([3, 4], f64), { eps: 0 }));
    expect(near).toBe(5);
    expect(far).toBeCloseTo(Math.hypot(2, 3), 14);
  });

  it('keeps a finite gradient where the rows are equal: eps moves the norm off its kink', () => {
    const g = grad((x: Tensor) => F.pairwiseDistance(x, b.index(1)).sum())(a.index(1));
    // d = (eps, eps): the 2-norm's gradient is d / |d| = 1/sqrt(2) in each coordinate.
    for (const v of values(g)) expect(v).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('refuses a non-positive order and shapes that do not broadcast', () => {
    expect(() => F.pairwiseDistance(a, b, { p: 0 })).toThrow(ValueError);
    expect(() => F.pairwiseDistance(a, tensor([1, 2, 3], f64))).toThrow(ShapeError);
  });
});

describe('cosineSimilarity (torch.nn.functional.cosine_similarity)', () => {
  it('divides the dot product by the two norms, each at least eps, along axis 1 by default', () => {
    const x1 = tensor(
      [
        [1, 0],
        [1, 1],
        [0, 0],
      ],
      f64,
    );
    const x2 = tensor(
      [
        [0, 1],
        [2, 2],
        [1, 0],
      ],
      f64,
    );
    const [orthogonal, parallel, zero] = values(F.cosineSimilarity(x1, x2));
    expect(orthogonal).toBe(0);
    expect(parallel).toBeCloseTo(1, 15);
    // A zero vector's norm is clamped to eps: similarity 0, not NaN.
    expect(zero).toBe(0);
    // Columns: [1, 1, 0] . [0, 2, 1] = 2, norms sqrt(2) and sqrt(5).
    expect(values(F.cosineSimilarity(x1, x2, { axis: 0 }))[0]).toBeCloseTo(2 / (Math.SQRT2 * Math.sqrt(5)), 15);
  });

  it('broadcasts a vector against a batch along the last axis', () => {
    const batch = tensor(
      [
        [3, 4],
        [-3, -4],
      ],
      f64,
    );
    expect(values(F.cosineSimilarity(batch, tensor([3, 4], f64), { axis: -1 })).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, -1]);
  });

  it('has the quotient rule gradient', () => {
    const u = tensor([1, 2, 2], f64);
    const v = tensor([0, 3, 4], f64);
    const g = values(grad((x: Tensor) => F.cosineSimilarity(x, v, { axis: 0 }))(u));
    // d/du (u.v / |u||v|) = v / (|u||v|) - (u.v) u / (|u|^3 |v|), with |u| = 3, |v| = 5, u.v = 14.
    const expected = [0, 3, 4].map((vi, i) => vi / 15 - (14 * ([1, 2, 2][i] as number)) / (27 * 5));
    for (const [i, gi] of g.entries()) expect(gi).toBeCloseTo(expected[i] as number, 14);
  });

  it('refuses an axis outside the inputs', () => {
    expect(() => F.cosineSimilarity(tensor([1, 2], f64), tensor([1, 2], f64))).toThrow(/axis/);
  });
});
