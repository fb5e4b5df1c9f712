import '@flint/backend-cpu';
import {
  conv1d,
  conv2d,
  convTranspose2d,
  manualSeed,
  pad,
  randn,
  ShapeError,
  swapaxes,
  type Tensor,
  tensor,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { linearReference, maxDifference, moments, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());
const largest = (t: Tensor): number => Math.max(...values(t).map(Math.abs));

/** Checks that a parameter is uniform in ±bound: inside it, and reaching most of it. */
function expectUniformWithin(p: nn.Parameter | null, bound: number): void {
  expect(p).not.toBeNull();
  const m = largest((p as nn.Parameter).value);
  expect(m).toBeLessThanOrEqual(bound * (1 + 1e-6));
  expect(m).toBeGreaterThan(0.8 * bound);
}

describe('Linear, Bilinear, Identity, Flatten', () => {
  it('Linear initializes in ±1/√inFeatures and computes x Wᵀ + b', () => {
    manualSeed(0);
    const layer = new nn.Linear(16, 32);
    expectUniformWithin(layer.weight, 1 / 4);
    expectUniformWithin(layer.bias, 1 / 4);
    const x = randn([3, 16]);
    const expected = linearReference(values(x), values(layer.weight.value), values(layer.bias?.value as Tensor), 3, 16, 32);
    expect(maxDifference(values(layer.forward(x)), expected)).toBeLessThan(1e-5);
    expect(new nn.Linear(2, 3, { bias: false }).bias).toBeNull();
    expect(new nn.Linear(2, 3, { dtype: 'float64' }).weight.value.dtype).toBe('float64');
    expect(() => new nn.Linear(0, 3)).toThrow(/Linear: inFeatures must be a positive integer/);
  });

  it('Bilinear initializes in ±1/√in1Features and matches the functional form', () => {
    manualSeed(1);
    const layer = new nn.Bilinear(9, 4, 3);
    expectUniformWithin(layer.weight, 1 / 3);
    const a = randn([2, 9]);
    const b = randn([2, 4]);
    expect(values(layer.forward(a, b))).toEqual(values(F.bilinear(a, b, layer.weight.value, layer.bias?.value)));
  });

  it('Identity and Flatten', () => {
    const x = randn([2, 3, 4]);
    expect(new nn.Identity().forward(x)).toBe(x);
    expect(new nn.Flatten().forward(x).shape).toEqual([2, 12]);
    expect(new nn.Flatten(0, 1).forward(x).shape).toEqual([6, 4]);
  });
});

describe('convolution layers', () => {
  it('Conv2d initializes from fanIn = inChannels / groups * prod(kernel) and wraps conv2d', () => {
    manualSeed(2);
    const layer = new nn.Conv2d(4, 6, [3, 2], { stride: 2, padding: 1, groups: 2 });
    expect(layer.weight.value.shape).toEqual([6, 2, 3, 2]);
    expectUniformWithin(layer.weight, 1 / Math.sqrt(12));
    expectUniformWithin(layer.bias, 1 / Math.sqrt(12));
    const x = randn([2, 4, 7, 6]);
    const expected = conv2d(x, layer.weight.value, { bias: layer.bias?.value ?? null, stride: 2, padding: 1, groups: 2 });
    expect(values(layer.forward(x))).toEqual(values(expected));
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups/);
    // A kernel size of 0 is refused by name, not later by the initializer's bound.
    expect(() => new nn.ConvTranspose1d(4, 4, 0)).toThrow(/ConvTranspose1d: kernelSize must be one positive integer or 1, got 0/);
    expect(() => new nn.Conv2d(4, 4, [3, -1])).toThrow(/Conv2d: kernelSize must be one positive integer or 2, got \[3,-1\]/);
  });

  it('Conv1d and Conv3d have the right shapes; paddingMode reflect pads the input by reflection', () => {
    manualSeed(3);
    const c1 = new nn.Conv1d(2, 3, 3, { padding: 1, paddingMode: 'reflect' });
    const x = randn([1, 2, 5]);
    const reflected = pad(
      x,
      [
        [0, 0],
        [0, 0],
        [1, 1],
      ],
      { mode: 'reflect' },
    );
    expect(maxDifference(values(c1.forward(x)), values(conv1d(reflected, c1.weight.value, { bias: c1.bias?.value ?? null })))).toBeLessThan(
      1e-6,
    );
    const c3 = new nn.Conv3d(1, 2, 2);
    expect(c3.forward(randn([1, 1, 3, 3, 3])).shape).toEqual([1, 2, 2, 2, 2]);
    expect(() => new nn.Conv1d(1, 1, 3, { paddingMode: 'wrap' as 'zeros' })).toThrow(
      `Conv1d: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got "wrap"`,
    );
  });

  it('ConvTranspose2d initializes from its weight layout and honours outputSize', () => {
    manualSeed(4);
    const layer = new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1 });
    expect(layer.weight.value.shape).toEqual([4, 6, 3, 3]);
    // PyTorch computes the fan-in from dimension 1 of the weight: 6 * 9.
    expectUniformWithin(layer.weight, 1 / Math.sqrt(54));
    const x = randn([1, 4, 5, 5]);
    expect(layer.forward(x).shape).toEqual([1, 6, 9, 9]);
    const sized = layer.forward(x, [10, 10]);
    expect(sized.shape).toEqual([1, 6, 10, 10]);
    expect(values(sized)).toEqual(
      values(convTranspose2d(x, layer.weight.value, { bias: layer.bias?.value ?? null, stride: 2, padding: 1, outputPadding: 1 })),
    );
    expect(() => layer.forward(x, [12, 12])).toThrow(/not reachable/);
    expect(new nn.ConvTranspose1d(2, 3, 4, { stride: 2, padding: 1 }).forward(randn([1, 2, 5])).shape).toEqual([1, 3, 10]);
  });
});

