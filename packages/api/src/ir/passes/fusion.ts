import { shapesEqual } from '../../core/shape.js';
import { Primitive } from '../../primitives/primitive.js';
import { isContraction, isElementwise, isFusibleReduction } from '../classify.js';
import type { Equation, FusionEquation, FusionKind, PrimitiveEquation, Program, Var } from '../program.js';
import { definedBy, withChanges } from '../program.js';
import { type Group, Grouping } from './fusion-groups.js';

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
 *
 * The dependence questions go to `Grouping`, which keeps the grouped program in topological
 * order so that each question only looks at the units between the group and the current op:
 * near-linear for chains, deep backward passes and unrolled loops, where asking the whole program
 * each time was quadratic.
 */
export function fuse(program: Program): Program {
  const equations = program.equations;
  const grouping = new Grouping(equations);
  const groups = grouping.groups;
  // May `e` join `group`: every input is inside it or does not depend on it.
  const canJoin = (e: PrimitiveEquation, group: number): boolean =>
    !grouping.reaches(
      e.inputs.filter((u) => grouping.groupOfVar(u) !== group),
      group,
    );
  const canMerge = (into: number, from: number): boolean => {
    const a = groups[into] as Group;
    const b = groups[from] as Group;
    if (a.kind === 'contraction' && b.kind === 'contraction') return false;
    // Direct edges between the two are fine (they end up inside one kernel); a path through
    // something outside both would make a cycle.
    const fromOutside = [...grouping.externalInputs(from)].filter((u) => grouping.groupOfVar(u) !== into);
    const intoOutside = [...grouping.externalInputs(into)].filter((u) => grouping.groupOfVar(u) !== from);
    return !grouping.reaches(fromOutside, into) && !grouping.reaches(intoOutside, from);
  };

  equations.forEach((e, index) => {
    if (e.kind !== 'primitive') return;
    const shape = e.output.aval.shape;
    const load = e.primitive === Primitive.Broadcast && !program.constants.has(e.inputs[0] as Var);
    if (isElementwise(e.primitive) || load) {
      const candidates: number[] = [];
      for (const v of e.inputs) {
        const g = grouping.groupOfVar(v);
        if (g === undefined || candidates.includes(g)) continue;
        const group = groups[g] as Group;
        if (group.closed || group.kind === 'reduction' || !shapesEqual(group.shape, shape)) continue;
        if (canJoin(e, g)) candidates.push(g);
      }
      const first = candidates[0];
      if (first === undefined) grouping.newGroup('elementwise', shape, index);
      else {
        for (const other of candidates.slice(1)) if (canMerge(first, other)) grouping.merge(first, other);
        grouping.join(index, first);
      }
    } else if (isFusibleReduction(e.primitive)) {
      const g = grouping.groupOfVar(e.inputs[0] as Var);
      const group = g === undefined ? undefined : (groups[g] as Group);
      if (g !== undefined && group !== undefined && group.kind === 'elementwise' && !group.closed && canJoin(e, g)) {
        grouping.join(index, g);
        group.kind = 'reduction';
        group.closed = true;
      }
    } else if (isContraction(e.primitive)) grouping.newGroup('contraction', shape, index);
  });

  return withFusions(
    program,
    (g) => (groups[g] as Group).kind,
    (index) => grouping.groupOf(index),
  );
}

/**
 * `program` with each group of two or more ops, at least one of them arithmetic, made one fusion
 * equation (its body in program order, a contraction first), and the equations put back in an
 * order where every value is computed before it is read. `groupOf` gives each equation's group
 * (any number naming it), `kindOf` a group's kind.
 */
export function withFusions(
  program: Program,
  kindOf: (group: number) => FusionKind,
  groupOf: (index: number) => number | undefined,
): Program {
  const equations = program.equations;
  const producer = new Map<Var, number>();
  const members = new Map<number, number[]>();
  equations.forEach((e, index) => {
    for (const v of definedBy(e)) producer.set(v, index);
    const g = groupOf(index);
    if (g !== undefined) members.get(g)?.push(index) ?? members.set(g, [index]);
  });
  const usedOutside = new Set<Var>(program.outputs);
  equations.forEach((e, index) => {
    const g = groupOf(index);
    for (const v of e.inputs) {
      const p = producer.get(v);
      if (p === undefined) continue;
      const pg = groupOf(p);
      if (pg === undefined || g === undefined || pg !== g) usedOutside.add(v);
    }
  });
  const fused = new Map<number, FusionEquation>();
  for (const [g, indices] of members) {
    const body = indices.map((m) => equations[m] as PrimitiveEquation);
    if (body.length < 2 || body.every((e) => e.primitive === Primitive.Broadcast)) continue;
    const kind = kindOf(g);
    if (kind === 'contraction') {
      // The contraction runs first; the epilogue reads its result.
      const c = body.findIndex((e) => isContraction(e.primitive));
      body.unshift(...body.splice(c, 1));
    }
    const inside = new Set(body.map((e) => e.output));
    const inputs = new Set<Var>();
    for (const e of body) for (const v of e.inputs) if (!inside.has(v)) inputs.add(v);
    const outputs = body.map((e) => e.output).filter((v) => usedOutside.has(v));
    fused.set(g, { kind: 'fusion', fusion: kind, inputs: [...inputs], body, outputs });
  }
  if (fused.size === 0) return program;

  // Units in program order (a fusion at its first member), then a topological order of them.
  const units: Equation[] = [];
  const placed = new Set<number>();
  equations.forEach((e, index) => {
    const g = groupOf(index);
    const f = g === undefined ? undefined : fused.get(g);
    if (f === undefined) units.push(e);
    else if (!placed.has(g as number)) {
      placed.add(g as number);
      units.push(f);
    }
  });
  return withChanges(program, { equations: topologicalOrder(units) });
}

/** `units` reordered so that every Var is defined before it is read, keeping the given order where it already holds. */
export function topologicalOrder(units: readonly Equation[]): Equation[] {
  const definer = new Map<Var, Equation>();
  for (const u of units) for (const v of u.kind === 'primitive' ? [u.output] : u.outputs) definer.set(v, u);
  const done = new Set<Equation>();
  const order: Equation[] = [];
  for (const root of units) {
    if (done.has(root)) continue;
    // Iterative depth-first search over producers, so long programs cannot overflow the stack.
    const stack: [Equation, number][] = [[root, 0]];
    const onStack = new Set<Equation>([root]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [Equation, number];
      const [unit, next] = top;
      if (next < unit.inputs.length) {
        top[1] = next + 1;
        const p = definer.get(unit.inputs[next] as Var);
        if (p !== undefined && !done.has(p)) {
          if (onStack.has(p)) throw new Error('flint internal error: fusion made a cycle');
          onStack.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        onStack.delete(unit);
        done.add(unit);
        order.push(unit);
      }
    }
  }
  return order;
}
