import type { Aval } from '../core/aval.js';
import { checkDType, isFloating } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { elementwiseBatch, passThroughBatch } from './batching.js';
import { arity, aval, input, requireDType, requireFloat, requireNumeric, sameShapeAndDType } from './checks.js';
import {
  add,
  addMaybe,
  cast,
  cos,
  div,
  equal,
  exp,
  floor,
  greater,
  log,
  mul,
  neg,
  pow,
  reciprocal,
  reluGrad,
  scalarLike,
  scale,
  select,
  sign,
  sin,
  sub,
} from './lax.js';
import { type BinaryPrimitive, Primitive, primitiveName, type UnaryPrimitive } from './primitive.js';
import { type JvpRule, type PrimitiveRule, READS_INPUTS, READS_NOTHING, type VjpReads, type VjpRule } from './rule.js';

// Elementwise primitives: shape and dtype preserved (comparisons and logic give bool). Broadcasting
// and type promotion happen in the ops layer, so these see equal shapes and dtypes.

type InputCheck = (op: string, a: Aval) => void;

/**
 * How a unary primitive differentiates: `derivative(x, out)` is f'(x), the tangent and cotangent
 * are multiplied by it; 'linear' primitives (neg) apply themselves to the tangent and cotangent;
 * `{ applied }` applies f'(x) to a tangent or cotangent `t` in its own way (relu's one reluGrad
 * kernel, where a product would first materialize the derivative); null declares the primitive
 * non-differentiable (zero derivative almost everywhere, or bool).
 */
type UnaryDerivative =
  | ((x: Tensor, out: Tensor) => Tensor)
  | 'linear'
  | { readonly applied: (t: Tensor, x: Tensor, out: Tensor) => Tensor }
  | null;

/** A rule that reads its first input only (sin and log their input, where its condition). */
const READS_FIRST_INPUT: VjpReads = { inputs: [0], output: false };
/** A unary rule whose derivative reads only its output (exp, tanh, sqrt). */
const READS_OUTPUT: VjpReads = { inputs: [], output: true };

/**
 * `reads` says which of `derivative`'s arguments it uses (absent: both); a linear primitive reads
 * neither.
 */
function unary<P extends UnaryPrimitive>(p: P, check: InputCheck, derivative: UnaryDerivative, reads?: VjpReads): PrimitiveRule<P> {
  const name = primitiveName(p);
  let jvp: JvpRule<P> | null = null;
  let vjp: VjpRule<P> | null = null;
  if (derivative === 'linear') {
    jvp = ([t]) => (t ? bind(p, [t], {} as never) : null);
    vjp = (g) => [bind(p, [g], {} as never)];
  } else if (derivative !== null && typeof derivative === 'object') {
    const { applied } = derivative;
    jvp = ([t], [x], out) => (t ? applied(t, x as Tensor, out) : null);
    vjp = (g, [x], out) => [applied(g, x as Tensor, out)];
  } else if (derivative !== null) {
    jvp = ([t], [x], out) => (t ? mul(t, derivative(x as Tensor, out)) : null);
    vjp = (g, [x], out) => [mul(g, derivative(x as Tensor, out))];
  }
  return {
    name,
    abstractEval(inputs) {
      arity(name, inputs, 1);
      const x = input(inputs, 0);
      check(name, x);
      return x; // same shape and dtype: reuse the input's aval, no allocation on the fast path
    },
    jvp,
    vjp,
    ...(derivative === 'linear' ? { vjpReads: READS_NOTHING } : reads === undefined ? {} : { vjpReads: reads }),
    batch: passThroughBatch(p),
  };
}

interface BinaryAd<P extends Primitive> {
  readonly jvp: JvpRule<P>;
  readonly vjp: VjpRule<P>;
  readonly vjpReads?: VjpReads;
}

function binary<P extends BinaryPrimitive>(p: P, check: InputCheck, ad: BinaryAd<P> | null, outBool = false): PrimitiveRule<P> {
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
    jvp: ad?.jvp ?? null,
    vjp: ad?.vjp ?? null,
    ...(ad?.vjpReads === undefined ? {} : { vjpReads: ad.vjpReads }),
    batch: elementwiseBatch(p),
  };
}

