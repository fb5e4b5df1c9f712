import '@flint/backend-cpu';
import { grad, manualSeed, random, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import {
  linearReference,
  matmulReference,
  maxDifference,
  moments,
  randomValues,
  seededRandom,
  softmaxRow,
} from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('normalization functions', () => {
  const rng = seededRandom(20);

  it('batchNorm in training normalizes each channel by the batch statistics (biased variance)', () => {
    const [n, c, l] = [3, 2, 4];
    const data = randomValues(rng, n * c * l, -3, 3);
    const weight = [1.5, -0.5];
    const bias = [0.1, 0.2];
    const x = tensor(data, { shape: [n, c, l], ...f64 });
    const { output, mean, unbiasedVariance } = batchStatistics(x, weight, bias);
    for (let ch = 0; ch < c; ch++) {
      const channel: number[] = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) channel.push(data[i * c * l + ch * l + j] as number);
      const [m, v] = moments(channel);
      expect(mean[ch]).toBeCloseTo(m, 12);
      expect(unbiasedVariance[ch]).toBeCloseTo(moments(channel, true)[1], 12);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < l; j++) {
          const k = i * c * l + ch * l + j;
          expect(output[k]).toBeCloseTo(
            (((data[k] as number) - m) / Math.sqrt(v + 1e-5)) * (weight[ch] as number) + (bias[ch] as number),
            10,
          );
        }
    }
  });

  function batchStatistics(x: Tensor, weight: number[], bias: number[]): { output: number[]; mean: number[]; unbiasedVariance: number[] } {
    const out = F.batchNorm(x, null, null, { training: true, weight: tensor(weight, f64), bias: tensor(bias, f64) });
    // The statistics themselves come from the layer's helper; recompute them here from the definition.
    const c = x.shape[1] as number;
    const data = values(x);
    const mean: number[] = [];
    const unbiasedVariance: number[] = [];
    for (let ch = 0; ch < c; ch++) {
      const channel = data.filter((_, k) => Math.floor(k / (x.shape[2] as number)) % c === ch);
      mean.push(moments(channel)[0]);
      unbiasedVariance.push(moments(channel, true)[1]);
    }
    return { output: values(out), mean, unbiasedVariance };
  }

  it('batchNorm in evaluation uses the running statistics', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      f64,
    );
    const out = F.batchNorm(x, tensor([1, 1], f64), tensor([4, 0.25], f64), { eps: 0 });
    expect(values(out)).toEqual([0, 2, 1, 6]);
    expect(() => F.batchNorm(x, null, null)).toThrow(/runningMean and runningVar are needed/);
    expect(() => F.batchNorm(tensor([[1, 2]]), null, null, { training: true })).toThrow(/more than 1 value per channel/);
  });

  it('layerNorm normalizes the trailing dimensions, with an elementwise affine', () => {
    const data = randomValues(rng, 2 * 3 * 4, -2, 2);
    const weight = randomValues(rng, 12, 0.5, 1.5);
    const bias = randomValues(rng, 12, -0.5, 0.5);
    const out = F.layerNorm(tensor(data, { shape: [2, 3, 4], ...f64 }), [3, 4], {
      weight: tensor(weight, { shape: [3, 4], ...f64 }),
      bias: tensor(bias, { shape: [3, 4], ...f64 }),
    });
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) {
      const row = data.slice(n * 12, n * 12 + 12);
      const [m, v] = moments(row);
      for (const [k, value] of row.entries())
        expected.push(((value - m) / Math.sqrt(v + 1e-5)) * (weight[k] as number) + (bias[k] as number));
    }
    expect(maxDifference(values(out), expected)).toBeLessThan(1e-10);
    expect(() => F.layerNorm(tensor(data, { shape: [2, 3, 4] }), [4, 3])).toThrow(/normalizedShape \[4, 3\] must match/);
  });

  it('groupNorm normalizes each group of channels with its spatial positions', () => {
    const [n, c, l, groups] = [2, 4, 3, 2];
    const data = randomValues(rng, n * c * l, -2, 2);
    const weight = [1, 2, 3, 4];
    const bias = [0, 1, 0, -1];
    const out = F.groupNorm(tensor(data, { shape: [n, c, l], ...f64 }), groups, {
      weight: tensor(weight, f64),
      bias: tensor(bias, f64),
      eps: 1e-3,
    });
    const expected = new Array<number>(data.length);
    const perGroup = (c / groups) * l;
    for (let i = 0; i < n; i++)
      for (let g = 0; g < groups; g++) {
        const start = i * c * l + g * perGroup;
        const [m, v] = moments(data.slice(start, start + perGroup));
        for (let k = 0; k < perGroup; k++) {
          const channel = g * (c / groups) + Math.floor(k / l);
          expected[start + k] =
            (((data[start + k] as number) - m) / Math.sqrt(v + 1e-3)) * (weight[channel] as number) + (bias[channel] as number);
        }
      }
    expect(maxDifference(values(out), expected)).toBeLessThan(1e-10);
    expect(() => F.groupNorm(tensor(data, { shape: [n, c, l] }), 3)).toThrow(
      /numGroups must be a positive integer dividing the 4 channels/,
    );
  });

  it('rmsNorm divides by the root mean square, with the dtype epsilon by default', () => {
    const data = randomValues(rng, 2 * 5);
    const weight = randomValues(rng, 5, 0.5, 2);
    const out = F.rmsNorm(tensor(data, { shape: [2, 5], ...f64 }), [5], { weight: tensor(weight, f64) });
    const expected = data.map((v, k) => {
      const row = data.slice(Math.floor(k / 5) * 5, Math.floor(k / 5) * 5 + 5);
      return (v / Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 5 + Number.EPSILON)) * (weight[k % 5] as number);
    });
    expect(maxDifference(values(out), expected)).toBeLessThan(1e-12);
    const zeros = F.rmsNorm(tensor([[0, 0]]), 2);
    expect(values(zeros)).toEqual([0, 0]);
  });

  it('normalize divides vectors by their p-norm', () => {
    expect(
      maxDifference(
        values(
          F.normalize(
            tensor(
              [
                [3, 4],
                [0, 0],
              ],
              f64,
            ),
          ),
        ),
        [0.6, 0.8, 0, 0],
      ),
    ).toBeLessThan(1e-12);
    expect(maxDifference(values(F.normalize(tensor([[3, 4]], f64), { p: 1 })), [3 / 7, 4 / 7])).toBeLessThan(1e-12);
  });

  it('normalize differentiates through a norm equal to eps, as PyTorch clamp_min', () => {
    // d(x / |x|)[0] / dx at |x| = eps = 5: the whole norm term passes, (1/5 - 9/125, -12/125).
    const slope = grad((x: Tensor) => F.normalize(x, { axis: 0, eps: 5 }).index(0))(tensor([3, 4], f64));
    expect(maxDifference(values(slope), [1 / 5 - 9 / 125, -12 / 125])).toBeLessThan(1e-15);
  });
});

