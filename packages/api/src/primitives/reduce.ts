import { ValueError } from '../core/errors.js';
import { arity, aval, checkAxis, checkAxisList, input, requireNumeric } from './checks.js';
import { Primitive, primitiveName, type ReducePrimitive } from './primitive.js';
import type { PrimitiveRule } from './rule.js';

function reduction<P extends ReducePrimitive>(p: P, numericOnly: boolean): PrimitiveRule<P> {
  const name = primitiveName(p);
  return {
    name,
    abstractEval(inputs, params) {
      arity(name, inputs, 1);
      const x = input(inputs, 0);
      if (numericOnly) requireNumeric(name, x);
      checkAxisList(name, params.axes, x.shape.length);
      return aval(
        x.shape.filter((_, i) => !params.axes.includes(i)),
        x.dtype,
      );
    },
  };
}

function argReduction<P extends Primitive.Argmax | Primitive.Argmin>(p: P): PrimitiveRule<P> {
  const name = primitiveName(p);
  return {
    name,
    abstractEval(inputs, params) {
      arity(name, inputs, 1);
      const x = input(inputs, 0);
      checkAxis(name, params.axis, x.shape.length);
      if (x.shape[params.axis] === 0) {
        throw new ValueError(`${name}: cannot reduce an empty axis ${params.axis}`);
      }
      return aval(
        x.shape.filter((_, i) => i !== params.axis),
        'int32',
      );
    },
  };
}

export const reduceRules: {
  readonly [P in ReducePrimitive | Primitive.Argmax | Primitive.Argmin]: PrimitiveRule<P>;
} = {
  [Primitive.ReduceSum]: reduction(Primitive.ReduceSum, true),
  [Primitive.ReduceProd]: reduction(Primitive.ReduceProd, true),
  [Primitive.ReduceMax]: reduction(Primitive.ReduceMax, false),
  [Primitive.ReduceMin]: reduction(Primitive.ReduceMin, false),
  [Primitive.Argmax]: argReduction(Primitive.Argmax),
  [Primitive.Argmin]: argReduction(Primitive.Argmin),
};
