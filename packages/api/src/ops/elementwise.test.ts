import '@flint/backend-cpu';
import {
  abs,
  acos,
  add,
  asin,
  astype,
  atan,
  atan2,
  ceil,
  clamp,
  cos,
  DTYPES,
  type DType,
  DTypeError,
  div,
  equal,
  erf,
  exp,
  expm1,
  floor,
  floorDivide,
  grad,
  greater,
  greaterEqual,
  jvp,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  maximum,
  minimum,
  mod,
  mul,
  neg,
  notEqual,
  ones,
  pow,
  reciprocal,
  round,
  rsqrt,
  ShapeError,
  sigmoid,
  sign,
  sin,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tan,
  tanh,
  tensor,
  ValueError,
  valueAndGrad,
  where,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

const inf = Number.POSITIVE_INFINITY;
const nan = Number.NaN;

/**
 * Checks shape, dtype and values. NaN matches NaN; zeros must match in sign (so -0 is checked);
 * other values match to a relative tolerance `rel` (0 means exactly).
 */
function expectTensor(actual: Tensor, shape: readonly number[], dtype: DType, expected: readonly number[], rel = 0): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  const data = Array.from(actual.dataSync());
  expect(data).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    const got = data[i] as number;
    const where = `element ${i}: got ${Object.is(got, -0) ? '-0' : got}, want ${Object.is(want, -0) ? '-0' : want}`;
    if (Number.isNaN(want)) expect(Number.isNaN(got), where).toBe(true);
    else if (want === 0) expect(Object.is(got, want), where).toBe(true);
    else if (rel === 0 || !Number.isFinite(want)) expect(got, where).toBe(want);
    else expect(Math.abs(got - want) <= rel * Math.abs(want), where).toBe(true);
  });
}

/** What a float32 kernel should give for `f`: the float64 result of the float32 input, rounded. */
const f32 = (f: (x: number) => number) => (x: number) => Math.fround(f(Math.fround(x)));
const F32_REL = 2 ** -22;

// Values every float unary op is checked on: ordinary values, zeros of both signs, infinities, NaN.
const EDGES = [0.5, -1.25, 2, 0, -0, inf, -inf, nan];

describe('unary math against Math.* references', () => {
  const cases: [string, (x: Tensor) => Tensor, (x: number) => number, number[]][] = [
    ['exp', exp, Math.exp, [...EDGES, 10, -10]],
    ['log', log, Math.log, [...EDGES, 1, 1e-30]],
    ['log1p', log1p, Math.log1p, [...EDGES, -1, 1e-8]],
    ['expm1', expm1, Math.expm1, [...EDGES, 1e-8]],
    ['sqrt', sqrt, Math.sqrt, [...EDGES, 1e30]],
    ['rsqrt', rsqrt, (x) => 1 / Math.sqrt(x), [...EDGES, 4]],
    ['sin', sin, Math.sin, [...EDGES, Math.PI / 6, 100]],
    ['cos', cos, Math.cos, [...EDGES, Math.PI / 3, 100]],
    ['tan', tan, Math.tan, [...EDGES, Math.PI / 4]],
    ['asin', asin, Math.asin, [...EDGES, 1, -1, 0.999, -0.3, 1e-8, 1.0000001]],
    ['acos', acos, Math.acos, [...EDGES, 1, -1, 0.999, -0.3, 1e-8, -1.0000001]],
    ['atan', atan, Math.atan, [...EDGES, 1, -1e10, 1e-8, 0.41421356]],
    ['tanh', tanh, Math.tanh, [...EDGES, 20, -20]],
    ['sigmoid', sigmoid, (x) => 1 / (1 + Math.exp(-x)), [...EDGES, 100, -100, 30]],
    ['reciprocal', reciprocal, (x) => 1 / x, [...EDGES, 3]],
    ['neg', neg, (x) => -x, EDGES],
    ['abs', abs, Math.abs, EDGES],
    ['floor', floor, Math.floor, [...EDGES, -0.5, 2.7, -2.7]],
    ['ceil', ceil, Math.ceil, [...EDGES, -0.5, 2.2, -2.2]],
    ['square', square, (x) => x * x, [...EDGES, 1e20, 3]],
  ];
  for (const [name, op, reference, values] of cases) {
    test(`${name} on float32 and float64`, () => {
      expectTensor(op(tensor(values, { dtype: 'float32' })), [values.length], 'float32', values.map(f32(reference)), F32_REL);
      expectTensor(op(tensor(values, { dtype: 'float64' })), [values.length], 'float64', values.map(reference), 1e-15);
    });
  }

  test('erf against tabulated values (Math has no erf)', () => {
    const x = [0, -0, 0.5, 1, -1, 2, 3.5, inf, -inf, nan];
    const want = [0, -0, 0.5204998778130465, 0.8427007929497149, -0.8427007929497149, 0.9953222650189527, 0.9999992569016276, 1, -1, nan];
    expectTensor(erf(tensor(x, { dtype: 'float64' })), [10], 'float64', want, 1e-14);
    expectTensor(erf(tensor(x)), [10], 'float32', want.map(Math.fround), F32_REL);
  });

  test('round is half to even, keeping the sign of zero', () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 0, -0, inf, nan];
    const want = [0, 2, 2, -0, -2, -2, 2, 3, -3, 0, -0, inf, nan];
    expectTensor(round(tensor(x)), [x.length], 'float32', want);
    expectTensor(round(tensor(x, { dtype: 'float64' })), [x.length], 'float64', want);
  });

  test('sign of floats and integers', () => {
    expectTensor(sign(tensor([-3.5, 2, inf, -inf, nan])), [5], 'float32', [-1, 1, 1, -1, nan]);
    expect(sign(tensor([0, -0])).arraySync()).toEqual([0, -0].map(() => expect.closeTo(0)));
    expectTensor(sign(tensor([-5, 0, 7])), [3], 'int32', [-1, 0, 1]);
    expectTensor(sign(tensor([0, 9], { dtype: 'uint8' })), [2], 'uint8', [0, 1]);
  });

  test('small arguments keep their precision in log1p and expm1', () => {
    expectTensor(log1p(tensor([1e-10], { dtype: 'float64' })), [1], 'float64', [9.9999999995e-11], 1e-12);
    expectTensor(expm1(tensor([1e-10], { dtype: 'float64' })), [1], 'float64', [1.00000000005e-10], 1e-12);
  });
});

