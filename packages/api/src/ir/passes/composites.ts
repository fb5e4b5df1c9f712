import { type CompositeRegion, compositeArity } from '../composite.js';
import { type Equation, type FusionEquation, type PrimitiveEquation, type Program, type Var, withChanges } from '../program.js';
import type { PassContext } from './context.js';

/** A composite region whose equations are all in the program, with their indices in order. */
export interface WholeRegion {
  readonly region: CompositeRegion;
  /** The indices of the equations defining the region's Vars, ascending. */
  readonly members: readonly number[];
}

/**
 * The composite regions of `program` (those `accept` takes) that are still whole: every Var a
 * region defines is defined by a primitive equation of the program that no earlier region
 * claimed, its body reads only the region's inputs, its own values and constants, and nothing
 * outside the region reads an intermediate value (a backward pass differentiated through its
 * primitives would). Such a region can be computed as a unit: one kernel (formComposites) or one
 * composite op when the program is evaluated again (jit/staged.ts).
 */
export function wholeRegions(program: Program, accept: (region: CompositeRegion) => boolean): WholeRegion[] {
  const regions = program.composites;
  if (regions === undefined || regions.length === 0) return [];
  const definer = new Map<Var, number>();
  program.equations.forEach((e, i) => {
    if (e.kind === 'primitive') definer.set(e.output, i);
  });
  const readers = new Map<Var, number[]>();
  program.equations.forEach((e, i) => {
    for (const v of e.inputs) {
      const list = readers.get(v);
      if (list === undefined) readers.set(v, [i]);
      else list.push(i);
    }
  });
  const programOutputs = new Set(program.outputs);
  const claimed = new Set<number>();
  const whole: WholeRegion[] = [];
  for (const region of regions) {
    if (!accept(region) || region.inputs.length !== compositeArity(region.call)) continue;
    const members = new Set<number>();
    for (const v of region.defines) {
      const index = definer.get(v);
      if (index === undefined || claimed.has(index)) break;
      members.add(index);
    }
    if (members.size !== region.defines.length || members.size === 0) continue;
    const defined = new Set(region.defines);
    const outputs = new Set(region.outputs);
    const allowed = new Set<Var>([...region.inputs, ...region.defines]);
    const intact =
      region.outputs.every((v) => defined.has(v)) &&
      [...members].every((i) => (program.equations[i] as Equation).inputs.every((v) => allowed.has(v) || program.constants.has(v))) &&
      region.defines.every(
        (v) => outputs.has(v) || (!programOutputs.has(v) && (readers.get(v) ?? []).every((reader) => members.has(reader))),
      );
    if (!intact) continue;
    for (const i of members) claimed.add(i);
    whole.push({ region, members: [...members].sort((a, b) => a - b) });
  }
  return whole;
}

/**
 * Composite formation: each composite region of the program (a softmax or layer norm that jit
 * traced, see ir/composite.ts) whose kernel the backend has becomes one 'composite' equation,
 * when the region is still whole (see wholeRegions). Its body keeps the primitives, which run
 * where the kernel declines. It runs before the other passes, which could rewrite the region's
 * Vars; they treat the composite equation as a unit.
 */
export function formComposites(program: Program, context: PassContext): Program {
  const offered = context.composites;
  if (offered === undefined) return program;
  const claimed = new Set<number>();
  /** Composite equations by the index of the region's last equation, where they go. */
  const formed = new Map<number, FusionEquation>();
  for (const { region, members } of wholeRegions(program, (region) => offered(region.call))) {
    const body = members.map((i) => program.equations[i] as PrimitiveEquation);
    // The kernel's arguments first, in its order; then the constants the body reads.
    const inputs: Var[] = [...region.inputs];
    for (const e of body) for (const v of e.inputs) if (program.constants.has(v) && !inputs.includes(v)) inputs.push(v);
    for (const i of members) claimed.add(i);
    formed.set(members[members.length - 1] as number, {
      kind: 'fusion',
      fusion: 'composite',
      composite: region.call,
      inputs,
      body,
      outputs: [...region.outputs],
    });
  }
  if (formed.size === 0) return program;
  // Each composite takes the place of its last equation: what it reads is defined before its first.
  const equations: Equation[] = [];
  program.equations.forEach((e, i) => {
    const composite = formed.get(i);
    if (composite !== undefined) equations.push(composite);
    else if (!claimed.has(i)) equations.push(e);
  });
  return withChanges(program, { equations });
}
