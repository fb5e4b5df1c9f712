import { beforeAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { concat, grad, nn, random, type Tensor, tensor } from '@flint/api';
import {
  describeAgainstTorch,
  expectValuesClose,
  runTorch,
  type TorchInput,
  type TorchResult,
} from '../../../../../test/support/torch-oracle.test-support.js';

// The functions that completed nn.functional's list against torch.nn.functional (hardshrink,
// softshrink, tanhshrink, rrelu, channelShuffle, pdist, tripletMarginWithDistanceLoss) and
// their layers: values and input gradients against PyTorch in float64.

const F = nn.functional;
interface Comparison {
  readonly name: string;
  readonly torch: string;
  readonly inputs: Readonly<Record<string, TorchInput>>;
  /** Flint's computation of the inputs, in the order of `inputs`; the first input is differentiated. */
  readonly flint: (...inputs: Tensor[]) => Tensor;
}

const X = [-1.2, -0.6, -0.4, 0.1, 0.45, 0.55, 0.9, 2.5];

const comparisons: Comparison[] = [
  { name: 'hardshrink', torch: 'torch.nn.functional.hardshrink(x, 0.5)', inputs: { x: { values: X } }, flint: (x) => F.hardshrink(x) },
  {
    name: 'hardshrink lambd 1',
    torch: 'torch.nn.functional.hardshrink(x, 1.0)',
    inputs: { x: { values: X } },
    flint: (x) => F.hardshrink(x, 1),
  },
  { name: 'softshrink', torch: 'torch.nn.functional.softshrink(x, 0.5)', inputs: { x: { values: X } }, flint: (x) => F.softshrink(x) },
  { name: 'tanhshrink', torch: 'torch.nn.functional.tanhshrink(x)', inputs: { x: { values: X } }, flint: (x) => F.tanhshrink(x) },
  {
    name: 'rrelu in evaluation',
    torch: 'torch.nn.functional.rrelu(x, 0.1, 0.3, training=False)',
    inputs: { x: { values: [...X, 0] } },
    flint: (x) => F.rrelu(x, 0.1, 0.3),
  },
  {
    name: 'channelShuffle',
    // torch 1.13 has no derivative for channel_shuffle: its definition, checked equal to it.
    torch:
      '(lambda y: y if torch.equal(y.detach(), torch.nn.functional.channel_shuffle(x.detach(), 3)) else None)(x.reshape(2, 3, 2, 2).transpose(1, 2).reshape(2, 6, 2))',
    inputs: { x: { values: Array.from({ length: 24 }, (_, i) => i * 0.5 - 3), shape: [2, 6, 2] } },
    flint: (x) => F.channelShuffle(x, 3),
  },
  {
    name: 'pdist (p = 2)',
    torch: 'torch.nn.functional.pdist(x)',
    inputs: { x: { values: [0, 0, 3, 4, 6, 8, -1, 2, 0.5, 0.25], shape: [5, 2] } },
    flint: (x) => F.pdist(x),
  },
  {
    name: 'pdist (p = 1 and 3)',
    torch: 'torch.cat([torch.nn.functional.pdist(x, 1), torch.nn.functional.pdist(x, 3)])',
    inputs: { x: { values: [0.1, 0.7, 3, 4, 6, 8.2, -1, 2, 0.5], shape: [3, 3] } },
    flint: (x) => concat([F.pdist(x, 1), F.pdist(x, 3)], 0),
  },
  {
    name: 'tripletMarginWithDistanceLoss (default distance, swap)',
    torch: 'torch.nn.functional.triplet_margin_with_distance_loss(a, p, n, swap=True, margin=2.0)',
    inputs: {
      a: { values: [0, 1, 2, 3, 4, 5], shape: [2, 3] },
      p: { values: [0.5, 1, 2.5, 3, 4.2, 5], shape: [2, 3] },
      n: { values: [1, 1.5, 2, 2, 4, 6], shape: [2, 3] },
    },
    flint: (a, p, n) => F.tripletMarginWithDistanceLoss(a, p as Tensor, n as Tensor, { swap: true, margin: 2 }),
  },
  {
    name: 'tripletMarginWithDistanceLoss (cosine distance, sum)',
    torch:
      "torch.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda x, y: 1 - torch.nn.functional.cosine_similarity(x, y), reduction='sum')",
    inputs: {
      a: { values: [0.1, 1, 2, 3, 4, 5], shape: [2, 3] },
      p: { values: [0.5, 1, 2.5, 3, 4.2, 5], shape: [2, 3] },
      n: { values: [1, 1.5, -2, 2, -4, 6], shape: [2, 3] },
    },
    flint: (a, p, n) =>
      F.tripletMarginWithDistanceLoss(a, p as Tensor, n as Tensor, {
        distanceFunction: (x, y) => F.cosineSimilarity(x, y).neg().add(1),
        reduction: 'sum',
      }),
  },
];

describeAgainstTorch('nn.functional completions against PyTorch', () => {
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(
      comparisons.map((c) => ({ expression: c.torch, inputs: c.inputs, gradients: [Object.keys(c.inputs)[0] as string] })),
    );
  });
  comparisons.forEach((c, i) => {
    it(`${c.name}: values and gradients agree`, () => {
      const expected = results[i] as TorchResult;
      const tensors = Object.values(c.inputs).map((input) => tensor(input.values as number[], { dtype: 'float64', shape: input.shape }));
      const out = c.flint(...tensors);
      expect(out.shape).toEqual(expected.outputs[0]?.shape);
      expectValuesClose(c.name, Array.from(out.dataSync()), expected.outputs[0]?.values ?? [], { rtol: 1e-12, atol: 1e-14 });
      const first = Object.keys(c.inputs)[0] as string;
      const g = grad((x: Tensor) => c.flint(x, ...tensors.slice(1)).sum())(tensors[0] as Tensor);
      expectValuesClose(`${c.name} gradient`, Array.from(g.dataSync()), expected.gradients[first] ?? [], { rtol: 1e-10, atol: 1e-12 });
    });
  });
});

