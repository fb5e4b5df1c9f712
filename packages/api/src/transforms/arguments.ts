import { floatingFix, isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { formatTreeDef, type TreeDef, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { scalar } from '../ops/convert.js';
import { isTensor } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';

// Argument handling shared by the transforms: which arguments are differentiated, their tensor
// leaves, and putting the arguments back together around traced leaves.

/** The positions `argnums` names, checked against the number of arguments. */
export function normalizeArgnums(op: string, argnums: number | readonly number[], count: number): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  if (list.length === 0) throw new ValueError(`${op}: argnums must name at least one argument`);
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -count || a >= count) {
      throw new ValueError(`${op}: argnums ${JSON.stringify(argnums)} is out of range for a call with ${count} argument(s)`);
    }
    return a < 0 ? a + count : a;
  });
  if (new Set(out).size !== out.length) throw new ValueError(`${op}: argnums ${JSON.stringify(argnums)} repeats an argument`);
  return out;
}

/**
 * Refuses a tensor that is differentiated but not floating (`which` names it, `alternative` says
 * how to stop differentiating it). An integer input has no tangent or gradient: silently taking
 * it as constant would give a zero derivative where the user meant `tensor([0.0])` as a float.
 */
export function checkDifferentiable(op: string, value: Tensor, which: string, alternative: string): void {
  if (isFloating(value.dtype)) return;
  throw new DTypeError(
    `${op}: can only differentiate with respect to floating-point tensors, but ${which} has dtype ${value.dtype}${floatingFix(value.dtype)}; or ${alternative}`,
  );
}

export interface DifferentiatedArguments {
  /** The floating-point tensor leaves being differentiated, in order. */
  readonly leaves: Tensor[];
  /** The structure of the differentiated arguments (an array with one entry per argnum). */
  readonly def: TreeDef;
  /** The full argument list with the differentiated leaves replaced. */
  rebuild(leaves: readonly Tensor[]): unknown[];
}

/** Splits the arguments named by `argnums` into tensor leaves (JavaScript numbers become float32 scalars). */
export function differentiatedArguments(op: string, args: readonly unknown[], argnums: readonly number[]): DifferentiatedArguments {
  const [raw, def] = treeFlatten(argnums.map((i) => args[i]));
  const leaves = raw.map((leaf, k) => {
    const value = typeof leaf === 'number' ? scalar(leaf, { dtype: 'float32' }) : leaf;
    if (!isTensor(value)) {
      throw new ValueError(
        `${op}: the differentiated arguments must hold only tensors (in arrays and plain objects); leaf ${k} of ${formatTreeDef(def)} is ${typeof value}`,
      );
    }
    checkDifferentiable(op, value, `leaf ${k} of argument(s) ${JSON.stringify(argnums)}`, 'leave it out of argnums');
    return value;
  });
  return {
    leaves,
    def,
    rebuild(traced) {
      const parts = treeUnflatten(def, traced) as unknown[];
      const out = [...args];
      argnums.forEach((a, i) => {
        out[a] = parts[i];
      });
      return out;
    },
  };
}

/** The tensor leaves of a function's output, with its structure; non-tensor leaves are an error. */
export function outputLeaves(op: string, what: string, value: unknown): [Tensor[], TreeDef] {
  const [leaves, def] = treeFlatten(value);
  leaves.forEach((leaf, k) => {
    if (!(leaf instanceof Tensor) && !isTensor(leaf)) {
      throw new ValueError(`${op}: ${what} must be a tensor or a pytree of tensors; leaf ${k} of ${formatTreeDef(def)} is ${typeof leaf}`);
    }
  });
  return [leaves as Tensor[], def];
}