describe('unary ops on every dtype', () => {
  test('transcendental ops compute integers and bools in float32', () => {
    expectTensor(exp(tensor([0, 1])), [2], 'float32', [1, Math.fround(Math.E)]);
    expectTensor(sqrt(tensor([4, 9], { dtype: 'uint8' })), [2], 'float32', [2, 3]);
    expectTensor(sigmoid(tensor([true, false])), [2], 'float32', [Math.fround(1 / (1 + Math.exp(-1))), 0.5]);
    expectTensor(reciprocal(tensor([2, 0])), [2], 'float32', [0.5, inf]);
    expectTensor(log(3), [], 'float32', [Math.fround(Math.log(3))], F32_REL);
  });

  test('integer dtypes keep their dtype in neg, abs, floor, ceil, round and square', () => {
    expectTensor(neg(tensor([3, -4, 0])), [3], 'int32', [-3, 4, 0]);
    expectTensor(abs(tensor([3, -4, -2147483647])), [3], 'int32', [3, 4, 2147483647]);
    expectTensor(floor(tensor([3, -4])), [2], 'int32', [3, -4]);
    expectTensor(ceil(tensor([7], { dtype: 'uint8' })), [1], 'uint8', [7]);
    expectTensor(round(tensor([-9])), [1], 'int32', [-9]);
    expectTensor(square(tensor([-3, 46341])), [2], 'int32', [9, (46341 * 46341) | 0]);
    expectTensor(square(tensor([16], { dtype: 'uint8' })), [1], 'uint8', [0]);
  });

  test('uint8 wraps as in PyTorch', () => {
    expectTensor(neg(tensor([1, 0], { dtype: 'uint8' })), [2], 'uint8', [255, 0]);
  });

  test('numeric ops reject bool with a DTypeError naming the op', () => {
    for (const [name, op] of [
      ['neg', neg],
      ['abs', abs],
      ['sign', sign],
      ['floor', floor],
      ['ceil', ceil],
      ['round', round],
    ] as const) {
      expect(() => op(tensor([true])), name).toThrow(DTypeError);
      expect(() => op(tensor([true])), name).toThrow(new RegExp(`^${name}: not defined for bool tensors`));
    }
  });

  test('square of bools computes in int32, like other arithmetic on two bools', () => {
    expectTensor(square(tensor([true, false])), [2], 'int32', [1, 0]);
  });

  test('accepts JavaScript values and keeps rank 0', () => {
    expectTensor(abs(-2), [], 'int32', [2]);
    expectTensor(neg([[1.5]]), [1, 1], 'float32', [-1.5]);
  });

  test('methods are the same functions', () => {
    const x = tensor([0.25, 4]);
    expectTensor(x.sqrt(), [2], 'float32', [0.5, 2]);
    expectTensor(x.rsqrt(), [2], 'float32', [2, 0.5]);
    expectTensor(x.neg().abs(), [2], 'float32', [0.25, 4]);
    expectTensor(x.square(), [2], 'float32', [0.0625, 16]);
    expectTensor(x.log().exp(), [2], 'float32', [0.25, 4], F32_REL);
    expectTensor(x.reciprocal(), [2], 'float32', [4, 0.25]);
  });
});

