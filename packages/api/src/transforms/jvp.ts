import { isFloating } from '../core/dtype.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { formatTreeDef, treeDefsEqual, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { zerosLike } from '../primitives/lax.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkDifferentiable, differentiatedArguments, outputLeaves } from './arguments.js';
import { checkLive, withTrace } from './core.js';
import { JvpTrace, JvpTracer } from './jvp-trace.js';
import { type Disposable, disposable } from './types.js';
import { vjpFlat } from './vjp-trace.js';

/** jvp on flat lists: outputs and their tangents (zeros where an output does not vary). */
export function jvpFlat(
  fn: (inputs: Tensor[]) => readonly Tensor[],
  primals: readonly Tensor[],
  tangents: readonly (Tensor | null)[],
  transform = 'jvp',
): { outputs: Tensor[]; tangents: Tensor[] } {
  return withTrace(
    (level) => new JvpTrace(level, transform),
    (trace) => {
      const inputs = primals.map((p, i) => {
        const t = tangents[i] ?? null;
        return t !== null && isFloating(p.dtype) ? new JvpTracer(trace, p, t) : p;
      });
      const outputs: Tensor[] = [];
      const outTangents: Tensor[] = [];
      for (const o of fn(inputs)) {
        checkLive(o);
        const own = o instanceof JvpTracer && o._trace === trace;
        const primal = own ? o.primal : o;
        outputs.push(primal);
        outTangents.push((own ? o.tangent : null) ?? zerosLike(primal));
      }
      return { outputs, tangents: outTangents };
    },
  );
}

function checkTangents(op: string, primals: readonly Tensor[], tangents: readonly unknown[]): Tensor[] {
  return tangents.map((t, i) => {
    const p = primals[i] as Tensor;
    if (!isTensor(t) || !shapesEqual(t.shape, p.shape) || (isFloating(p.dtype) && t.dtype !== p.dtype)) {
      const got = isTensor(t) ? `${t.dtype} ${formatShape(t.shape)}` : typeof t;
      throw new ShapeError(
        `${op}: tangent leaf ${i} must be a ${p.dtype} tensor of shape ${formatShape(p.shape)} like its primal, got ${got}`,
      );
    }
    return t;
  });
}

/**
 * Forward-mode differentiation: `f`'s output at `primals` and its directional derivative along
 * `tangents` (both lists with one entry per argument, tangents shaped like the primals).
 *
 * @example
 * const [y, dy] = jvp((x) => x.sin(), [x], [ones(x.shape)]); // dy = cos(x)
 * // Hessian-vector product, forward over reverse:
 * const hvp = (f, x, v) => jvp(grad(f), [x], [v])[1];
 */
export function jvp<A extends unknown[], R>(f: (...args: A) => R, primals: A, tangents: A): [R, R] {
  if (typeof f !== 'function') throw new ValueError('jvp: expected a function as the first argument');
  if (!Array.isArray(primals) || !Array.isArray(tangents))
    throw new ValueError('jvp: primals and tangents must be arrays with one entry per argument');
  const [primalLeaves, primalDef] = treeFlatten(primals);
  const [tangentLeaves, tangentDef] = treeFlatten(tangents);
  if (!treeDefsEqual(primalDef, tangentDef)) {
    throw new ValueError(`jvp: tangents have structure ${formatTreeDef(tangentDef)}, primals ${formatTreeDef(primalDef)}; they must match`);
  }
  primalLeaves.forEach((p, i) => {
    if (!isTensor(p)) throw new ValueError(`jvp: primal leaf ${i} is ${typeof p}; primals must be tensors (in arrays and plain objects)`);
  });
  const ps = primalLeaves as Tensor[];
  // As grad and vjp do for the arguments they differentiate: an integer primal has no tangent, and
  // taking it as a constant would give a silent zero where `tensor([0.0])` was meant as a float.
  ps.forEach((p, i) => {
    checkDifferentiable('jvp', p, `primal leaf ${i}`, 'close over it instead of passing it as a primal');
  });
  const ts = checkTangents('jvp', ps, tangentLeaves);
  let outDef = treeFlatten(null)[1];
  const result = jvpFlat(
    (xs) => {
      const [leaves, def] = outputLeaves('jvp', 'the function output', f(...(treeUnflatten(primalDef, xs) as A)));
      outDef = def;
      return leaves;
    },
    ps,
    ts,
  );
  return [treeUnflatten(outDef, result.outputs) as R, treeUnflatten(outDef, result.tangents) as R];
}

/**
 * Evaluates `f` once at `primals` and returns its output with the linear map `tangents -> J
 * tangents`, which can then be applied many times without re-running `f`.
 *
 * @example
 * const [y, jvpAt] = linearize((x) => x.exp(), x);
 * jvpAt(v); // exp(x) * v
 */
export function linearize<A extends unknown[], R>(f: (...args: A) => R, ...primals: A): [R, Disposable<(...tangents: A) => R>] {
  if (typeof f !== 'function') throw new ValueError('linearize: expected a function as the first argument');
  const argnums = primals.map((_, i) => i);
  const args = differentiatedArguments('linearize', primals, argnums);
  let outDef = treeFlatten(null)[1];
  const { outputs, pullback, release } = vjpFlat(
    (xs) => {
      const [leaves, def] = outputLeaves('linearize', 'the function output', f(...(args.rebuild(xs) as A)));
      outDef = def;
      return leaves;
    },
    args.leaves,
    'linearize',
  );
  // The pullback is linear in the cotangents; recording it once on a tape over the cotangents
  // gives its transpose, which is the JVP: applying it is one sweep, with no forward pass.
  const { pullback: forward, release: releaseForward } = vjpFlat(
    (cts) => pullback(cts).map((g, i) => g ?? zerosLike(args.leaves[i] as Tensor)),
    outputs.map((o) => zerosLike(o)),
    'linearize',
  );
  // The second tape saved what it needs; the first is no longer used.
  release();
  const apply = (...tangents: A): R => {
    const [leaves, def] = treeFlatten(tangents);
    if (!treeDefsEqual(def, args.def)) {
      throw new ValueError(`linearize: tangents have structure ${formatTreeDef(def)}, primals ${formatTreeDef(args.def)}; they must match`);
    }
    const ts = checkTangents('linearize', args.leaves, leaves);
    const out = forward(ts).map((t, i) => t ?? zerosLike(outputs[i] as Tensor));
    return treeUnflatten(outDef, out) as R;
  };
  return [treeUnflatten(outDef, outputs) as R, disposable(apply, releaseForward)];
}
