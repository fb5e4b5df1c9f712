import { ValueError } from './errors.js';

/**
 * A pytree: tensors (or other leaves) nested in arrays and plain objects. Transforms take and
 * return pytrees; gradients come back in the structure of the inputs. `null` and `undefined` are
 * empty subtrees: they hold no leaves and come back unchanged.
 */
export type PyTree<Leaf> = Leaf | null | undefined | readonly PyTree<Leaf>[] | { readonly [key: string]: PyTree<Leaf> };

/** The structure of a pytree without its leaves. */
export type TreeDef =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'none'; readonly value: null | undefined }
  | { readonly kind: 'array'; readonly children: readonly TreeDef[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

const LEAF: TreeDef = { kind: 'leaf' };

/** Arrays and plain objects are containers; everything else (tensors, numbers, class instances) is a leaf. */
export function isContainer(value: unknown): value is readonly unknown[] | Record<string, unknown> {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The leaves of `tree` in a fixed order (arrays by index, objects by key insertion order), and
 * its structure.
 *
 * @example
 * const [leaves, def] = treeFlatten({ w: a, b: [c, null] }); // leaves: [a, c]
 * treeUnflatten(def, leaves.map((t) => t.mul(2)));            // { w: 2a, b: [2c, null] }
 */
export function treeFlatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (node: unknown): TreeDef => {
    if (node === null || node === undefined) return { kind: 'none', value: node };
    if (!isContainer(node)) {
      leaves.push(node);
      return LEAF;
    }
    if (seen.has(node)) throw new ValueError('pytree: the structure contains a cycle');
    seen.add(node);
    let def: TreeDef;
    if (Array.isArray(node)) def = { kind: 'array', children: node.map(visit) };
    else {
      const keys = Object.keys(node);
      def = { kind: 'object', keys, children: keys.map((k) => visit((node as Record<string, unknown>)[k])) };
    }
    seen.delete(node);
    return def;
  };
  const def = visit(tree);
  return [leaves, def];
}

/** Rebuilds a tree of structure `def` from `leaves` (as many as the structure has). */
export function treeUnflatten(def: TreeDef, leaves: readonly unknown[]): unknown {
  let next = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf':
        if (next >= leaves.length) throw new ValueError(`pytree: the structure needs more than ${leaves.length} leaves`);
        return leaves[next++];
      case 'none':
        return d.value;
      case 'array':
        return d.children.map(build);
      case 'object': {
        const out: Record<string, unknown> = {};
        d.keys.forEach((k, i) => {
          out[k] = build(d.children[i] as TreeDef);
        });
        return out;
      }
    }
  };
  const tree = build(def);
  if (next !== leaves.length) throw new ValueError(`pytree: the structure holds ${next} leaves, got ${leaves.length}`);
  return tree;
}

/** The number of leaves a structure holds. */
export function treeLeafCount(def: TreeDef): number {
  if (def.kind === 'leaf') return 1;
  if (def.kind === 'none') return 0;
  return def.children.reduce((n, c) => n + treeLeafCount(c), 0);
}

/** The leaves of `tree`. */
export function treeLeaves(tree: unknown): unknown[] {
  return treeFlatten(tree)[0];
}

/** `tree` with `fn` applied to every leaf. */
export function treeMap(fn: (leaf: unknown, index: number) => unknown, tree: unknown): unknown {
  const [leaves, def] = treeFlatten(tree);
  return treeUnflatten(def, leaves.map(fn));
}

/** Whether two structures are the same (same containers, keys and leaf positions). */
export function treeDefsEqual(a: TreeDef, b: TreeDef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'leaf') return true;
  if (a.kind === 'none') return b.kind === 'none';
  if (b.kind === 'leaf' || b.kind === 'none') return false;
  if (a.children.length !== b.children.length) return false;
  if (a.kind === 'object' && b.kind === 'object' && a.keys.some((k, i) => b.keys[i] !== k)) return false;
  return a.children.every((c, i) => treeDefsEqual(c, b.children[i] as TreeDef));
}

