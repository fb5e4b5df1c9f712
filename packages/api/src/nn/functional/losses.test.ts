import '@flint/backend-cpu';
import { DTypeError, grad, IndexError, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom, sigmoidReference, softmaxRow } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;

type Reduction = 'mean' | 'sum' | 'none';

function reduce(values: number[], reduction: Reduction): number[] {
  if (reduction === 'none') return values;
  const total = values.reduce((a, b) => a + b, 0);
  return [reduction === 'sum' ? total : total / values.length];
}

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

describe('regression losses', () => {
  const random = seededRandom(10);
  const x = randomValues(random, 12, -3, 3);
  const y = randomValues(random, 12, -3, 3);
  const input = tensor(x, { shape: [3, 4], ...f64 });
  const target = tensor(y, { shape: [3, 4], ...f64 });
  const d = x.map((v, i) => v - (y[i] as number));

  const cases: [string, (reduction: Reduction) => ReturnType<typeof F.mseLoss>, (v: number) => number][] = [
    ['mseLoss', (reduction) => F.mseLoss(input, target, { reduction }), (v) => v * v],
    ['l1Loss', (reduction) => F.l1Loss(input, target, { reduction }), Math.abs],
    [
      'smoothL1Loss beta 0.5',
      (reduction) => F.smoothL1Loss(input, target, { reduction, beta: 0.5 }),
      (v) => (Math.abs(v) < 0.5 ? (0.5 * v * v) / 0.5 : Math.abs(v) - 0.25),
    ],
    ['smoothL1Loss beta 0', (reduction) => F.smoothL1Loss(input, target, { reduction, beta: 0 }), Math.abs],
    [
      'huberLoss delta 1.5',
      (reduction) => F.huberLoss(input, target, { reduction, delta: 1.5 }),
      (v) => (Math.abs(v) <= 1.5 ? 0.5 * v * v : 1.5 * (Math.abs(v) - 0.75)),
    ],
  ];
  for (const [name, run, pointwise] of cases) {
    it(`${name} matches the formula for every reduction`, () => {
      for (const reduction of REDUCTIONS) {
        const out = run(reduction);
        expect(out.shape).toEqual(reduction === 'none' ? [3, 4] : []);
        expect(maxDifference(out.dataSync(), reduce(d.map(pointwise), reduction))).toBeLessThan(1e-12);
      }
    });
  }

  it('broadcast and reject bad arguments', () => {
    expect(F.mseLoss(tensor([1, 2]), tensor(1)).item()).toBeCloseTo(0.5, 6);
    expect(() => F.mseLoss(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => F.l1Loss(tensor([1]), tensor([1]), { reduction: 'avg' as Reduction })).toThrow(
      /l1Loss: reduction must be one of 'mean', 'sum', 'none'/,
    );
    expect(() => F.huberLoss(tensor([1]), tensor([1]), { delta: 0 })).toThrow(ValueError);
  });
});

// ---- cross-entropy -------------------------------------------------------------------------------

interface CrossEntropyCase {
  logits: number[][]; // [N][C]
  target: number[]; // class indices
  weight?: number[];
  ignoreIndex?: number;
  smoothing?: number;
}

/** torch.nn.CrossEntropyLoss with class indices, from its documentation. */
function crossEntropyReference(c: CrossEntropyCase, reduction: Reduction): number[] {
  const classes = (c.logits[0] as number[]).length;
  const weight = c.weight ?? new Array<number>(classes).fill(1);
  const ignore = c.ignoreIndex ?? -100;
  const s = c.smoothing ?? 0;
  const nll: number[] = [];
  const smooth: number[] = [];
  let weightTotal = 0;
  c.logits.forEach((row, n) => {
    const y = c.target[n] as number;
    const logp = softmaxRow(row).map(Math.log);
    if (y === ignore) {
      nll.push(0);
      smooth.push(0);
      return;
    }
    nll.push(-(weight[y] as number) * (logp[y] as number));
    smooth.push(-logp.reduce((acc, v, k) => acc + (weight[k] as number) * v, 0));
    weightTotal += weight[y] as number;
  });
  const combine = (a: number, b: number): number => (1 - s) * a + (s / classes) * b;
  if (reduction === 'none') return nll.map((v, i) => combine(v, smooth[i] as number));
  const sumNll = nll.reduce((a, b) => a + b, 0);
  const sumSmooth = smooth.reduce((a, b) => a + b, 0);
  if (reduction === 'sum') return [combine(sumNll, sumSmooth)];
  return [combine(sumNll / weightTotal, sumSmooth / weightTotal)];
}

/** With class probabilities: -Σ_c w_c y_c log p_c per sample; 'mean' divides by N. */
function softCrossEntropyReference(
  logits: number[][],
  probabilities: number[][],
  reduction: Reduction,
  weight?: number[],
  smoothing = 0,
): number[] {
  const classes = (logits[0] as number[]).length;
  const losses = logits.map((row, n) => {
    const logp = softmaxRow(row).map(Math.log);
    return -logp.reduce((acc, v, k) => {
      const y = ((probabilities[n] as number[])[k] as number) * (1 - smoothing) + smoothing / classes;
      return acc + (weight?.[k] ?? 1) * y * v;
    }, 0);
  });
  return reduce(losses, reduction);
}

describe('crossEntropy and nllLoss', () => {
  const random = seededRandom(11);
  const logits = Array.from({ length: 6 }, () => randomValues(random, 4, -4, 4));
  const input = tensor(logits, f64);

  const variants: [string, Omit<CrossEntropyCase, 'logits'>][] = [
    ['plain', { target: [0, 3, 1, 2, 2, 0] }],
    ['with class weights', { target: [0, 3, 1, 2, 2, 0], weight: [0.5, 2, 1, 3] }],
    ['with ignoreIndex', { target: [0, -100, 1, 2, -100, 3], weight: [0.5, 2, 1, 3] }],
    ['with a custom ignoreIndex', { target: [0, 2, 1, 2, 2, 3], ignoreIndex: 2 }],
    ['with label smoothing', { target: [0, 3, 1, 2, 2, 0], smoothing: 0.2 }],
    ['with label smoothing, weights and ignored targets', { target: [0, -100, 1, 2, 2, 3], weight: [0.5, 2, 1, 3], smoothing: 0.1 }],
  ];
  for (const [name, variant] of variants) {
    it(`crossEntropy ${name} matches PyTorch's formula for every reduction`, () => {
      for (const reduction of REDUCTIONS) {
        const out = F.crossEntropy(input, tensor(variant.target, { dtype: 'int32' }), {
          reduction,
          ...(variant.weight ? { weight: tensor(variant.weight, f64) } : {}),
          ...(variant.ignoreIndex === undefined ? {} : { ignoreIndex: variant.ignoreIndex }),
          ...(variant.smoothing === undefined ? {} : { labelSmoothing: variant.smoothing }),
        });
        expect(out.shape).toEqual(reduction === 'none' ? [6] : []);
        expect(maxDifference(out.dataSync(), crossEntropyReference({ logits, ...variant }, reduction))).toBeLessThan(1e-12);
      }
    });
  }

  it('nllLoss on log-probabilities equals crossEntropy on logits', () => {
    const target = tensor([1, 0, 3, 3, 2, -100]);
    const weight = tensor([1, 2, 0.5, 1], f64);
    for (const reduction of REDUCTIONS) {
      const a = F.nllLoss(F.logSoftmax(input, 1), target, { weight, reduction }).dataSync();
      const b = F.crossEntropy(input, target, { weight, reduction }).dataSync();
      expect(maxDifference(a, b)).toBeLessThan(1e-12);
    }
  });

  it('accepts class probabilities, with weights and label smoothing', () => {
    const probabilities = logits.map(() => softmaxRow(randomValues(random, 4, -2, 2)));
    const target = tensor(probabilities, f64);
    for (const reduction of REDUCTIONS) {
      expect(
        maxDifference(F.crossEntropy(input, target, { reduction }).dataSync(), softCrossEntropyReference(logits, probabilities, reduction)),
      ).toBeLessThan(1e-12);
      const weight = [1, 0.5, 2, 1];
      const out = F.crossEntropy(input, target, { reduction, weight: tensor(weight, f64), labelSmoothing: 0.3 });
      expect(maxDifference(out.dataSync(), softCrossEntropyReference(logits, probabilities, reduction, weight, 0.3))).toBeLessThan(1e-12);
    }
  });

  it('handles the K-dimensional case [N, C, d] and unbatched [C]', () => {
    // [2, 3, 2]: class axis 1; compare with the flattened [4, 3] problem.
    const data = Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const x = tensor(data, { shape: [2, 3, 2], ...f64 });
    const target = tensor([
      [0, 2],
      [1, 1],
    ]);
    const rows: number[][] = [];
    for (let n = 0; n < 2; n++) for (let d = 0; d < 2; d++) rows.push([0, 1, 2].map((c) => data[n * 6 + c * 2 + d] as number));
    const expected = crossEntropyReference({ logits: rows, target: [0, 2, 1, 1] }, 'none');
    const out = F.crossEntropy(x, target, { reduction: 'none' });
    expect(out.shape).toEqual([2, 2]);
    expect(maxDifference(out.dataSync(), expected)).toBeLessThan(1e-12);
    const single = F.crossEntropy(tensor([1, 2, 3], f64), tensor(2, { dtype: 'int32' }));
    expect(single.item()).toBeCloseTo(-Math.log(softmaxRow([1, 2, 3])[2] as number), 10);
  });

  it('stays finite for huge logits', () => {
    const out = F.crossEntropy(
      tensor([
        [1000, -1000],
        [-1000, 1000],
      ]),
      tensor([0, 0]),
      { reduction: 'none' },
    );
    expect(Array.from(out.dataSync()).map((v) => v + 0)).toEqual([0, 2000]);
  });

  it('rejects bad targets with clear errors', () => {
    expect(() => F.crossEntropy(input, tensor([0, 1, 2, 3, 4, 0]))).toThrow(IndexError);
    expect(() => F.crossEntropy(input, tensor([0, 1, 2, 3, 4, 0]))).toThrow(/crossEntropy: target 4 is out of range for 4 classes/);
    expect(() => F.crossEntropy(input, tensor([0, 1]))).toThrow(ShapeError);
    expect(() => F.crossEntropy(input, tensor([0.5, 1, 0, 0, 0, 0]))).toThrow(ShapeError);
    expect(() => F.nllLoss(input, tensor([0.5, 1, 0, 0, 0, 0]))).toThrow(DTypeError);
    expect(() => F.crossEntropy(input, tensor([0, 1, 2, 3, 0, 0]), { weight: tensor([1, 2]) })).toThrow(/weight must have shape \[4\]/);
    expect(() => F.crossEntropy(input, tensor([0, 1, 2, 3, 0, 0]), { labelSmoothing: 1.5 })).toThrow(
      /labelSmoothing must be >= 0 and <= 1/,
    );
  });
});

describe('binary cross-entropy', () => {
  const random = seededRandom(12);
  const logits = randomValues(random, 8, -6, 6);
  const targets = randomValues(random, 8, 0, 1);
  const weights = randomValues(random, 8, 0.2, 2);
  const x = tensor(logits, { shape: [2, 4], ...f64 });
  const y = tensor(targets, { shape: [2, 4], ...f64 });

  it('binaryCrossEntropy on probabilities matches -w (y log p + (1 - y) log(1 - p))', () => {
    const p = logits.map(sigmoidReference);
    const pointwise = p.map(
      (v, i) => -(weights[i] as number) * ((targets[i] as number) * Math.log(v) + (1 - (targets[i] as number)) * Math.log(1 - v)),
    );
    for (const reduction of REDUCTIONS) {
      const out = F.binaryCrossEntropy(tensor(p, { shape: [2, 4], ...f64 }), y, {
        weight: tensor(weights, { shape: [2, 4], ...f64 }),
        reduction,
      });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-10);
    }
  });

  it('binaryCrossEntropy clamps the logarithms at -100 (p = 0 or 1 stays finite)', () => {
    const out = F.binaryCrossEntropy(tensor([0, 1, 0.5]), tensor([1, 0, 1]), { reduction: 'none' });
    expect(Array.from(out.dataSync()).map((v) => Number(v.toFixed(4)))).toEqual([100, 100, Number(Math.LN2.toFixed(4))]);
  });

  it('binaryCrossEntropyWithLogits matches the formula, with weight and posWeight', () => {
    const posWeight = [0.5, 1, 2, 3];
    const pointwise = logits.map((v, i) => {
      const pw = posWeight[i % 4] as number;
      const t = targets[i] as number;
      return -(weights[i] as number) * (pw * t * Math.log(sigmoidReference(v)) + (1 - t) * Math.log(1 - sigmoidReference(v)));
    });
    for (const reduction of REDUCTIONS) {
      const out = F.binaryCrossEntropyWithLogits(x, y, {
        weight: tensor(weights, { shape: [2, 4], ...f64 }),
        posWeight: tensor(posWeight, f64),
        reduction,
      });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-10);
    }
    const plain = logits.map(
      (v, i) =>
        -((targets[i] as number) * Math.log(sigmoidReference(v)) + (1 - (targets[i] as number)) * Math.log(1 - sigmoidReference(v))),
    );
    expect(F.binaryCrossEntropyWithLogits(x, y).item()).toBeCloseTo(plain.reduce((a, b) => a + b, 0) / 8, 10);
  });

  it('binaryCrossEntropyWithLogits is stable for huge logits', () => {
    const out = F.binaryCrossEntropyWithLogits(tensor([500, -500, 500]), tensor([1, 0, 0]), { reduction: 'none' });
    expect(Array.from(out.dataSync())).toEqual([0, 0, 500]);
  });

  it('reject mismatched shapes', () => {
    expect(() => F.binaryCrossEntropy(tensor([0.5, 0.5]), tensor([1]))).toThrow(
      /binaryCrossEntropy: target \[1\] must have the input's shape \[2\]/,
    );
    expect(() => F.binaryCrossEntropyWithLogits(x, y, { posWeight: tensor([1, 2, 3]) })).toThrow(ShapeError);
  });
});