describe('pooling layers', () => {
  it('wrap the pooling functions', () => {
    const x = randn([2, 3, 8, 8]);
    expect(values(new nn.MaxPool2d(2).forward(x))).toEqual(values(F.maxPool2d(x, 2)));
    expect(values(new nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(x))).toEqual(values(F.avgPool2d(x, 3, { stride: 1, padding: 1 })));
    expect(new nn.AdaptiveAvgPool2d(1).forward(x).shape).toEqual([2, 3, 1, 1]);
    const y = randn([2, 3, 8]);
    expect(new nn.MaxPool1d(2).forward(y).shape).toEqual([2, 3, 4]);
    expect(new nn.AvgPool1d(4).forward(y).shape).toEqual([2, 3, 2]);
    expect(new nn.AdaptiveAvgPool1d(3).forward(y).shape).toEqual([2, 3, 3]);
    expect(new nn.MaxPool2d(3, { stride: 2 }).toString()).toBe('MaxPool2d(kernelSize=3, stride=2, padding=0)');
  });
});

describe('BatchNorm', () => {
  const rng = seededRandom(50);

  it('updates running statistics with momentum and the unbiased variance, and uses them in eval mode', () => {
    const bn = new nn.BatchNorm1d(3, { momentum: 0.3 });
    expect(values(bn.weight?.value as Tensor)).toEqual([1, 1, 1]);
    expect(values(bn.bias?.value as Tensor)).toEqual([0, 0, 0]);
    let runningMean = [0, 0, 0];
    let runningVar = [1, 1, 1];
    for (let step = 0; step < 2; step++) {
      const data = randomValues(rng, 4 * 3 * 5, -2, 3);
      const out = bn.forward(tensor(data, { shape: [4, 3, 5] }));
      for (let c = 0; c < 3; c++) {
        const channel = data.filter((_, k) => Math.floor(k / 5) % 3 === c);
        const [m] = moments(channel);
        const [, unbiased] = moments(channel, true);
        runningMean[c] = 0.7 * (runningMean[c] as number) + 0.3 * m;
        runningVar[c] = 0.7 * (runningVar[c] as number) + 0.3 * unbiased;
      }
      runningMean = [...runningMean];
      runningVar = [...runningVar];
      expect(maxDifference(values(bn.runningMean), runningMean)).toBeLessThan(1e-5);
      expect(maxDifference(values(bn.runningVar), runningVar)).toBeLessThan(1e-5);
      // Training output: each channel has mean 0 and biased variance ~1.
      const outData = values(out);
      const [m0, v0] = moments(outData.filter((_, k) => Math.floor(k / 5) % 3 === 0));
      expect(Math.abs(m0)).toBeLessThan(1e-5);
      expect(v0).toBeCloseTo(1, 3);
    }
    expect(bn.numBatchesTracked.item()).toBe(2);
    bn.eval();
    const x = tensor([[1, 2, 3]]);
    const expected = [1, 2, 3].map((v, c) => (v - (runningMean[c] as number)) / Math.sqrt((runningVar[c] as number) + 1e-5));
    expect(maxDifference(values(bn.forward(x)), expected)).toBeLessThan(1e-5);
    expect(bn.numBatchesTracked.item()).toBe(2);
  });

  it('momentum null gives a cumulative average; trackRunningStats false always uses batch statistics', () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null, affine: false });
    bn.forward(tensor([[1], [3]]));
    bn.forward(tensor([[5], [9]]));
    expect(values(bn.runningMean)).toEqual([4.5]);
    expect(values(bn.runningVar)).toEqual([5]);
    const free = new nn.BatchNorm2d(2, { trackRunningStats: false }).eval();
    expect(() => free.runningMean).toThrow(/no buffer named 'runningMean'/);
    const out = values(free.forward(randn([3, 2, 2, 2])));
    expect(Math.abs(moments(out)[0])).toBeLessThan(1e-5);
  });

  it('rejects inputs of the wrong rank or channel count, and refuses traced running-stat updates outside functionalCall', () => {
    expect(() => new nn.BatchNorm2d(3).forward(randn([2, 3, 4]))).toThrow(ShapeError);
    expect(() => new nn.BatchNorm1d(3).forward(randn([2, 4]))).toThrow(/expected 3 channels/);
    const bn = new nn.BatchNorm1d(2);
    expect(() => vmap((x: Tensor) => bn.forward(x))(randn([3, 4, 2]))).toThrow(
      /running statistics cannot be updated from values traced by vmap or jit/,
    );
    expect(vmap((x: Tensor) => bn.eval().forward(x))(randn([3, 4, 2])).shape).toEqual([3, 4, 2]);
  });
});

