import type { Shape } from '../../core/shape.js';
import type { Equation, FusionKind, PrimitiveEquation, Var } from '../program.js';
import { definedBy } from '../program.js';

export interface Group {
  kind: FusionKind;
  readonly shape: Shape;
  /** Equation indices, in no particular order (sort them before use). */
  members: number[];
  /** A reduction ends its group: nothing joins after it. */
  closed: boolean;
}

/**
 * The program as the fusion pass has grouped it so far, seen as a graph of units: each group is one
 * unit (it runs as one kernel, so every value it computes depends on every input of the whole
 * group), each equation outside a group is one. The pass only ever forms acyclic groupings, so
 * this quotient graph is a DAG, and it is kept with a topological order `order` (distinct integers,
 * every unit after all the units it reads). That order is what makes `reaches` cheap: a unit ordered
 * before the target cannot depend on it, so the backward search stops there instead of walking the
 * whole program.
 *
 * Units are numbered: equation i, while in no group, is unit i; group g is unit n + g (n equations).
 * Each group caches its outside inputs and its outside consumers, updated as it grows, so that a
 * search visiting a group costs what crosses its boundary rather than its whole body.
 */
export class Grouping {
  readonly groups: Group[] = [];
  private readonly n: number;
  private readonly producer = new Map<Var, number>();
  /** Per equation, the equations that read one of its outputs. */
  private readonly consumers: number[][];
  /** Per equation, the group it joined (not necessarily its root), or -1. */
  private readonly joined: Int32Array;
  private readonly parent: number[] = [];
  /** Per unit, its place in a topological order of the units. */
  private readonly order: Int32Array;
  /** Per group, the Vars its members read that no member computes. */
  private readonly inputs: Set<Var>[] = [];
  /** Per group, the equations outside it that read a Var one of its members computes. */
  private readonly readers: Set<number>[] = [];
  /** Visit marks for searches: a unit is visited in the current search when its mark equals `search`. */
  private readonly mark: Int32Array;
  private search = 0;

  constructor(private readonly equations: readonly Equation[]) {
    const n = equations.length;
    this.n = n;
    // Every equation's outputs, composites' included: dependence runs through a composite too.
    equations.forEach((e, i) => {
      for (const v of definedBy(e)) this.producer.set(v, i);
    });
    this.consumers = equations.map(() => []);
    equations.forEach((e, i) => {
      for (const v of e.inputs) {
        const p = this.producer.get(v);
        if (p !== undefined) (this.consumers[p] as number[]).push(i);
      }
    });
    this.joined = new Int32Array(n).fill(-1);
    // Program order is a topological order to begin with; a group takes its first member's place.
    this.order = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.mark = new Int32Array(2 * n);
  }

  private find(g: number): number {
    let root = g;
    while (this.parent[root] !== root) root = this.parent[root] as number;
    while (this.parent[g] !== root) {
      const next = this.parent[g] as number;
      this.parent[g] = root;
      g = next;
    }
    return root;
  }

  /** Whether group `g` still stands for itself (it has not been merged into another). */
  isRoot(g: number): boolean {
    return this.parent[g] === g;
  }

  /** The group equation `index` belongs to (its root), if any. */
  groupOf(index: number): number | undefined {
    const g = this.joined[index] as number;
    return g < 0 ? undefined : this.find(g);
  }

  /** The group whose member computes `v`, if any. */
  groupOfVar(v: Var): number | undefined {
    const index = this.producer.get(v);
    return index === undefined ? undefined : this.groupOf(index);
  }

  /** The Vars `group` reads from outside itself. */
  externalInputs(group: number): Iterable<Var> {
    return this.inputs[group] as Set<Var>;
  }

  private unitOfEquation(index: number): number {
    const g = this.joined[index] as number;
    return g < 0 ? index : this.n + this.find(g);
  }

