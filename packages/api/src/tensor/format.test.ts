import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { arange, formatTensor, ones, Tensor, tensor, zeros } from '@flint/api';

describe('toString, PyTorch style', () => {
  it('prints integral floats with a trailing point and aligned rows', () => {
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      ).toString(),
    ).toBe('tensor([[1., 2.],\n        [3., 4.]])');
  });

  it('prints fractional floats with 4 decimals', () => {
    expect(
      tensor([
        [1.5, 2],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])');
    expect(tensor([-1.5, 2.25]).toString()).toBe('tensor([-1.5000,  2.2500])');
  });

  it('pads integers and booleans to one width', () => {
    expect(
      tensor([
        [1, 10],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[ 1, 10],\n        [ 3,  4]])');
    expect(tensor([true, false]).toString()).toBe('tensor([ True, False])');
    expect(tensor([-7, 100]).toString()).toBe('tensor([ -7, 100])');
  });

  it('switches to scientific notation when magnitudes demand it', () => {
    expect(tensor([1e-5, 1], { dtype: 'float64' }).toString()).toBe('tensor([1.0000e-05, 1.0000e+00], dtype=float64)');
    expect(tensor([1e10, 1], { dtype: 'float64' }).toString()).toBe('tensor([1.0000e+10, 1.0000e+00], dtype=float64)');
    expect(tensor([123456.5, 0.5], { dtype: 'float64' }).toString()).toBe('tensor([1.2346e+05, 5.0000e-01], dtype=float64)');
  });

  it('prints scalars, non-finite values and negative zero', () => {
    expect(tensor(3.5).toString()).toBe('tensor(3.5000)');
    expect(tensor(2, { dtype: 'float32' }).toString()).toBe('tensor(2.)');
    expect(tensor(7).toString()).toBe('tensor(7)');
    expect(tensor(true).toString()).toBe('tensor(True)');
    expect(tensor([NaN, Infinity, 1.5]).toString()).toBe('tensor([   nan,    inf, 1.5000])');
    expect(tensor([NaN, -Infinity]).toString()).toBe('tensor([nan, -inf])');
    expect(tensor([-0, 1], { dtype: 'float32' }).toString()).toBe('tensor([-0., 1.])');
  });

  it('names dtypes that are not defaults, and shapes of empty tensors', () => {
    expect(tensor([1, 2], { dtype: 'float64' }).toString()).toBe('tensor([1., 2.], dtype=float64)');
    expect(tensor([1, 2], { dtype: 'uint8' }).toString()).toBe('tensor([1, 2], dtype=uint8)');
    expect(zeros([0]).toString()).toBe('tensor([])');
    expect(zeros([0, 3]).toString()).toBe('tensor([], shape=[0, 3])');
    expect(zeros([0], { dtype: 'int32' }).toString()).toBe('tensor([], dtype=int32)');
  });

  it('wraps long rows at 80 columns', () => {
    expect(arange(30, { dtype: 'float32' }).toString()).toBe(
      'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
        '        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n' +
        '        28., 29.])',
    );
  });

  it('separates the blocks of higher-rank tensors with blank lines', () => {
    const t = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(t.toString()).toBe('tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]])');
  });

  it('summarizes tensors over 1000 elements with 3 edge items and the shape', () => {
    expect(arange(2000).toString()).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999], shape=[2000])');
    const big = ones([40, 40]).toString();
    const lines = big.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('tensor([[1., 1., 1.,  ..., 1., 1., 1.],');
    expect(lines[1]).toBe('        [1., 1., 1.,  ..., 1., 1., 1.],');
    expect(lines[3]).toBe('        ...,');
    expect(lines[6]).toBe('        [1., 1., 1.,  ..., 1., 1., 1.]], shape=[40, 40])');
  });

  it('formats raw data through formatTensor, naming non-cpu backends', () => {
    expect(formatTensor(new Float32Array([1, 2.5]), [2], 'float32')).toBe('tensor([1.0000, 2.5000])');
    expect(formatTensor(new Int32Array([1, 2]), [2], 'int32', 'webgpu')).toBe("tensor([1, 2], backend='webgpu')");
    expect(formatTensor(new Float64Array([1, 2]), [2], 'float64', 'cpu', { precision: 2 })).toBe('tensor([1., 2.], dtype=float64)');
    expect(formatTensor(new Float64Array([1.25, 2]), [2], 'float64', 'cpu', { precision: 2 })).toBe('tensor([1.25, 2.00], dtype=float64)');
  });

  it('prints tracers and disposed tensors without reading them', () => {
    expect(new Tensor([2, 3], 'float32', null, undefined).toString()).toBe('Tracer(shape=[2, 3], dtype=float32)');
    const t = tensor([1, 2]);
    t.dispose();
    expect(t.toString()).toBe('tensor(<disposed>, shape=[2], dtype=int32)');
  });

  it('serves Node inspection and toStringAsync with the same text', async () => {
    const t = tensor([[1.25, 2]]);
    expect(inspect(t)).toBe(t.toString());
    expect(await t.toStringAsync()).toBe(t.toString());
    expect(`${tensor([1, 2])}`).toBe('tensor([1, 2])');
  });
});
