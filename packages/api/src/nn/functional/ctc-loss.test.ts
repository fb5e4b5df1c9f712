import '@flint/backend-cpu';
import { grad, jit, type Tensor, tensor, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { nn } from '../../index.js';
import { randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;

/** Every alignment of T frames over C classes, collapsed (repeats merged, blanks dropped). */
function bruteForceNll(logProbs: number[][], target: number[], blank: number): number {
  const frames = logProbs.length;
  const classes = (logProbs[0] as number[]).length;
  let total = 0;
  const path = new Array<number>(frames).fill(0);
  const visit = (t: number, logP: number): void => {
    if (t === frames) {
      const collapsed = path.filter((c, i) => c !== blank && (i === 0 || c !== path[i - 1]));
      if (collapsed.length === target.length && collapsed.every((c, i) => c === target[i])) total += Math.exp(logP);
      return;
    }
    for (let c = 0; c < classes; c++) {
      path[t] = c;
      visit(t + 1, logP + (logProbs[t] as number[])[c]!);
    }
  };
  visit(0, 0);
  return -Math.log(total);
}

function logSoftmaxRows(rows: number[][]): number[][] {
  return rows.map((row) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return row.map((v) => v - lse);
  });
}

const rng = seededRandom(7);
const randomLogProbs = (frames: number, classes: number): number[][] =>
  logSoftmaxRows(Array.from({ length: frames }, () => Array.from(randomValues(rng, classes, -2, 2))));

describe('ctcLoss', () => {
  it('is the negative log of the summed probability of every alignment', () => {
    const blank = 0;
    const sequences = [
      { lp: randomLogProbs(5, 3), target: [1, 1] },
      { lp: randomLogProbs(5, 3), target: [2, 1, 2] },
      { lp: randomLogProbs(5, 3), target: [] },
      { lp: randomLogProbs(5, 3), target: [1] },
    ];
    const logProbs = tensor(
      Array.from({ length: 5 }, (_, t) => sequences.map((s) => s.lp[t] as number[])),
      { dtype: 'float64' },
    );
    const padded = tensor(sequences.map((s) => [...s.target, 0, 0, 0].slice(0, 3)));
    const losses = F.ctcLoss(
      logProbs,
      padded,
      [5, 5, 5, 5],
      sequences.map((s) => s.target.length),
      { reduction: 'none' },
    );
    const expected = sequences.map((s) => bruteForceNll(s.lp, s.target, blank));
    const got = Array.from(losses.dataSync());
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 10);
    });
    // 'mean' divides by the target lengths (at least 1), then averages.
    const mean = F.ctcLoss(logProbs, padded, [5, 5, 5, 5], [2, 3, 0, 1]).item() as number;
    expect(mean).toBeCloseTo((expected[0]! / 2 + expected[1]! / 3 + expected[2]! / 1 + expected[3]! / 1) / 4, 10);
    expect(F.ctcLoss(logProbs, padded, [5, 5, 5, 5], [2, 3, 0, 1], { reduction: 'sum' }).item() as number).toBeCloseTo(
      expected.reduce((a, b) => a + b, 0),
      10,
    );
  });

  it('honours shorter inputs, another blank, and the unbatched form', () => {
    const lp = randomLogProbs(6, 4);
    const batched = tensor(
      lp.map((row) => [row]),
      { dtype: 'float64' },
    );
    const short = F.ctcLoss(batched, tensor([[0, 2]]), [4], [2], { blank: 3, reduction: 'none' });
    expect(short.dataSync()[0]).toBeCloseTo(bruteForceNll(lp.slice(0, 4), [0, 2], 3), 10);
    const unbatched = F.ctcLoss(tensor(lp, { dtype: 'float64' }), tensor([0, 2]), 4, 2, { blank: 3, reduction: 'none' });
    expect(unbatched.shape).toEqual([]);
    expect(unbatched.item() as number).toBeCloseTo(short.dataSync()[0] as number, 12);
  });

  it('is infinite when the input is too short for the target, and 0 with zeroInfinity', () => {
    const lp = tensor([randomLogProbs(2, 3)].map((rows) => rows.map((r) => [r]))[0] as number[][][], { dtype: 'float64' });
    expect(F.ctcLoss(lp, tensor([[1, 1]]), [2], [2], { reduction: 'sum' }).item()).toBe(Number.POSITIVE_INFINITY);
    const g = grad((x: Tensor) => F.ctcLoss(x, tensor([[1, 1]]), [2], [2], { zeroInfinity: true }))(lp);
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('has the gradient of its definition, in eager mode and under jit', () => {
    const lp = tensor(
      randomLogProbs(5, 3).map((r) => [r]),
      { dtype: 'float64' },
    );
    const loss = (x: Tensor) => F.ctcLoss(x, tensor([[1, 2]]), [5], [2], { reduction: 'sum' });
    const g = grad(loss)(lp).dataSync();
    const base = lp.dataSync();
    const h = 1e-6;
    for (let i = 0; i < base.length; i++) {
      const plus = Float64Array.from(base);
      plus[i] = (plus[i] as number) + h;
      const minus = Float64Array.from(base);
      minus[i] = (minus[i] as number) - h;
      const at = (data: Float64Array) => loss(tensor(data, { shape: [5, 1, 3] })).item() as number;
      const numeric = (at(plus) - at(minus)) / (2 * h);
      expect(g[i]).toBeCloseTo(numeric, 6);
    }
    const compiled = jit(grad(loss))(lp).dataSync();
    Array.from(compiled).forEach((v, i) => {
      expect(v).toBeCloseTo(g[i] as number, 12);
    });
    // vmap over a leading axis of log-probabilities.
    const two = tensor(
      [lp.dataSync(), lp.mul(0.5).dataSync()].map((d) => Array.from(d)),
      { dtype: 'float64' },
    ).reshape([2, 5, 1, 3]);
    const mapped = vmap(loss)(two).dataSync();
    expect(mapped[0]).toBeCloseTo(loss(lp).item() as number, 12);
    expect(mapped[1]).toBeCloseTo(loss(lp.mul(0.5)).item() as number, 12);
  });

  it('computes half precision in float32', () => {
    const lp = tensor(
      randomLogProbs(4, 3).map((r) => [r]),
      { dtype: 'float64' },
    );
    const reference = F.ctcLoss(lp, tensor([[1]]), [4], [1]).item() as number;
    const half = F.ctcLoss(lp.astype('float16'), tensor([[1]]), [4], [1]);
    expect(half.dtype).toBe('float16');
    expect(half.item() as number).toBeCloseTo(reference, 2);
  });

  it('names bad input', () => {
    const lp = tensor(
      randomLogProbs(4, 3).map((r) => [r, r]),
      { dtype: 'float32' },
    );
    const targets = tensor([
      [1, 2],
      [2, 1],
    ]);
    expect(() => F.ctcLoss(lp.reshape([8, 3]).reshape([2, 2, 2, 3]), targets, [4, 4], [2, 2])).toThrow(/logProbs must be \[T, N, C\]/);
    expect(() => F.ctcLoss(lp, targets, [4, 4], [2, 2], { blank: 3 })).toThrow(/blank must be a class index in 0\.\.2/);
    expect(() => F.ctcLoss(lp, targets, [4], [2, 2])).toThrow(/inputLengths must have shape \[2\]/);
    expect(() => F.ctcLoss(lp, targets, [4, 5], [2, 2])).toThrow(/inputLengths\[1\] is 5, outside 0\.\.4/);
    expect(() => F.ctcLoss(lp, targets, [4, 4], [2, 3])).toThrow(/targetLengths\[1\] is 3, outside 0\.\.2/);
    expect(() =>
      F.ctcLoss(
        lp,
        tensor([
          [1, 0],
          [2, 1],
        ]),
        [4, 4],
        [2, 2],
      ),
    ).toThrow(/target 0 of sequence 0 \(position 1\) is the blank label/);
    expect(() =>
      F.ctcLoss(
        lp,
        tensor([
          [1, 3],
          [2, 1],
        ]),
        [4, 4],
        [2, 2],
      ),
    ).toThrow(/target 3 of sequence 0 \(position 1\) is out of range for 3 classes/);
    expect(() => F.ctcLoss(lp, tensor([1, 2, 2]), [4, 4], [2, 2])).toThrow(/targetLengths \[2, 2\] need 4 concatenated targets, got \[3\]/);
    expect(() => F.ctcLoss(lp, tensor([[1.5, 2]]), [4, 4], [2, 2])).toThrow(/targets must be class indices/);
    expect(() => F.ctcLoss(lp, targets, [4.5, 4], [2, 2])).toThrow(/inputLengths must hold integers/);
    // Positions past a target's length may hold anything (here -1 and 7).
    expect(
      Number.isFinite(
        F.ctcLoss(
          lp,
          tensor([
            [1, -1],
            [2, 7],
          ]),
          [4, 4],
          [1, 1],
        ).item() as number,
      ),
    ).toBe(true);
  });
});
