import { sizeOf } from '../../core/shape.js';
import { Primitive } from '../../primitives/primitive.js';
import { isElementwise } from '../classify.js';
import {
  type Constant,
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
// launches on cuda, two of them of one thread each. Here a fused kernel that reads such a value
// through a broadcast computes it itself instead, from the rank-0 values it was computed from:
// `broadcast(f(a, b))` in the kernel becomes `f(broadcast(a), broadcast(b))`, recomputed per
// element (a few operations where the kernel moves bytes), and the scalar kernel goes when
// nothing else reads it.

/** Kernels that take the recomputed chain: elementwise ones and reductions' prologues (not a contraction's epilogue, which its backend matches to vendor epilogues). */
const TAKES_CHAIN = new Set(['elementwise', 'reduction']);

/**
 * Rewrites the program's fused kernels as above where the backend asks for it; DCE then drops
 * the scalar equations nothing reads any more. A kernel takes a chain only when that does not add
 * to the tensors it reads (the chain's rank-0 inputs replace the value it reads now, literals
 * aside): backends bound a kernel's inputs.
 */
export function sinkScalars(program: Program, context: PassContext): Program {
  if (context.recomputeScalars !== true) return program;
  const producer = new Map<Var, Equation>();
  for (const e of program.equations) for (const v of e.kind === 'primitive' ? [e.output] : e.outputs) producer.set(v, e);
  const vars = new VarFactory(program);
  const constants = new Map<Var, Constant>(program.constants);
  const isLiteral = (v: Var) => constants.get(v)?.kind === 'literal';
  let changed = false;
  const equations = program.equations.map((e) => {
    if (e.kind !== 'fusion' || !TAKES_CHAIN.has(e.fusion)) return e;
    // Until nothing more sinks: one chain's rank-0 inputs may be another's, so a chain refused
    // for adding an input can fit once the other has sunk.
    let fusion = e;
    for (let progress = true; progress; ) {
      progress = false;
      for (const load of fusion.body) {
        if (load.primitive !== Primitive.Broadcast) continue;
        const chain = scalarChain(load.inputs[0] as Var, producer);
        const sunk = chain === null ? null : sink(fusion, e, load, chain, vars, constants, isLiteral);
        if (sunk === null) continue;
        fusion = sunk;
        progress = changed = true;
        break;
      }
    }
    return fusion;
  });
  if (!changed) return program;
  return eliminateDeadCode(withChanges(program, { equations, constants }));
}

/**
 * The elementwise equations that compute `v` from single-element values, in SSA order, when `v`
 * is one: the body of the rank-0 fusion (or the single primitive) that defines it, back to that
 * fusion's inputs. Null when `v` is a program input or constant, or is computed otherwise.
 */
function scalarChain(v: Var, producer: ReadonlyMap<Var, Equation>): PrimitiveEquation[] | null {
  if (sizeOf(v.aval.shape) !== 1) return null;
  const e = producer.get(v);
  if (e === undefined) return null;
  const candidates = e.kind === 'primitive' ? [e] : e.fusion === 'elementwise' ? e.body : [];
  const byOutput = new Map(candidates.map((inner) => [inner.output, inner]));
  const needed = new Set<PrimitiveEquation>();
  const stack = [v];
  while (stack.length > 0) {
    const inner = byOutput.get(stack.pop() as Var);
    if (inner === undefined || needed.has(inner)) continue;
    if (!isElementwise(inner.primitive) || sizeOf(inner.output.aval.shape) !== 1) return null;
    needed.add(inner);
    stack.push(...inner.inputs);
  }
  if (!needed.has(byOutput.get(v) as PrimitiveEquation)) return null;
  return candidates.filter((inner) => needed.has(inner));
}

/**
 * `fusion` with `load` (a broadcast of the chain's last value) replaced by the chain recomputed
 * at the load's shape, or null when the kernel would read more tensors than it did as fusion
 * made it (`original`).
 */
function sink(
  fusion: FusionEquation,
  original: FusionEquation,
  load: PrimitiveEquation,
  chain: readonly PrimitiveEquation[],
  vars: VarFactory,
  constants: Map<Var, Constant>,
  isLiteral: (v: Var) => boolean,
): FusionEquation | null {
  const source = load.inputs[0] as Var;
  const defined = new Set(chain.map((inner) => inner.output));
  const leaves: Var[] = [];
  for (const inner of chain) for (const v of inner.inputs) if (!defined.has(v) && !leaves.includes(v)) leaves.push(v);
  const stillRead = fusion.body.some((inner) => inner !== load && inner.inputs.includes(source));
  const tensors = (inputs: readonly Var[]) => inputs.filter((v) => !isLiteral(v)).length;
  const inputs = fusion.inputs.filter((v) => v !== source || stillRead);
  for (const v of leaves) if (!isLiteral(v) && !inputs.includes(v)) inputs.push(v);
  if (tensors(inputs) > tensors(original.inputs)) return null;

  const shape = load.output.aval.shape;
  const replaced = new Map<Var, Var>();
  const added: PrimitiveEquation[] = [];
  for (const v of leaves) {
    const wide = vars.make({ shape, dtype: v.aval.dtype });
    const constant = constants.get(v);
    if (constant?.kind === 'literal') {
      constants.set(wide, constant);
      if (!inputs.includes(wide)) inputs.push(wide);
    } else {
      added.push({ kind: 'primitive', primitive: Primitive.Broadcast, params: { shape }, inputs: [v], output: wide } as PrimitiveEquation);
    }
    replaced.set(v, wide);
  }
  for (const inner of chain) {
    const output = inner.output === source ? load.output : vars.make({ shape, dtype: inner.output.aval.dtype });
    added.push({ ...inner, inputs: inner.inputs.map((v) => replaced.get(v) ?? v), output });
    replaced.set(inner.output, output);
  }
  const at = fusion.body.indexOf(load);
  const body = [...fusion.body.slice(0, at), ...added, ...fusion.body.slice(at + 1)];
  return { ...fusion, inputs, body };
}
