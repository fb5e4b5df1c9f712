import { bind, Primitive, type Tensor } from '@flint/api';
import fc from 'fast-check';
import { boolOperand, distinctOperand, floatOperand, intOperand, shapes } from '../generators.js';
import type { OpCase } from '../harness.js';

// Primitives declared non-differentiable: the checks are their batching rules and, where the
// output is floating, that gradients through them are exactly zero.

const unary = (primitive: Primitive, name: string, operand: 'float' | 'bool' = 'float'): OpCase<never> => ({
  name,
  covers: [primitive],
  differentiable: false,
  sample: shapes()
    .chain((shape) =>
      operand === 'bool' ? boolOperand(shape) : floatOperand(shape, { avoid: [-1.5, -0.5, 0, 0.5, 1.5, 1, -1], gap: 0.05 }),
    )
    .map((x) => ({ operands: [x], params: {} as never })),
  apply: ([x]) => bind(primitive, [x as Tensor], {} as never),
});

const binary = (primitive: Primitive, name: string, operand: 'float' | 'bool' = 'float'): OpCase<never> => ({
  name,
  covers: [primitive],
  differentiable: false,
  sample: shapes()
    .chain((shape) =>
      operand === 'bool'
        ? fc.tuple(boolOperand(shape), boolOperand(shape))
        : fc.tuple(floatOperand(shape), floatOperand(shape, { avoid: [0], gap: 0.3 })),
    )
    .map((operands) => ({ operands, params: {} as never })),
  apply: ([a, b]) => bind(primitive, [a as Tensor, b as Tensor], {} as never),
});

const axisCase = (primitive: Primitive.Argmax | Primitive.Argmin | Primitive.Argsort, name: string): OpCase<never> => ({
  name,
  covers: [primitive],
  differentiable: false,
  sample: shapes(1, 3)
    .chain((shape) => fc.tuple(distinctOperand(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.boolean()))
    .map(([x, axis, descending]) => ({
      operands: [x],
      params: (primitive === Primitive.Argsort ? { axis, descending } : { axis }) as never,
    })),
  apply: ([x], params) => bind(primitive, [x as Tensor], params),
});

export const nonDifferentiableCases: OpCase<never>[] = [
  unary(Primitive.Sign, 'sign'),
  unary(Primitive.Floor, 'floor'),
  unary(Primitive.Ceil, 'ceil'),
  unary(Primitive.Round, 'round'),
  unary(Primitive.Not, 'not', 'bool'),
  binary(Primitive.FloorDivide, 'floorDivide'),
  binary(Primitive.Equal, 'equal'),
  binary(Primitive.NotEqual, 'notEqual'),
  binary(Primitive.Less, 'less'),
  binary(Primitive.LessEqual, 'lessEqual'),
  binary(Primitive.Greater, 'greater'),
  binary(Primitive.GreaterEqual, 'greaterEqual'),
  binary(Primitive.And, 'and', 'bool'),
  binary(Primitive.Or, 'or', 'bool'),
  axisCase(Primitive.Argmax, 'argmax'),
  axisCase(Primitive.Argmin, 'argmin'),
  axisCase(Primitive.Argsort, 'argsort'),
  {
    name: 'randomBits',
    covers: [Primitive.RandomBits],
    differentiable: false,
    sample: fc.tuple(intOperand([2], 0, 1000), shapes(0, 2)).map(([key, shape]) => ({ operands: [key], params: { shape } as never })),
    apply: ([key], params) => bind(Primitive.RandomBits, [key as Tensor], params),
  },
  {
    name: 'randomUniform',
    covers: [Primitive.RandomUniform],
    differentiable: false,
    sample: fc
      .tuple(intOperand([2], 0, 1000), shapes(0, 2))
      .map(([key, shape]) => ({ operands: [key], params: { shape, dtype: 'float64' } as never })),
    apply: ([key], params) => bind(Primitive.RandomUniform, [key as Tensor], params),
  },
];
