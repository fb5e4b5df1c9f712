import '@flint/backend-cpu';
import { arange, jit, manualSeed, nn, random, type Tensor, tensor, vmap } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../../test/support/async-cpu-backend.test-support.js';

// fractionalMaxPool's own checks; its values, indices and gradients against PyTorch (given offsets)
// are in ops/pooling-torch.test.ts.

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const image = (h: number, w: number): Tensor => arange(h * w, { dtype: 'float32' }).reshape([1, 1, h, w]);

describe('fractionalMaxPool', () => {
  test('offsets from a key are a pure function of it; the global generator follows manualSeed', () => {
    const x = arange(2 * 3 * 20 * 20, { dtype: 'float32' })
      .reshape([2, 3, 20, 20])
      .sin();
    const k = random.key(5);
    // 9 windows over 20 positions: starts advance by 2.25 (an integer step would ignore the offsets).
    const a = F.fractionalMaxPool2d(x, 2, { outputRatio: 0.45, key: k });
    expect(a.shape).toEqual([2, 3, 9, 9]);
    expect(values(F.fractionalMaxPool2d(x, 2, { outputRatio: 0.45, key: k }))).toEqual(values(a));
    expect(values(F.fractionalMaxPool2d(x, 2, { outputRatio: 0.45, key: random.key(6) }))).not.toEqual(values(a));
    manualSeed(3);
    const first = values(F.fractionalMaxPool2d(x, 2, { outputSize: 8 }));
    const second = values(F.fractionalMaxPool2d(x, 2, { outputSize: 8 }));
    manualSeed(3);
    expect(values(F.fractionalMaxPool2d(x, 2, { outputSize: 8 }))).toEqual(first);
    expect(second).not.toEqual(first);
  });

  test('offsets 0 start the windows at floor(i * alpha); the last window ends at the input’s end', () => {
    // 1 x 10 rows of a 10 x 10 image [r * 10 + c]: the maximum of each window is its last tap.
    const x = image(10, 10);
    const u = tensor([0, 0], { dtype: 'float32' }).reshape([1, 1, 2]);
    const { values: pooled, indices } = F.fractionalMaxPool2d(x, 2, { outputSize: [1, 4], randomSamples: u, returnIndices: true });
    // Rows: one window, the last (rows 8 and 9). Columns: alpha = (10 - 2) / 3, starts 0, 2, 5,
    // then 8. Each window's maximum is its bottom-right tap, at row 9 and column start + 1.
    expect(values(indices)).toEqual([91, 93, 96, 99]);
    expect(values(pooled)).toEqual(values(indices));
  });

  test('under jit and vmap, and on an asynchronous backend, nothing is read', async () => {
    const x = image(9, 9);
    const u = tensor([0.3, 0.7], { dtype: 'float32' }).reshape([1, 1, 2]);
    const eager = values(F.fractionalMaxPool2d(x, 3, { outputSize: 4, randomSamples: u }));
    expect(values(jit((t: Tensor) => F.fractionalMaxPool2d(t, 3, { outputSize: 4, randomSamples: u }))(x))).toEqual(eager);
    const stacked = vmap((t: Tensor) => F.fractionalMaxPool2d(t, 3, { outputSize: 4, randomSamples: u }))(x.reshape([1, 1, 1, 9, 9]));
    expect(values(stacked)).toEqual(eager);
    registerAsyncCpuBackend('cpu-async-fractional');
    const on = { backend: 'cpu-async-fractional' } as const;
    const remote = F.fractionalMaxPool2d(x.to('cpu-async-fractional'), 3, {
      outputSize: 4,
      randomSamples: tensor([0.3, 0.7], { dtype: 'float32', ...on }).reshape([1, 1, 2]),
    });
    expect(Array.from(await remote.data())).toEqual(eager);
  });

  test('bad arguments are clear errors', () => {
    const x = image(6, 6);
    expect(() => F.fractionalMaxPool2d(x, 2)).toThrow(/give exactly one of outputSize and outputRatio, got neither/);
    expect(() => F.fractionalMaxPool2d(x, 2, { outputSize: 3, outputRatio: 0.5 })).toThrow(/got both/);
    expect(() => F.fractionalMaxPool2d(x, 2, { outputRatio: 1 })).toThrow(/strictly between 0 and 1/);
    expect(() => F.fractionalMaxPool2d(x, 4, { outputSize: 4 })).toThrow(/kernel \[4,4\] is too large for output size \[4,4\]/);
    expect(() => F.fractionalMaxPool2d(x, 2, { outputSize: 3, randomSamples: tensor([0.5, 0.5]) })).toThrow(
      /randomSamples must have shape \[1, 1, 2\]/,
    );
    expect(() => F.fractionalMaxPool2d(x, 2, { outputSize: 3, key: tensor([1, 2, 3]) })).toThrow(/expected a random key/);
    expect(() => F.fractionalMaxPool3d(x.reshape([6, 6]), 2, { outputSize: 3 })).toThrow(/input must be \[N, C, D, H, W\]/);
    expect(() => F.fractionalMaxPool2d(x, 2, 3 as never)).toThrow(/options object/);
  });

  test('the layers draw new offsets at each call, return indices when asked, and print their options', () => {
    const x = arange(400, { dtype: 'float32' }).reshape([1, 1, 20, 20]).cos();
    const layer = new nn.FractionalMaxPool2d(2, { outputRatio: 0.5, returnIndices: true });
    const { values: pooled, indices } = layer.forward(x);
    expect(pooled.shape).toEqual([1, 1, 10, 10]);
    expect(indices.dtype).toBe('int32');
    expect(layer.toString()).toContain('kernelSize=2, outputRatio=0.5, returnIndices=true');
    const plain = new nn.FractionalMaxPool3d(2, { outputSize: 2 });
    expect(plain.forward(arange(64, { dtype: 'float32' }).reshape([1, 4, 4, 4])).shape).toEqual([1, 2, 2, 2]);
  });
});