/** A readable rendering of a structure, for error messages: `{w: *, b: [*, null]}`. */
export function formatTreeDef(def: TreeDef): string {
  switch (def.kind) {
    case 'leaf':
      return '*';
    case 'none':
      return String(def.value);
    case 'array':
      return `[${def.children.map(formatTreeDef).join(', ')}]`;
    case 'object':
      return `{${def.keys.map((k, i) => `${k}: ${formatTreeDef(def.children[i] as TreeDef)}`).join(', ')}}`;
  }
}

/**
 * Expands a prefix of `tree` (JAX's "tree prefix", as in vmap's inAxes) to one value per leaf of
 * `tree`: a non-container entry of `prefix` applies to the whole subtree at its position. In the
 * prefix, `null` and `undefined` are values (not empty subtrees).
 */
export function expandPrefix<T>(op: string, what: string, prefix: unknown, tree: unknown, isValue: (v: unknown) => v is T): T[] {
  const out: T[] = [];
  const visit = (p: unknown, t: unknown, path: string): void => {
    if (isValue(p)) {
      const count = treeLeafCount(treeFlatten(t)[1]);
      for (let i = 0; i < count; i++) out.push(p);
      return;
    }
    if (Array.isArray(p)) {
      if (!Array.isArray(t) || t.length !== p.length) {
        throw new ValueError(`${op}: ${what}${path} is an array of ${p.length} entries, but the value there is ${describe(t)}`);
      }
      p.forEach((entry, i) => {
        visit(entry, t[i], `${path}[${i}]`);
      });
      return;
    }
    if (isContainer(p)) {
      const keys = Object.keys(p);
      if (!isContainer(t) || Array.isArray(t))
        throw new ValueError(`${op}: ${what}${path} is an object, but the value there is ${describe(t)}`);
      const treeKeys = Object.keys(t);
      if (treeKeys.length !== keys.length || keys.some((k) => !(k in t))) {
        throw new ValueError(`${op}: ${what}${path} has keys ${JSON.stringify(keys)}, but the value there has ${JSON.stringify(treeKeys)}`);
      }
      for (const k of treeKeys) visit((p as Record<string, unknown>)[k], (t as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    throw new ValueError(`${op}: ${what}${path} must be a number, null, or a nested array/object of them, got ${describe(p)}`);
  };
  visit(prefix, tree, '');
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} entries`;
  if (value === null || value === undefined) return String(value);
  if (isContainer(value)) return `an object with keys ${JSON.stringify(Object.keys(value))}`;
  return typeof value === 'object'
    ? ((value as { constructor?: { name?: string } }).constructor?.name ?? 'an object')
    : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The values of `tree` at the leaf positions of `def`, where `tree` may have null or undefined in
 * place of any subtree (read as "nothing there", giving null for each leaf under it), as in the
 * cotangents a custom rule returns.
 */
export function treeFlattenUpTo(op: string, what: string, def: TreeDef, tree: unknown): unknown[] {
  const out: unknown[] = [];
  const fillNull = (d: TreeDef): void => {
    for (let i = treeLeafCount(d); i > 0; i--) out.push(null);
  };
  const visit = (d: TreeDef, t: unknown, path: string): void => {
    if (d.kind === 'none') return;
    if (t === null || t === undefined) {
      fillNull(d);
      return;
    }
    if (d.kind === 'leaf') {
      out.push(t);
      return;
    }
    if (d.kind === 'array') {
      if (!Array.isArray(t) || t.length !== d.children.length) {
        throw new ValueError(`${op}: ${what}${path} should be an array of ${d.children.length} entries, got ${describe(t)}`);
      }
      d.children.forEach((c, i) => {
        visit(c, t[i], `${path}[${i}]`);
      });
      return;
    }
    if (!isContainer(t) || Array.isArray(t)) {
      throw new ValueError(`${op}: ${what}${path} should be an object with keys ${JSON.stringify(d.keys)}, got ${describe(t)}`);
    }
    d.keys.forEach((k, i) => {
      visit(d.children[i] as TreeDef, (t as Record<string, unknown>)[k], `${path}.${k}`);
    });
  };
  visit(def, tree, '');
  return out;
}
