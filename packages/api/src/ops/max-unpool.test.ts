import '@flint/backend-cpu';
import { grad, jit, maxPool1d, maxPool2d, maxUnpool1d, maxUnpool2d, nn, type Tensor, tensor, vmap } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

// Max pooling's indices and max unpooling beyond what PyTorch is compared on
// (pooling-torch.test.ts): NaN and integer inputs, repeated and out-of-range indices, the checks,
// asynchronous backends, and the transforms.

const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

describe('maxPool returnIndices', () => {
  test('a window holding NaN reports its first NaN, where its gradient goes', () => {
    const x = tensor([[[1, Number.NaN, 3, Number.NaN, 2, 0]]]);
    const { values: pooled, indices } = maxPool1d(x, 3, { returnIndices: true });
    expect(values(pooled)).toEqual([Number.NaN, Number.NaN]);
    expect(values(indices)).toEqual([1, 3]);
    const g = grad((t: Tensor) => maxPool1d(t, 3).sum())(x);
    expect(values(g)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  test('integer inputs: the padding never wins, even over the dtype’s lowest values', () => {
    const low = -2147483648;
    const x = tensor([[[low, low, -5, low]]], { dtype: 'int32' });
    const { values: pooled, indices } = maxPool1d(x, 3, { stride: 1, padding: 1, returnIndices: true });
    expect(values(pooled)).toEqual([low, -5, -5, -5]);
    expect(values(indices)).toEqual([0, 2, 2, 2]);
    expect(indices.dtype).toBe('int32');
  });

  test('without returnIndices the result is a tensor, as before; a non-boolean is refused', () => {
    const x = tensor([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    ]);
    expect(maxPool2d(x, 2, { returnIndices: false }).shape).toEqual([1, 1, 1, 1]);
    expect(() => maxPool2d(x, 2, { returnIndices: 1 as never })).toThrow(/returnIndices must be a boolean/);
  });

  test('under vmap and jit the indices are those of each example', () => {
    const x = tensor([
      [[[1, 9, 2, 3]], [[4, 0, 8, 1]]],
      [[[7, 1, 0, 2]], [[3, 5, 1, 6]]],
    ]); // [2 examples, C = 2, 1, 4]
    const pool = (t: Tensor) => maxPool1d(t, 2, { returnIndices: true }).indices;
    expect(vmap(pool)(x).arraySync()).toEqual([
      [[[1, 3]], [[0, 2]]],
      [[[0, 3]], [[1, 3]]],
    ]);
    expect(jit(pool)(x.reshape([4, 1, 4])).arraySync()).toEqual([[[1, 3]], [[0, 2]], [[0, 3]], [[1, 3]]]);
  });

  test('the MaxPool layers return values and indices, and say so', () => {
    const layer = new nn.MaxPool2d(2, { returnIndices: true });
    const { values: pooled, indices } = layer.forward(
      tensor([
        [
          [
            [1, 5],
            [3, 2],
          ],
        ],
      ]),
    );
    expect(values(pooled)).toEqual([5]);
    expect(values(indices)).toEqual([1]);
    expect(layer.toString()).toContain('returnIndices=true');
    expect(
      new nn.MaxPool2d(2).forward(
        tensor([
          [
            [
              [1, 5],
              [3, 2],
            ],
          ],
        ]),
      ).shape,
    ).toEqual([1, 1, 1, 1]);
  });
});

describe('maxUnpool', () => {
  test('repeated indices take the average of their values, and share the gradient', () => {
    const x = tensor([[[1, 2, 3, 4]]], { dtype: 'float32' });
    const indices = tensor([[[1, 1, 2, 2]]], { dtype: 'int32' });
    expect(values(maxUnpool1d(x, indices, 2, { stride: 1 }))).toEqual([0, 1.5, 3.5, 0, 0]);
    const w = tensor([[[1, 10, 100, 1000, 10000]]]);
    const g = grad((t: Tensor) => maxUnpool1d(t, indices, 2, { stride: 1 }).mul(w).sum())(x);
    expect(values(g)).toEqual([5, 5, 50, 50]);
  });

  test('round trip of a 2 x 2 pool keeps the maxima in place and zeros the rest', () => {
    const x = tensor([
      [
        [
          [1, 5, 0, 2],
          [3, 4, 7, 1],
          [0, 0, 1, 1],
          [9, 2, 1, 3],
        ],
      ],
    ]);
    const { values: pooled, indices } = maxPool2d(x, 2, { returnIndices: true });
    expect(maxUnpool2d(pooled, indices, 2).arraySync()).toEqual([
      [
        [
          [0, 5, 0, 0],
          [0, 0, 7, 0],
          [0, 0, 0, 0],
          [9, 0, 0, 3],
        ],
      ],
    ]);
  });

  test('bad arguments are clear errors', () => {
    const x = tensor([[[1, 2]]]);
    const indices = tensor([[[0, 3]]], { dtype: 'int32' });
    expect(() => maxUnpool1d(x, tensor([[[0]]], { dtype: 'int32' }), 2)).toThrow(
      /indices must have the shape of the input \[1, 1, 2\], got \[1, 1, 1\]/,
    );
    expect(() => maxUnpool1d(x, tensor([[[0, 1]]], { dtype: 'float32' }), 2)).toThrow(/indices must be an integer tensor/);
    expect(() => maxUnpool1d(x, tensor([[[0, 4]]], { dtype: 'int32' }), 2)).toThrow(
      /index 4 \(input plane 0, position 1\) is out of range for an output plane of \[4\]/,
    );
    expect(() => maxUnpool1d(x, tensor([[[-1, 1]]], { dtype: 'int32' }), 2)).toThrow(/index -1/);
    expect(() => maxUnpool1d(x, indices, 2, { outputSize: [6] })).toThrow(/strictly between 2 and 6/);
    expect(() => maxUnpool1d(x, indices, 2, { outputSize: [2, 3] })).toThrow(/outputSize must hold 1 sizes/);
    expect(() => maxUnpool1d(tensor([[[1]]]), tensor([[[0]]], { dtype: 'int32' }), 1, { padding: 1 })).toThrow(
      /output size \[-1\] is negative/,
    );
    expect(() => maxUnpool2d(tensor([[1, 2]]), tensor([[0, 3]], { dtype: 'int32' }), 2)).toThrow(/input must be \[N, C, H, W\]/);
    expect(() => maxUnpool1d(tensor([[[true, false]]]), indices, 2)).toThrow(/bool/);
    expect(() => maxUnpool1d(x, indices, 2, 2 as never)).toThrow(/options object/);
    // outputSize within the bounds, as a spatial size or a whole shape.
    expect(maxUnpool1d(x, indices, 2, { outputSize: [5] }).shape).toEqual([1, 1, 5]);
    expect(maxUnpool1d(x, tensor([[[0, 2]]], { dtype: 'int32' }), 2, { outputSize: [1, 1, 3] }).arraySync()).toEqual([[[1, 0, 2]]]);
  });

  test('on a backend that reads asynchronously nothing is read: indices out of range are dropped', async () => {
    registerAsyncCpuBackend('cpu-async-unpool');
    const on = { backend: 'cpu-async-unpool' } as const;
    const x = tensor([[[1, 2, 3]]], on);
    const out = maxUnpool1d(x, tensor([[[0, 9, 3]]], { dtype: 'int32', ...on }), 2, { stride: 1, outputSize: [4] });
    expect(Array.from(await out.data())).toEqual([1, 0, 0, 3]);
    const { values: pooled, indices } = maxPool1d(tensor([[[4, 1, 2, 8]]], on), 2, { returnIndices: true });
    expect(Array.from(await indices.data())).toEqual([0, 3]);
    expect(Array.from(await maxUnpool1d(pooled, indices, 2).data())).toEqual([4, 0, 0, 8]);
  });

  test('under jit the indices are not read: the same result, out-of-range ones dropped', () => {
    const x = tensor([[[1, 2, 3]]]);
    const unpool = jit((t: Tensor, i: Tensor) => maxUnpool1d(t, i, 2, { stride: 1, outputSize: [4] }));
    expect(values(unpool(x, tensor([[[0, 1, 3]]], { dtype: 'int32' })))).toEqual([1, 2, 0, 3]);
    expect(values(unpool(x, tensor([[[0, 9, 3]]], { dtype: 'int32' })))).toEqual([1, 0, 0, 3]);
  });

  test('the MaxUnpool layers take the output size in forward', () => {
    const x = tensor([
      [
        [
          [1, 5, 0],
          [3, 4, 7],
          [0, 6, 1],
        ],
      ],
    ]);
    const { values: pooled, indices } = new nn.MaxPool2d(2, { returnIndices: true }).forward(x);
    const layer = new nn.MaxUnpool2d(2);
    expect(layer.forward(pooled, indices, x.shape).arraySync()).toEqual([
      [
        [
          [0, 5, 0],
          [0, 0, 0],
          [0, 0, 0],
        ],
      ],
    ]);
    expect(layer.forward(pooled, indices).shape).toEqual([1, 1, 2, 2]);
    expect(layer.toString()).toContain('kernelSize=2, stride=2, padding=0');
  });
});
