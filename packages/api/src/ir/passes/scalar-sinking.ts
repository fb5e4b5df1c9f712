import { sizeOf } from '../../core/shape.js';
import { Primitive } from '../../primitives/primitive.js';
import { isElementwise } from '../classify.js';
import { kernelInputVars, kernelOf } from '../kernel.js';
import {
  type Constant,
  definedBy,
  type Equation,
  type FusionEquation,
  type PrimitiveEquation,
  type Program,
  type Var,
  VarFactory,
  withChanges,
} from '../program.js';
import type { PassContext } from './context.js';
import { eliminateDeadCode } from './dead-code.js';

// Scalar sinking, for backends on which a kernel launch costs more than a few arithmetic
// operations per element (GPUs: BackendCapabilities.recomputeScalars). An optimizer's fused
// update computes its bias corrections and step size from rank-0 tensors (the step count and the
// learning rate enter as tensors so that a new value does not recompile), and fusion can only
// group those rank-0 ops into kernels of their own: Adam's update of one parameter was three
// launches on cuda, two of them of one thread each. Here the fused kernels that read such a
// value through a broadcast compute it themselves instead, from the rank-0 values it was computed
// from: `broadcast(f(a, b))` in a kernel becomes `f(broadcast(a), broadcast(b))`, recomputed per
// element (a few operations where the kernel moves bytes), and the scalar kernel goes.
//
// It is all or nothing per scalar kernel, since the point is the launch saved: every reader of
// every value it computes must take the chain (a program output, a contraction's epilogue, whose
// backend matches it to vendor epilogues, or an op left unfused keep it, and then nothing sinks),
// each reader must then read no more tensors than fusion gave it (backends bound a kernel's
// inputs), and the backend must still compile each rewritten kernel: one it declines runs op by
// op, where the chain would be full-size ops.

/** Kernels that take a chain: elementwise ones and reductions' prologues. */
const TAKES_CHAIN = new Set(['elementwise', 'reduction']);

/**
 * Rewrites the program's fused kernels as above where the backend asks for it. The backend is
 * asked whether it compiles the kernels once they are final (each compile is real work: NVRTC's
 * takes milliseconds); a kernel it declines is left as fusion made it and the rest is redone.
 */
export function sinkScalars(program: Program, context: PassContext): Program {
  if (context.recomputeScalars !== true) return program;
  const declined = new Set<Equation>();
  for (let attempt = 0; attempt < 4; attempt++) {
    const sunk = sinkAll(program, declined);
    if (sunk === null) return program;
    const shell = { ...programShell, constants: sunk.program.constants };
    const refused = sunk.rewritten.filter((f) => context.compiles !== undefined && !context.compiles(kernelOf(shell, f, null)));
    if (refused.length === 0) return sunk.program;
    for (const f of refused) declined.add(sunk.origin.get(f) as Equation);
  }
  return program;
}

/**
 * The program with every scalar kernel that can go sunk into its readers (none of them one of
 * `declined`, fusion's kernels), the rewritten kernels, and the kernel fusion made each one from;
 * null when nothing sinks. Scalar kernels are tried until none more sinks (one chain's rank-0
 * inputs may be another's: a chain refused for adding an input can fit once the other has sunk).
 */
function sinkAll(
  program: Program,
  declined: ReadonlySet<Equation>,
): { program: Program; rewritten: FusionEquation[]; origin: Map<Equation, Equation> } | null {
  const vars = new VarFactory(program);
  const constants = new Map<Var, Constant>(program.constants);
  let equations = [...program.equations];
  const origin = new Map<Equation, Equation>(equations.map((e) => [e, e]));
  // Each kernel's tensor inputs as fusion made it, which sinking may not exceed.
  const budget = new Map<Equation, number>();
  for (const e of equations) if (e.kind === 'fusion') budget.set(e, tensorInputs(e, constants));
  const takes = (reader: Equation) => !declined.has(origin.get(reader) as Equation);
  let changed = false;
  for (let progress = true; progress; ) {
    progress = false;
    for (const unit of equations) {
      const rewritten = sinkUnit(unit, equations, program.outputs, constants, vars, budget, takes);
      if (rewritten === null) continue;
      for (const [reader, fusion] of rewritten) {
        origin.set(fusion, origin.get(reader) as Equation);
        budget.set(fusion, budget.get(reader) as number);
      }
      equations = equations.filter((e) => e !== unit).map((e) => rewritten.get(e) ?? e);
      progress = changed = true;
      break;
    }
  }
  if (!changed) return null;
  const rewritten = equations.filter((e): e is FusionEquation => e.kind === 'fusion' && origin.get(e) !== e);
  return { program: eliminateDeadCode(withChanges(program, { equations, constants })), rewritten, origin };
}

/**
 * The readers of `unit`'s values rewritten to compute them themselves, by the reader they
 * replace, when `unit` is a scalar kernel that can go (see above); null otherwise, leaving
 * `constants` as it was.
 */
