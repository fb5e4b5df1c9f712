import { ValueError } from '../core/errors.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** A parameter pytree: a tensor, or nested arrays and plain objects whose leaves are tensors. */
export type ParamTree = Tensor | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** The shape of a pytree without its leaves, to rebuild a tree of the same structure. */
export type TreeDef = { readonly kind: 'leaf' } | { readonly kind: 'array'; readonly children: readonly TreeDef[] } | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

/** The tensors of a tree in a fixed order (arrays by index, objects by sorted key, as JAX) and its structure. */
export function flattenTree(op: string, tree: unknown, what = 'params'): { leaves: Tensor[]; def: TreeDef } {
  const leaves: Tensor[] = [];
  const visit = (node: unknown, path: string): TreeDef => {
    if (isTensor(node)) {
      leaves.push(node);
      return { kind: 'leaf' };
    }
    if (Array.isArray(node)) return { kind: 'array', children: node.map((child, i) => visit(child, `${path}[${i}]`)) };
    if (typeof node === 'object' && node !== null && Object.getPrototypeOf(node) === Object.prototype) {
      const keys = Object.keys(node).sort();
      return { kind: 'object', keys, children: keys.map((k) => visit((node as Record<string, unknown>)[k], `${path}.${k}`)) };
    }
    throw new ValueError(`${op}: ${path} is ${node === null ? 'null' : typeof node}; a parameter tree holds only tensors in arrays and plain objects`);
  };
  const def = visit(tree, what);
  return { leaves, def };
}

/** Rebuilds a tree of structure `def` from leaves in `flattenTree`'s order. */
export function unflattenTree<T extends ParamTree>(def: TreeDef, leaves: readonly Tensor[]): T {
  let next = 0;
  const build = (node: TreeDef): ParamTree => {
    if (node.kind === 'leaf') return leaves[next++] as Tensor;
    if (node.kind === 'array') return node.children.map(build);
    const out: Record<string, ParamTree> = {};
    node.children.forEach((child, i) => {
      out[node.keys[i] as string] = build(child);
    });
    return out;
  };
  return build(def) as T;
}

/** Whether two tree structures are equal. */
export function sameTreeDef(a: TreeDef, b: TreeDef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'leaf') return true;
  const bc = (b as typeof a).children;
  if (a.children.length !== bc.length) return false;
  if (a.kind === 'object' && a.keys.some((k, i) => k !== (b as typeof a).keys[i])) return false;
  return a.children.every((child, i) => sameTreeDef(child, bc[i] as TreeDef));
}
