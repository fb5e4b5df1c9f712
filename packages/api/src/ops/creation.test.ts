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
    expect(() => full([1], NaN, { dtype: 'int32' })).toThrow(/^full: the fill value NaN does not fit in int32/);
  });

  it('full widens integers outside int32 to float32, and refuses them in an integer dtype', () => {
    const big = full([2], 1e10);
    expect(big.dtype).toBe('float32');
    expect(big.arraySync()).toEqual([1e10, 1e10]);
    expect(full([1], 2147483647).dtype).toBe('int32');
    expect(() => full([2], 1e10, { dtype: 'int32' })).toThrow(ValueError);
    expect(() => full([2], 1e10, { dtype: 'int32' })).toThrow(
      /^full: the fill value 10000000000 does not fit in int32 \(integers from -2147483648 to 2147483647\); use a dtype that holds it, e\.g\. \{ dtype: 'float64' \}/,
    );
    expect(() => full([2], 256, { dtype: 'uint8' })).toThrow(/^full: the fill value 256 does not fit in uint8 \(integers from 0 to 255\)/);
    // Fractions truncate toward zero, as a cast does.
    expect(full([1], 2.7, { dtype: 'int32' }).arraySync()).toEqual([2]);
    expect(full([1], 5e9, { dtype: 'bool' }).arraySync()).toEqual([true]);
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
    // The like's integer dtype must hold the value: no silent wrap.
    expect(() => fullLike(tensor([1, 2]), 2 ** 31)).toThrow(/^fullLike: the fill value 2147483648 does not fit in int32/);
    expect(() => fullLike(tensor([1], { dtype: 'uint8' }), -1)).toThrow(/^fullLike: the fill value -1 does not fit in uint8/);
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

  it('infers float32 when a value would not fit in int32, and refuses it in an integer dtype', () => {
    const wide = arange(0, 5e9, 1e9);
    expect(wide.dtype).toBe('float32');
    expect(wide.arraySync()).toEqual([0, 1e9, 2e9, 3e9, 4e9]);
    expect(arange(2 ** 31 - 2, 2 ** 31).dtype).toBe('int32');
    expect(arange(2 ** 31 - 2, 2 ** 31 + 1).dtype).toBe('float32');
    expect(arange(0, -3e9, -1e9).dtype).toBe('int32'); // -2e9 is its last value
    expect(arange(0, -4e9, -1e9).dtype).toBe('float32');
    // Only the values count, not the stop they never reach.
    expect(arange(0, 2 ** 31, 2 ** 30).dtype).toBe('int32');
    expect(() => arange(0, 5e9, 1e9, { dtype: 'int32' })).toThrow(
      /^arange: the value 3000000000 at \[3\] does not fit in int32 \(integers from -2147483648 to 2147483647\); use a dtype that holds it/,
    );
    expect(() => arange(250, 260, 1, { dtype: 'uint8' })).toThrow(/^arange: the value 256 at \[6\] does not fit in uint8/);
    expect(() => arange(-2, 3, 1, { dtype: 'uint8' })).toThrow(/^arange: the value -2 at \[0\] does not fit in uint8/);
    expect(arange(250, 256, 1, { dtype: 'uint8' }).arraySync()).toEqual([250, 251, 252, 253, 254, 255]);
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
    expect(() => linspace(0, 5e9, 6, { dtype: 'int32' })).toThrow(/^linspace: the value 3000000000 at \[3\] does not fit in int32/);
    expect(() => linspace(-1, 1, 3, { dtype: 'uint8' })).toThrow(/^linspace: the value -1 at \[0\] does not fit in uint8/);
    expect(linspace(0, 255, 3, { dtype: 'uint8' }).arraySync()).toEqual([0, 127, 255]);
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