describe('linear, bilinear, embedding', () => {
  const rng = seededRandom(21);

  it('linear computes x Wᵀ + b over leading dimensions', () => {
    const x = randomValues(rng, 2 * 3 * 4);
    const w = randomValues(rng, 5 * 4);
    const b = randomValues(rng, 5);
    const out = F.linear(tensor(x, { shape: [2, 3, 4], ...f64 }), tensor(w, { shape: [5, 4], ...f64 }), tensor(b, f64));
    expect(out.shape).toEqual([2, 3, 5]);
    expect(maxDifference(values(out), linearReference(x, w, b, 6, 4, 5))).toBeLessThan(1e-12);
    expect(
      maxDifference(
        values(F.linear(tensor(x, { shape: [6, 4], ...f64 }), tensor(w, { shape: [5, 4], ...f64 }))),
        linearReference(x, w, null, 6, 4, 5),
      ),
    ).toBeLessThan(1e-12);
    expect(() => F.linear(tensor(x, { shape: [6, 4] }), tensor(w, { shape: [4, 5] }))).toThrow(
      /linear: input \[6, 4\] must end in inFeatures = 5/,
    );
  });

  it('bilinear computes x1ᵀ W_k x2 + b_k', () => {
    const [n, in1, in2, out] = [3, 2, 4, 5];
    const x1 = randomValues(rng, n * in1);
    const x2 = randomValues(rng, n * in2);
    const w = randomValues(rng, out * in1 * in2);
    const b = randomValues(rng, out);
    const result = F.bilinear(
      tensor(x1, { shape: [n, in1], ...f64 }),
      tensor(x2, { shape: [n, in2], ...f64 }),
      tensor(w, { shape: [out, in1, in2], ...f64 }),
      tensor(b, f64),
    );
    const expected: number[] = [];
    for (let r = 0; r < n; r++)
      for (let k = 0; k < out; k++) {
        let s = b[k] as number;
        for (let i = 0; i < in1; i++)
          for (let j = 0; j < in2; j++)
            s += (x1[r * in1 + i] as number) * (w[(k * in1 + i) * in2 + j] as number) * (x2[r * in2 + j] as number);
        expected.push(s);
      }
    expect(result.shape).toEqual([n, out]);
    expect(maxDifference(values(result), expected)).toBeLessThan(1e-12);
  });

  it('embedding looks up rows for indices of any shape', () => {
    const table = tensor(
      [
        [0, 0],
        [1, 2],
        [3, 4],
      ],
      f64,
    );
    const out = F.embedding(
      tensor([
        [2, 1],
        [0, 2],
      ]),
      table,
    );
    expect(out.shape).toEqual([2, 2, 2]);
    expect(values(out)).toEqual([3, 4, 1, 2, 0, 0, 3, 4]);
    expect(values(F.embedding(tensor([1, 0]), table, { paddingIdx: 0 }))).toEqual([1, 2, 0, 0]);
    expect(() => F.embedding(tensor([0.5]), table)).toThrow(/embedding: indices must be int32/);
    expect(() => F.embedding(tensor([0]), table, { paddingIdx: 5 })).toThrow(/paddingIdx must be an integer in \[-3, 3\)/);
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1 / (1 - p)', () => {
    manualSeed(3);
    const out = values(F.dropout(tensor(new Float32Array(4000).fill(1)), 0.25));
    const zeros = out.filter((v) => v === 0).length;
    expect(zeros / 4000).toBeGreaterThan(0.21);
    expect(zeros / 4000).toBeLessThan(0.29);
    expect(out.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
  });

  it('is the identity when not training or p = 0, and zero for p = 1', () => {
    const x = tensor([1.5, 2, 3]);
    expect(F.dropout(x, 0.5, { training: false })).toBe(x);
    expect(F.dropout(x, 0)).toBe(x);
    expect(values(F.dropout(x, 1))).toEqual([0, 0, 0]);
    expect(F.dropout(tensor([1, 2]), 0.5).dtype).toBe('float32');
    expect(() => F.dropout(x, 1.5)).toThrow(/dropout: p must be >= 0 and <= 1/);
  });

  it('repeats its mask for the same key and under the same seed', () => {
    const x = tensor(new Float32Array(64).fill(1));
    const k = random.key(7);
    expect(values(F.dropout(x, 0.5, { key: k }))).toEqual(values(F.dropout(x, 0.5, { key: k })));
    manualSeed(11);
    const a = values(F.dropout(x, 0.5));
    const b = values(F.dropout(x, 0.5));
    manualSeed(11);
    expect(values(F.dropout(x, 0.5))).toEqual(a);
    expect(b).not.toEqual(a);
  });
});

/** softmax(q kᵀ scale + mask) v for one [L, E] x [S, E] x [S, Ev] problem; mask: true = keep. */
function attentionReference(
  q: number[],
  k: number[],
  v: number[],
  l: number,
  s: number,
  e: number,
  ev: number,
  keep?: (i: number, j: number) => boolean,
  scale = 1 / Math.sqrt(e),
): number[] {
  const scores = matmulReference(q, transposeReference(k, s, e), l, e, s).map((x) => x * scale);
  const weights: number[] = [];
  for (let i = 0; i < l; i++) {
    const row = scores.slice(i * s, (i + 1) * s).map((x, j) => (keep === undefined || keep(i, j) ? x : Number.NEGATIVE_INFINITY));
    weights.push(...softmaxRow(row));
  }
  return matmulReference(weights, v, l, s, ev);
}

function transposeReference(a: number[], rows: number, columns: number): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) out[j * rows + i] = a[i * columns + j] as number;
  return out;
}

