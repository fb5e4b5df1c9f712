import { ShapeError, ValueError } from '../core/errors.js';
import { expandPrefix, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { vmapFlat } from './batch-trace.js';

/** An axis for each leaf: a number (negative counts from the end), null for "not mapped", or a tree prefix of them. */
export type AxisSpec = number | null | undefined | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

export interface VmapOptions {
  /**
   * Where each argument is batched: one spec for all arguments, or an array with one entry per
   * argument, each a number, null (not batched: shared by every example), or a pytree prefix of
   * the argument. Default 0. JavaScript numbers and other non-tensor leaves are never batched.
   */
  readonly inAxes?: AxisSpec;
  /** Where the outputs' batch axis goes: a number, null (the output must not vary), or a prefix of the output tree. Default 0. */
  readonly outAxes?: AxisSpec;
  /** The batch size, required only when no argument is batched. */
  readonly axisSize?: number;
}

const isAxis = (v: unknown): v is number | null | undefined => v === null || v === undefined || typeof v === 'number';

/**
 * Vectorizing map: `vmap(f)` applies `f` to every slice of its inputs along the batch axis, as if
 * in a loop, but runs each op once on the whole batch. Composes with grad, jvp and itself.
 *
 * @example
 * const perExampleGrads = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, ys);
 * const outer = vmap((a) => vmap((b) => a.mul(b))(ys))(xs); // [n, m]
 */
export function vmap<A extends unknown[], R>(f: (...args: A) => R, options: VmapOptions = {}): (...args: A) => R {
  if (typeof f !== 'function') throw new ValueError('vmap: expected a function');
  return (...args: A): R => {
    const inAxes = options.inAxes === undefined ? 0 : options.inAxes;
    if (Array.isArray(inAxes) && inAxes.length !== args.length) {
      throw new ValueError(`vmap: inAxes has ${inAxes.length} entries, but the function was called with ${args.length} argument(s)`);
    }
    const prefix = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes);
    const axes = expandPrefix('vmap', 'inAxes', prefix, args, isAxis);
    const [leaves, def] = treeFlatten(args);
    const inputs: Tensor[] = [];
    const dims: (number | null)[] = [];
    const sizes: string[] = [];
    let size: number | undefined = options.axisSize;
    leaves.forEach((leaf, k) => {
      if (!isTensor(leaf)) return;
      const axis = axes[k] ?? null;
      let dim: number | null = null;
      if (axis !== null) {
        const rank = leaf.shape.length;
        if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
          throw new ShapeError(
            `vmap: inAxes gives axis ${axis} for an argument leaf of shape ${JSON.stringify(leaf.shape)} (rank ${rank})`,
          );
        }
        dim = axis < 0 ? axis + rank : axis;
        const n = leaf.shape[dim] as number;
        sizes.push(`${n} (leaf ${k}, axis ${dim})`);
        if (size === undefined) size = n;
        else if (size !== n) {
          throw new ShapeError(
            `vmap: the mapped axes have different sizes: ${sizes.join(', ')}${options.axisSize === undefined ? '' : `; axisSize is ${options.axisSize}`}`,
          );
        }
      }
      inputs.push(leaf);
      dims.push(dim);
    });
    if (size === undefined) {
      throw new ValueError('vmap: no argument is batched (every inAxes entry is null); pass axisSize to map over a batch anyway');
    }
    let outLeaves: unknown[] = [];
    let outDef = treeFlatten(null)[1];
    let outValue: unknown;
    const results = vmapFlat(
      (tracers) => {
        let next = 0;
        const rebuilt = leaves.map((leaf) => (isTensor(leaf) ? tracers[next++] : leaf));
        outValue = f(...(treeUnflatten(def, rebuilt) as A));
        [outLeaves, outDef] = treeFlatten(outValue);
        return outLeaves.filter(isTensor);
      },
      inputs,
      dims,
      size,
      () => {
        const outAxes = expandPrefix('vmap', 'outAxes', options.outAxes === undefined ? 0 : options.outAxes, outValue, isAxis);
        return outAxes.filter((_, k) => isTensor(outLeaves[k])).map((a) => a ?? null);
      },
    );
    let next = 0;
    return treeUnflatten(
      outDef,
      outLeaves.map((leaf) => (isTensor(leaf) ? results[next++] : leaf)),
    ) as R;
  };
}