describe('binary arithmetic', () => {
  test('values with broadcasting', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectTensor(add(a, tensor([10, 20, 30])), [2, 3], 'int32', [11, 22, 33, 14, 25, 36]);
    expectTensor(sub(a, tensor([[1], [2]])), [2, 3], 'int32', [0, 1, 2, 2, 3, 4]);
    expectTensor(mul(tensor([[1], [2]]), tensor([1, 10, 100])), [2, 3], 'int32', [1, 10, 100, 2, 20, 200]);
    expectTensor(add(tensor(1), a), [2, 3], 'int32', [2, 3, 4, 5, 6, 7]);
    expectTensor(add(tensor(new Float32Array(0), { shape: [0, 3] }), tensor([1, 2, 3])), [0, 3], 'float32', []);
  });

  test('each dtype with itself keeps its dtype; two bools compute in int32', () => {
    const want: Record<DType, DType> = {
      float32: 'float32',
      float64: 'float64',
      float16: 'float16',
      bfloat16: 'bfloat16',
      int32: 'int32',
      uint8: 'uint8',
      bool: 'int32',
    };
    for (const dtype of DTYPES) {
      const x = tensor([1, 0, 1], { dtype });
      expectTensor(add(x, x), [3], want[dtype], [2, 0, 2]);
      expectTensor(mul(x, x), [3], want[dtype], [1, 0, 1]);
      expectTensor(sub(x, x), [3], want[dtype], [0, 0, 0]);
    }
  });

  test('mixed dtypes promote as the table in docs/dtypes.md', () => {
    expectTensor(add(tensor([1, 2]), tensor([0.5, 0.5])), [2], 'float32', [1.5, 2.5]);
    expectTensor(add(tensor([1, 2]), tensor([0.5, 0.5], { dtype: 'float64' })), [2], 'float64', [1.5, 2.5]);
    expectTensor(add(tensor([250], { dtype: 'uint8' }), tensor([10])), [1], 'int32', [260]);
    expectTensor(add(tensor([true]), tensor([5], { dtype: 'uint8' })), [1], 'uint8', [6]);
    expectTensor(mul(tensor([0.1], { dtype: 'float64' }), tensor([3], { dtype: 'float32' })), [1], 'float64', [0.1 * 3], 1e-15);
  });

  test('JavaScript scalars are weak: they never widen a tensor within its category', () => {
    expectTensor(add(tensor([1, 2]), 1), [2], 'int32', [2, 3]);
    expectTensor(add(tensor([1, 2]), 0.5), [2], 'float32', [1.5, 2.5]);
    expectTensor(add(tensor([0.5], { dtype: 'float64' }), 1), [1], 'float64', [1.5]);
    expectTensor(add(tensor([255], { dtype: 'uint8' }), 1), [1], 'uint8', [0]);
    expectTensor(add(tensor([true]), 1), [1], 'int32', [2]);
    expectTensor(add(tensor([true]), true), [1], 'int32', [2]);
    expectTensor(add(tensor([true]), 0.5), [1], 'float32', [1.5]);
    expectTensor(sub(10, tensor([1, 2])), [2], 'int32', [9, 8]);
    expectTensor(mul(2.5, tensor([2], { dtype: 'float64' })), [1], 'float64', [5]);
    expectTensor(add(1, 2), [], 'int32', [3]);
    expectTensor(add(1, 2.5), [], 'float32', [3.5]);
  });

  test('a weak integer scalar outside the integer dtype is an error, not a silent wrap', () => {
    const bytes = tensor([1, 200], { dtype: 'uint8' });
    expectTensor(add(bytes, 255), [2], 'uint8', [0, 199]);
    expect(() => add(bytes, 300)).toThrow(ValueError);
    expect(() => add(bytes, 300)).toThrow(
      /^add: the scalar 300 does not fit in uint8 \(integers from 0 to 255\), the dtype this op computes in; cast the tensor to a wider dtype first, e\.g\. x\.astype\('int32'\)$/,
    );
    expect(() => add(bytes, 5e9)).toThrow(/^add: the scalar 5000000000 does not fit in uint8 .* e\.g\. x\.astype\('float64'\)$/);
    expect(() => sub(bytes, -1)).toThrow(/^sub: the scalar -1 does not fit in uint8/);
    expect(() => mul(tensor([2]), 2 ** 31)).toThrow(/^mul: the scalar 2147483648 does not fit in int32/);
    expect(() => add(tensor([true]), 2 ** 40)).toThrow(ValueError);
    expect(() => maximum(bytes, -1)).toThrow(/^maximum: the scalar -1/);
    expect(() => clamp(bytes, 0, 256)).toThrow(/^clamp: the scalar 256/);
    expect(() => where(tensor([true]), bytes, 256)).toThrow(/^where: the scalar 256 does not fit in uint8/);
    // Two scalars promote as the tensors they infer, and 2 ** 40 infers float32 (int32 cannot hold it).
    expectTensor(add(2 ** 40, 1), [], 'float32', [2 ** 40]);
    // Float results are unaffected: true division and float tensors take any number.
    expectTensor(div(bytes, 400), [2], 'float32', [0.0025, 0.5], F32_REL);
    expectTensor(add(tensor([0.5]), 2 ** 40), [1], 'float32', [Math.fround(2 ** 40 + 0.5)], F32_REL);
  });

  test('comparisons with an out-of-range integer scalar give the exact answer', () => {
    const bytes = tensor([0, 5], { dtype: 'uint8' });
    expectTensor(less(bytes, -1), [2], 'bool', [0, 0]);
    expectTensor(greater(bytes, -1), [2], 'bool', [1, 1]);
    expectTensor(notEqual(bytes, 256), [2], 'bool', [1, 1]);
    expectTensor(less(tensor([2147483647, -2147483648]), 2 ** 31), [2], 'bool', [1, 1]);
    expectTensor(equal(tensor([0]), 2 ** 32), [1], 'bool', [0]);
  });

  test('nested arrays are strong operands, promoting as tensors do', () => {
    expectTensor(add(tensor([1], { dtype: 'uint8' }), [300]), [1], 'int32', [301]);
    expectTensor(add(tensor([1]), [[0.5], [1.5]]), [2, 1], 'float32', [1.5, 2.5]);
  });

  test('int32 arithmetic wraps around', () => {
    expectTensor(add(tensor([2147483647]), 1), [1], 'int32', [-2147483648]);
    expectTensor(mul(tensor([65536]), tensor([65536])), [1], 'int32', [0]);
  });

  test('IEEE special values', () => {
    expectTensor(add(tensor([inf, -inf, nan, -0]), tensor([-inf, 1, 1, -0])), [4], 'float32', [nan, -inf, nan, -0]);
    expectTensor(sub(tensor([0.0], { dtype: 'float32' }), 0), [1], 'float32', [0]);
    expectTensor(mul(tensor([-0, inf, 0]), tensor([5, 0, -1])), [3], 'float32', [-0, nan, -0]);
  });
});