describe('scaledDotProductAttention', () => {
  const rng = seededRandom(22);
  const [batch, l, s, e, ev] = [2, 3, 4, 5, 2];
  const q = randomValues(rng, batch * l * e);
  const k = randomValues(rng, batch * s * e);
  const v = randomValues(rng, batch * s * ev);
  const tq = tensor(q, { shape: [batch, l, e], ...f64 });
  const tk = tensor(k, { shape: [batch, s, e], ...f64 });
  const tv = tensor(v, { shape: [batch, s, ev], ...f64 });
  const perBatch = (keep?: (i: number, j: number) => boolean, scale?: number): number[] =>
    Array.from({ length: batch }, (_, b) =>
      attentionReference(
        q.slice(b * l * e, (b + 1) * l * e),
        k.slice(b * s * e, (b + 1) * s * e),
        v.slice(b * s * ev, (b + 1) * s * ev),
        l,
        s,
        e,
        ev,
        keep,
        scale,
      ),
    ).flat();

  it('matches the reference without a mask, with a custom scale', () => {
    expect(maxDifference(values(F.scaledDotProductAttention(tq, tk, tv)), perBatch())).toBeLessThan(1e-12);
    expect(maxDifference(values(F.scaledDotProductAttention(tq, tk, tv, { scale: 0.3 })), perBatch(undefined, 0.3))).toBeLessThan(1e-12);
  });

  it('applies boolean masks (true = attend), float masks (added) and the causal mask', () => {
    const keep = (i: number, j: number): boolean => (i + j) % 3 !== 1;
    const mask = tensor(Array.from({ length: l }, (_, i) => Array.from({ length: s }, (_, j) => keep(i, j))));
    expect(maxDifference(values(F.scaledDotProductAttention(tq, tk, tv, { attnMask: mask })), perBatch(keep))).toBeLessThan(1e-12);
    const additive = tensor(
      Array.from({ length: l }, (_, i) => Array.from({ length: s }, (_, j) => (keep(i, j) ? 0 : Number.NEGATIVE_INFINITY))),
      f64,
    );
    expect(maxDifference(values(F.scaledDotProductAttention(tq, tk, tv, { attnMask: additive })), perBatch(keep))).toBeLessThan(1e-12);
    expect(
      maxDifference(
        values(F.scaledDotProductAttention(tq, tk, tv, { isCausal: true })),
        perBatch((i, j) => j <= i),
      ),
    ).toBeLessThan(1e-12);
    expect(() => F.scaledDotProductAttention(tq, tk, tv, { isCausal: true, attnMask: mask })).toThrow(ValueError);
    expect(() => F.scaledDotProductAttention(tq, tv, tv)).toThrow(ShapeError);
  });
});

