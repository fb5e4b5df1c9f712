import '@flint/backend-cpu';
import { erf, manualSeed, matmul, Parameter, random, ShapeError, type Tensor, tensor, transpose, ValueError, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from './index.js';
import { maxDifference, moments } from './testing.test-support.js';

const init = nn.init;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('nn.init', () => {
  it('uniform stays in [a, b) with the uniform variance', () => {
    manualSeed(0);
    const xs = values(init.uniform([100, 100], -2, 3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(3);
    const [mean, variance] = moments(xs);
    expect(mean).toBeCloseTo(0.5, 1);
    expect(variance).toBeCloseTo(25 / 12, 1);
  });

  it('normal has the requested mean and standard deviation', () => {
    manualSeed(1);
    const [mean, variance] = moments(values(init.normal([200, 50], 1, 0.5)));
    expect(mean).toBeCloseTo(1, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(0.5, 1);
  });

  it('constant, zeros and ones fill', () => {
    expect(values(init.constant([2, 2], 0.25))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(values(init.zeros([3]))).toEqual([0, 0, 0]);
    expect(values(init.ones([2], { dtype: 'float64' }))).toEqual([1, 1]);
    expect(init.ones([2], { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('replaces a Parameter in place and returns it; a Tensor target gives a new tensor of its shape and dtype', () => {
    const p = new Parameter(zeros([3, 4]));
    expect(init.constant(p, 2)).toBe(p);
    expect(values(p.value)).toEqual(new Array<number>(12).fill(2));
    const template = zeros([2, 5], { dtype: 'float64' });
    const made = init.normal(template);
    expect(made.shape).toEqual([2, 5]);
    expect(made.dtype).toBe('float64');
    expect(values(template)).toEqual(new Array<number>(10).fill(0));
    expect(() => init.normal(tensor([1, 2]))).toThrow(/only floating tensors/);
  });

  it('computes fans and gains as PyTorch', () => {
    expect(init.calculateFanInAndFanOut([64, 3, 3, 3])).toEqual([27, 576]);
    expect(init.calculateFanInAndFanOut([10, 20])).toEqual([20, 10]);
    expect(() => init.calculateFanInAndFanOut([5])).toThrow(ShapeError);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / 1.0001), 12);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('swish' as 'relu')).toThrow(/unsupported nonlinearity/);
  });

  it('xavier uniform and normal use gain * sqrt(6 or 2 / (fanIn + fanOut))', () => {
    manualSeed(2);
    const bound = 2 * Math.sqrt(6 / (300 + 100));
    const xs = values(init.xavierUniform([100, 300], 2));
    expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...xs.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    const [, variance] = moments(values(init.xavierNormal([100, 300])));
    expect(Math.sqrt(variance)).toBeCloseTo(Math.sqrt(2 / 400), 2);
  });

  it('kaiming uniform and normal use gain / sqrt(fan), by fanIn or fanOut', () => {
    manualSeed(3);
    // Linear's default: a = sqrt(5) gives the bound 1 / sqrt(fanIn).
    const xs = values(init.kaimingUniform([50, 400], { a: Math.sqrt(5) }));
    expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(1 / 20);
    expect(Math.max(...xs.map(Math.abs))).toBeGreaterThan(0.95 / 20);
    const [, variance] = moments(values(init.kaimingNormal([400, 50], { mode: 'fanOut', nonlinearity: 'relu' })));
    expect(Math.sqrt(variance)).toBeCloseTo(Math.SQRT2 / Math.sqrt(400), 2);
    expect(() => init.kaimingUniform([2, 2], { mode: 'fan_in' as 'fanIn' })).toThrow(/mode must be 'fanIn' or 'fanOut'/);
  });

  for (const shape of [
    [6, 4],
    [4, 6],
    [5, 2, 3],
  ]) {
    it(`orthogonal gives orthonormal rows or columns for ${JSON.stringify(shape)}, times the gain`, () => {
      manualSeed(4);
      const q = init.orthogonal(shape, 3);
      expect(q.shape).toEqual(shape);
      const rows = shape[0] as number;
      const flat = q.reshape([rows, -1]);
      const columns = flat.shape[1] as number;
      const gram = rows >= columns ? matmul(transpose(flat), flat) : matmul(flat, transpose(flat));
      const n = Math.min(rows, columns);
      const identity = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 9 : 0));
      expect(maxDifference(values(gram), identity)).toBeLessThan(1e-4);
    });
  }

  it('erfinv inverts erf to single precision', () => {
    const xs = [-0.999, -0.9, -0.5, -0.1, 0, 0.2, 0.7, 0.95, 0.9999];
    const y = init.erfinv(tensor(xs, { dtype: 'float64' }));
    expect(maxDifference(values(erf(y)), xs)).toBeLessThan(2e-6);
  });

  it('truncNormal stays in [a, b] with the truncated distribution moments', () => {
    manualSeed(5);
    const xs = values(init.truncNormal([20000], 0, 1, -1, 2));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...xs)).toBeLessThanOrEqual(2);
    // Truncated standard normal on [-1, 2]: mean (φ(-1) - φ(2)) / (Φ(2) - Φ(-1)).
    const phi = (v: number): number => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
    const z = 0.9772498680518208 - 0.15865525393145707;
    const mean = (phi(-1) - phi(2)) / z;
    const variance = 1 + (-1 * phi(-1) - 2 * phi(2)) / z - mean * mean;
    const [m, v] = moments(xs);
    expect(m).toBeCloseTo(mean, 1);
    expect(v).toBeCloseTo(variance, 1);
    // As PyTorch, a and b are absolute: with std 0.02 the default [-2, 2] truncates nothing.
    const scaled = values(init.truncNormal([5000], 0, 0.02));
    expect(Math.sqrt(moments(scaled)[1])).toBeCloseTo(0.02, 3);
    expect(() => init.truncNormal([2], 0, 1, 2, 1)).toThrow(ValueError);
  });

  it('repeats with the same key and with the same global seed', () => {
    const k = random.key(9);
    expect(values(init.kaimingUniform([3, 3], { key: k }))).toEqual(values(init.kaimingUniform([3, 3], { key: k })));
    manualSeed(7);
    const a = values(init.normal([4]));
    manualSeed(7);
    expect(values(init.normal([4]))).toEqual(a);
  });
});
