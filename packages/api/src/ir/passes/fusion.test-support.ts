import { type Shape, shapesEqual } from '../../core/shape.js';
import { Primitive } from '../../primitives/primitive.js';
import { isContraction, isElementwise, isFusibleReduction } from '../classify.js';
import type { Equation, FusionKind, PrimitiveEquation, Program, Var } from '../program.js';
import { definedBy } from '../program.js';
import { withFusions } from './fusion.js';

// The fusion pass's grouping as first written: the same greedy decisions as `fuse`, with every
// dependence question answered by walking the whole program grouped so far (quadratic in program
// size). Kept as the oracle that the fast pass is checked against; both emit through withFusions.

interface Group {
  kind: FusionKind;
  readonly shape: Shape;
  /** Equation indices, in program order. */
  members: number[];
  /** A reduction ends its group: nothing joins after it. */
  closed: boolean;
}

/**
 * Operator fusion. Groups are formed greedily in program order:
 *  - elementwise ops (and broadcasts, which a kernel reads as strided loads) over one shape join a
 *    group of the same shape that produced one of their inputs, merging groups they connect;
 *  - a reduction joins the elementwise group that produced its input, and closes it;
 *  - a dotGeneral or conv starts a group that its elementwise epilogue (bias, activation,
 *    residual, all at the output's shape) joins.
 * A group never takes in an op when one of the op's other inputs depends on the group through
 * something outside it (that would be a cycle). Groups of two or more ops become one fusion
 * equation each, which a backend's compile hook turns into one kernel; the equations are then
 * put back in an order where every value is computed before it is read.
 */
export function fuseReference(program: Program): Program {
  const equations = program.equations;
  // Every equation's outputs, composites' included: dependence runs through a composite too.
  const producer = new Map<Var, number>();
  equations.forEach((e, i) => {
    for (const v of definedBy(e)) producer.set(v, i);
  });
  const groups: Group[] = [];
  const parent: number[] = [];
  const find = (g: number): number => {
    let root = g;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[g] !== root) {
      const next = parent[g] as number;
      parent[g] = root;
      g = next;
    }
    return root;
  };
  const groupOf = new Map<number, number>();
  const rootOfVar = (v: Var): number | undefined => {
    const index = producer.get(v);
    if (index === undefined) return undefined;
    const g = groupOf.get(index);
    return g === undefined ? undefined : find(g);
  };
  const externalInputs = (group: number): Var[] => {
    const g = groups[group] as Group;
    const inside = new Set<Var>();
    for (const m of g.members) inside.add((equations[m] as PrimitiveEquation).output);
    const out: Var[] = [];
    for (const m of g.members) for (const v of (equations[m] as PrimitiveEquation).inputs) if (!inside.has(v)) out.push(v);
    return out;
  };
  // Whether any of `start` depends on `target` through the program as grouped so far: a group
  // runs as one kernel, so a value it computes depends on every input of the whole group.
  const reaches = (start: readonly Var[], target: number): boolean => {
    const stack = [...start];
    const seen = new Set<Var>();
    const seenGroups = new Set<number>();
    while (stack.length > 0) {
      const v = stack.pop() as Var;
      if (seen.has(v)) continue;
      seen.add(v);
      const index = producer.get(v);
      if (index === undefined) continue;
      const g = groupOf.get(index);
      const root = g === undefined ? undefined : find(g);
      if (root === target) return true;
      if (root === undefined) stack.push(...(equations[index] as Equation).inputs);
      else if (!seenGroups.has(root)) {
        seenGroups.add(root);
        stack.push(...externalInputs(root));
      }
    }
    return false;
  };
  const newGroup = (kind: FusionKind, shape: Shape, member: number): number => {
    const id = groups.length;
    groups.push({ kind, shape, members: [member], closed: kind === 'reduction' });
    parent.push(id);
    groupOf.set(member, id);
    return id;
  };
  // May `e` join `group`: every input is inside it or does not depend on it.
  const canJoin = (e: PrimitiveEquation, group: number): boolean =>
    !reaches(
      e.inputs.filter((u) => rootOfVar(u) !== group),
      group,
    );
  const canMerge = (into: number, from: number): boolean => {
    const a = groups[into] as Group;
    const b = groups[from] as Group;
    if (a.kind === 'contraction' && b.kind === 'contraction') return false;
    // Direct edges between the two are fine (they end up inside one kernel); a path through
    // something outside both would make a cycle.
    const fromOutside = externalInputs(from).filter((u) => rootOfVar(u) !== into);
    const intoOutside = externalInputs(into).filter((u) => rootOfVar(u) !== from);
    return !reaches(fromOutside, into) && !reaches(intoOutside, from);
  };
  const merge = (into: number, from: number): void => {
    const a = groups[into] as Group;
    const b = groups[from] as Group;
    a.members = [...a.members, ...b.members].sort((x, y) => x - y);
    if (b.kind === 'contraction') a.kind = 'contraction';
    parent[from] = into;
  };

  equations.forEach((e, index) => {
    if (e.kind !== 'primitive') return;
    const shape = e.output.aval.shape;
    const load = e.primitive === Primitive.Broadcast && !program.constants.has(e.inputs[0] as Var);
    if (isElementwise(e.primitive) || load) {
      const candidates: number[] = [];
      for (const v of e.inputs) {
        const g = rootOfVar(v);
        if (g === undefined || candidates.includes(g)) continue;
        const group = groups[g] as Group;
        if (group.closed || group.kind === 'reduction' || !shapesEqual(group.shape, shape)) continue;
        if (canJoin(e, g)) candidates.push(g);
      }
      const first = candidates[0];
      if (first === undefined) newGroup('elementwise', shape, index);
      else {
        for (const other of candidates.slice(1)) if (find(other) !== first && canMerge(first, other)) merge(first, other);
        const group = groups[first] as Group;
        group.members.push(index);
        groupOf.set(index, first);
      }
    } else if (isFusibleReduction(e.primitive)) {
      const g = rootOfVar(e.inputs[0] as Var);
      const group = g === undefined ? undefined : (groups[g] as Group);
      if (g !== undefined && group !== undefined && group.kind === 'elementwise' && !group.closed && canJoin(e, g)) {
        group.members.push(index);
        group.kind = 'reduction';
        group.closed = true;
        groupOf.set(index, g);
      }
    } else if (isContraction(e.primitive)) newGroup('contraction', shape, index);
  });

  return withFusions(
    program,
    (g) => (groups[g] as Group).kind,
    (index) => {
      const g = groupOf.get(index);
      return g === undefined ? undefined : find(g);
    },
  );
}
