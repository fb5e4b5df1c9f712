import { ValueError } from '../core/errors.js';
import { formatTreeDef, type TreeDef, treeDefsEqual, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A parameter pytree: a tensor, or nested arrays and plain objects whose leaves are tensors
 * (null and undefined are empty subtrees, as in the transforms).
 */
export type ParamTree = Tensor | null | undefined | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** The tensors of a tree (in the transforms' order) and its structure; any other leaf is an error. */
export function flattenTree(op: string, tree: unknown, what = 'params'): { leaves: Tensor[]; def: TreeDef } {
  const [leaves, def] = treeFlatten(tree);
  leaves.forEach((leaf, i) => {
    if (!isTensor(leaf)) {
      throw new ValueError(
        `${op}: leaf ${i} of ${what} (structure ${formatTreeDef(def)}) is ${leaf === null ? 'null' : typeof leaf}; a parameter tree holds only tensors in arrays and plain objects`,
      );
    }
  });
  return { leaves: leaves as Tensor[], def };
}

/** Rebuilds a tree of structure `def` from leaves in `flattenTree`'s order. */
export function unflattenTree<T extends ParamTree>(def: TreeDef, leaves: readonly Tensor[]): T {
  return treeUnflatten(def, leaves) as T;
}

/** Whether two tree structures are equal. */
export function sameTreeDef(a: TreeDef, b: TreeDef): boolean {
  return treeDefsEqual(a, b);
}

export type { TreeDef };
