import '@flint/backend-cpu';
import { add, DTypeError, ones, ShapeError, scalar, sin, stack, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';

// tensor() from JavaScript values: which dtype it infers, and that no number is ever silently
// wrapped into an integer dtype (docs/dtypes.md, "Dtypes inferred from JavaScript values").

const INT32_RANGE = String.raw`\(integers from -2147483648 to 2147483647\)`;

describe('tensor() infers int32 only for integers that int32 holds', () => {
  it('widens integral numbers outside int32 to float32 instead of wrapping them', () => {
    for (const [data, expected] of [
      [[1e40], [Math.fround(1e40)]],
      [[5e9], [Math.fround(5e9)]],
      [[2 ** 31], [2 ** 31]],
      [[-(2 ** 31) - 1], [-(2 ** 31)]],
      [
        [1, 2 ** 40],
        [1, 2 ** 40],
      ],
    ] as const) {
      const t = tensor([...data]);
      expect(t.dtype).toBe('float32');
      expect(Array.from(t.dataSync())).toEqual(expected);
    }
    expect(tensor(5e9).dtype).toBe('float32');
    expect(
      tensor([
        [1, 2],
        [3, 3e9],
      ]).dtype,
    ).toBe('float32');
  });

  it('keeps int32 up to its bounds, and float32 for NaN and infinities', () => {
    const ends = tensor([2147483647, -2147483648, 0, -0]);
    expect(ends.dtype).toBe('int32');
    expect(Array.from(ends.dataSync())).toEqual([2147483647, -2147483648, 0, 0]);
    expect(tensor([1, Number.NaN]).dtype).toBe('float32');
    expect(tensor([Number.POSITIVE_INFINITY]).dtype).toBe('float32');
    expect(tensor(Number.NEGATIVE_INFINITY).dtype).toBe('float32');
    expect(tensor([true, false]).dtype).toBe('bool');
  });

  it('infers the same way for JavaScript scalars given to ops', () => {
    expect(sin(5e9).dtype).toBe('float32');
    expect(ones([1]).add(5e9).dtype).toBe('float32');
    // Two scalars promote as the tensors they infer: 2 ** 40 is float32 there.
    const both = add(1, 2 ** 40);
    expect(both.dtype).toBe('float32');
    expect(both.item()).toBe(Math.fround(2 ** 40 + 1));
  });
});

describe('tensor() with an integer dtype refuses numbers it cannot hold', () => {
  it('names the op, the value, its index path and the range', () => {
    expect(() => tensor([5e9], { dtype: 'int32' })).toThrow(ValueError);
    expect(() => tensor([5e9], { dtype: 'int32' })).toThrow(
      new RegExp(
        String.raw`^tensor: the value 5000000000 at \[0\] does not fit in int32 ${INT32_RANGE}; use a dtype that holds it, e\.g\. \{ dtype: 'float64' \}`,
      ),
    );
    expect(() =>
      tensor(
        [
          [1, 2],
          [3, 2 ** 31],
        ],
        { dtype: 'int32' },
      ),
    ).toThrow(new RegExp(String.raw`^tensor: the value 2147483648 at \[1, 1\] does not fit in int32 ${INT32_RANGE}`));
    expect(() => tensor([0, 255, 300], { dtype: 'uint8' })).toThrow(
      /^tensor: the value 300 at \[2\] does not fit in uint8 \(integers from 0 to 255\); use a dtype that holds it, e\.g\. \{ dtype: 'int32' \}/,
    );
    expect(() => tensor([-1], { dtype: 'uint8' })).toThrow(/the value -1 at \[0\] does not fit in uint8/);
    expect(() => tensor(1e40, { dtype: 'int32' })).toThrow(/^tensor: the value 1e\+40 does not fit in int32/);
    expect(() => tensor([Number.NaN], { dtype: 'int32' })).toThrow(/^tensor: the value NaN at \[0\] does not fit in int32/);
    expect(() => tensor([Number.POSITIVE_INFINITY], { dtype: 'uint8' })).toThrow(/the value Infinity at \[0\] does not fit in uint8/);
  });

  it('truncates fractions toward zero, as a cast does, and stores exact bounds', () => {
    expect(Array.from(tensor([1.7, -1.7, 2147483647.5], { dtype: 'int32' }).dataSync())).toEqual([1, -1, 2147483647]);
    expect(Array.from(tensor([-0.5, 255.9], { dtype: 'uint8' }).dataSync())).toEqual([0, 255]);
    // Floats and bool take any number.
    expect(tensor([5e9], { dtype: 'float64' }).arraySync()).toEqual([5e9]);
    expect(tensor([5e9, 0], { dtype: 'bool' }).arraySync()).toEqual([true, false]);
  });

  it('checks typed arrays converted to an integer dtype, and leaves an Int32Array alone', () => {
    expect(() => tensor(new Float64Array([1, 5e9]), { dtype: 'int32' })).toThrow(
      new RegExp(String.raw`^tensor: the value 5000000000 at \[1\] does not fit in int32 ${INT32_RANGE}`),
    );
    expect(() => tensor(new Int32Array([7, -3]), { dtype: 'uint8' })).toThrow(/^tensor: the value -3 at \[1\] does not fit in uint8/);
    expect(() => tensor(new Float32Array([Number.NaN]), { dtype: 'int32' })).toThrow(/the value NaN at \[0\]/);
    expect(Array.from(tensor(new Float64Array([2.9, -2.9]), { dtype: 'int32' }).dataSync())).toEqual([2, -2]);
    const ints = tensor(new Int32Array([2147483647, -2147483648]));
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([2147483647, -2147483648]);
  });

  it('says the same for a scalar an op converts to an integer dtype', () => {
    expect(() => ones([1], { dtype: 'int32' }).add(2 ** 31)).toThrow(
      new RegExp(`^add: the scalar 2147483648 does not fit in int32 ${INT32_RANGE}, the dtype this op computes in`),
    );
  });
});

describe('tensor() with requiresGrad', () => {
  it('infers float32 from whole JavaScript numbers', () => {
    const x = tensor([1.0, 2.0], { requiresGrad: true });
    expect(x.dtype).toBe('float32');
    expect(x.requiresGrad).toBe(true);
    x.mul(x).sum().backward();
    expect(Array.from((x.grad as Tensor).dataSync())).toEqual([2, 4]);
    expect(scalar(3, { requiresGrad: true }).dtype).toBe('float32');
    expect(tensor([0.5], { requiresGrad: true }).dtype).toBe('float32');
    // An explicit integer dtype, and booleans, still cannot require grad (autograd.test.ts checks the message).
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    expect(() => tensor([true], { requiresGrad: true })).toThrow(DTypeError);
  });
});

describe('tensor() given tensors inside nested arrays', () => {
  it('says a Tensor was found where and suggests stack', () => {
    for (const data of [
      [ones([2]), ones([2])],
      [tensor(1.5), tensor(2.5)],
    ]) {
      const make = () => tensor(data as never);
      expect(make).toThrow(ValueError);
      expect(make).toThrow(
        /^tensor: element at \[0\] is a Tensor \(float32 \[(2)?\]\), expected a number or boolean; to join tensors use stack\(\[\.\.\.\]\)/,
      );
    }
    expect(() => tensor([[1, 2], ones([2])] as never)).toThrow(/^tensor: element at \[1\] is a Tensor \(float32 \[2\]\)/);
    expect(() => tensor([new Float32Array([1, 2])] as never)).toThrow(
      /^tensor: element at \[0\] is a Float32Array, expected a number or boolean; pass one flat typed array/,
    );
    // Other bad elements are still ragged-array ShapeErrors.
    expect(() => tensor([[1, 2], [3]] as never)).toThrow(ShapeError);
    // What the message suggests works.
    expect(stack([tensor(1.5), tensor(2.5)]).arraySync()).toEqual([1.5, 2.5]);
  });
});