describe('div, pow, mod, floorDivide', () => {
  test('true division gives float32 for integers and bools, keeps float64', () => {
    expectTensor(div(tensor([7, -7, 1]), tensor([2, 2, 3])), [3], 'float32', [3.5, -3.5, Math.fround(1 / 3)]);
    expectTensor(div(tensor([true]), tensor([true])), [1], 'float32', [1]);
    expectTensor(div(tensor([1], { dtype: 'float64' }), 3), [1], 'float64', [1 / 3]);
    expectTensor(div(tensor([1], { dtype: 'uint8' }), 4), [1], 'float32', [0.25]);
    expectTensor(tensor([6]).div(4), [1], 'float32', [1.5]);
  });

  test('division by zero gives infinities and NaN, also for integer operands', () => {
    expectTensor(div(tensor([1, -1, 0]), 0), [3], 'float32', [inf, -inf, nan]);
    expectTensor(div(tensor([1, 1]), tensor([0, -0], { dtype: 'float32' })), [2], 'float32', [inf, -inf]);
  });

  test('pow: integer powers stay integer, fractional exponents give floats', () => {
    expectTensor(pow(tensor([1, 2, 3]), 2), [3], 'int32', [1, 4, 9]);
    expectTensor(pow(tensor([2]), tensor([10])), [1], 'int32', [1024]);
    expectTensor(pow(tensor([4, 9]), 0.5), [2], 'float32', [2, 3]);
    expectTensor(pow(2, tensor([0.5, -1])), [2], 'float32', [Math.fround(Math.SQRT2), 0.5], F32_REL);
    expectTensor(pow(tensor([3], { dtype: 'uint8' }), 6), [1], 'uint8', [729 & 255]);
    expectTensor(tensor([2], { dtype: 'float64' }).pow(-2), [1], 'float64', [0.25]);
  });

  test('pow special values follow C: x**0 is 1 (NaN too), 1**y is 1, negative base to a fraction is NaN', () => {
    expectTensor(pow(tensor([nan, 0, -2]), 0), [3], 'float32', [1, 1, 1]);
    expectTensor(pow(tensor([1, 1]), tensor([nan, inf])), [2], 'float32', [1, 1]);
    expectTensor(pow(tensor([-8]), 1 / 3), [1], 'float32', [nan]);
    expectTensor(pow(tensor([0]), -1.5), [1], 'float32', [inf]);
  });

  test('integers to negative JavaScript integer powers are a ValueError', () => {
    expect(() => pow(tensor([2]), -1)).toThrow(ValueError);
    expect(() => pow(tensor([2]), -1)).toThrow(/pow: integers to negative integer powers are not allowed \(a int32 base to the power -1\)/);
    expect(() => pow(tensor([true]), -2)).toThrow(ValueError);
    expect(() => pow(tensor([3], { dtype: 'uint8' }), -1)).toThrow(/a uint8 base/);
    expect(() => pow(2, -1)).toThrow(ValueError);
    expect(() => pow([[3]], -1)).toThrow(ValueError);
    expectTensor(pow(tensor([2]), -1.5), [1], 'float32', [Math.fround(2 ** -1.5)], F32_REL);
    expectTensor(pow(tensor([2], { dtype: 'float32' }), -1), [1], 'float32', [0.5]);
  });

  test('mod takes the sign of the divisor (Python %)', () => {
    expectTensor(mod(tensor([-3, 3, -3, 3, 7]), tensor([2, -2, -2, 2, 7])), [5], 'int32', [1, -1, -1, 1, 0]);
    expectTensor(mod(tensor([-3.5, 5.5, 7.25]), tensor([2, -2, 2])), [3], 'float32', [0.5, -0.5, 1.25]);
    expectTensor(mod(tensor([5], { dtype: 'float64' }), 0), [1], 'float64', [nan]);
    expectTensor(mod(tensor([5, -5]), 0), [2], 'int32', [0, 0]);
    expectTensor(tensor([10]).mod(3), [1], 'int32', [1]);
  });

  test('floorDivide rounds toward -Infinity and keeps integer dtypes', () => {
    expectTensor(floorDivide(tensor([-7, 7, 7, -8]), tensor([2, -2, 2, 2])), [4], 'int32', [-4, -4, 3, -4]);
    expectTensor(floorDivide(tensor([7.5, -7.5]), 2), [2], 'float32', [3, -4]);
    expectTensor(floorDivide(tensor([7], { dtype: 'uint8' }), 2), [1], 'uint8', [3]);
    expectTensor(floorDivide(tensor([7]), 0), [1], 'int32', [0]);
    expectTensor(floorDivide(tensor([1, -1]), 0.0), [2], 'int32', [0, 0]);
    expectTensor(floorDivide(tensor([1.5, -1.5]), 0), [2], 'float32', [inf, -inf]);
  });
});

