import '@flint/backend-cpu';
import { grad, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;

type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

function reduce(values: number[], reduction: Reduction): number[] {
  if (reduction === 'none') return values;
  const total = values.reduce((a, b) => a + b, 0);
  return [reduction === 'sum' ? total : total / values.length];
}

describe('poissonNllLoss', () => {
  const random = seededRandom(31);
  const x = randomValues(random, 6, 0.1, 3);
  const y = [0, 1, 2, 5, 0.5, 3];
  const stirling = (t: number) => (t > 1 ? t * Math.log(t) - t + 0.5 * Math.log(2 * Math.PI * t) : 0);

  it('matches exp(x) - y x (logInput) and x - y log(x + eps), with and without the Stirling term', () => {
    for (const logInput of [true, false]) {
      for (const full of [false, true]) {
        const pointwise = x.map((v, i) => {
          const t = y[i] as number;
          const base = logInput ? Math.exp(v) - t * v : v - t * Math.log(v + 1e-8);
          return base + (full ? stirling(t) : 0);
        });
        for (const reduction of REDUCTIONS) {
          const out = F.poissonNllLoss(tensor(x, { shape: [2, 3], ...f64 }), tensor(y, { shape: [2, 3], ...f64 }), {
            logInput,
            full,
            reduction,
          });
          expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('the Stirling term is constant in the input', () => {
    const g = grad((v: Tensor) => F.poissonNllLoss(v, tensor([3, 0], f64), { full: true, reduction: 'sum' }))(tensor([0, 1], f64));
    expect(maxDifference(g.dataSync(), [1 - 3, Math.E])).toBeLessThan(1e-12);
  });

  it('checks its options', () => {
    expect(() => F.poissonNllLoss(tensor([1]), tensor([1]), { logInput: 1 as never })).toThrow(
      /^poissonNllLoss: logInput must be a boolean/,
    );
    expect(() =>
      F.poissonNllLoss(
        tensor([1]),
        tensor([1, 2, 3])
          .reshape([3, 1])
          .add(tensor([[1, 2]])),
      ),
    ).not.toThrow();
    expect(() => F.poissonNllLoss(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(ShapeError);
  });
});

describe('gaussianNllLoss', () => {
  const random = seededRandom(32);
  const mu = randomValues(random, 6);
  const t = randomValues(random, 6);
  const v = randomValues(random, 6, 0.2, 2);
  const term = (m: number, target: number, variance: number, full: boolean) =>
    0.5 * (Math.log(variance) + (m - target) ** 2 / variance) + (full ? 0.5 * Math.log(2 * Math.PI) : 0);

  it('matches (log var + (x - y)^2 / var) / 2 for every reduction, with full', () => {
    for (const full of [false, true]) {
      const pointwise = mu.map((m, i) => term(m, t[i] as number, v[i] as number, full));
      for (const reduction of REDUCTIONS) {
        const out = F.gaussianNllLoss(
          tensor(mu, { shape: [2, 3], ...f64 }),
          tensor(t, { shape: [2, 3], ...f64 }),
          tensor(v, { shape: [2, 3], ...f64 }),
          {
            full,
            reduction,
          },
        );
        expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
      }
    }
  });

  it('broadcasts one variance per sample ([N] or [N, 1]) and a number, as PyTorch', () => {
    const input = tensor(mu, { shape: [2, 3], ...f64 });
    const target = tensor(t, { shape: [2, 3], ...f64 });
    const perSample = [0.5, 2];
    const expected = mu.map((m, i) => term(m, t[i] as number, perSample[Math.floor(i / 3)] as number, false));
    for (const variance of [tensor(perSample, f64), tensor(perSample, { shape: [2, 1], ...f64 })]) {
      expect(maxDifference(F.gaussianNllLoss(input, target, variance, { reduction: 'none' }).dataSync(), expected)).toBeLessThan(1e-12);
    }
    const constant = mu.map((m, i) => term(m, t[i] as number, 0.5, false));
    expect(maxDifference(F.gaussianNllLoss(input, target, 0.5, { reduction: 'none' }).dataSync(), constant)).toBeLessThan(1e-12);
    expect(() => F.gaussianNllLoss(input, target, tensor([1, 2, 3], f64))).toThrow(
      /^gaussianNllLoss: variance of shape \[3\] does not fit input \[2, 3\]/,
    );
  });

  it('clamps the variance to eps with the gradient passing, and refuses negative variances', () => {
    // var 0 is used as eps = 0.5 in the value; d/dvar = (1/var - (x - y)^2 / var^2) / 2 at var = eps.
    const value = F.gaussianNllLoss(tensor([1], f64), tensor([0], f64), tensor([0], f64), { eps: 0.5 }).item();
    expect(value).toBeCloseTo(term(1, 0, 0.5, false), 12);
    const g = grad((variance: Tensor) => F.gaussianNllLoss(tensor([1], f64), tensor([0], f64), variance, { eps: 0.5 }))(tensor([0], f64));
    expect(g.item()).toBeCloseTo(0.5 * (1 / 0.5 - 1 / 0.25), 12);
    expect(() => F.gaussianNllLoss(tensor([1]), tensor([1]), tensor([-1]))).toThrow(ValueError);
    expect(() => F.gaussianNllLoss(tensor([1]), tensor([1]), tensor([-1]))).toThrow(/^gaussianNllLoss: variance has negative entries/);
  });
});
