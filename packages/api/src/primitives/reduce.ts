import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { frontBatch } from './batching.js';
import { arity, aval, checkAxis, checkAxisList, input, requireNumeric } from './checks.js';
import {
  broadcast,
  cast,
  concat,
  cumulative,
  div,
  equal,
  full,
  inversePermutation,
  keepDimsShape,
  mul,
  reduceSum,
  reshape,
  slice,
  transpose,
} from './lax.js';
import { Primitive, primitiveName, type ReducePrimitive } from './primitive.js';
import type { JvpRule, PrimitiveRule, VjpRule } from './rule.js';

/** `g`, shaped like a reduction's output, broadcast back over the reduced axes of `shape`. */
function expandReduced(g: Tensor, shape: Shape, axes: readonly number[]): Tensor {
  return broadcast(reshape(g, keepDimsShape(shape, axes)), shape);
}

interface ReduceAd<P extends ReducePrimitive> {
  readonly jvp: JvpRule<P>;
  readonly vjp: VjpRule<P>;
}

function reduction<P extends ReducePrimitive>(p: P, numericOnly: boolean, ad: ReduceAd<P>): PrimitiveRule<P> {
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
    ...ad,
    batch: frontBatch(p, (params) => ({ axes: params.axes.map((a) => a + 1) }) as typeof params),
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
    jvp: null,
    vjp: null,
    batch: frontBatch(p, (params) => ({ axis: params.axis + 1 }) as typeof params),
  };
}

/**
 * Max and min send the derivative to the positions that attain the extremum, shared equally
 * among ties (as JAX does); the mask and count are recomputed from x and the output.
 */
function extremumAd<P extends Primitive.ReduceMax | Primitive.ReduceMin>(): ReduceAd<P> {
  const locations = (x: Tensor, out: Tensor, axes: readonly number[]): [Tensor, Tensor] => {
    const mask = cast(equal(x, expandReduced(out, x.shape, axes)), x.dtype);
    return [mask, reduceSum(mask, axes)];
  };
  return {
    jvp: ([t], [x], out, { axes }) => {
      if (!t) return null;
      const [mask, count] = locations(x as Tensor, out, axes);
      return div(reduceSum(mul(t, mask), axes), count);
    },
    vjp: (g, [x], out, { axes }) => {
      const [mask, count] = locations(x as Tensor, out, axes);
      return [mul(expandReduced(div(g, count), (x as Tensor).shape, axes), mask)];
    },
  };
}

/** Exclusive scan of products along the last axis, from the front or (reverse) from the back. */
function exclusiveProduct(x: Tensor, reverse: boolean): Tensor {
  const rank = x.shape.length;
  const n = x.shape[rank - 1] as number;
  const one = full([...x.shape.slice(0, -1), 1], x.dtype, 1, x);
  const inclusive = cumulative(x, { op: 'prod', axis: rank - 1, reverse });
  const starts = x.shape.map(() => 0);
  if (!reverse) {
    const head = slice(
      inclusive,
      starts,
      x.shape.map((d, i) => (i === rank - 1 ? n - 1 : d)),
    );
    return concat([one, head], rank - 1);
  }
  const tail = slice(
    inclusive,
    x.shape.map((_, i) => (i === rank - 1 ? Math.min(1, n) : 0)),
    x.shape,
  );
  return concat([tail, one], rank - 1);
}

/**
 * For each element, the product of the other elements in its reduction group, computed with
 * exclusive scans from both sides: exact when inputs contain zeros (unlike out / x).
 */
function productOfOthers(x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const moved = transpose(x, perm);
  const keptShape = kept.map((i) => x.shape[i] as number);
  const groupSize = axes.reduce((n, a) => n * (x.shape[a] as number), 1);
  const rows = reshape(moved, [...keptShape, groupSize]);
  const others = mul(exclusiveProduct(rows, false), exclusiveProduct(rows, true));
  return transpose(reshape(others, moved.shape), inversePermutation(perm));
}

export const reduceRules: {
  readonly [P in ReducePrimitive | Primitive.Argmax | Primitive.Argmin]: PrimitiveRule<P>;
} = {
  [Primitive.ReduceSum]: reduction(Primitive.ReduceSum, true, {
    jvp: ([t], _p, _out, { axes }) => (t ? reduceSum(t, axes) : null),
    vjp: (g, [x], _out, { axes }) => [expandReduced(g, (x as Tensor).shape, axes)],
  }),
  [Primitive.ReduceProd]: reduction(Primitive.ReduceProd, true, {
    jvp: ([t], [x], _out, { axes }) => (t ? reduceSum(mul(t, productOfOthers(x as Tensor, axes)), axes) : null),
    vjp: (g, [x], _out, { axes }) => [mul(expandReduced(g, (x as Tensor).shape, axes), productOfOthers(x as Tensor, axes))],
  }),
  [Primitive.ReduceMax]: reduction(Primitive.ReduceMax, false, extremumAd()),
  [Primitive.ReduceMin]: reduction(Primitive.ReduceMin, false, extremumAd()),
  [Primitive.Argmax]: argReduction(Primitive.Argmax),
  [Primitive.Argmin]: argReduction(Primitive.Argmin),
};