  /** The unit computing `v`, or -1 for a program input or constant. */
  private unitOfVar(v: Var): number {
    const index = this.producer.get(v);
    return index === undefined ? -1 : this.unitOfEquation(index);
  }

  /** The Vars `unit` reads from other units (with repeats for an equation reading one twice). */
  private unitInputs(unit: number): Iterable<Var> {
    return unit < this.n ? (this.equations[unit] as Equation).inputs : (this.inputs[unit - this.n] as Set<Var>);
  }

  /** The equations reading what `unit` computes, outside it. */
  private unitReaders(unit: number): Iterable<number> {
    return unit < this.n ? (this.consumers[unit] as number[]) : (this.readers[unit - this.n] as Set<number>);
  }

  newGroup(kind: FusionKind, shape: Shape, member: number): number {
    const g = this.groups.length;
    this.groups.push({ kind, shape, members: [member], closed: kind === 'reduction' });
    this.parent.push(g);
    this.joined[member] = g;
    this.order[this.n + g] = this.order[member] as number;
    this.inputs.push(new Set((this.equations[member] as PrimitiveEquation).inputs));
    this.readers.push(new Set(this.consumers[member]));
    return g;
  }

  /**
   * Whether any of `start` depends on `group` through the program as grouped so far.
   *
   * The search walks backward from `start` and stops at every unit ordered before the group: in a
   * topological order everything a unit depends on comes before it, so a unit before the group
   * cannot depend on it, nor can anything that unit depends on. Only units between the group and
   * the current equation are visited.
   */
  reaches(start: readonly Var[], group: number): boolean {
    const target = this.n + group;
    const floor = this.order[target] as number;
    const mark = this.mark;
    const search = ++this.search;
    const stack: number[] = [];
    for (const v of start) stack.push(this.unitOfVar(v));
    while (stack.length > 0) {
      const unit = stack.pop() as number;
      if (unit === target) return true;
      if (unit < 0 || mark[unit] === search) continue;
      mark[unit] = search;
      if ((this.order[unit] as number) < floor) continue;
      for (const v of this.unitInputs(unit)) {
        const p = this.unitOfVar(v);
        if (p >= 0 && mark[p] !== search) stack.push(p);
      }
    }
    return false;
  }

  /** Equation `index` (the one being placed, so nothing grouped reads it yet) joins `group`. */
  join(index: number, group: number): void {
    const target = this.n + group;
    this.contractOrder(target, index, target);
    const g = this.groups[group] as Group;
    g.members.push(index);
    this.joined[index] = group;
    const inputs = this.inputs[group] as Set<Var>;
    for (const v of (this.equations[index] as PrimitiveEquation).inputs) if (this.groupOfVar(v) !== group) inputs.add(v);
    const readers = this.readers[group] as Set<number>;
    readers.delete(index);
    for (const c of this.consumers[index] as number[]) readers.add(c);
  }

  /** Group `from` joins group `into` (both roots). */
  merge(into: number, from: number): void {
    this.contractOrder(this.n + into, this.n + from, this.n + into);
    const a = this.groups[into] as Group;
    const b = this.groups[from] as Group;
    this.unite(
      into,
      from,
      this.inputs,
      (m) => (this.equations[m] as PrimitiveEquation).output,
      (v) => this.groupOfVar(v),
    );
    this.unite(
      into,
      from,
      this.readers,
      (m) => m,
      (c) => this.groupOf(c),
    );
    const [big, small] = a.members.length >= b.members.length ? [a.members, b.members] : [b.members, a.members];
    for (const m of small) big.push(m);
    a.members = big;
    b.members = [];
    if (b.kind === 'contraction') a.kind = 'contraction';
    this.parent[from] = into;
  }