const requireBool: InputCheck = (op, a) => requireDType(op, a, 'bool');
const any: InputCheck = () => {};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** 1 / sqrt(1 - x^2), the derivative of asin, with 1 - x^2 as (1 - x)(1 + x): no cancellation near |x| = 1. */
function inverseSqrtOneMinusSquare(x: Tensor): Tensor {
  const one = scalarLike(x, 1);
  return bind(Primitive.Rsqrt, [mul(sub(one, x), add(one, x))], {});
}

export const unaryRules: { readonly [P in UnaryPrimitive]: PrimitiveRule<P> } = {
  [Primitive.Neg]: unary(Primitive.Neg, requireNumeric, 'linear'),
  [Primitive.Abs]: unary(Primitive.Abs, requireNumeric, (x) => sign(x), READS_FIRST_INPUT),
  [Primitive.Sign]: unary(Primitive.Sign, requireNumeric, null),
  [Primitive.Exp]: unary(Primitive.Exp, requireFloat, (_, out) => out, READS_OUTPUT),
  [Primitive.Log]: unary(Primitive.Log, requireFloat, (x) => reciprocal(x), READS_FIRST_INPUT),
  [Primitive.Log1p]: unary(Primitive.Log1p, requireFloat, (x) => reciprocal(add(x, scalarLike(x, 1))), READS_FIRST_INPUT),
  [Primitive.Expm1]: unary(Primitive.Expm1, requireFloat, (_, out) => add(out, scalarLike(out, 1)), READS_OUTPUT),
  [Primitive.Sqrt]: unary(Primitive.Sqrt, requireFloat, (_, out) => div(scalarLike(out, 0.5), out), READS_OUTPUT),
  [Primitive.Rsqrt]: unary(Primitive.Rsqrt, requireFloat, (x, out) => scale(div(out, x), -0.5)),
  [Primitive.Sin]: unary(Primitive.Sin, requireFloat, (x) => cos(x), READS_FIRST_INPUT),
  [Primitive.Cos]: unary(Primitive.Cos, requireFloat, (x) => neg(sin(x)), READS_FIRST_INPUT),
  [Primitive.Tan]: unary(Primitive.Tan, requireFloat, (_, out) => add(scalarLike(out, 1), mul(out, out)), READS_OUTPUT),
  [Primitive.Asin]: unary(Primitive.Asin, requireFloat, (x) => inverseSqrtOneMinusSquare(x), READS_FIRST_INPUT),
  [Primitive.Acos]: unary(Primitive.Acos, requireFloat, (x) => neg(inverseSqrtOneMinusSquare(x)), READS_FIRST_INPUT),
  [Primitive.Atan]: unary(Primitive.Atan, requireFloat, (x) => reciprocal(add(scalarLike(x, 1), mul(x, x))), READS_FIRST_INPUT),
  [Primitive.Tanh]: unary(Primitive.Tanh, requireFloat, (_, out) => sub(scalarLike(out, 1), mul(out, out)), READS_OUTPUT),
  [Primitive.Logistic]: unary(Primitive.Logistic, requireFloat, (_, out) => mul(out, sub(scalarLike(out, 1), out)), READS_OUTPUT),
  [Primitive.Erf]: unary(Primitive.Erf, requireFloat, (x) => scale(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI), READS_FIRST_INPUT),
  [Primitive.Floor]: unary(Primitive.Floor, requireNumeric, null),
  [Primitive.Ceil]: unary(Primitive.Ceil, requireNumeric, null),
  [Primitive.Round]: unary(Primitive.Round, requireNumeric, null),
  [Primitive.Reciprocal]: unary(Primitive.Reciprocal, requireFloat, (_, out) => neg(mul(out, out)), READS_OUTPUT),
  [Primitive.Not]: unary(Primitive.Not, requireBool, null),
  // relu'(x) is 1 where relu(x) > 0 (or NaN), else 0 (0 at 0, as PyTorch): read from the output,
  // which the next layer keeps anyway, as torch's threshold_backward.
  [Primitive.Relu]: unary(Primitive.Relu, requireNumeric, { applied: (t, _x, out) => reluGrad(out, t) }, READS_OUTPUT),
};

/**
 * The part of `t` (a cotangent or tangent) that flows to one operand of max/min: all of it
 * where that operand wins, half where they tie (as in JAX and PyTorch's maximum/minimum), none
 * elsewhere or at NaN. Selects, not casts and products, so that maximum(x, 0) differentiates in
 * a handful of elementwise ops for the operand that needs it.
 */
