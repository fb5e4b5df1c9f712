import '@flint/backend-cpu';
import { DTypeError, grad, IndexError, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const int32 = { dtype: 'int32' } as const;

type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

function reduce(values: number[], reduction: Reduction): number[] {
  if (reduction === 'none') return values;
  const total = values.reduce((a, b) => a + b, 0);
  return [reduction === 'sum' ? total : total / values.length];
}

const norm = (d: number[], p: number) => d.reduce((s, v) => s + Math.abs(v) ** p, 0) ** (1 / p);

describe('hingeEmbeddingLoss and softMarginLoss', () => {
  const random = seededRandom(21);
  const x = randomValues(random, 6, -2, 2);
  const labels = [1, -1, 1, -1, -1, 1];

  it('hingeEmbeddingLoss is x for y = 1 and max(0, margin - x) for y = -1', () => {
    const pointwise = x.map((v, i) => (labels[i] === 1 ? v : Math.max(0, 1.5 - v)));
    for (const reduction of REDUCTIONS) {
      const out = F.hingeEmbeddingLoss(tensor(x, { shape: [2, 3], ...f64 }), tensor(labels, { shape: [2, 3] }), { margin: 1.5, reduction });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
    }
    // As PyTorch: a label other than ±1 adds both terms; default margin 1.
    expect(F.hingeEmbeddingLoss(tensor([0.25], f64), tensor([0], f64), { reduction: 'sum' }).item()).toBe(0.25 + 0.75);
  });

  it('hingeEmbeddingLoss passes the whole gradient at the hinge (clamp_min)', () => {
    const g = grad((v: Tensor) => F.hingeEmbeddingLoss(v, tensor([-1, -1, -1, 1], f64), { reduction: 'sum' }));
    expect(Array.from(g(tensor([1, 0.5, 2, 1], f64)).dataSync())).toEqual([-1, -1, 0, 1]);
  });

  it('softMarginLoss is log(1 + exp(-y x))', () => {
    const pointwise = x.map((v, i) => Math.log1p(Math.exp(-(labels[i] as number) * v)));
    for (const reduction of REDUCTIONS) {
      const out = F.softMarginLoss(tensor(x, f64), tensor(labels, f64), { reduction });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
    }
    const g = grad((v: Tensor) => F.softMarginLoss(v, tensor([1, -1], f64), { reduction: 'sum' }))(tensor([0, 0], f64));
    expect(Array.from(g.dataSync())).toEqual([-0.5, 0.5]);
  });

  it('check their reduction and shapes, naming the op', () => {
    expect(() => F.softMarginLoss(tensor([1, 2]), tensor([1, 1]), { reduction: 'avg' as never })).toThrow(
      /^softMarginLoss: reduction must be one of 'mean', 'sum', 'none', got "avg"/,
    );
    expect(() => F.hingeEmbeddingLoss(tensor([1, 2]), tensor([1, 1, 1]))).toThrow(ShapeError);
    expect(() => F.hingeEmbeddingLoss(tensor([1, 2]), tensor([1, 1]), { margin: Number.NaN })).toThrow(/hingeEmbeddingLoss: margin/);
  });
});

describe('tripletMarginLoss', () => {
  const random = seededRandom(22);
  const a = randomValues(random, 8);
  const p = randomValues(random, 8);
  const n = randomValues(random, 8);
  const rows = (v: number[]) => [v.slice(0, 4), v.slice(4)];
  const distance = (u: number[], v: number[], degree: number, eps: number) =>
    norm(
      u.map((x, i) => x - (v[i] as number) + eps),
      degree,
    );

  it('matches max(0, margin + d(a, p) - d(a, n)) for p = 1, 2, 3, with and without swap', () => {
    for (const degree of [1, 2, 3]) {
      for (const swap of [false, true]) {
        const pointwise = [0, 1].map((i) => {
          const [ai, pi, ni] = [rows(a)[i], rows(p)[i], rows(n)[i]] as number[][];
          let negative = distance(ai as number[], ni as number[], degree, 1e-6);
          if (swap) negative = Math.min(negative, distance(pi as number[], ni as number[], degree, 1e-6));
          return Math.max(0, 0.7 + distance(ai as number[], pi as number[], degree, 1e-6) - negative);
        });
        for (const reduction of REDUCTIONS) {
          const out = F.tripletMarginLoss(tensor(rows(a), f64), tensor(rows(p), f64), tensor(rows(n), f64), {
            margin: 0.7,
            p: degree,
            swap,
            reduction,
          });
          expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('takes unbatched [D] inputs and passes the gradient at the hinge', () => {
    // d(a, p) = 1, d(a, n) = 2 (eps 0), margin 1: exactly at the hinge; d loss / d a = (a - p) / 1 - (a - n) / 2.
    const g = grad((anchor: Tensor) => F.tripletMarginLoss(anchor, tensor([1, 0], f64), tensor([0, 2], f64), { eps: 0 }))(
      tensor([0, 0], f64),
    );
    expect(Array.from(g.dataSync())).toEqual([-1, 1]);
    expect(F.tripletMarginLoss(tensor([0, 0], f64), tensor([1, 0], f64), tensor([0, 3], f64), { eps: 0 }).item()).toBe(0);
  });

  it('checks ranks and options', () => {
    expect(() => F.tripletMarginLoss(tensor([[1]]), tensor([1]), tensor([1]))).toThrow(/^tripletMarginLoss: anchor, positive and negative/);
    expect(() => F.tripletMarginLoss(tensor([1]), tensor([1]), tensor([1]), { p: 0 })).toThrow(/tripletMarginLoss: p must be > 0/);
    expect(() => F.tripletMarginLoss(tensor([1]), tensor([1]), tensor([1]), { swap: 1 as never })).toThrow(ValueError);
  });
});

describe('multiMarginLoss and multiLabelSoftMarginLoss', () => {
  const random = seededRandom(23);
  const x = [randomValues(random, 4), randomValues(random, 4), randomValues(random, 4)];
  const y = [3, 0, 2];
  const w = [0.5, 1, 2, 1.5];

  it("multiMarginLoss matches PyTorch's formula for p 1 and 2, margins and weights", () => {
    for (const p of [1, 2] as const) {
      for (const weight of [null, w]) {
        const pointwise = x.map((row, r) => {
          const target = y[r] as number;
          let total = 0;
          row.forEach((v, i) => {
            if (i === target) return;
            const z = 0.8 - (row[target] as number) + v;
            if (z > 0) total += p === 1 ? z : z * z;
          });
          return (total / row.length) * (weight === null ? 1 : (weight[target] as number));
        });
        for (const reduction of REDUCTIONS) {
          const out = F.multiMarginLoss(tensor(x, f64), tensor(y, int32), {
            p,
            margin: 0.8,
            weight: weight === null ? null : tensor(weight, f64),
            reduction,
          });
          expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
        }
      }
    }
    // PyTorch's documented example: x = [0.1, 0.2, 0.4, 0.8], y = 3 gives 0.325.
    expect(F.multiMarginLoss(tensor([[0.1, 0.2, 0.4, 0.8]], f64), tensor([3], int32)).item()).toBeCloseTo(0.325, 12);
    expect(F.multiMarginLoss(tensor([0.1, 0.2, 0.4, 0.8], f64), tensor(3, int32)).item()).toBeCloseTo(0.325, 12);
  });

  it('multiMarginLoss passes no gradient at the hinge (z > 0 in PyTorch)', () => {
    // z for class 1 is 1 - 1 + 0 = 0 (the hinge), for class 2 it is 1 - 1 + 0.5 = 0.5.
    const g = grad((v: Tensor) => F.multiMarginLoss(v, tensor(0, int32), { reduction: 'sum' }))(tensor([1, 0, 0.5], f64));
    expect(Array.from(g.dataSync())).toEqual([-1 / 3, 0, 1 / 3]);
  });

  it('multiMarginLoss checks targets, p and weight', () => {
    expect(() => F.multiMarginLoss(tensor([[1, 2]]), tensor([2], int32))).toThrow(IndexError);
    expect(() => F.multiMarginLoss(tensor([[1, 2]]), tensor([1], f64))).toThrow(DTypeError);
    expect(() => F.multiMarginLoss(tensor([[1, 2]]), tensor([1, 0], int32))).toThrow(/^multiMarginLoss: target must have shape \[1\]/);
    expect(() => F.multiMarginLoss(tensor([[1, 2]]), tensor([1], int32), { p: 3 as never })).toThrow(/multiMarginLoss: p must be 1 or 2/);
    expect(() => F.multiMarginLoss(tensor([[1, 2]]), tensor([1], int32), { weight: tensor([1, 2, 3]) })).toThrow(
      /multiMarginLoss: weight must have shape \[2\]/,
    );
  });

  it('multiLabelSoftMarginLoss is the class mean of the binary log-likelihoods, weighted', () => {
    const targets = [
      [1, 0, 1, 0],
      [0, 0, 1, 1],
      [1, 1, 1, 0],
    ];
    const logSigmoid = (v: number) => -Math.log1p(Math.exp(-v));
    for (const weight of [null, w]) {
      const perRow = x.map(
        (row, r) =>
          row.reduce((s, v, c) => {
            const t = (targets[r] as number[])[c] as number;
            return s - (t * logSigmoid(v) + (1 - t) * logSigmoid(-v)) * (weight === null ? 1 : (weight[c] as number));
          }, 0) / 4,
      );
      for (const reduction of REDUCTIONS) {
        const out = F.multiLabelSoftMarginLoss(tensor(x, f64), tensor(targets, f64), {
          weight: weight === null ? null : tensor(weight, f64),
          reduction,
        });
        expect(out.shape).toEqual(reduction === 'none' ? [3] : []);
        expect(maxDifference(out.dataSync(), reduce(perRow, reduction))).toBeLessThan(1e-12);
      }
    }
    expect(() => F.multiLabelSoftMarginLoss(tensor([[1, 2]]), tensor([1, 0]))).toThrow(/^multiLabelSoftMarginLoss: target must have/);
  });
});

describe('multiLabelMarginLoss', () => {
  /** PyTorch's formula: targets up to the first -1; Σ_j Σ_{i not a target} max(0, 1 - (x[y_j] - x[i])) / C. */
  function reference(x: number[][], y: number[][]): number[] {
    return x.map((row, r) => {
      const labels = y[r] as number[];
      const end = labels.indexOf(-1);
      const targets = end === -1 ? labels : labels.slice(0, end);
      let total = 0;
      for (const j of targets)
        row.forEach((v, i) => {
          if (!targets.includes(i)) total += Math.max(0, 1 - ((row[j] as number) - v));
        });
      return total / row.length;
    });
  }

  it('matches PyTorch’s formula and its documented example', () => {
    const random = seededRandom(24);
    const x = [randomValues(random, 4), randomValues(random, 4), randomValues(random, 4)];
    const y = [
      [3, 0, -1, 1],
      [2, 2, 1, -1],
      [-1, 0, 1, 2],
    ];
    for (const reduction of REDUCTIONS) {
      const out = F.multiLabelMarginLoss(tensor(x, f64), tensor(y, int32), { reduction });
      expect(maxDifference(out.dataSync(), reduce(reference(x, y), reduction))).toBeLessThan(1e-12);
    }
    expect(F.multiLabelMarginLoss(tensor([[0.1, 0.2, 0.4, 0.8]], f64), tensor([[3, 0, -1, 1]], int32)).item()).toBeCloseTo(0.85, 12);
    expect(F.multiLabelMarginLoss(tensor([0.1, 0.2, 0.4, 0.8], f64), tensor([3, 0, -1, 1], int32)).item()).toBeCloseTo(0.85, 12);
    const module = new nn.MultiLabelMarginLoss({ reduction: 'sum' }).forward(tensor(x, f64), tensor(y, int32));
    expect(module.item()).toBe(F.multiLabelMarginLoss(tensor(x, f64), tensor(y, int32), { reduction: 'sum' }).item());
  });

  it('passes no gradient at the hinge (z > 0 in PyTorch)', () => {
    // Target 0: z = 1 - 1 + 0 = 0 for class 1 (the hinge), 1 - 1 + 0.5 = 0.5 for class 2.
    const g = grad((v: Tensor) => F.multiLabelMarginLoss(v, tensor([0, -1, 2], int32), { reduction: 'sum' }))(tensor([1, 0, 0.5], f64));
    expect(Array.from(g.dataSync())).toEqual([-1 / 3, 0, 1 / 3]);
  });

  it('checks targets, naming the op', () => {
    expect(() => F.multiLabelMarginLoss(tensor([[1, 2]], f64), tensor([[2, -1]], int32))).toThrow(IndexError);
    expect(() => F.multiLabelMarginLoss(tensor([[1, 2]], f64), tensor([[1, -1]], f64))).toThrow(DTypeError);
    expect(() => F.multiLabelMarginLoss(tensor([[1, 2]], f64), tensor([1, -1], int32))).toThrow(
      /^multiLabelMarginLoss: target must have the input's shape/,
    );
  });
});
