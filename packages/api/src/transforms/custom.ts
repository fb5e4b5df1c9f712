import { isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { type TreeDef, treeFlatten, treeFlattenUpTo, treeUnflatten } from '../core/pytree.js';
import { type GeneratorPosition, generatorPosition, replayGenerator } from '../random/generator.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { outputLeaves } from './arguments.js';
import { bindCustomJvp, bindCustomVjp, bindStopGradient } from './core.js';
import type { CustomJvpCall, CustomVjpCall } from './custom-call.js';
import type { Gradient } from './types.js';
import { vjpFlat } from './vjp-trace.js';

/** The arguments of a call split into tensor leaves (traced) and everything else (static). */
interface SplitArguments {
  readonly tensors: Tensor[];
  readonly def: TreeDef;
  /** Positions of the tensor leaves among all leaves, per argument. */
  rebuild(tensors: readonly Tensor[]): unknown[];
  /** One entry per tensor leaf: which argument it belongs to. */
  readonly argumentOf: number[];
}

function splitArguments(args: readonly unknown[]): SplitArguments {
  const [leaves, def] = treeFlatten(args);
  const tensors: Tensor[] = [];
  const argumentOf: number[] = [];
  args.forEach((arg, i) => {
    for (const leaf of treeFlatten(arg)[0]) {
      if (isTensor(leaf)) {
        tensors.push(leaf);
        argumentOf.push(i);
      }
    }
  });
  return {
    tensors,
    def,
    argumentOf,
    rebuild(replacements) {
      let next = 0;
      return treeUnflatten(
        def,
        leaves.map((leaf) => (isTensor(leaf) ? replacements[next++] : leaf)),
      ) as unknown[];
    },
  };
}

function functionName(fn: (...args: never[]) => unknown, fallback: string): string {
  return fn.name.length > 0 ? fn.name : fallback;
}

/**
 * A function with its own JVP rule, used by forward mode and (transposed) by reverse mode, as
 * JAX's custom_jvp. The rule receives the primal and tangent arguments and returns
 * `[output, outputTangent]`; it must be linear in the tangents.
 *
 * @example
 * const safeLog1pExp = customJvp(
 *   (x: Tensor) => x.exp().log1p(),
 *   ([x], [t]) => [x.exp().log1p(), t.mul(x.sigmoid())],
 * );
 */
export function customJvp<A extends unknown[], R>(
  fn: (...args: A) => R,
  rule: (primals: A, tangents: A) => readonly [R, R],
): (...args: A) => R {
  if (typeof fn !== 'function' || typeof rule !== 'function') throw new ValueError('customJvp: expected a function and its JVP rule');
  const name = functionName(fn, 'customJvp');
  return (...args: A): R => {
    const split = splitArguments(args);
    let outDef = treeFlatten(null)[1];
    const call: CustomJvpCall = {
      name,
      fn: (inputs) => {
        const [leaves, def] = outputLeaves(name, 'the function output', fn(...(split.rebuild(inputs) as A)));
        outDef = def;
        return leaves;
      },
      jvp: (primals, tangents) => {
        const result = rule(split.rebuild(primals) as A, split.rebuild(tangents) as A);
        if (!Array.isArray(result) || result.length !== 2)
          throw new ValueError(`${name}: the JVP rule must return [output, outputTangent]`);
        const [outputs, def] = outputLeaves(name, 'the JVP rule output', result[0]);
        const [outTangents] = outputLeaves(name, 'the JVP rule tangent', result[1]);
        if (outTangents.length !== outputs.length)
          throw new ValueError(`${name}: the JVP rule returned ${outputs.length} output(s) but ${outTangents.length} tangent(s)`);
        outDef = def;
        return { outputs, tangents: outTangents };
      },
    };
    const outs = bindCustomJvp(call, split.tensors);
    return treeUnflatten(outDef, outs) as R;
  };
}

/** The rules of a customVjp function. */
export interface CustomVjpRules<A extends unknown[], R, Residuals> {
  /** The forward pass: the output and whatever the backward pass needs. */
  readonly fwd: (...args: A) => readonly [R, Residuals];
  /**
   * The backward pass: one cotangent per argument (in the argument's structure; null or
   * undefined for zero), from the residuals and the output's cotangent.
   */
  readonly bwd: (residuals: Residuals, cotangent: R) => { readonly [K in keyof A]: Gradient<A[K]> | null | undefined };
}

/**
 * A function with its own VJP rule, as JAX's custom_vjp (PyTorch's autograd.Function): grad and
 * backward() use `bwd`; forward mode (jvp) is an error, as in JAX. `bwd` is written in ordinary
 * ops, so higher derivatives differentiate through it.
 *
 * @example
 * // Straight-through estimator: round in the forward pass, identity gradient.
 * const roundSte = customVjp((x: Tensor) => x.round(), {
 *   fwd: (x) => [x.round(), null],
 *   bwd: (_, g) => [g],
 * });
 */
export function customVjp<A extends unknown[], R, Residuals>(
  fn: (...args: A) => R,
  rules: CustomVjpRules<A, R, Residuals>,
): (...args: A) => R {
  if (typeof fn !== 'function' || typeof rules?.fwd !== 'function' || typeof rules?.bwd !== 'function') {
    throw new ValueError('customVjp: expected a function and { fwd, bwd } rules');
  }
  const name = functionName(fn, 'customVjp');
  return (...args: A): R => {
    const split = splitArguments(args);
    const argumentDefs = args.map((a) => treeFlatten(a)[1]);
    let outDef = treeFlatten(null)[1];
    const call: CustomVjpCall = {
      name,
      differentiateFnInForwardMode: false,
      fn: (inputs) => {
        const [leaves, def] = outputLeaves(name, 'the function output', fn(...(split.rebuild(inputs) as A)));
        outDef = def;
        return leaves;
      },
      fwd: (inputs) => {
        const result = rules.fwd(...(split.rebuild(inputs) as A));
        if (!Array.isArray(result) || result.length !== 2) throw new ValueError(`${name}: fwd must return [output, residuals]`);
        const [outputs, def] = outputLeaves(name, 'the output of fwd', result[0]);
        outDef = def;
        return { outputs, residuals: result[1] };
      },
      bwd: (residuals, cotangents) => {
        const result = rules.bwd(residuals as Residuals, treeUnflatten(outDef, cotangents) as R) as readonly unknown[];
        if (!Array.isArray(result) || result.length !== args.length) {
          throw new ValueError(
            `${name}: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(result) ? result.length : typeof result}`,
          );
        }
        // Align the cotangents with the tensor leaves of each argument.
        const perArgument = result.map((ct, i) => {
          const def = argumentDefs[i] as TreeDef;
          const leaves = treeFlatten(args[i])[0];
          const values = treeFlattenUpTo(name, `the cotangent of argument ${i}`, def, ct);
          return values.filter((_, k) => isTensor(leaves[k]));
        });
        const cursor = new Array<number>(args.length).fill(0);
        return split.argumentOf.map((argument, k) => {
          const position = cursor[argument] as number;
          cursor[argument] = position + 1;
          const value = (perArgument[argument] as unknown[])[position];
          const input = split.tensors[k] as Tensor;
          if (value === null || value === undefined || !isFloating(input.dtype)) return null;
          if (!isTensor(value))
            throw new ValueError(`${name}: bwd returned ${typeof value} where a tensor cotangent was expected for argument ${argument}`);
          return value;
        });
      },
    };
    const outs = bindCustomVjp(call, split.tensors);
    return treeUnflatten(outDef, outs) as R;
  };
}

/**
 * Rematerialization: `checkpoint(f)` computes the same values, but reverse mode saves only its
 * inputs and recomputes `f`'s intermediates during the backward pass, trading compute for memory.
 *
 * @example
 * const block = checkpoint((x: Tensor) => x.matmul(w1).relu().matmul(w2));
 */
export function checkpoint<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  if (typeof fn !== 'function') throw new ValueError('checkpoint: expected a function');
  return (...args: A): R => {
    const split = splitArguments(args);
    let outDef = treeFlatten(null)[1];
    const run = (inputs: readonly Tensor[]): Tensor[] => {
      const [leaves, def] = outputLeaves('checkpoint', 'the function output', fn(...(split.rebuild(inputs) as A)));
      outDef = def;
      return leaves;
    };
    const call: CustomVjpCall = {
      name: 'checkpoint',
      differentiateFnInForwardMode: true,
      fn: run,
      // The recomputation must draw what the forward pass drew (Dropout's mask): the forward
      // pass records where the global generator stood, and the backward pass replays from there.
      fwd: (inputs) => {
        const position = generatorPosition();
        return { outputs: run(inputs), residuals: [inputs, position] };
      },
      bwd: (residuals, cotangents) => {
        const [inputs, position] = residuals as [Tensor[], GeneratorPosition];
        return replayGenerator(position, () => {
          const { pullback, release } = vjpFlat(run, inputs, 'checkpoint');
          const cts = pullback(cotangents, true);
          release();
          return cts;
        });
      },
    };
    const outs = bindCustomVjp(call, split.tensors);
    return treeUnflatten(outDef, outs) as R;
  };
}

/**
 * The same values with no derivative: gradients do not flow through it, at any level of nesting
 * (vmap still batches it). On the imperative tape it is `detach()`.
 *
 * @example
 * const target = stopGradient(reward.add(next.mul(gamma)));
 */
export function stopGradient<T>(tree: T): T {
  const [leaves, def] = treeFlatten(tree);
  return treeUnflatten(
    def,
    leaves.map((leaf) => (isTensor(leaf) ? bindStopGradient(leaf) : leaf)),
  ) as T;
}