describe('randomized and channel-wise forms', () => {
  it('rrelu while training scales each negative element by a slope in [lower, upper], and its gradient is that slope', () => {
    const x = tensor(
      Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? -1 : 1)),
      { dtype: 'float32' },
    );
    const k = random.key(3);
    const y = Array.from(F.rrelu(x, 0.1, 0.3, { training: true, key: k }).dataSync());
    const slopes = y.filter((_, i) => i % 2 === 0).map((v) => -v);
    expect(Math.min(...slopes)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...slopes)).toBeLessThanOrEqual(0.3);
    expect(new Set(slopes).size).toBeGreaterThan(400);
    expect(y.filter((_, i) => i % 2 === 1).every((v) => v === 1)).toBe(true);
    const g = Array.from(grad((t: Tensor) => F.rrelu(t, 0.1, 0.3, { training: true, key: k }).sum())(x).dataSync());
    expect(g.filter((_, i) => i % 2 === 0)).toEqual(slopes.map((s) => Math.fround(s)));
    expect(() => F.rrelu(x, 0.5, 0.1)).toThrow(/lower \(0.5\) must not exceed upper/);
  });

  it('featureAlphaDropout drops whole channels to one value and keeps zero mean, unit variance', () => {
    const x = random.normal(random.key(1), [64, 32, 4, 4]);
    const y = F.featureAlphaDropout(x, 0.2, { training: true, key: random.key(2) });
    const rows = y.reshape([64 * 32, 16]).arraySync() as number[][];
    const dropped = rows.filter((row) => row.every((v) => v === row[0]));
    expect(Math.abs(dropped.length / rows.length - 0.2)).toBeLessThan(0.03);
    const flat = rows.flat();
    const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
    const variance = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / flat.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
    expect(F.featureAlphaDropout(x, 0.2)).toBe(x);
    expect(() => F.featureAlphaDropout(tensor([1, 2]), 0.2, { training: true })).toThrow(/at least 2-d/);
  });

  it('layers pass their mode and options; errors name the problem', () => {
    const rrelu = new nn.RReLU(0.2, 0.2);
    expect(Array.from(rrelu.forward(tensor([-1, 2])).dataSync())).toEqual([Math.fround(-0.2), 2]);
    rrelu.eval();
    expect(Array.from(rrelu.forward(tensor([-1, 2])).dataSync())).toEqual([Math.fround(-0.2), 2]);
    expect(new nn.Hardshrink(1).toString()).toContain('lambd=1');
    expect(() => new nn.Softshrink(-1)).toThrow(/lambd must be >= 0/);
    const shuffle = new nn.ChannelShuffle(2);
    expect(Array.from(shuffle.forward(tensor([0, 1, 2, 3]).reshape([1, 4, 1])).dataSync())).toEqual([0, 2, 1, 3]);
    expect(() => F.channelShuffle(tensor([0, 1, 2]).reshape([1, 3, 1]), 2)).toThrow(/divisible by groups/);
    const softmax2d = new nn.Softmax2d().forward(random.normal(random.key(0), [2, 3, 2, 2]));
    expect(Array.from(softmax2d.sum(1).dataSync()).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    expect(() => new nn.Softmax2d().forward(tensor([1, 2]))).toThrow(/Softmax2d: input must be/);
    expect(new nn.PairwiseDistance({ p: 1, eps: 0 }).forward(tensor([[0, 0]]), tensor([[3, 4]])).item()).toBe(7);
    expect(new nn.CosineSimilarity({ axis: 0 }).forward(tensor([1, 0]), tensor([1, 0])).item()).toBeCloseTo(1, 6);
    expect(() => F.pdist(tensor([1, 2, 3]))).toThrow(/2-d \[N, M\]/);
    expect(() => F.tripletMarginWithDistanceLoss(tensor([[1]]), tensor([[1]]), tensor([[1]]), { margin: 0 })).toThrow(/margin must be > 0/);
    const loss = new nn.TripletMarginWithDistanceLoss({ distanceFunction: (a, b) => a.sub(b).abs().sum(-1), margin: 1 });
    expect(loss.forward(tensor([[0, 0]]), tensor([[1, 0]]), tensor([[3, 0]])).item()).toBe(0);
  });
});