describe('multiHeadAttention (functional)', () => {
  it('matches per-head attention on projected inputs, with a key padding mask', () => {
    const rng = seededRandom(23);
    const [l, s, n, embed, heads] = [3, 4, 2, 4, 2];
    const headDim = embed / heads;
    const query = randomValues(rng, l * n * embed);
    const key = randomValues(rng, s * n * embed);
    const value = randomValues(rng, s * n * embed);
    const inW = randomValues(rng, 3 * embed * embed);
    const inB = randomValues(rng, 3 * embed);
    const outW = randomValues(rng, embed * embed);
    const outB = randomValues(rng, embed);
    const padding = [
      [false, false, true, false],
      [false, false, false, true],
    ];
    const [out, weights] = F.multiHeadAttention(
      tensor(query, { shape: [l, n, embed], ...f64 }),
      tensor(key, { shape: [s, n, embed], ...f64 }),
      tensor(value, { shape: [s, n, embed], ...f64 }),
      {
        numHeads: heads,
        inProjWeight: tensor(inW, { shape: [3 * embed, embed], ...f64 }),
        inProjBias: tensor(inB, f64),
        outProjWeight: tensor(outW, { shape: [embed, embed], ...f64 }),
        outProjBias: tensor(outB, f64),
      },
      { keyPaddingMask: tensor(padding) },
    );
    // Reference: per batch element, project, split heads, attend, merge, project out.
    const rowsOf = (data: number[], length: number, b: number): number[] =>
      Array.from({ length }, (_, t) => data.slice((t * n + b) * embed, (t * n + b + 1) * embed)).flat();
    const expectedOut: number[] = new Array<number>(l * n * embed);
    const expectedWeights: number[] = [];
    for (let b = 0; b < n; b++) {
      const qp = linearReference(rowsOf(query, l, b), inW.slice(0, embed * embed), inB.slice(0, embed), l, embed, embed);
      const kp = linearReference(
        rowsOf(key, s, b),
        inW.slice(embed * embed, 2 * embed * embed),
        inB.slice(embed, 2 * embed),
        s,
        embed,
        embed,
      );
      const vp = linearReference(rowsOf(value, s, b), inW.slice(2 * embed * embed), inB.slice(2 * embed), s, embed, embed);
      const merged = new Array<number>(l * embed).fill(0);
      const averaged = new Array<number>(l * s).fill(0);
      for (let h = 0; h < heads; h++) {
        const pick = (data: number[], length: number): number[] =>
          Array.from({ length }, (_, t) => data.slice(t * embed + h * headDim, t * embed + (h + 1) * headDim)).flat();
        const keep = (_i: number, j: number): boolean => !(padding[b] as boolean[])[j];
        const headOut = attentionReference(pick(qp, l), pick(kp, s), pick(vp, s), l, s, headDim, headDim, keep);
        for (let t = 0; t < l; t++)
          for (let d = 0; d < headDim; d++) merged[t * embed + h * headDim + d] = headOut[t * headDim + d] as number;
        const scores = matmulReference(pick(qp, l), transposeReference(pick(kp, s), s, headDim), l, headDim, s);
        for (let i = 0; i < l; i++) {
          const row = softmaxRow(
            scores.slice(i * s, (i + 1) * s).map((x, j) => (keep(i, j) ? x / Math.sqrt(headDim) : Number.NEGATIVE_INFINITY)),
          );
          row.forEach((w, j) => {
            averaged[i * s + j] = (averaged[i * s + j] as number) + w / heads;
          });
        }
      }
      const projected = linearReference(merged, outW, outB, l, embed, embed);
      for (let t = 0; t < l; t++) for (let d = 0; d < embed; d++) expectedOut[(t * n + b) * embed + d] = projected[t * embed + d] as number;
      expectedWeights.push(...averaged);
    }
    expect(out.shape).toEqual([l, n, embed]);
    expect(maxDifference(values(out), expectedOut)).toBeLessThan(1e-12);
    expect(weights?.shape).toEqual([n, l, s]);
    expect(maxDifference(values(weights as Tensor), expectedWeights)).toBeLessThan(1e-12);
  });
});
