import '@flint/backend-cpu';
import { randn, ShapeError, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference } from '../testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('BatchNorm3d', () => {
  it('normalizes each channel over N, D, H and W, and updates the running statistics as PyTorch', () => {
    // Channel 0 holds 0..7, channel 1 holds 10 · (0..7): means 3.5 and 35, biased variances 5.25 and 525.
    const data = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((v) => [v, 10 * v]);
    const x = tensor(data, { shape: [1, 8, 1, 1, 2], dtype: 'float64' }).permute([0, 4, 1, 2, 3]);
    const bn = new nn.BatchNorm3d(2);
    const out = values(bn.forward(x));
    const steps = [0, 1, 2, 3, 4, 5, 6, 7];
    const expected = [...steps.map((v) => (v - 3.5) / Math.sqrt(5.25 + 1e-5)), ...steps.map((v) => (10 * v - 35) / Math.sqrt(525 + 1e-5))];
    expect(maxDifference(out, expected)).toBeLessThan(1e-6);
    // Running statistics: 0.9 · init + 0.1 · batch, with the unbiased variance (n = 8).
    expect(maxDifference(values(bn.runningMean), [0.35, 3.5])).toBeLessThan(1e-6);
    expect(maxDifference(values(bn.runningVar), [0.9 + 0.6, 0.9 + 60])).toBeLessThan(1e-5);
    expect(bn.toString()).toMatch(/^BatchNorm3d\(2, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true\)/);
  });

  it('takes only 5-d inputs', () => {
    expect(() => new nn.BatchNorm3d(3).forward(randn([2, 3, 4, 4]))).toThrow(ShapeError);
    expect(() => new nn.BatchNorm3d(3).forward(randn([2, 3, 4, 4]))).toThrow(/^BatchNorm3d: expected a 5-d input/);
  });
});

describe('MaxPool3d and AvgPool3d', () => {
  it('wrap the 3-d pooling functions', () => {
    const x = randn([2, 3, 4, 4, 4]);
    expect(values(new nn.MaxPool3d(2).forward(x))).toEqual(values(F.maxPool3d(x, 2)));
    expect(values(new nn.AvgPool3d(3, { stride: 1, padding: 1 }).forward(x))).toEqual(values(F.avgPool3d(x, 3, { stride: 1, padding: 1 })));
    expect(new nn.MaxPool3d(2).forward(x).shape).toEqual([2, 3, 2, 2, 2]);
    expect(new nn.AvgPool3d(2, { stride: 1 }).toString()).toBe('AvgPool3d(kernelSize=2, stride=1, padding=0)');
  });
});
