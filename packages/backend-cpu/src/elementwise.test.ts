import { add, bind, type DType, mul, Primitive, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const unary = (p: Primitive, x: Tensor): Tensor => bind(p as Primitive.Neg, [x], {});
const binary = (p: Primitive, a: Tensor, b: Tensor): Tensor => bind(p as Primitive.Add, [a, b], {});
const f64 = (data: number[]): Tensor => tensor(data, { dtype: 'float64' });

describe('unary kernels', () => {
  it('compute float results', () => {
    const x = f64([-1.5, 0, 2]);
    expect(values(unary(Primitive.Neg, x))).toEqual([1.5, -0, -2]);
    expect(values(unary(Primitive.Abs, x))).toEqual([1.5, 0, 2]);
    expect(values(unary(Primitive.Sign, x))).toEqual([-1, 0, 1]);
    expect(values(unary(Primitive.Exp, x))).toEqual([Math.exp(-1.5), 1, Math.exp(2)]);
    expect(values(unary(Primitive.Floor, x))).toEqual([-2, 0, 2]);
    expect(values(unary(Primitive.Ceil, x))).toEqual([-1, 0, 2]);
    expect(values(unary(Primitive.Reciprocal, f64([4, -0.5])))).toEqual([0.25, -2]);
    expect(values(unary(Primitive.Sqrt, f64([4, 2])))).toEqual([2, Math.SQRT2]);
    expect(values(unary(Primitive.Rsqrt, f64([4])))).toEqual([0.5]);
    expect(values(unary(Primitive.Log, f64([1, Math.E])))).toEqual([0, 1]);
    expect(values(unary(Primitive.Log1p, f64([0])))).toEqual([0]);
    expect(values(unary(Primitive.Expm1, f64([0])))).toEqual([0]);
    expect(values(unary(Primitive.Sin, f64([0])))).toEqual([0]);
    expect(values(unary(Primitive.Cos, f64([0])))).toEqual([1]);
    expect(values(unary(Primitive.Tan, f64([0])))).toEqual([0]);
    expect(values(unary(Primitive.Tanh, f64([0])))).toEqual([0]);
    expect(values(unary(Primitive.Logistic, f64([0, 1000, -1000])))).toEqual([0.5, 1, 0]);
  });

  it('rounds half to even', () => {
    expect(values(unary(Primitive.Round, f64([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6])))).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it('computes erf to double precision', () => {
    const got = values(unary(Primitive.Erf, f64([0, 0.5, 1, -1, 2.5, 3.5, 10, -10])));
    const expected = [0, 0.5204998778130465, 0.8427007929497149, -0.8427007929497149, 0.999593047982555, 0.9999992569016276, 1, -1];
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 14);
  });

  it('wraps integer negation and abs like C int32', () => {
    const x = tensor([-2147483648, 5, -7], { dtype: 'int32' });
    expect(values(unary(Primitive.Neg, x))).toEqual([-2147483648, -5, 7]);
    expect(values(unary(Primitive.Abs, x))).toEqual([-2147483648, 5, 7]);
    expect(values(unary(Primitive.Sign, x))).toEqual([-1, 1, -1]);
    expect(values(unary(Primitive.Round, x))).toEqual([-2147483648, 5, -7]);
    expect(values(unary(Primitive.Neg, tensor([1, 0, 255], { dtype: 'uint8' })))).toEqual([255, 0, 1]);
  });

  it('negates bools with Not', () => {
    expect(values(unary(Primitive.Not, tensor([true, false])))).toEqual([0, 1]);
  });

  it('reads strided, broadcast, flipped and offset inputs', () => {
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    );
    const transposed = bind(Primitive.Transpose, [m], { perm: [1, 0] });
    expect(values(unary(Primitive.Neg, transposed))).toEqual([-1, -4, -2, -5, -3, -6]);
    const flipped = bind(Primitive.Flip, [m], { axes: [0, 1] });
    expect(values(unary(Primitive.Neg, flipped))).toEqual([-6, -5, -4, -3, -2, -1]);
    const row = bind(Primitive.Slice, [m], { starts: [1, 0], stops: [2, 3], steps: [1, 2] });
    expect(values(unary(Primitive.Abs, row))).toEqual([4, 6]);
    const wide = bind(Primitive.Broadcast, [tensor([1, 2], { dtype: 'float32' })], { shape: [3, 2] });
    expect(values(unary(Primitive.Neg, wide))).toEqual([-1, -2, -1, -2, -1, -2]);
  });

  it('handles empty tensors', () => {
    const empty = tensor(new Float32Array(0), { shape: [0, 3] });
    const out = unary(Primitive.Exp, empty);
    expect(out.shape).toEqual([0, 3]);
    expect(values(out)).toEqual([]);
  });
});

describe('binary kernels', () => {
  it('add and mul through the public ops, with broadcasting', () => {
    const a = tensor([[1, 2, 3]], { dtype: 'float32' });
    const b = tensor([[10], [20]], { dtype: 'float32' });
    expect(values(add(a, b))).toEqual([11, 12, 13, 21, 22, 23]);
    expect(values(mul(a, 2))).toEqual([2, 4, 6]);
  });

  it('wraps int32 and uint8 arithmetic', () => {
    const big = tensor([2147483647, -2147483648, 65536], { dtype: 'int32' });
    const one = tensor([1, 1, 65536], { dtype: 'int32' });
    expect(values(binary(Primitive.Add, big, one))).toEqual([-2147483648, -2147483647, 131072]);
    expect(values(binary(Primitive.Sub, one, big))).toEqual([-2147483646, -2147483647, 0]);
    expect(values(binary(Primitive.Mul, big, one))).toEqual([2147483647, -2147483648, 0]);
    const u = tensor([250, 3, 16], { dtype: 'uint8' });
    const v = tensor([10, 5, 16], { dtype: 'uint8' });
    expect(values(binary(Primitive.Add, u, v))).toEqual([4, 8, 32]);
    expect(values(binary(Primitive.Sub, v, u))).toEqual([16, 2, 0]);
    expect(values(binary(Primitive.Mul, u, v))).toEqual([196, 15, 0]);
    expect(values(binary(Primitive.Pow, tensor([2, 3], { dtype: 'uint8' }), tensor([8, 5], { dtype: 'uint8' })))).toEqual([0, 243]);
  });

  it('divides integers by truncation, with x / 0 = 0', () => {
    const a = tensor([7, -7, 7, -7, 5, -2147483648], { dtype: 'int32' });
    const b = tensor([2, 2, -2, -2, 0, -1], { dtype: 'int32' });
    expect(values(binary(Primitive.Div, a, b))).toEqual([3, -3, -3, 3, 0, -2147483648]);
    expect(values(binary(Primitive.FloorDivide, a, b))).toEqual([3, -4, -4, 3, 0, -2147483648]);
    expect(values(binary(Primitive.Mod, a, b))).toEqual([1, 1, -1, -1, 0, 0]);
  });

  it('takes the sign of the divisor in float Mod and floors in FloorDivide', () => {
    const a = f64([5.5, -5.5, 5.5, -5.5]);
    const b = f64([2, 2, -2, -2]);
    expect(values(binary(Primitive.Mod, a, b))).toEqual([1.5, 0.5, -0.5, -1.5]);
    expect(values(binary(Primitive.FloorDivide, a, b))).toEqual([2, -3, -3, 2]);
    expect(values(binary(Primitive.Div, f64([1, -1, 0]), f64([0, 0, 0])))).toEqual([Infinity, -Infinity, NaN]);
  });

  it('computes Pow for floats and wrapping int32', () => {
    expect(values(binary(Primitive.Pow, f64([2, 4, 1, -8]), f64([3, 0.5, NaN, 1 / 3])))).toEqual([8, 2, 1, NaN]);
    const base = tensor([2, 3, -2, 2, -1, 5], { dtype: 'int32' });
    const exponent = tensor([10, 3, 3, 32, -3, -1], { dtype: 'int32' });
    expect(values(binary(Primitive.Pow, base, exponent))).toEqual([1024, 27, -8, 0, -1, 0]);
  });

  it('propagates NaN through Max and Min', () => {
    const a = f64([1, NaN, 3, -0]);
    const b = f64([2, 1, NaN, 0]);
    expect(values(binary(Primitive.Max, a, b))).toEqual([2, NaN, NaN, 0]);
    expect(values(binary(Primitive.Min, a, b))).toEqual([1, NaN, NaN, -0]);
    expect(values(binary(Primitive.Max, tensor([true, false]), tensor([false, false])))).toEqual([1, 0]);
  });

  it('compares into bool and combines bools', () => {
    const a = tensor([1, 2, NaN], { dtype: 'float32' });
    const b = tensor([2, 2, NaN], { dtype: 'float32' });
    const check = (p: Primitive, expected: number[]) => {
      const out = binary(p, a, b);
      expect(out.dtype).toBe('bool');
      expect(values(out)).toEqual(expected);
    };
    check(Primitive.Equal, [0, 1, 0]);
    check(Primitive.NotEqual, [1, 0, 1]);
    check(Primitive.Less, [1, 0, 0]);
    check(Primitive.LessEqual, [1, 1, 0]);
    check(Primitive.Greater, [0, 0, 0]);
    check(Primitive.GreaterEqual, [0, 1, 0]);
    const p = tensor([true, true, false, false]);
    const q = tensor([true, false, true, false]);
    expect(values(binary(Primitive.And, p, q))).toEqual([1, 0, 0, 0]);
    expect(values(binary(Primitive.Or, p, q))).toEqual([1, 1, 1, 0]);
  });

  it('reads a transposed operand against a broadcast one', () => {
    const m = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    );
    const t = bind(Primitive.Transpose, [m], { perm: [1, 0] });
    const row = bind(Primitive.Broadcast, [tensor([10, 100], { dtype: 'int32' })], { shape: [2, 2] });
    expect(values(binary(Primitive.Add, t, row))).toEqual([11, 103, 12, 104]);
    const flipped = bind(Primitive.Flip, [m], { axes: [1] });
    expect(values(binary(Primitive.Sub, flipped, t))).toEqual([1, -2, 2, -1]);
  });
});

