import '@flint/backend-cpu';
import { grad, manualSeed, randn, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float64Array);
const closeTo = (actual: number[], expected: number[], digits = 10) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, digits);
  });
};

// Channel 0 is [1, 2, 3, 4] (mean 2.5, biased variance 1.25), channel 1 [2, 2, 2, 6] (mean 3, variance 3).
const x = tensor([1, 2, 3, 4, 2, 2, 2, 6], { shape: [1, 2, 4], ...f64 });
const channel0 = [-1.5, -0.5, 0.5, 1.5].map((d) => d / Math.sqrt(1.25));
const channel1 = [-1, -1, -1, 3].map((d) => d / Math.sqrt(3));

describe('nn.functional.instanceNorm (torch.nn.functional.instance_norm)', () => {
  it('normalizes each channel of each sample over its positions (biased variance)', () => {
    closeTo(values(F.instanceNorm(x, { eps: 0 })), [...channel0, ...channel1]);
    const weight = tensor([2, -1], f64);
    const bias = tensor([0.5, 1], f64);
    closeTo(values(F.instanceNorm(x, { weight, bias, eps: 0 })), [...channel0.map((v) => 2 * v + 0.5), ...channel1.map((v) => 1 - v)]);
    // eps is added to the variance.
    closeTo(
      values(F.instanceNorm(x)).slice(0, 4),
      [-1.5, -0.5, 0.5, 1.5].map((d) => d / Math.sqrt(1.25 + 1e-5)),
    );
  });

  it('normalizes every sample by its own statistics, in any number of spatial dimensions', () => {
    manualSeed(2);
    const batch = randn([3, 2, 2, 3, 2], f64);
    const y = F.instanceNorm(batch);
    for (let n = 0; n < 3; n++) closeTo(values(y.index(n)), values(F.instanceNorm(batch.index(n).reshape([1, 2, 2, 3, 2]))));
    const perChannel = values(y.index(1, 1));
    const mean = perChannel.reduce((a, b) => a + b, 0) / perChannel.length;
    expect(mean).toBeCloseTo(0, 12);
    expect(perChannel.reduce((a, b) => a + (b - mean) ** 2, 0) / perChannel.length).toBeCloseTo(1, 4);
  });

  it('uses the given statistics with useInputStats: false', () => {
    const runningMean = tensor([1, 2], f64);
    const runningVar = tensor([4, 0.25], f64);
    const y = F.instanceNorm(x, { runningMean, runningVar, useInputStats: false, eps: 0 });
    closeTo(values(y), [0, 0.5, 1, 1.5, 0, 0, 0, 8]);
  });

  it('is differentiable: the gradient of a weighted sum is the projection of the weights', () => {
    // d/dx sum(w * normalize(x)) has zero sum per instance (the mean is subtracted).
    const w = tensor([1, 2, 3, 4, -1, 0, 1, 5], { shape: [1, 2, 4], ...f64 });
    const g = values(grad((t: Tensor) => F.instanceNorm(t).mul(w).sum())(x));
    expect(g.slice(0, 4).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 10);
    expect(g.slice(4).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 10);
    // For channel 0 (x - mean proportional to w - mean(w)), the output is w's standardization: gradient 0.
    closeTo(g.slice(0, 4), [0, 0, 0, 0], 4);
  });

  it('refuses what PyTorch refuses, naming instanceNorm', () => {
    expect(() => F.instanceNorm(tensor([[1, 2]]))).toThrow(ShapeError);
    expect(() => F.instanceNorm(tensor([[1, 2]]))).toThrow(
      'instanceNorm: input must be [N, C, ...] with at least one spatial dimension, got [1, 2]',
    );
    expect(() => F.instanceNorm(x.reshape([1, 8, 1]))).toThrow(
      'instanceNorm: expected more than 1 spatial element when using input statistics, got input of shape [1, 8, 1]',
    );
    expect(() => F.instanceNorm(x, { weight: tensor([1, 2, 3], f64) })).toThrow(
      'instanceNorm: weight must have shape [2] (the channels of the input), got [3]',
    );
    expect(() => F.instanceNorm(x, { useInputStats: false })).toThrow(ValueError);
    expect(() => F.instanceNorm(x, { useInputStats: false })).toThrow(
      'instanceNorm: runningMean and runningVar are needed when useInputStats is false',
    );
  });
});

