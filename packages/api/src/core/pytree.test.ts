import { describe, expect, it } from 'vitest';
import { ValueError } from './errors.js';
import { expandPrefix, formatTreeDef, treeDefsEqual, treeFlatten, treeFlattenUpTo, treeLeaves, treeMap, treeUnflatten } from './pytree.js';

class Box {
  constructor(readonly value: number) {}
}

describe('pytrees', () => {
  it('flattens arrays and plain objects in order, keeping null and undefined as empty subtrees', () => {
    const box = new Box(3);
    const tree = { b: [1, { c: 2 }], a: box, none: null, missing: undefined };
    const [leaves, def] = treeFlatten(tree);
    expect(leaves).toEqual([1, 2, box]);
    expect(formatTreeDef(def)).toBe('{b: [*, {c: *}], a: *, none: null, missing: undefined}');
    expect(treeUnflatten(def, [10, 20, 30])).toEqual({ b: [10, { c: 20 }], a: 30, none: null, missing: undefined });
  });

  it('maps leaves and compares structures', () => {
    expect(treeMap((v) => (v as number) * 2, [1, [2, { x: 3 }]])).toEqual([2, [4, { x: 6 }]]);
    expect(treeLeaves([[], {}, null])).toEqual([]);
    expect(treeDefsEqual(treeFlatten({ a: 1, b: [2] })[1], treeFlatten({ a: 5, b: [6] })[1])).toBe(true);
    expect(treeDefsEqual(treeFlatten({ a: 1, b: [2] })[1], treeFlatten({ b: [6], a: 5 })[1])).toBe(false);
    expect(treeDefsEqual(treeFlatten([1, 2])[1], treeFlatten([1, [2]])[1])).toBe(false);
  });

  it('rejects the wrong number of leaves and cycles', () => {
    const [, def] = treeFlatten([1, 2]);
    expect(() => treeUnflatten(def, [1])).toThrow(ValueError);
    expect(() => treeUnflatten(def, [1, 2, 3])).toThrow(ValueError);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => treeFlatten(cyclic)).toThrow(/cycle/);
  });

  it('expands prefixes, where null is a value', () => {
    const isAxis = (v: unknown): v is number | null => v === null || typeof v === 'number';
    expect(expandPrefix('vmap', 'inAxes', [0, null], [[1, 2], { a: 3 }], isAxis)).toEqual([0, 0, null]);
    expect(expandPrefix('vmap', 'inAxes', [{ a: 1, b: null }], [{ a: 5, b: [6, 7] }], isAxis)).toEqual([1, null, null]);
    expect(() => expandPrefix('vmap', 'inAxes', [0, 0], [1], isAxis)).toThrow(/inAxes is an array of 2 entries/);
    expect(() => expandPrefix('vmap', 'inAxes', [{ b: 0 }], [{ a: 1 }], isAxis)).toThrow(/keys/);
  });

  it('aligns a tree with null subtrees to a structure', () => {
    const [, def] = treeFlatten({ w: [1, 2], b: 3 });
    expect(treeFlattenUpTo('bwd', 'cotangent', def, { w: null, b: 9 })).toEqual([null, null, 9]);
    expect(() => treeFlattenUpTo('bwd', 'cotangent', def, { w: [1], b: 9 })).toThrow(/cotangent\.w should be an array of 2/);
  });
});
