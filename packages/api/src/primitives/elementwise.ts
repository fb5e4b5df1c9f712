import type { Aval } from '../core/aval.js';
import { checkDType } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { arity, aval, input, requireDType, requireFloat, requireNumeric, sameShapeAndDType } from './checks.js';
import { type BinaryPrimitive, Primitive, primitiveName, type UnaryPrimitive } from './primitive.js';
import type { PrimitiveRule } from './rule.js';

// Elementwise primitives: shape and dtype preserved (comparisons and logic give bool). Broadcasting
// and type promotion happen in the ops layer, so these see equal shapes and dtypes.

type InputCheck = (op: string, a: Aval) => void;

function unary<P extends UnaryPrimitive>(p: P, check: InputCheck): PrimitiveRule<P> {
  const name = primitiveName(p);
  return {
    name,
    abstractEval(inputs) {
      arity(name, inputs, 1);
      const x = input(inputs, 0);
      check(name, x);
      return x; // same shape and dtype: reuse the input's aval, no allocation on the fast path
    },
  };
}

function binary<P extends BinaryPrimitive>(p: P, check: InputCheck, outBool = false): PrimitiveRule<P> {
  const name = primitiveName(p);
  return {
    name,
    abstractEval(inputs) {
      arity(name, inputs, 2);
      const a = input(inputs, 0);
      sameShapeAndDType(name, a, input(inputs, 1));
      check(name, a);
      return outBool ? aval(a.shape, 'bool') : a;
    },
  };
}

const requireBool: InputCheck = (op, a) => requireDType(op, a, 'bool');
const any: InputCheck = () => {};

export const unaryRules: { readonly [P in UnaryPrimitive]: PrimitiveRule<P> } = {
  [Primitive.Neg]: unary(Primitive.Neg, requireNumeric),
  [Primitive.Abs]: unary(Primitive.Abs, requireNumeric),
  [Primitive.Sign]: unary(Primitive.Sign, requireNumeric),
  [Primitive.Exp]: unary(Primitive.Exp, requireFloat),
  [Primitive.Log]: unary(Primitive.Log, requireFloat),
  [Primitive.Log1p]: unary(Primitive.Log1p, requireFloat),
  [Primitive.Expm1]: unary(Primitive.Expm1, requireFloat),
  [Primitive.Sqrt]: unary(Primitive.Sqrt, requireFloat),
  [Primitive.Rsqrt]: unary(Primitive.Rsqrt, requireFloat),
  [Primitive.Sin]: unary(Primitive.Sin, requireFloat),
  [Primitive.Cos]: unary(Primitive.Cos, requireFloat),
  [Primitive.Tan]: unary(Primitive.Tan, requireFloat),
  [Primitive.Tanh]: unary(Primitive.Tanh, requireFloat),
  [Primitive.Logistic]: unary(Primitive.Logistic, requireFloat),
  [Primitive.Erf]: unary(Primitive.Erf, requireFloat),
  [Primitive.Floor]: unary(Primitive.Floor, requireNumeric),
  [Primitive.Ceil]: unary(Primitive.Ceil, requireNumeric),
  [Primitive.Round]: unary(Primitive.Round, requireNumeric),
  [Primitive.Reciprocal]: unary(Primitive.Reciprocal, requireFloat),
  [Primitive.Not]: unary(Primitive.Not, requireBool),
};

export const binaryRules: { readonly [P in BinaryPrimitive]: PrimitiveRule<P> } = {
  [Primitive.Add]: binary(Primitive.Add, requireNumeric),
  [Primitive.Sub]: binary(Primitive.Sub, requireNumeric),
  [Primitive.Mul]: binary(Primitive.Mul, requireNumeric),
  [Primitive.Div]: binary(Primitive.Div, requireNumeric),
  [Primitive.Pow]: binary(Primitive.Pow, requireNumeric),
  [Primitive.Max]: binary(Primitive.Max, any),
  [Primitive.Min]: binary(Primitive.Min, any),
  [Primitive.Mod]: binary(Primitive.Mod, requireNumeric),
  [Primitive.FloorDivide]: binary(Primitive.FloorDivide, requireNumeric),
  [Primitive.Equal]: binary(Primitive.Equal, any, true),
  [Primitive.NotEqual]: binary(Primitive.NotEqual, any, true),
  [Primitive.Less]: binary(Primitive.Less, any, true),
  [Primitive.LessEqual]: binary(Primitive.LessEqual, any, true),
  [Primitive.Greater]: binary(Primitive.Greater, any, true),
  [Primitive.GreaterEqual]: binary(Primitive.GreaterEqual, any, true),
  [Primitive.And]: binary(Primitive.And, requireBool, true),
  [Primitive.Or]: binary(Primitive.Or, requireBool, true),
};

export const whereRule: PrimitiveRule<Primitive.Where> = {
  name: 'where',
  abstractEval(inputs) {
    arity('where', inputs, 3);
    const condition = input(inputs, 0);
    const x = input(inputs, 1);
    requireDType('where', condition, 'bool', 'condition');
    sameShapeAndDType('where', x, input(inputs, 2));
    sameShapeAndDType('where', aval(condition.shape, x.dtype), x);
    return aval(x.shape, x.dtype);
  },
};

export const castRule: PrimitiveRule<Primitive.Cast> = {
  name: 'cast',
  abstractEval(inputs, params) {
    arity('cast', inputs, 1);
    const dtype = checkDType('cast', params.dtype);
    if (dtype === undefined) throw new DTypeError('cast: missing dtype');
    return aval(input(inputs, 0).shape, dtype);
  },
};
