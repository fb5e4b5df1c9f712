import '@flint/backend-cpu';
import { grad, manualSeed, ones, randn, random, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float32Array);
const SATURATION = 1.7580993408473766;

/** The keep-mask a given key draws for `shape` (what the functions use), as 0/1 numbers. */
const keepMask = (key: Tensor, p: number, shape: number[]): number[] =>
  Array.from(random.bernoulli(key, 1 - p, shape).dataSync(), (v) => (v ? 1 : 0));

describe('channel dropout (torch.nn.functional.dropout1d/2d/3d)', () => {
  const key = random.key(11);

  it('dropout2d zeroes whole channels of [N, C, H, W] and scales the rest by 1 / (1 - p)', () => {
    const x = randn([4, 8, 3, 2]);
    const y = F.dropout2d(x, 0.25, { key });
    const mask = keepMask(key, 0.25, [4, 8, 1, 1]);
    expect(mask).toContain(0);
    expect(mask).toContain(1);
    const xs = values(x);
    values(y).forEach((v, i) => {
      expect(v).toBeCloseTo(((xs[i] as number) * (mask[Math.floor(i / 6)] as number)) / 0.75, 6);
    });
  });

  it('masks per channel of an unbatched input, and per (N, C) of dropout2d on [N, C, L] as PyTorch', () => {
    const rows = (t: Tensor, width: number) => {
      const v = values(t);
      return Array.from({ length: v.length / width }, (_, r) => v.slice(r * width, (r + 1) * width));
    };
    for (const [y, width] of [
      [F.dropout1d(ones([16, 5]), 0.5, { key }), 5],
      [F.dropout2d(ones([4, 4, 5]), 0.5, { key }), 5],
      [F.dropout3d(ones([16, 2, 2, 2]), 0.5, { key }), 8],
      [F.dropout3d(ones([2, 8, 2, 1, 2]), 0.5, { key }), 4],
    ] as const) {
      const channels = rows(y, width);
      for (const channel of channels) expect(new Set(channel).size).toBe(1);
      expect(new Set(channels.map((c) => c[0]))).toEqual(new Set([0, 2]));
    }
    expect(keepMask(key, 0.5, [16, 1])).toEqual(
      values(F.dropout1d(ones([16, 5]), 0.5, { key }))
        .filter((_, i) => i % 5 === 0)
        .map((v) => v / 2),
    );
  });

  it('keeps the expected value', () => {
    manualSeed(3);
    const y = F.dropout2d(ones([100, 100, 2, 2]), 0.3);
    const mean = values(y).reduce((a, b) => a + b, 0) / y.size;
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
  });

  it('is the identity when not training or p = 0, and zero for p = 1', () => {
    const x = randn([2, 3, 4]);
    expect(values(F.dropout1d(x, 0.5, { training: false }))).toEqual(values(x));
    expect(values(F.dropout2d(x, 0))).toEqual(values(x));
    expect(values(F.dropout3d(ones([2, 2, 2, 2]), 1))).toEqual(new Array(16).fill(0));
  });

  it('passes the gradient through the kept channels, scaled', () => {
    const x = randn([2, 6, 3]);
    const g = grad((t: Tensor) => F.dropout1d(t, 0.5, { key }).sum())(x);
    const mask = keepMask(key, 0.5, [2, 6, 1]);
    expect(values(g)).toEqual(mask.flatMap((m) => [2 * m, 2 * m, 2 * m]));
  });

  it('refuses inputs of the wrong rank and probabilities outside [0, 1]', () => {
    expect(() => F.dropout1d(ones([2, 3, 4, 5]), 0.5)).toThrow(ShapeError);
    expect(() => F.dropout1d(ones([2, 3, 4, 5]), 0.5)).toThrow(
      'dropout1d: input must be 3-d (batched) or 2-d (unbatched), with 1 spatial dimension after the channels; got [2, 3, 4, 5]',
    );
    expect(() => F.dropout2d(ones([2, 3]), 0.5)).toThrow('dropout2d: input must be 4-d (batched) or [N, C, L]');
    expect(() => F.dropout3d(ones([2, 3, 4]), 0.5)).toThrow('dropout3d: input must be 5-d (batched) or 4-d (unbatched)');
    expect(() => F.dropout2d(ones([2, 3, 4]), 1.5)).toThrow(ValueError);
  });
});

describe('alphaDropout (torch.nn.functional.alpha_dropout)', () => {
  const key = random.key(5);

  it('drops to the saturation value and transforms affinely, as PyTorch', () => {
    const p = 0.2;
    const x = randn([50]);
    const y = F.alphaDropout(x, p, { training: true, key });
    const a = 1 / Math.sqrt((SATURATION * SATURATION * p + 1) * (1 - p));
    const mask = keepMask(key, p, [50]);
    const xs = values(x);
    values(y).forEach((v, i) => {
      const kept = a * (xs[i] as number) + SATURATION * a * p;
      const dropped = SATURATION * a * (p - 1);
      expect(v).toBeCloseTo(mask[i] === 1 ? kept : dropped, 5);
    });
  });

  it('keeps zero mean and unit variance', () => {
    manualSeed(8);
    const y = values(F.alphaDropout(randn([200000]), 0.3, { training: true }));
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const variance = y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it("is the identity unless training: true, PyTorch's functional default", () => {
    const x = tensor([1, -2, 3], { dtype: 'float32' });
    expect(values(F.alphaDropout(x, 0.5))).toEqual([1, -2, 3]);
    expect(values(F.alphaDropout(x, 1, { training: true }))).toEqual([0, 0, 0]);
  });
});

describe('nn.Dropout1d/2d/3d and nn.AlphaDropout', () => {
  it('equal the functional forms while training (same generator draws) and are the identity in eval mode', () => {
    const x = randn([3, 4, 2, 2]);
    for (const [layer, fn] of [
      [new nn.Dropout2d(0.4), (t: Tensor) => F.dropout2d(t, 0.4)],
      [new nn.Dropout1d(0.4), (t: Tensor) => F.dropout1d(t.reshape([3, 4, 4]), 0.4).reshape([3, 4, 2, 2])],
      [new nn.Dropout3d(0.4), (t: Tensor) => F.dropout3d(t.reshape([3, 4, 2, 2, 1]), 0.4).reshape([3, 4, 2, 2])],
      [new nn.AlphaDropout(0.4), (t: Tensor) => F.alphaDropout(t, 0.4, { training: true })],
    ] as const) {
      const input = layer instanceof nn.Dropout1d ? x.reshape([3, 4, 4]) : layer instanceof nn.Dropout3d ? x.reshape([3, 4, 2, 2, 1]) : x;
      manualSeed(21);
      const trained = values(layer.forward(input));
      manualSeed(21);
      expect(trained).toEqual(values(fn(x)));
      expect(trained).not.toEqual(values(input));
      expect(values(layer.eval().forward(input))).toEqual(values(input));
    }
  });

  it('print their probability and check it', () => {
    expect(new nn.Dropout2d(0.1).toString()).toBe('Dropout2d(p=0.1)');
    expect(new nn.AlphaDropout().toString()).toBe('AlphaDropout(p=0.5)');
    expect(() => new nn.Dropout3d(2)).toThrow('Dropout3d: p must be a probability between 0 and 1, got 2');
  });
});