describe('nn.InstanceNorm1d/2d/3d', () => {
  it('default to no affine parameters and no running statistics, as PyTorch', () => {
    const norm = new nn.InstanceNorm1d(2, { eps: 0 });
    expect(norm.parameters()).toEqual([]);
    expect(Object.keys(norm.stateDict())).toEqual([]);
    expect(norm.toString()).toBe('InstanceNorm1d(2, eps=0, momentum=0.1, affine=false, trackRunningStats=false)');
    closeTo(values(norm.forward(x)), values(F.instanceNorm(x, { eps: 0 })));
    // Without running statistics, evaluation uses the instance statistics too.
    closeTo(values(norm.eval().forward(x)), values(F.instanceNorm(x, { eps: 0 })));
  });

  it('with affine and trackRunningStats: state dict, running averages of the instance statistics, eval mode', () => {
    const norm = new nn.InstanceNorm1d(2, { affine: true, trackRunningStats: true, dtype: 'float64' });
    expect(Object.keys(norm.stateDict())).toEqual(['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    const two = tensor([1, 2, 3, 4, 2, 2, 2, 6, 3, 3, 3, 3, 0, 4, 0, 4], { shape: [2, 2, 4], ...f64 });
    const y = norm.forward(two);
    closeTo(values(y.index(0)), values(F.instanceNorm(x)));
    // Instance means (2.5, 3) and (3, 2); unbiased variances (5/3, 4) and (0, 16/3).
    closeTo(values(norm.runningMean), [0.1 * 2.75, 0.1 * 2.5]);
    closeTo(values(norm.runningVar), [0.9 + 0.1 * (5 / 3 / 2), 0.9 + 0.1 * ((4 + 16 / 3) / 2)]);
    // Instance norm does not count batches (PyTorch's F.instance_norm leaves it alone).
    expect(Array.from(norm.stateDict().numBatchesTracked?.dataSync() ?? [])).toEqual([0]);
    norm.eval();
    const expected = F.instanceNorm(two, {
      runningMean: norm.runningMean,
      runningVar: norm.runningVar,
      useInputStats: false,
      weight: norm.weight?.value ?? null,
      bias: norm.bias?.value ?? null,
    });
    closeTo(values(norm.forward(two)), values(expected));
    // A state dict loads into a fresh layer.
    const copy = new nn.InstanceNorm1d(2, { affine: true, trackRunningStats: true, dtype: 'float64' });
    copy.loadStateDict(norm.stateDict());
    closeTo(values(copy.runningVar), values(norm.runningVar));
    // momentum null leaves the running statistics unchanged, as PyTorch (which passes 0).
    const frozen = new nn.InstanceNorm1d(2, { trackRunningStats: true, momentum: null, dtype: 'float64' });
    frozen.forward(two);
    closeTo(values(frozen.runningMean), [0, 0]);
  });

  it('affine parameters get gradients', () => {
    const norm = new nn.InstanceNorm2d(2, { affine: true, dtype: 'float64' });
    const images = randn([2, 2, 3, 3], f64);
    norm.forward(images).mul(images).sum().backward();
    expect(norm.weight?.grad?.shape).toEqual([2]);
    expect(values(norm.bias?.grad as Tensor)).toEqual(values(images.sum([0, 2, 3])));
  });

  it('take unbatched inputs and check rank and channels', () => {
    const norm = new nn.InstanceNorm2d(3, { affine: true });
    const image = randn([3, 4, 4]);
    const single = norm.forward(image);
    expect(single.shape).toEqual([3, 4, 4]);
    expect(Array.from(single.dataSync())).toEqual(Array.from(norm.forward(image.reshape([1, 3, 4, 4])).dataSync()));
    expect(() => norm.forward(randn([1, 3, 4]).reshape([3, 4]))).toThrow(
      'InstanceNorm2d: expected a 3-d (unbatched) or 4-d input, got [3, 4]',
    );
    expect(() => norm.forward(randn([1, 2, 4, 4]))).toThrow(
      'InstanceNorm2d: expected 3 channels (numFeatures) on axis 1, got input [1, 2, 4, 4]',
    );
    expect(new nn.InstanceNorm3d(4).forward(randn([2, 3, 2, 2, 2])).shape).toEqual([2, 3, 2, 2, 2]);
    expect(() => new nn.InstanceNorm1d(0)).toThrow('InstanceNorm1d: numFeatures must be a positive integer, got 0');
  });
});