describe('Where and Cast', () => {
  it('selects with a broadcast condition', () => {
    const condition = bind(Primitive.Broadcast, [tensor([true, false])], { shape: [2, 2] });
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    const y = bind(Primitive.Flip, [x], { axes: [0] });
    expect(values(bind(Primitive.Where, [condition, x, y], {}))).toEqual([1, 4, 3, 2]);
  });

  it('casts floats to integers by truncation, NaN to 0, and to bool by != 0', () => {
    const x = f64([1.9, -1.9, NaN, 0, -0.5, 300]);
    const cast = (dtype: DType) => values(bind(Primitive.Cast, [x], { dtype }));
    expect(cast('int32')).toEqual([1, -1, 0, 0, 0, 300]);
    expect(cast('uint8')).toEqual([1, 255, 0, 0, 0, 44]);
    expect(cast('bool')).toEqual([1, 1, 1, 0, 1, 1]);
    expect(cast('float32')).toEqual([Math.fround(1.9), Math.fround(-1.9), NaN, 0, -0.5, 300]);
    expect(values(bind(Primitive.Cast, [tensor([true, false])], { dtype: 'float32' }))).toEqual([1, 0]);
    expect(values(bind(Primitive.Cast, [tensor([-1, 256], { dtype: 'int32' })], { dtype: 'uint8' }))).toEqual([255, 0]);
  });
});
