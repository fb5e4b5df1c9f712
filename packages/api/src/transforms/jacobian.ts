import type { DType } from '../core/dtype.js';
import { isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { type TreeDef, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { sizeOf } from '../core/shape.js';
import { cast, equal, full, iota, reshape, slice, zerosLike } from '../primitives/lax.js';
import type { Tensor } from '../tensor/tensor.js';
import { differentiatedArguments, normalizeArgnums, outputLeaves } from './arguments.js';
import { vmapFlat } from './batch-trace.js';
import { jvpFlat } from './jvp.js';
import type { GradOptions } from './types.js';
import { vjpFlat } from './vjp-trace.js';

// Jacobians by vmapping a pullback over the rows of an identity (jacrev) or a JVP over its columns
// (jacfwd). For an output leaf of shape O and an input leaf of shape I the block is O + I.

export type JacobianOptions = Omit<GradOptions, 'hasAux'>;

function identityColumns(
  total: number,
  sizes: readonly number[],
  shapes: readonly (readonly number[])[],
  dtypes: readonly DType[],
  like: Tensor,
): Tensor[] {
  const eye = equal(iota([total, total], 'int32', 0, like), iota([total, total], 'int32', 1, like));
  let offset = 0;
  return sizes.map((n, i) => {
    const block = slice(eye, [0, offset], [total, offset + n]);
    offset += n;
    return reshape(cast(block, dtypes[i] as DType), [total, ...(shapes[i] as number[])]);
  });
}

/** Splits `stacked` along `axis` into one block per leaf, each reshaped to `outer + leafShape` (outer before or after). */
function splitBlocks(
  stacked: Tensor,
  axis: number,
  sizes: readonly number[],
  shapes: readonly (readonly number[])[],
  outer: readonly number[],
  outerFirst: boolean,
): Tensor[] {
  let offset = 0;
  return sizes.map((n, i) => {
    const starts = stacked.shape.map((_, d) => (d === axis ? offset : 0));
    const stops = stacked.shape.map((s, d) => (d === axis ? offset + n : s));
    offset += n;
    const leafShape = shapes[i] as number[];
    return reshape(slice(stacked, starts, stops), outerFirst ? [...outer, ...leafShape] : [...leafShape, ...outer]);
  });
}

function assemble(outDef: TreeDef, inDef: TreeDef, blocks: Tensor[][], argnumsIsNumber: boolean): unknown {
  return treeUnflatten(
    outDef,
    blocks.map((row) => {
      const perArgument = treeUnflatten(inDef, row) as unknown[];
      return argnumsIsNumber ? perArgument[0] : perArgument;
    }),
  );
}

function checkFloatOutputs(op: string, outputs: readonly Tensor[]): void {
  for (const o of outputs)
    if (!isFloating(o.dtype)) throw new DTypeError(`${op}: the function's outputs must be floating-point, got ${o.dtype}`);
}

/**
 * The Jacobian by reverse mode (one pullback per output element, vmapped): efficient when outputs
 * are fewer than inputs. For output shape O and input shape I the result has shape O + I.
 *
 * @example
 * jacrev((x) => x.sin())(x); // diag(cos(x)), shape [n, n]
 */
export function jacrev<A extends unknown[], R>(f: (...args: A) => R, options: JacobianOptions = {}): (...args: A) => unknown {
  if (typeof f !== 'function') throw new ValueError('jacrev: expected a function');
  return (...args: A) => {
    const argnums = normalizeArgnums('jacrev', options.argnums ?? 0, args.length);
    const diff = differentiatedArguments('jacrev', args, argnums);
    let outDef = treeFlatten(null)[1];
    const { outputs, pullback, release } = vjpFlat(
      (xs) => {
        const [leaves, def] = outputLeaves('jacrev', 'the function output', f(...(diff.rebuild(xs) as A)));
        outDef = def;
        return leaves;
      },
      diff.leaves,
      'jacrev',
    );
    checkFloatOutputs('jacrev', outputs);
    const outSizes = outputs.map((o) => sizeOf(o.shape));
    const total = outSizes.reduce((a, b) => a + b, 0);
    const inShapes = diff.leaves.map((x) => x.shape);
    let rows: Tensor[];
    if (total === 0 || diff.leaves.length === 0) rows = diff.leaves.map((x) => full([total, ...x.shape], x.dtype, 0, x));
    else {
      const basis = identityColumns(
        total,
        outSizes,
        outputs.map((o) => o.shape),
        outputs.map((o) => o.dtype),
        outputs[0] as Tensor,
      );
      rows = vmapFlat(
        (cts) => pullback(cts).map((g, i) => g ?? zerosLike(diff.leaves[i] as Tensor)),
        basis,
        basis.map(() => 0),
        total,
        undefined,
        'jacrev',
      );
    }
    release();
    // rows[i]: [total, ...inShape_i]; block (j, i) is rows[i] restricted to output j's rows.
    const perInput = rows.map((r, i) =>
      splitBlocks(
        r,
        0,
        outSizes,
        outputs.map((o) => o.shape),
        inShapes[i] as number[],
        false,
      ),
    );
    const blocks = outputs.map((_, j) => perInput.map((p) => p[j] as Tensor));
    return assemble(outDef, diff.def, blocks, typeof (options.argnums ?? 0) === 'number');
  };
}

/**
 * The Jacobian by forward mode (one JVP per input element, vmapped): efficient when inputs are
 * fewer than outputs. Same layout as `jacrev`: output shape + input shape.
 *
 * @example
 * jacfwd((x) => x.exp())(x); // diag(exp(x))
 */
export function jacfwd<A extends unknown[], R>(f: (...args: A) => R, options: JacobianOptions = {}): (...args: A) => unknown {
  if (typeof f !== 'function') throw new ValueError('jacfwd: expected a function');
  return (...args: A) => {
    const argnums = normalizeArgnums('jacfwd', options.argnums ?? 0, args.length);
    const diff = differentiatedArguments('jacfwd', args, argnums);
    let outDef = treeFlatten(null)[1];
    let outputs: Tensor[] = [];
    const run = (xs: Tensor[]): Tensor[] => {
      const [leaves, def] = outputLeaves('jacfwd', 'the function output', f(...(diff.rebuild(xs) as A)));
      outDef = def;
      return leaves;
    };
    const inSizes = diff.leaves.map((x) => sizeOf(x.shape));
    const total = inSizes.reduce((a, b) => a + b, 0);
    let columns: Tensor[];
    if (total === 0) {
      outputs = run(diff.leaves);
      columns = outputs.map((o) => full([...o.shape, 0], o.dtype, 0, o));
    } else {
      const basis = identityColumns(
        total,
        inSizes,
        diff.leaves.map((x) => x.shape),
        diff.leaves.map((x) => x.dtype),
        diff.leaves[0] as Tensor,
      );
      let outCount = 0;
      columns = vmapFlat(
        (ts) => {
          const r = jvpFlat(run, diff.leaves, ts, 'jacfwd');
          outputs = r.outputs;
          outCount = r.tangents.length;
          return r.tangents;
        },
        basis,
        basis.map(() => 0),
        total,
        () => new Array<number>(outCount).fill(-1),
        'jacfwd',
      );
    }
    checkFloatOutputs('jacfwd', outputs);
    // columns[j]: [...outShape_j, total]; block (j, i) is its slice of input i's columns.
    const blocks = columns.map((c, j) => {
      const outShape = (outputs[j] as Tensor).shape;
      return splitBlocks(
        c,
        outShape.length,
        inSizes,
        diff.leaves.map((x) => x.shape),
        outShape,
        true,
      );
    });
    return assemble(outDef, diff.def, blocks, typeof (options.argnums ?? 0) === 'number');
  };
}

/**
 * The Hessian of a scalar function: forward over reverse, `jacfwd(jacrev(f))`. For an input of
 * shape I the result has shape I + I.
 *
 * @example
 * hessian((x) => x.pow(3).sum())(x); // diag(6x)
 */
export function hessian<A extends unknown[], R>(f: (...args: A) => R, options: JacobianOptions = {}): (...args: A) => unknown {
  return jacfwd(jacrev(f, options), options);
}