  /**
   * Folds one of two groups' cached sets (`caches[into]`, `caches[from]`) into the other, for their
   * union: an item belonging to the other group (by `owner`) and each member's `own` item drop out.
   * The smaller side is the one walked, so a group growing by many small merges is not rewalked.
   */
  private unite<T>(into: number, from: number, caches: Set<T>[], own: (member: number) => T, owner: (item: T) => number | undefined): void {
    const size = (g: number) => (caches[g] as Set<T>).size + (this.groups[g] as Group).members.length;
    const [big, small] = size(into) >= size(from) ? [into, from] : [from, into];
    const kept = caches[big] as Set<T>;
    for (const m of (this.groups[small] as Group).members) kept.delete(own(m));
    for (const item of caches[small] as Set<T>) if (owner(item) !== big) kept.add(item);
    caches[into] = kept;
    caches[from] = new Set();
  }

  /**
   * Keeps `order` topological when units `a` and `b` become one unit, `merged` (one of the two ids).
   * The callers only ever unite two units with no path between them through a third (that is what
   * `reaches` rules out), which is exactly when the result stays acyclic.
   *
   * Say x is ordered before y. Only units ordered strictly between them can end up misplaced: those
   * that y depends on (set B) must come before the merged unit, and those that depend on x after
   * it. No unit is both (that would be a path x -> unit -> y). When B is empty the merged unit takes
   * x's place and nothing else moves: y read nothing between x and itself. Otherwise, with `top` the
   * last place in B, let F be the units that depend on x and are ordered between x and `top`. The
   * places of x, B and F are handed out again in increasing order: first to B (in their old order),
   * then to the merged unit, then to F (in their old order). Each unit of B only moves earlier and
   * each unit of F only later, all within [order(x), top], so every edge to or from a unit outside
   * B and F stays forward (the merged unit lands at or before `top`, before y's successors and x's
   * successors that are not in F); B before merged before F keeps the edges among them forward.
   * This is the reordering step of Pearce and Kelly's dynamic topological sort, for a contraction
   * instead of a new edge. B is what the `reaches` check before it already walked, and F stays
   * below B, so a join of an op that reads nothing recent (a backward op reusing a forward value)
   * costs nothing however far back its group lies.
   */
  private contractOrder(a: number, b: number, merged: number): void {
    const order = this.order;
    const [x, y] = (order[a] as number) < (order[b] as number) ? [a, b] : [b, a];
    const low = order[x] as number;
    const mark = this.mark;

    const before: number[] = []; // B: y depends on it
    let top = low;
    let search = ++this.search;
    mark[x] = search;
    mark[y] = search;
    const stack = [y];
    while (stack.length > 0) {
      const unit = stack.pop() as number;
      for (const v of this.unitInputs(unit)) {
        const p = this.unitOfVar(v);
        if (p < 0 || mark[p] === search || (order[p] as number) < low) continue;
        mark[p] = search;
        before.push(p);
        top = Math.max(top, order[p] as number);
        stack.push(p);
      }
    }
    if (before.length === 0) {
      order[merged] = low;
      return;
    }

    const after: number[] = []; // F: depends on x, ordered before `top`
    const inBefore = search;
    search = ++this.search;
    mark[x] = search;
    stack.push(x);
    while (stack.length > 0) {
      const unit = stack.pop() as number;
      for (const c of this.unitReaders(unit)) {
        const r = this.unitOfEquation(c);
        if (mark[r] === search || (order[r] as number) > top) continue;
        // A unit both after x and before y: the two were not free to become one.
        if (mark[r] === inBefore) throw new Error('flint internal error: fusion made a cycle');
        mark[r] = search;
        after.push(r);
        stack.push(r);
      }
    }

    const byOrder = (u: number, w: number) => (order[u] as number) - (order[w] as number);
    before.sort(byOrder);
    after.sort(byOrder);
    const places = [low, ...before.map((u) => order[u] as number), ...after.map((u) => order[u] as number)].sort((p, q) => p - q);
    let next = 0;
    for (const u of before) order[u] = places[next++] as number;
    order[merged] = places[next++] as number;
    for (const u of after) order[u] = places[next++] as number;
  }
}