function sinkUnit(
  unit: Equation,
  equations: readonly Equation[],
  outputs: readonly Var[],
  constants: Map<Var, Constant>,
  vars: VarFactory,
  budget: ReadonlyMap<Equation, number>,
  takes: (reader: Equation) => boolean,
): Map<Equation, FusionEquation> | null {
  const body = scalarBody(unit);
  if (body === null) return null;
  const values = new Set(definedBy(unit));
  if (outputs.some((v) => values.has(v))) return null;
  const readers = equations.filter((e) => e !== unit && e.inputs.some((v) => values.has(v)));
  if (readers.length === 0) return null;
  const added = new Map<Var, Constant>();
  const rewritten = new Map<Equation, FusionEquation>();
  const refuse = () => {
    for (const v of added.keys()) constants.delete(v);
    return null;
  };
  for (const reader of readers) {
    if (reader.kind !== 'fusion' || !TAKES_CHAIN.has(reader.fusion) || !takes(reader)) return refuse();
    // Only broadcasts of the values inside it: a value read as it is would stay a kernel input.
    if (reader.body.some((e) => e.primitive !== Primitive.Broadcast && e.inputs.some((v) => values.has(v)))) return refuse();
    let fusion = reader;
    for (const load of reader.body) {
      const source = load.inputs[0] as Var;
      if (load.primitive !== Primitive.Broadcast || !values.has(source)) continue;
      fusion = sink(fusion, load, chainOf(source, body), vars, constants, added);
    }
    if (tensorInputs(fusion, constants) > (budget.get(reader) as number)) return refuse();
    rewritten.set(reader, fusion);
  }
  return rewritten;
}

/** What kernelOf and kernelInputVars read of a program besides the fusion: its constants. */
const programShell = { name: 'sunk', inputs: [], equations: [], outputs: [] };

/** The tensors a fused kernel reads (its inputs but literals). */
function tensorInputs(fusion: FusionEquation, constants: ReadonlyMap<Var, Constant>): number {
  return kernelInputVars({ ...programShell, constants }, fusion).length;
}

/**
 * The equations of a scalar kernel: a single-element elementwise primitive, or an elementwise
 * fusion of them; null for anything else.
 */
function scalarBody(unit: Equation): readonly PrimitiveEquation[] | null {
  const body = unit.kind === 'primitive' ? [unit] : unit.fusion === 'elementwise' ? unit.body : null;
  if (body === null) return null;
  return body.every((e) => isElementwise(e.primitive) && sizeOf(e.output.aval.shape) === 1) ? body : null;
}

/** The equations of `body` that `v` depends on, in SSA order. */
function chainOf(v: Var, body: readonly PrimitiveEquation[]): PrimitiveEquation[] {
  const byOutput = new Map(body.map((e) => [e.output, e]));
  const needed = new Set<PrimitiveEquation>();
  const stack = [v];
  while (stack.length > 0) {
    const e = byOutput.get(stack.pop() as Var);
    if (e === undefined || needed.has(e)) continue;
    needed.add(e);
    stack.push(...e.inputs);
  }
  return body.filter((e) => needed.has(e));
}

/**
 * `fusion` with `load` (a broadcast of the chain's last value) replaced by the chain recomputed
 * at the load's shape: the chain's single-element inputs are read through broadcasts (one already
 * in the kernel is reused), its literals become literals of the load's shape (recorded in
 * `constants` and `added`).
 */
function sink(
  fusion: FusionEquation,
  load: PrimitiveEquation,
  chain: readonly PrimitiveEquation[],
  vars: VarFactory,
  constants: Map<Var, Constant>,
  added: Map<Var, Constant>,
): FusionEquation {
  const source = load.inputs[0] as Var;
  const shape = load.output.aval.shape;
  const at = fusion.body.indexOf(load);
  const defined = new Set(chain.map((e) => e.output));
  const inputs = fusion.inputs.filter((v) => v !== source || fusion.body.some((e) => e !== load && e.inputs.includes(v)));
  const replaced = new Map<Var, Var>();
  const equations: PrimitiveEquation[] = [];
  for (const e of chain) {
    for (const v of e.inputs) {
      if (defined.has(v) || replaced.has(v)) continue;
      const constant = constants.get(v);
      if (constant?.kind === 'literal') {
        const wide = vars.make({ shape, dtype: v.aval.dtype });
        constants.set(wide, constant);
        added.set(wide, constant);
        inputs.push(wide);
        replaced.set(v, wide);
        continue;
      }
      const existing = fusion.body
        .slice(0, at)
        .find((b) => b.primitive === Primitive.Broadcast && b.inputs[0] === v && b.output.aval.shape.join() === shape.join());
      if (existing !== undefined) {
        replaced.set(v, existing.output);
        continue;
      }
      const wide = vars.make({ shape, dtype: v.aval.dtype });
      equations.push({
        kind: 'primitive',
        primitive: Primitive.Broadcast,
        params: { shape },
        inputs: [v],
        output: wide,
      } as PrimitiveEquation);
      if (!inputs.includes(v)) inputs.push(v);
      replaced.set(v, wide);
    }
    const output = e.output === source ? load.output : vars.make({ shape, dtype: e.output.aval.dtype });
    equations.push({ ...e, inputs: e.inputs.map((v) => replaced.get(v) ?? v), output });
    replaced.set(e.output, output);
  }
  return { ...fusion, inputs, body: [...fusion.body.slice(0, at), ...equations, ...fusion.body.slice(at + 1)] };
}
