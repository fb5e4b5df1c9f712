import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import {
  arange,
  DTypeError,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  ShapeError,
  tensor,
  ValueError,
  zeros,
  zerosLike,
} from '@flint/api';

describe('zeros, ones, full', () => {
  it('fill a shape with float32 by default', () => {
    const z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect(z.dtype).toBe('float32');
    expect(z.arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(ones([2], { dtype: 'int32' }).arraySync()).toEqual([1, 1]);
    expect(ones([2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(zeros([]).shape).toEqual([]);
    expect(ones(3).arraySync()).toEqual([1, 1, 1]);
    expect(zeros([0, 3]).size).toBe(0);
    expect(zeros([2]).backend).toBe('cpu');
  });

  it('full infers the dtype from the value as PyTorch does', () => {
    expect(full([2], 7).dtype).toBe('int32');
    expect(full([2], 0.5).dtype).toBe('float32');
    expect(full([2], true).dtype).toBe('bool');
    expect(full([2], true).arraySync()).toEqual([true, true]);
    expect(full([2, 1], 2.5, { dtype: 'float64' }).arraySync()).toEqual([[2.5], [2.5]]);
    expect(full([1], -Infinity).arraySync()).toEqual([-Infinity]);
    expect(() => full([1], NaN, { dtype: 'int32' })).toThrow(/cannot fill a int32 tensor with NaN/);
  });

  it('rejects bad shapes and dtypes', () => {
    expect(() => zeros([2, -1])).toThrow(ShapeError);
    expect(() => zeros([1.5])).toThrow(/non-negative integers/);
    expect(() => ones([2], { dtype: 'int64' as never })).toThrow(DTypeError);
    expect(() => zeros([2], { backend: 'nope' })).toThrow(/unknown backend 'nope'/);
  });
});

describe('*Like', () => {
  it('copy shape and dtype unless overridden', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    const z = zerosLike(x);
    expect(z.shape).toEqual([1, 3]);
    expect(z.dtype).toBe('float64');
    expect(onesLike(x, { dtype: 'int32' }).dtype).toBe('int32');
    expect(onesLike(x).arraySync()).toEqual([[1, 1, 1]]);
    const f = fullLike(tensor([1, 2]), 9);
    expect(f.dtype).toBe('int32');
    expect(f.arraySync()).toEqual([9, 9]);
    expect(fullLike(x, 0.25).arraySync()).toEqual([[0.25, 0.25, 0.25]]);
    expect(zerosLike(x).backend).toBe(x.backend);
  });
});

describe('arange', () => {
  it('counts with int32 for integer arguments', () => {
    const a = arange(5);
    expect(a.dtype).toBe('int32');
    expect(a.arraySync()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(2, 8, 3).arraySync()).toEqual([2, 5]);
    expect(arange(5, 0, -2).arraySync()).toEqual([5, 3, 1]);
    expect(arange(3, 3).shape).toEqual([0]);
  });

  it('uses float32 when an argument is fractional, and honours dtype', () => {
    const a = arange(1, 2, 0.25);
    expect(a.dtype).toBe('float32');
    expect(a.arraySync()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(0, 1, 0.1).shape).toEqual([10]);
    expect(arange(3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(arange(3, { dtype: 'float64' }).arraySync()).toEqual([0, 1, 2]);
    expect(arange(0.5, 3, 1, { dtype: 'int32' }).arraySync()).toEqual([0, 1, 2]);
  });

  it('rejects a zero step and backwards ranges', () => {
    expect(() => arange(0, 5, 0)).toThrow(/step must not be zero/);
    expect(() => arange(5, 0, 1)).toThrow(ValueError);
    expect(() => arange(Infinity)).toThrow(/finite/);
  });
});

describe('linspace', () => {
  it('includes both endpoints exactly', () => {
    expect(linspace(0, 1, 5).arraySync()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const values = linspace(-1, 0.7, 7).dataSync();
    expect(values[0]).toBe(Math.fround(-1));
    expect(values[6]).toBe(Math.fround(0.7));
    for (let i = 0; i < 7; i++) expect(values[i]).toBeCloseTo(-1 + (1.7 * i) / 6, 6);
  });

  it('handles one and zero points and dtypes', () => {
    expect(linspace(3, 9, 1).arraySync()).toEqual([3]);
    expect(linspace(3, 9, 0).shape).toEqual([0]);
    expect(linspace(0, 10, 6, { dtype: 'int32' }).arraySync()).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linspace(0, 1, 3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => linspace(0, 1, -1)).toThrow(/num must be a non-negative integer/);
  });
});

describe('eye', () => {
  it('puts ones on the diagonal of square and rectangular matrices', () => {
    expect(eye(3).arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(eye(2, 3, { dtype: 'int32' }).arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(2, { dtype: 'bool' }).arraySync()).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(eye(3, 1).arraySync()).toEqual([[1], [0], [0]]);
    expect(() => eye(-1)).toThrow(ShapeError);
  });
});
