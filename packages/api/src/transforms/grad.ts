import { isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatTreeDef, treeDefsEqual, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { full, zerosLike } from '../primitives/lax.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { differentiatedArguments, normalizeArgnums, outputLeaves } from './arguments.js';
import { type AuxOf, type Disposable, disposable, type Gradient, type GradientFor, type GradOptions } from './types.js';
import { vjpFlat } from './vjp-trace.js';

/**
 * Reverse-mode differentiation: evaluates `f` at `primals` and returns its output with a pullback
 * that maps a cotangent of the output (same structure) to cotangents of every argument.
 *
 * The pullback holds the forward pass's saved values until `pullback.dispose()` or garbage
 * collection.
 *
 * @example
 * const [y, pullback] = vjp((x) => x.sin(), x);
 * const [dx] = pullback(ones(y.shape)); // cos(x) * 1
 * pullback.dispose();
 */
export function vjp<A extends unknown[], R>(f: (...args: A) => R, ...primals: A): [R, Disposable<(cotangent: R) => Gradient<A>>] {
  if (typeof f !== 'function') throw new ValueError('vjp: expected a function as the first argument');
  const argnums = primals.map((_, i) => i);
  const args = differentiatedArguments('vjp', primals, argnums);
  let outDef = treeFlatten(null)[1];
  const { outputs, pullback, release } = vjpFlat(
    (xs) => {
      const [leaves, def] = outputLeaves('vjp', 'the function output', f(...(args.rebuild(xs) as A)));
      outDef = def;
      return leaves;
    },
    args.leaves,
    'vjp',
  );
  const out = treeUnflatten(outDef, outputs) as R;
  const pull = (cotangent: R): Gradient<A> => {
    const [cts, ctDef] = treeFlatten(cotangent);
    if (!treeDefsEqual(ctDef, outDef)) {
      throw new ValueError(`vjp: the cotangent has structure ${formatTreeDef(ctDef)}, but the output has ${formatTreeDef(outDef)}`);
    }
    cts.forEach((ct, i) => {
      const o = outputs[i] as Tensor;
      if (!isTensor(ct) || !shapesEqual(ct.shape, o.shape) || ct.dtype !== o.dtype) {
        const got = isTensor(ct) ? `${ct.dtype} ${formatShape(ct.shape)}` : typeof ct;
        throw new ShapeError(
          `vjp: cotangent leaf ${i} must be a ${o.dtype} tensor of shape ${formatShape(o.shape)} like the output, got ${got}`,
        );
      }
    });
    const grads = pullback(cts as Tensor[]).map((g, i) => g ?? zerosLike(args.leaves[i] as Tensor));
    return treeUnflatten(args.def, grads) as Gradient<A>;
  };
  return [out, disposable(pull, release)];
}

interface GradResult {
  readonly value: Tensor;
  readonly aux: unknown;
  readonly gradient: unknown;
}

function checkScalar(op: string, out: unknown): asserts out is Tensor {
  if (!isTensor(out)) {
    throw new ValueError(
      `${op}: the function must return a scalar tensor, got ${Array.isArray(out) ? 'an array (pass { hasAux: true } to return [output, aux])' : typeof out}`,
    );
  }
  if (out.shape.length !== 0) {
    throw new ShapeError(
      `${op}: the function must return a scalar (shape []), got shape ${formatShape(out.shape)}; reduce it (for example with .sum()), or use vjp or jacrev for non-scalar outputs`,
    );
  }
  if (!isFloating(out.dtype)) throw new DTypeError(`${op}: the function must return a floating-point scalar, got ${out.dtype}`);
}

function gradCore(op: string, f: (...args: never[]) => unknown, options: GradOptions, args: unknown[]): GradResult {
  if (typeof f !== 'function') throw new ValueError(`${op}: expected a function`);
  const argnums = normalizeArgnums(op, options.argnums ?? 0, args.length);
  const differentiated = differentiatedArguments(op, args, argnums);
  let auxLeaves: unknown[] = [];
  let auxDef = treeFlatten(undefined)[1];
  const { outputs, pullback, release } = vjpFlat(
    (xs) => {
      let out = (f as (...a: unknown[]) => unknown)(...differentiated.rebuild(xs));
      if (options.hasAux) {
        if (!Array.isArray(out) || out.length !== 2)
          throw new ValueError(`${op}: with hasAux the function must return [output, aux], got ${typeof out}`);
        [auxLeaves, auxDef] = treeFlatten(out[1]);
        out = out[0];
      }
      checkScalar(op, out);
      // Aux tensors leave through the tape as outputs, so tracers of this level come out as values.
      return [out, ...auxLeaves.filter(isTensor)];
    },
    differentiated.leaves,
    op,
  );
  const value = outputs[0] as Tensor;
  const grads = pullback([full([], value.dtype, 1, value)], true).map((g, i) => g ?? zerosLike(differentiated.leaves[i] as Tensor));
  release();
  const perArgument = treeUnflatten(differentiated.def, grads) as unknown[];
  let next = 1;
  const aux = treeUnflatten(
    auxDef,
    auxLeaves.map((leaf) => (isTensor(leaf) ? outputs[next++] : leaf)),
  );
  return { value, aux, gradient: typeof (options.argnums ?? 0) === 'number' ? perArgument[0] : perArgument };
}

/**
 * The gradient of a scalar-valued function with respect to its first argument (or `argnums`),
 * in the argument's structure. Composes with every transform: `grad(grad(f))`, `vmap(grad(f))`.
 *
 * @example
 * const df = grad((x: Tensor) => x.mul(x).sum());
 * df(tensor([1, 2, 3], { dtype: 'float64' })); // [2, 4, 6]
 * const [dw, db] = grad(loss, { argnums: [0, 1] })(w, b, x);
 */
export function grad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => R,
  options?: O,
): (...args: A) => O extends { readonly hasAux: true } ? [GradientFor<A, O>, AuxOf<R>] : GradientFor<A, O> {
  const opts: GradOptions = options ?? {};
  return ((...args: A) => {
    const { gradient, aux } = gradCore('grad', f as (...args: never[]) => unknown, opts, args);
    return opts.hasAux ? [gradient, aux] : gradient;
  }) as never;
}

/**
 * The value and the gradient together (one forward pass): `[value, gradient]`, or with
 * `hasAux`, `[[value, aux], gradient]` as in JAX.
 *
 * @example
 * const [loss, grads] = valueAndGrad(lossFn)(params, batch);
 */
export function valueAndGrad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => R,
  options?: O,
): (...args: A) => O extends { readonly hasAux: true } ? [[Tensor, AuxOf<R>], GradientFor<A, O>] : [Tensor, GradientFor<A, O>] {
  const opts: GradOptions = options ?? {};
  return ((...args: A) => {
    const { value, gradient, aux } = gradCore('valueAndGrad', f as (...args: never[]) => unknown, opts, args);
    return opts.hasAux ? [[value, aux], gradient] : [value, gradient];
  }) as never;
}