describe('LayerNorm, GroupNorm, RMSNorm', () => {
  it('start at weight 1 and bias 0 and match the functional forms', () => {
    const x = randn([2, 4, 6]);
    const ln = new nn.LayerNorm([4, 6]);
    expect(values(ln.weight?.value as Tensor).every((v) => v === 1)).toBe(true);
    expect(values(ln.forward(x))).toEqual(
      values(F.layerNorm(x, [4, 6], { weight: ln.weight?.value ?? null, bias: ln.bias?.value ?? null })),
    );
    expect(new nn.LayerNorm(6, { elementwiseAffine: false }).parameters()).toHaveLength(0);
    expect(new nn.LayerNorm(6, { bias: false }).parameters()).toHaveLength(1);
    const gn = new nn.GroupNorm(2, 4);
    expect(values(gn.forward(x))).toEqual(values(F.groupNorm(x, 2, { weight: gn.weight?.value ?? null, bias: gn.bias?.value ?? null })));
    expect(() => new nn.GroupNorm(3, 4)).toThrow(/divisible by numGroups/);
    const rms = new nn.RMSNorm(6, { eps: 1e-6 });
    expect(values(rms.forward(x))).toEqual(values(F.rmsNorm(x, 6, { weight: rms.weight?.value ?? null, eps: 1e-6 })));
  });
});

describe('Dropout and Embedding', () => {
  it('Dropout drops only in training mode', () => {
    manualSeed(5);
    const drop = new nn.Dropout(0.5);
    const x = tensor(new Float32Array(1000).fill(1));
    const zeros = values(drop.forward(x)).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(() => new nn.Dropout(1.5)).toThrow(/probability between 0 and 1/);
  });

  it('Embedding starts from N(0, 1) with the padding row zero, and the padding row gets no gradient', () => {
    manualSeed(6);
    const big = new nn.Embedding(500, 40);
    const [mean, variance] = moments(values(big.weight.value));
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
    const embed = new nn.Embedding(5, 3, { paddingIdx: 1 });
    expect(values(embed.weight.value).slice(3, 6)).toEqual([0, 0, 0]);
    embed
      .forward(
        tensor([
          [1, 2],
          [1, 4],
        ]),
      )
      .sum()
      .backward();
    const g = embed.weight.grad?.arraySync() as number[][];
    expect(g[1]).toEqual([0, 0, 0]);
    expect(g[2]).toEqual([1, 1, 1]);
    expect(g[0]).toEqual([0, 0, 0]);
  });

  it('Embedding.fromPretrained holds the weights, frozen by default', () => {
    const weights = tensor([
      [1, 2],
      [3, 4],
    ]);
    const frozen = nn.Embedding.fromPretrained(weights);
    expect(values(frozen.forward(tensor([1, 0])))).toEqual([3, 4, 1, 2]);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(nn.Embedding.fromPretrained(weights, { freeze: false }).weight.requiresGrad).toBe(true);
  });
});