function extremumShare(t: Tensor, a: Tensor, b: Tensor, isMax: boolean, forA: boolean): Tensor {
  const wins = forA === isMax ? greater(a, b) : greater(b, a);
  return select(wins, t, select(equal(a, b), scale(t, 0.5), scalarLike(t, 0)));
}

function extremumAd<P extends Primitive.Max | Primitive.Min>(isMax: boolean): BinaryAd<P> {
  return {
    jvp: ([ta, tb], [a, b]) =>
      addMaybe(
        ta ? extremumShare(ta, a as Tensor, b as Tensor, isMax, true) : null,
        tb ? extremumShare(tb, a as Tensor, b as Tensor, isMax, false) : null,
      ),
    vjp: (g, [a, b], _out, _params, wants) => [
      wants[0] ? extremumShare(g, a as Tensor, b as Tensor, isMax, true) : null,
      wants[1] ? extremumShare(g, a as Tensor, b as Tensor, isMax, false) : null,
    ],
  };
}

/**
 * d(x^y)/dx = y x^(y-1), taken as 0 at x == y == 0 (where it would be 0 * inf). Only that point
 * is special-cased, so the derivative keeps its own derivative in y elsewhere (y == 0 included).
 */
function powBaseDerivative(x: Tensor, y: Tensor): Tensor {
  const zero = scalarLike(y, 0);
  const origin = bind(Primitive.And, [equal(x, zero), equal(y, zero)], {});
  return select(origin, zero, mul(y, pow(x, sub(y, scalarLike(y, 1)))));
}

/** d(x^y)/dy = x^y log x, taken as 0 where x == 0. */
function powExponentDerivative(x: Tensor, out: Tensor): Tensor {
  const zero = scalarLike(x, 0);
  return select(equal(x, zero), zero, mul(out, log(x)));
}

/**
 * atan2(y, x)'s partial derivatives x / (x^2 + y^2) and -y / (x^2 + y^2), through one reciprocal
 * as torch's atan2 backward computes them (NaN at the origin, where atan2 jumps).
 */
const atan2Ad: BinaryAd<Primitive.Atan2> = {
  jvp: ([ty, tx], [y, x]) => {
    const r = atan2Scale(y as Tensor, x as Tensor);
    return addMaybe(ty ? mul(ty, mul(x as Tensor, r)) : null, tx ? neg(mul(tx, mul(y as Tensor, r))) : null);
  },
  vjp: (g, [y, x], _out, _params, wants) => {
    const r = mul(g, atan2Scale(y as Tensor, x as Tensor));
    return [wants[0] ? mul(r, x as Tensor) : null, wants[1] ? neg(mul(r, y as Tensor)) : null];
  },
  vjpReads: READS_INPUTS,
};

/** 1 / (x^2 + y^2). */
function atan2Scale(y: Tensor, x: Tensor): Tensor {
  return reciprocal(add(mul(x, x), mul(y, y)));
}