describe('klDiv, cosineEmbeddingLoss, marginRankingLoss', () => {
  const random = seededRandom(13);

  it('klDiv matches target (log target - input) for every reduction, with and without logTarget', () => {
    const logp = [softmaxRow(randomValues(random, 3)), softmaxRow(randomValues(random, 3))].map((r) => r.map(Math.log));
    const q = [
      [0.2, 0.8, 0],
      [0.5, 0.25, 0.25],
    ];
    const pointwise = q.flatMap((row, n) => row.map((t, c) => (t === 0 ? 0 : t * (Math.log(t) - ((logp[n] as number[])[c] as number)))));
    const input = tensor(logp, f64);
    const target = tensor(q, f64);
    for (const reduction of REDUCTIONS) {
      expect(maxDifference(F.klDiv(input, target, { reduction }).dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
    }
    expect(F.klDiv(input, target, { reduction: 'batchmean' }).item()).toBeCloseTo(pointwise.reduce((a, b) => a + b, 0) / 2, 12);
    const logTarget = tensor(
      q.map((r) => r.map((v) => Math.log(v))),
      f64,
    );
    expect(F.klDiv(input, logTarget, { reduction: 'sum', logTarget: true }).item()).toBeCloseTo(
      pointwise.reduce((a, b) => a + b, 0),
      12,
    );
    expect(() => F.klDiv(input, target, { reduction: 'average' as 'mean' })).toThrow(/'batchmean'/);
  });

  it('cosineEmbeddingLoss matches its formula', () => {
    const a = [randomValues(random, 5), randomValues(random, 5), randomValues(random, 5)];
    const b = [randomValues(random, 5), randomValues(random, 5), randomValues(random, 5)];
    const labels = [1, -1, -1];
    const margin = -0.3;
    const pointwise = a.map((row, n) => {
      const other = b[n] as number[];
      const dot = row.reduce((s, v, i) => s + v * (other[i] as number), 0);
      const cos = dot / Math.sqrt((row.reduce((s, v) => s + v * v, 0) + 1e-12) * (other.reduce((s, v) => s + v * v, 0) + 1e-12));
      return labels[n] === 1 ? 1 - cos : Math.max(0, cos - margin);
    });
    for (const reduction of REDUCTIONS) {
      const out = F.cosineEmbeddingLoss(tensor(a, f64), tensor(b, f64), tensor(labels), { margin, reduction });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
    }
    expect(F.cosineEmbeddingLoss(tensor([0, 0]), tensor([1, 0]), tensor(1)).item()).toBeCloseTo(1, 6);
    expect(() => F.cosineEmbeddingLoss(tensor(a), tensor(b), tensor([1, 1]))).toThrow(ShapeError);
  });

  it('the margin losses pass the whole gradient where the hinge is 0, as clamp_min in PyTorch', () => {
    // -y (x1 - x2) + margin is 0, 0.5 and -2 for y = 1, margin 0.
    const ranking = grad((x1: Tensor) => F.marginRankingLoss(x1, tensor([1, 1, 1], f64), tensor([1, 1, 1], f64), { reduction: 'sum' }));
    expect(maxDifference(ranking(tensor([1, 0.5, 3], f64)).dataSync(), [-1, -1, 0])).toBe(0);
    // cos(a, b) = 0 = margin for a dissimilar pair: d cos / da = b / (|a| |b|) (up to the 1e-12 terms).
    const cosine = grad((a: Tensor) => F.cosineEmbeddingLoss(a, tensor([0, 1], f64), tensor(-1, f64)));
    const [along, across] = Array.from(cosine(tensor([1, 0], f64)).dataSync());
    expect(along).toBe(0);
    expect(across).toBeCloseTo(1, 9);
  });

  it('marginRankingLoss matches max(0, -y (x1 - x2) + margin)', () => {
    const x1 = randomValues(random, 6);
    const x2 = randomValues(random, 6);
    const labels = [1, -1, 1, -1, 1, 1];
    const pointwise = x1.map((v, i) => Math.max(0, -(labels[i] as number) * (v - (x2[i] as number)) + 0.2));
    for (const reduction of REDUCTIONS) {
      const out = F.marginRankingLoss(tensor(x1, f64), tensor(x2, f64), tensor(labels), { margin: 0.2, reduction });
      expect(maxDifference(out.dataSync(), reduce(pointwise, reduction))).toBeLessThan(1e-12);
    }
  });
});
