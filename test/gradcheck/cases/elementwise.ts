import { bind, Primitive, type Tensor, type UnaryPrimitive } from '@flint/api';
import fc from 'fast-check';
import { boolOperand, floatOperand, floats, type Operand, shapes, sizeOf, type ValueOptions } from '../generators.js';
import type { OpCase } from '../harness.js';

/** The unary primitives with a derivative to check (nondifferentiable.ts has the rest: zero derivatives, a bool output). */
type Unary = Exclude<UnaryPrimitive, Primitive.Sign | Primitive.Floor | Primitive.Ceil | Primitive.Round | Primitive.Not>;

function unaryCase(primitive: Unary, name: string, domain: ValueOptions, smooth = true): OpCase<null> {
  return {
    name,
    covers: [primitive],
    sample: shapes()
      .chain((shape) => floatOperand(shape, domain))
      .map((x) => ({ operands: [x], params: null })),
    apply: ([x]) => bind(primitive, [x as Tensor], {}),
    smooth,
  };
}

export const unaryCases: OpCase<null>[] = [
  unaryCase(Primitive.Neg, 'neg', {}),
  unaryCase(Primitive.Abs, 'abs', { avoid: [0] }),
  unaryCase(Primitive.Exp, 'exp', {}),
  unaryCase(Primitive.Log, 'log', { min: 0.3, max: 3 }),
  unaryCase(Primitive.Log1p, 'log1p', { min: -0.6, max: 2 }),
  unaryCase(Primitive.Expm1, 'expm1', {}),
  unaryCase(Primitive.Sqrt, 'sqrt', { min: 0.3, max: 3 }),
  unaryCase(Primitive.Rsqrt, 'rsqrt', { min: 0.3, max: 3 }),
  unaryCase(Primitive.Sin, 'sin', {}),
  unaryCase(Primitive.Cos, 'cos', {}),
  unaryCase(Primitive.Tan, 'tan', { min: -1.1, max: 1.1 }),
  // Away from the poles of the derivative at ±1 (the batching checks scale inputs by up to 1.5).
  unaryCase(Primitive.Asin, 'asin', { min: -0.7, max: 0.7 }),
  unaryCase(Primitive.Acos, 'acos', { min: -0.7, max: 0.7 }),
  unaryCase(Primitive.Atan, 'atan', { min: -3, max: 3 }),
  unaryCase(Primitive.Tanh, 'tanh', {}),
  unaryCase(Primitive.Logistic, 'logistic', {}),
  unaryCase(Primitive.Erf, 'erf', {}),
  unaryCase(Primitive.Reciprocal, 'reciprocal', { min: -2, max: 2, avoid: [0], gap: 0.4 }),
  unaryCase(Primitive.Relu, 'relu', { avoid: [0] }),
];

type Binary =
  | Primitive.Add
  | Primitive.Sub
  | Primitive.Mul
  | Primitive.Div
  | Primitive.Pow
  | Primitive.Atan2
  | Primitive.Max
  | Primitive.Min
  | Primitive.Mod
  | Primitive.ReluGrad;

function binaryCase(
  primitive: Binary,
  name: string,
  pair: (shape: number[]) => fc.Arbitrary<[Operand, Operand]>,
  smooth = true,
): OpCase<null> {
  return {
    name,
    covers: [primitive],
    sample: shapes()
      .chain(pair)
      .map((operands) => ({ operands, params: null })),
    apply: ([a, b]) => bind(primitive, [a as Tensor, b as Tensor], {}),
    smooth,
  };
}

const plain = (shape: number[]): fc.Arbitrary<[Operand, Operand]> => fc.tuple(floatOperand(shape), floatOperand(shape));

/** Pairs whose elements differ by at least 0.2 (no ties for max/min). */
const separated = (shape: number[]): fc.Arbitrary<[Operand, Operand]> =>
  fc
    .tuple(floatOperand(shape), floats(sizeOf(shape), { min: -2, max: 2, avoid: [0], gap: 0.2 }))
    .map(([a, d]) => [a, { ...a, data: a.data.map((v, i) => v + (d[i] as number)) }]);

/** a = b * (q + f) with f in [0.15, 0.85]: a / b stays away from integers, where mod jumps. */
const modPair = (shape: number[]): fc.Arbitrary<[Operand, Operand]> =>
  fc
    .tuple(
      floats(sizeOf(shape), { min: -2, max: 2, avoid: [0], gap: 0.4 }),
      fc.array(fc.integer({ min: -2, max: 2 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
      floats(sizeOf(shape), { min: 0.15, max: 0.85 }),
    )
    .map(([b, q, f]) => [
      { shape, dtype: 'float64', data: b.map((bv, i) => bv * ((q[i] as number) + (f[i] as number))) },
      { shape, dtype: 'float64', data: b },
    ]);

export const binaryCases: OpCase<null>[] = [
  binaryCase(Primitive.Add, 'add', plain),
  binaryCase(Primitive.Sub, 'sub', plain),
  binaryCase(Primitive.Mul, 'mul', plain),
  binaryCase(Primitive.Div, 'div', (shape) => fc.tuple(floatOperand(shape), floatOperand(shape, { avoid: [0], gap: 0.4 }))),
  binaryCase(Primitive.Pow, 'pow', (shape) =>
    fc.tuple(floatOperand(shape, { min: 0.3, max: 2 }), floatOperand(shape, { min: -2, max: 2 })),
  ),
  // Both operands away from 0: off the origin, where atan2 is singular, and off the cut along the
  // negative x axis (y = 0, x < 0), where it jumps from pi to -pi.
  binaryCase(Primitive.Atan2, 'atan2', (shape) =>
    fc.tuple(floatOperand(shape, { avoid: [0], gap: 0.4 }), floatOperand(shape, { avoid: [0], gap: 0.4 })),
  ),
  binaryCase(Primitive.Max, 'max', separated, false),
  binaryCase(Primitive.Min, 'min', separated, false),
  binaryCase(Primitive.Mod, 'mod', modPair, false),
  // Piecewise constant in its first operand (kept off the step at 0), linear in its second.
  binaryCase(Primitive.ReluGrad, 'reluGrad', (shape) => fc.tuple(floatOperand(shape, { avoid: [0], gap: 0.2 }), floatOperand(shape))),
];

export const otherElementwiseCases: OpCase<null>[] = [
  {
    name: 'where',
    covers: [Primitive.Where],
    sample: shapes()
      .chain((shape) => fc.tuple(boolOperand(shape), floatOperand(shape), floatOperand(shape)))
      .map((operands) => ({ operands, params: null })),
    apply: ([c, x, y]) => bind(Primitive.Where, [c as Tensor, x as Tensor, y as Tensor], {}),
    smooth: true,
  },
  {
    // float64 -> float32 -> float64: the derivative is 1, seen through float32 rounding.
    name: 'cast',
    covers: [Primitive.Cast],
    sample: shapes()
      .chain((shape) => floatOperand(shape))
      .map((x) => ({ operands: [x], params: null })),
    apply: ([x]) => bind(Primitive.Cast, [bind(Primitive.Cast, [x as Tensor], { dtype: 'float32' })], { dtype: 'float64' }),
    step: 1e-2,
    tolerance: 1e-4,
  },
];