export const binaryRules: { readonly [P in BinaryPrimitive]: PrimitiveRule<P> } = {
  [Primitive.Add]: binary(Primitive.Add, requireNumeric, {
    jvp: ([ta, tb]) => addMaybe(ta ?? null, tb ?? null),
    vjp: (g) => [g, g],
    vjpReads: READS_NOTHING,
  }),
  [Primitive.Sub]: binary(Primitive.Sub, requireNumeric, {
    jvp: ([ta, tb]) => (tb ? (ta ? sub(ta, tb) : neg(tb)) : (ta ?? null)),
    vjp: (g, _p, _o, _params, wants) => [g, wants[1] ? neg(g) : null],
    vjpReads: READS_NOTHING,
  }),
  [Primitive.Mul]: binary(Primitive.Mul, requireNumeric, {
    jvp: ([ta, tb], [a, b]) => addMaybe(ta ? mul(ta, b as Tensor) : null, tb ? mul(a as Tensor, tb) : null),
    vjp: (g, [a, b], _o, _params, wants) => [wants[0] ? mul(g, b as Tensor) : null, wants[1] ? mul(a as Tensor, g) : null],
    vjpReads: READS_INPUTS,
  }),
  [Primitive.Div]: binary(Primitive.Div, requireNumeric, {
    jvp: ([ta, tb], [, b], out) => {
      const fromA = ta ? div(ta, b as Tensor) : null;
      return tb ? sub(fromA ?? scalarLike(out, 0), div(mul(tb, out), b as Tensor)) : fromA;
    },
    vjp: (g, [, b], out, _params, wants) => [wants[0] ? div(g, b as Tensor) : null, wants[1] ? neg(div(mul(g, out), b as Tensor)) : null],
  }),
  [Primitive.Pow]: binary(Primitive.Pow, requireNumeric, {
    jvp: ([ta, tb], [x, y], out) =>
      addMaybe(
        ta ? mul(ta, powBaseDerivative(x as Tensor, y as Tensor)) : null,
        tb ? mul(tb, powExponentDerivative(x as Tensor, out)) : null,
      ),
    vjp: (g, [x, y], out, _params, wants) => [
      wants[0] ? mul(g, powBaseDerivative(x as Tensor, y as Tensor)) : null,
      wants[1] ? mul(g, powExponentDerivative(x as Tensor, out)) : null,
    ],
  }),
  [Primitive.Atan2]: binary(Primitive.Atan2, requireFloat, atan2Ad),
  [Primitive.Max]: binary(Primitive.Max, any, extremumAd(true)),
  [Primitive.Min]: binary(Primitive.Min, any, extremumAd(false)),
  // a mod b = a - floor(a / b) * b: the floor is piecewise constant.
  [Primitive.Mod]: binary(Primitive.Mod, requireNumeric, {
    jvp: ([ta, tb], [a, b]) => (tb ? sub(ta ?? scalarLike(tb, 0), mul(tb, floor(div(a as Tensor, b as Tensor)))) : (ta ?? null)),
    vjp: (g, [a, b], _o, _params, wants) => [g, wants[1] ? neg(mul(g, floor(div(a as Tensor, b as Tensor)))) : null],
  }),
  [Primitive.FloorDivide]: binary(Primitive.FloorDivide, requireNumeric, null),
  [Primitive.Equal]: binary(Primitive.Equal, any, null, true),
  [Primitive.NotEqual]: binary(Primitive.NotEqual, any, null, true),
  [Primitive.Less]: binary(Primitive.Less, any, null, true),
  [Primitive.LessEqual]: binary(Primitive.LessEqual, any, null, true),
  [Primitive.Greater]: binary(Primitive.Greater, any, null, true),
  [Primitive.GreaterEqual]: binary(Primitive.GreaterEqual, any, null, true),
  [Primitive.And]: binary(Primitive.And, requireBool, null, true),
  [Primitive.Or]: binary(Primitive.Or, requireBool, null, true),
  // Linear in g, piecewise constant in y.
  [Primitive.ReluGrad]: binary(Primitive.ReluGrad, requireNumeric, {
    jvp: ([, tg], [y]) => (tg ? reluGrad(y as Tensor, tg) : null),
    // y's cotangent is zero, a broadcast scalar (as torch's zeros_like), not null: a leaf y gets a .grad.
    vjp: (g, [y], _o, _params, wants) => [wants[0] ? scalarLike(g, 0) : null, wants[1] ? reluGrad(y as Tensor, g) : null],
    vjpReads: READS_FIRST_INPUT,
  }),
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
  jvp: ([, tx, ty], [condition], out) => {
    if (!tx && !ty) return null;
    return select(condition as Tensor, tx ?? scalarLike(out, 0), ty ?? scalarLike(out, 0));
  },
  vjp: (g, [condition], _out, _params, wants) => {
    // A broadcast scalar, not a materialized tensor of zeros: select reads it as a view.
    const zero = scalarLike(g, 0);
    return [null, wants[1] ? select(condition as Tensor, g, zero) : null, wants[2] ? select(condition as Tensor, zero, g) : null];
  },
  vjpReads: READS_FIRST_INPUT,
  batch: elementwiseBatch(Primitive.Where),
};

export const castRule: PrimitiveRule<Primitive.Cast> = {
  name: 'cast',
  abstractEval(inputs, params) {
    arity('cast', inputs, 1);
    const dtype = checkDType('cast', params.dtype);
    if (dtype === undefined) throw new DTypeError('cast: missing dtype');
    return aval(input(inputs, 0).shape, dtype);
  },
  // Only float-to-float casts carry derivatives; the dispatch drops integer and bool outputs.
  jvp: ([t], _primals, out) => (t ? cast(t, out.dtype) : null),
  vjp: (g, [x]) => [isFloating((x as Tensor).dtype) ? cast(g, (x as Tensor).dtype) : null],
  vjpReads: READS_NOTHING,
  batch: passThroughBatch(Primitive.Cast),
};