describe('MultiheadAttention and TransformerEncoderLayer', () => {
  it('MultiheadAttention initializes as PyTorch (xavier uniform, zero biases)', () => {
    manualSeed(7);
    const attention = new nn.MultiheadAttention(16, 4);
    expectUniformWithin(attention.inProjWeight, Math.sqrt(6 / (16 + 48)));
    expect(values(attention.inProjBias?.value as Tensor).every((v) => v === 0)).toBe(true);
    expect(values(attention.outProj.bias?.value as Tensor).every((v) => v === 0)).toBe(true);
    expectUniformWithin(attention.outProj.weight, 1 / 4);
    const separate = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3 });
    expect(separate.inProjWeight).toBeNull();
    expect(separate.kProjWeight?.value.shape).toEqual([8, 5]);
    expect(() => new nn.MultiheadAttention(10, 3)).toThrow(/divisible by numHeads/);
  });

  it('MultiheadAttention with batchFirst equals the sequence-first layer on transposed inputs; weights sum to 1', () => {
    manualSeed(8);
    const first = new nn.MultiheadAttention(8, 2);
    const batchFirst = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    batchFirst.loadStateDict(first.stateDict());
    const q = randn([3, 2, 8]);
    const kv = randn([5, 2, 8]);
    const mask = tensor([
      [false, false, true, false, false],
      [false, false, false, false, true],
    ]);
    const [a, wa] = first.forward(q, kv, kv, { keyPaddingMask: mask });
    const [b, wb] = batchFirst.forward(swapaxes(q, 0, 1), swapaxes(kv, 0, 1), swapaxes(kv, 0, 1), { keyPaddingMask: mask });
    expect(maxDifference(values(swapaxes(b, 0, 1)), values(a))).toBeLessThan(1e-6);
    expect(values(wb as Tensor)).toEqual(values(wa as Tensor));
    const rows = (wa as Tensor).sum(-1);
    expect(maxDifference(values(rows), new Array<number>(6).fill(1))).toBeLessThan(1e-6);
    expect(
      values(wa as Tensor)
        .filter((_, k) => k % 5 === 2 && k < 15)
        .every((v) => v === 0),
    ).toBe(true);
    const [, perHead] = first.forward(q, kv, kv, { averageAttnWeights: false });
    expect(perHead?.shape).toEqual([2, 2, 3, 5]);
    const [, none] = first.forward(q, kv, kv, { needWeights: false });
    expect(none).toBeNull();
    expect(first.forward(randn([3, 8]), randn([4, 8]), randn([4, 8]))[0].shape).toEqual([3, 8]);
  });

  it('TransformerEncoderLayer (post- and pre-norm) composes attention, feed-forward, residuals and norms', () => {
    manualSeed(9);
    for (const normFirst of [false, true]) {
      const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst, batchFirst: true }).eval();
      const x = randn([2, 5, 8]);
      const padding = tensor([
        [false, false, false, true, true],
        [false, false, false, false, false],
      ]);
      const attend = (h: Tensor): Tensor => layer.selfAttn.forward(h, h, h, { keyPaddingMask: padding, needWeights: false })[0];
      const feedForward = (h: Tensor): Tensor => layer.linear2.forward(F.relu(layer.linear1.forward(h)));
      let expected: Tensor;
      if (normFirst) {
        const h = x.add(attend(layer.norm1.forward(x)));
        expected = h.add(feedForward(layer.norm2.forward(h)));
      } else {
        const h = layer.norm1.forward(x.add(attend(x)));
        expected = layer.norm2.forward(h.add(feedForward(h)));
      }
      expect(maxDifference(values(layer.forward(x, { srcKeyPaddingMask: padding })), values(expected))).toBeLessThan(1e-6);
    }
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: 'swish' as 'relu' })).toThrow(ValueError);
  });
});