describe('inverse trigonometric functions', () => {
  const pi = Math.PI;

  test('atan2 follows C on signed zeros and infinities (as torch.atan2), in float32 and float64', () => {
    const y = [0, -0, 0, -0, 1, -1, 1, inf, -inf, inf, -inf, 2, -2, 1, nan, 0];
    const x = [0, 0, -0, -0, 0, -0, -1, 5, 5, inf, -inf, inf, -inf, nan, 1, -3];
    const want = [0, -0, pi, -pi, pi / 2, -pi / 2, (3 * pi) / 4, pi / 2, -pi / 2, pi / 4, (-3 * pi) / 4, 0, -pi, nan, nan, pi];
    expectTensor(atan2(tensor(y, { dtype: 'float64' }), tensor(x, { dtype: 'float64' })), [16], 'float64', want, 1e-15);
    expectTensor(atan2(tensor(y), tensor(x)), [16], 'float32', want.map(Math.fround), F32_REL);
    expect(y.map((v, i) => Math.atan2(v, x[i] as number))).toEqual(want);
  });

  test('atan2 broadcasts, promotes integers to float32 and has the method form y.atan2(x)', () => {
    const got = atan2(tensor([[1], [-1]]), tensor([1, -1, 0]));
    expectTensor(got, [2, 3], 'float32', [pi / 4, (3 * pi) / 4, pi / 2, -pi / 4, (-3 * pi) / 4, -pi / 2].map(Math.fround), F32_REL);
    expectTensor(tensor([3], { dtype: 'float64' }).atan2(4), [1], 'float64', [Math.atan2(3, 4)], 1e-15);
    expectTensor(atan2(tensor([true]), tensor([false])), [1], 'float32', [Math.fround(pi / 2)]);
  });

  test('asin, acos and atan compute integers in float32; outside [-1, 1] asin and acos are NaN', () => {
    expectTensor(asin(tensor([1, 0, 2, -1])), [4], 'float32', [pi / 2, 0, nan, -pi / 2].map(Math.fround));
    expectTensor(acos(tensor([1, 0, 2], { dtype: 'uint8' })), [3], 'float32', [0, pi / 2, nan].map(Math.fround));
    expectTensor(atan(tensor([1, -1])), [2], 'float32', [pi / 4, -pi / 4].map(Math.fround));
    expectTensor(tensor([0.5]).asin(), [1], 'float32', [Math.fround(Math.asin(0.5))], F32_REL);
    expectTensor(tensor([0.5]).acos(), [1], 'float32', [Math.fround(Math.acos(0.5))], F32_REL);
    expectTensor(tensor([2]).atan(), [1], 'float32', [Math.fround(Math.atan(2))], F32_REL);
  });

  test('derivatives: 1/sqrt(1 - x^2), -1/sqrt(1 - x^2), 1/(1 + x^2) and x/r^2, -y/r^2', () => {
    const xs = [-0.9, -0.3, 0, 0.5, 0.99];
    const x = tensor(xs, { dtype: 'float64' });
    const d = (f: (t: Tensor) => Tensor) => grad((t: Tensor) => sum(f(t)))(x);
    expectTensor(
      d(asin),
      [5],
      'float64',
      xs.map((v) => 1 / Math.sqrt(1 - v * v)),
      1e-13,
    );
    expectTensor(
      d(acos),
      [5],
      'float64',
      xs.map((v) => -1 / Math.sqrt(1 - v * v)),
      1e-13,
    );
    expectTensor(
      d(atan),
      [5],
      'float64',
      xs.map((v) => 1 / (1 + v * v)),
      1e-14,
    );
    const y = tensor([1, -2, 0.5], { dtype: 'float64' });
    const z = tensor([-3, 0.5, 2], { dtype: 'float64' });
    const [gy, gz] = grad((a: Tensor, b: Tensor) => sum(atan2(a, b)), { argnums: [0, 1] })(y, z) as [Tensor, Tensor];
    const r2 = [10, 4.25, 4.25];
    expectTensor(gy, [3], 'float64', [-3 / 10, 0.5 / 4.25, 2 / 4.25], 1e-14);
    expectTensor(gz, [3], 'float64', [-1 / r2[0]!, 2 / r2[1]!, -0.5 / r2[2]!], 1e-14);
    // At the origin the gradient is NaN, as in PyTorch.
    const origin = grad((a: Tensor) => sum(atan2(a, tensor([0], { dtype: 'float64' }))))(tensor([0], { dtype: 'float64' }));
    expect(Number.isNaN(origin.dataSync()[0])).toBe(true);
  });

  test('jvp of atan2 in both operands', () => {
    const y = tensor([1, -2], { dtype: 'float64' });
    const x = tensor([2, 1], { dtype: 'float64' });
    const [, tangent] = jvp(
      (a: Tensor, b: Tensor) => atan2(a, b),
      [y, x],
      [ones([2], { dtype: 'float64' }), ones([2], { dtype: 'float64' })],
    );
    // (x - y) / (x^2 + y^2)
    expectTensor(tangent as Tensor, [2], 'float64', [1 / 5, 3 / 5], 1e-14);
  });
});

describe('maximum, minimum and clamp', () => {
  test('elementwise with broadcasting and promotion', () => {
    expectTensor(maximum(tensor([1, 5]), tensor([3, 2])), [2], 'int32', [3, 5]);
    expectTensor(minimum(tensor([[1], [5]]), tensor([3, 2])), [2, 2], 'int32', [1, 1, 3, 2]);
    expectTensor(maximum(tensor([1, 5]), 2.5), [2], 'float32', [2.5, 5]);
    expectTensor(minimum(tensor([true, false]), tensor([true, true])), [2], 'bool', [1, 0]);
    expectTensor(maximum(tensor([200], { dtype: 'uint8' }), tensor([-1])), [1], 'int32', [200]);
  });

  test('NaN propagates from either side', () => {
    expectTensor(maximum(tensor([nan, 1]), tensor([1, nan])), [2], 'float32', [nan, nan]);
    expectTensor(minimum(tensor([nan, 1]), tensor([1, nan])), [2], 'float32', [nan, nan]);
    expectTensor(maximum(tensor([-inf]), tensor([inf])), [1], 'float32', [inf]);
  });

  test('clamp to both bounds, one bound, and tensor bounds', () => {
    expectTensor(clamp(tensor([-2, 0.5, 3]), 0, 1), [3], 'float32', [0, 0.5, 1]);
    expectTensor(clamp(tensor([-2, 5, 3]), 0), [3], 'int32', [0, 5, 3]);
    expectTensor(clamp(tensor([-2, 5, 3]), undefined, 4), [3], 'int32', [-2, 4, 3]);
    expectTensor(
      clamp(
        tensor([
          [1, 9],
          [5, 5],
        ]),
        tensor([[2], [6]]),
        tensor([8, 4]),
      ),
      [2, 2],
      'int32',
      [2, 4, 6, 4],
    );
    expectTensor(tensor([0.5, -7]).clamp(-1, 1), [2], 'float32', [0.5, -1]);
  });

  test('clamp keeps NaN, sends everything to max when min > max, and promotes as maximum does', () => {
    expectTensor(clamp(tensor([nan, 0]), 0, 1), [2], 'float32', [nan, 0]);
    expectTensor(clamp(tensor([0, 5, 10]), 6, 4), [3], 'int32', [4, 4, 4]);
    expectTensor(clamp(tensor([0, 5]), 0.5, 2), [2], 'float32', [0.5, 2]);
  });

  test('clamp promotes the input and both bounds at once, as torch.clamp', () => {
    // Pairwise, int32[1] with float16[] would be float16 (4097 rounds to 4096) before float64[].
    const ints = tensor([4097], { dtype: 'int32' });
    const wide = clamp(ints, zeros([], { dtype: 'float16' }), tensor(1e6, { dtype: 'float64' }));
    expectTensor(wide, [1], 'float64', [4097]);
    expect(clamp(ints, tensor(1e6, { dtype: 'float64' }), zeros([], { dtype: 'float16' })).dtype).toBe('float64');
    // Within a category the 0-dim bounds do not widen the input; JavaScript scalars are weak.
    expect(clamp(ones([2], { dtype: 'float16' }), tensor(0, { dtype: 'float64' }), tensor(1, { dtype: 'float32' })).dtype).toBe('float16');
    expect(clamp(ones([2], { dtype: 'uint8' }), 0, 10).dtype).toBe('uint8');
    expect(clamp(ones([2], { dtype: 'int32' }), 0, 0.5).dtype).toBe('float32');
    // A dimensioned bound promotes fully, and broadcasts the result.
    expectTensor(clamp(tensor(3, { dtype: 'int32' }), ones([2], { dtype: 'float64' }), 2), [2], 'float64', [2, 2]);
    expectTensor(clamp(tensor([true, false]), true, true), [2], 'bool', [1, 1]);
    expect(() => clamp(ones([2], { dtype: 'uint8' }), 0, 256)).toThrow(/^clamp: the scalar 256 does not fit in uint8/);
    expect(() => clamp(ones([2]), 'a' as unknown as number)).toThrow(/^clamp: min must be a tensor/);
  });

  test('clamp differentiates to the input in its own dtype', () => {
    const g = grad((x: Tensor) => sum(clamp(x, tensor(0, { dtype: 'float64' }), tensor(1, { dtype: 'float64' }))))(tensor([0.5, 2]));
    expectTensor(g, [2], 'float32', [1, 0]);
  });

  // PyTorch's clamp_backward: the input's gradient passes where min <= x <= max, bounds included
  // (maximum and minimum would give half at a tie), and not at NaN nor anywhere when min > max.
  test('clamp passes the whole gradient at its bounds, as torch.clamp, and none at NaN', () => {
    const slopes = (f: (t: Tensor) => Tensor, values: number[]) => grad((t: Tensor) => sum(f(t)))(tensor(values, { dtype: 'float64' }));
    expectTensor(
      slopes((t) => clamp(t, 0, 1), [0, 1, 0.5, -1, 2, nan]),
      [6],
      'float64',
      [1, 1, 1, 0, 0, 0],
    );
    expectTensor(
      slopes((t) => clamp(t, 0), [0, 2, -1]),
      [3],
      'float64',
      [1, 1, 0],
    );
    expectTensor(
      slopes((t) => clamp(t, undefined, 1), [1, 0, 2]),
      [3],
      'float64',
      [1, 1, 0],
    );
    expectTensor(
      slopes((t) => clamp(t, 2, 2), [1, 2, 3]),
      [3],
      'float64',
      [0, 1, 0],
    );
    expectTensor(
      slopes((t) => clamp(t, 2, 1), [0, 1, 1.5, 2, 3]),
      [5],
      'float64',
      [0, 0, 0, 0, 0],
    );
    // Forward mode agrees, and so does the tape.
    const x = tensor([0, 1, 0.5, 2], { dtype: 'float64' });
    const [, tangent] = jvp((t: Tensor) => clamp(t, 0, 1), [x], [ones([4], { dtype: 'float64' })]);
    expectTensor(tangent, [4], 'float64', [1, 1, 1, 0]);
    const leaf = tensor([0, 1, 0.5, 2], { dtype: 'float64', requiresGrad: true });
    sum(leaf.clamp(0, 1)).backward();
    expectTensor(leaf.grad as Tensor, [4], 'float64', [1, 1, 1, 0]);
  });

  test('clamp differentiates tensor bounds as torch.clamp (clamp_backward_min_max)', () => {
    // Each column one case: x < min < max, x == min, inside, x == max, x > max, min > max,
    // x < min == max, x > min == max, x == min == max.
    const x = tensor([0, 1, 1.5, 2, 3, 5, 0, 3, 2], { dtype: 'float64' });
    const lower = tensor([1, 1, 1, 1, 1, 4, 2, 2, 2], { dtype: 'float64' });
    const upper = tensor([2, 2, 2, 2, 2, 3, 2, 2, 2], { dtype: 'float64' });
    const [value, [dx, dMin, dMax]] = valueAndGrad(
      (a: Tensor, b: Tensor, c: Tensor) => sum(mul(clamp(a, b, c), tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { dtype: 'float64' }))),
      {
        argnums: [0, 1, 2],
      },
    )(x, lower, upper);
    expect(value.item()).toBe(1 + 2 + 4.5 + 8 + 10 + 18 + 14 + 16 + 18);
    expectTensor(dx as Tensor, [9], 'float64', [0, 2, 3, 4, 0, 0, 0, 0, 9]);
    expectTensor(dMin as Tensor, [9], 'float64', [1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expectTensor(dMax as Tensor, [9], 'float64', [0, 0, 0, 0, 5, 6, 0, 8, 0]);
    // One bound alone: it takes the gradient wherever x passes it, strictly.
    const dOnlyMin = grad((b: Tensor) => sum(clamp(x, b)))(lower);
    expectTensor(dOnlyMin, [9], 'float64', [1, 0, 0, 0, 0, 0, 1, 0, 0]);
    const dOnlyMax = grad((c: Tensor) => sum(clamp(x, undefined, c)))(upper);
    expectTensor(dOnlyMax, [9], 'float64', [0, 0, 0, 0, 1, 1, 0, 1, 0]);
  });

  test('clamp under differentiation gives the values it gives eagerly (NaN, min > max, broadcast bounds)', () => {
    const x = tensor([nan, -2, 0.5, 3, inf], { dtype: 'float32' });
    const bounds = [
      [0, 1],
      [2, 1],
      [tensor([[0], [1]]), 2],
      [undefined, tensor(nan)],
    ] as const;
    for (const [lo, hi] of bounds) {
      const eager = clamp(x, lo, hi);
      const [traced] = jvp((t: Tensor) => clamp(t, lo, hi), [x], [ones([5])]);
      expectTensor(traced, eager.shape, eager.dtype, Array.from(eager.dataSync()));
    }
  });
});

describe('comparisons', () => {
  const ops = [
    ['equal', equal, (a: number, b: number) => a === b],
    ['notEqual', notEqual, (a: number, b: number) => a !== b],
    ['less', less, (a: number, b: number) => a < b],
    ['lessEqual', lessEqual, (a: number, b: number) => a <= b],
    ['greater', greater, (a: number, b: number) => a > b],
    ['greaterEqual', greaterEqual, (a: number, b: number) => a >= b],
  ] as const;
  const a = [1, 2, 3, nan, inf, -0, nan];
  const b = [2, 2, 2, 1, inf, 0, nan];
  for (const [name, op, reference] of ops) {
    test(`${name} gives bool, with IEEE semantics for NaN, infinities and -0`, () => {
      expectTensor(
        op(tensor(a), tensor(b)),
        [a.length],
        'bool',
        a.map((x, i) => (reference(x, b[i] as number) ? 1 : 0)),
      );
    });
  }

  test('compare in the promoted dtype, with broadcasting and scalars', () => {
    expectTensor(less(tensor([1, 2, 3]), 2), [3], 'bool', [1, 0, 0]);
    expectTensor(greater(tensor([1, 2]), 1.5), [2], 'bool', [0, 1]);
    expectTensor(equal(tensor([[1], [2]]), tensor([1, 2])), [2, 2], 'bool', [1, 0, 0, 1]);
    expectTensor(equal(tensor([255], { dtype: 'uint8' }), tensor([255])), [1], 'bool', [1]);
    expectTensor(equal(tensor([true, false]), 1), [2], 'bool', [1, 0]);
    expectTensor(tensor([0.1], { dtype: 'float64' }).equal(tensor([0.1], { dtype: 'float32' })), [1], 'bool', [0]);
    expectTensor(tensor([3]).greaterEqual(3), [1], 'bool', [1]);
  });
});

describe('logical ops', () => {
  test('and, or, xor, not on bools', () => {
    const p = tensor([true, true, false, false]);
    const q = tensor([true, false, true, false]);
    expectTensor(logicalAnd(p, q), [4], 'bool', [1, 0, 0, 0]);
    expectTensor(logicalOr(p, q), [4], 'bool', [1, 1, 1, 0]);
    expectTensor(logicalXor(p, q), [4], 'bool', [0, 1, 1, 0]);
    expectTensor(logicalNot(p), [4], 'bool', [0, 0, 1, 1]);
    expectTensor(p.logicalXor(q).logicalNot(), [4], 'bool', [1, 0, 0, 1]);
  });

  test('numbers count as true where non-zero (NaN included), with broadcasting', () => {
    expectTensor(logicalAnd(tensor([true, true]), tensor([0, 2])), [2], 'bool', [0, 1]);
    expectTensor(logicalOr(tensor([0, 0.5, nan]), 0), [3], 'bool', [0, 1, 1]);
    expectTensor(logicalXor(tensor([[0], [3]]), tensor([0, 7], { dtype: 'uint8' })), [2, 2], 'bool', [0, 1, 1, 0]);
    expectTensor(logicalNot(tensor([0, -0, 2.5, nan])), [4], 'bool', [1, 1, 0, 0]);
  });
});

describe('where', () => {
  test('chooses elementwise with broadcasting of all three operands', () => {
    expectTensor(where(tensor([true, false]), tensor([1, 2]), 0), [2], 'int32', [1, 0]);
    expectTensor(where(tensor([[true], [false]]), tensor([1, 2, 3]), tensor(-1)), [2, 3], 'int32', [1, 2, 3, -1, -1, -1]);
  });

  test('promotes x with y, treats non-zero conditions as true, and keeps NaN and -0', () => {
    expectTensor(where(tensor([true, false]), tensor([1, 2]), 0.5), [2], 'float32', [1, 0.5]);
    expectTensor(where(tensor([1, 0]), tensor([true, true]), tensor([false, false])), [2], 'bool', [1, 0]);
    expectTensor(where(tensor([true, false]), tensor([nan, 1]), tensor([1.5, -0])), [2], 'float32', [nan, -0]);
    expectTensor(where(tensor([0, 1], { dtype: 'float64' }), 1, 2), [2], 'int32', [2, 1]);
  });

  test('the method reads as x.where(condition, other)', () => {
    expectTensor(tensor([5, 6]).where(tensor([false, true]), 0), [2], 'int32', [0, 6]);
  });

  test('incompatible shapes are a ShapeError naming where and every shape', () => {
    expect(() => where(tensor([true, false, true]), tensor([1, 2]), 0)).toThrow(ShapeError);
    expect(() => where(tensor([true, false, true]), tensor([1, 2]), 0)).toThrow(
      /^where: shapes \[3\] and \[2\] and \[\] cannot be broadcast together/,
    );
  });
});

describe('cast and astype', () => {
  test('float to integers truncates toward zero; NaN gives 0', () => {
    expectTensor(astype(tensor([1.7, -1.7, 0.2, nan]), 'int32'), [4], 'int32', [1, -1, 0, 0]);
    expectTensor(tensor([2.9, 255.5]).astype('uint8'), [2], 'uint8', [2, 255]);
  });

  test('to bool is != 0 (NaN is true, -0 false); bool to numbers is 0/1', () => {
    expectTensor(astype(tensor([0, -0, 0.5, nan, -3]), 'bool'), [5], 'bool', [0, 0, 1, 1, 1]);
    expectTensor(astype(tensor([true, false]), 'float64'), [2], 'float64', [1, 0]);
    expectTensor(tensor([true, false]).cast('int32'), [2], 'int32', [1, 0]);
  });

  test('integers wrap into uint8; float64 rounds to float32', () => {
    expectTensor(astype(tensor([256, -1, 300]), 'uint8'), [3], 'uint8', [0, 255, 44]);
    expectTensor(astype(tensor([0.1], { dtype: 'float64' }), 'float32'), [1], 'float32', [Math.fround(0.1)]);
    expectTensor(astype(tensor([1e40], { dtype: 'float64' }), 'float32'), [1], 'float32', [inf]);
  });

  test('the same dtype returns the tensor itself; an unknown dtype is a DTypeError', () => {
    const x = tensor([1, 2]);
    expect(astype(x, 'int32')).toBe(x);
    expect(() => astype(x, 'int64' as DType)).toThrow(DTypeError);
    expect(() => astype(x, 'int64' as DType)).toThrow(/^astype: unknown dtype "int64"/);
  });
});

describe('error messages', () => {
  test('shapes that do not broadcast are a ShapeError naming the op and both shapes', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([1, 2, 3, 4]);
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow('add: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)');
    expect(() => a.mul(b)).toThrow(/^mul: shapes \[2, 3\] and \[4\]/);
    expect(() => less(a, b)).toThrow(/^less: shapes/);
    expect(() => clamp(a, b)).toThrow(/^clamp: shapes/);
  });

  test('operands no tensor can be made from are a ValueError naming the op and the operand', () => {
    expect(() => add(tensor([1]), 'two' as unknown as number)).toThrow(ValueError);
    expect(() => add(tensor([1]), 'two' as unknown as number)).toThrow(
      'add: the second operand must be a tensor, number, boolean, nested array or typed array, got string',
    );
    expect(() => mul(null as unknown as number, 1)).toThrow(/^mul: the first operand must be .* got null/);
    expect(() => exp(undefined as unknown as number)).toThrow(/^exp: the input must be .* got undefined/);
    expect(() => where({} as unknown as boolean, 1, 2)).toThrow(/^where: condition must be .* got object/);
  });

  test('ragged nested arrays are a ShapeError', () => {
    expect(() => add(tensor([1]), [[1, 2], [3]])).toThrow(ShapeError);
  });
});
