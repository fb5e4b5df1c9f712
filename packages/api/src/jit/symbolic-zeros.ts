import { shapesEqual } from '../core/shape.js';
import { type Constant, type Equation, type PrimitiveEquation, type Program, type Var, VarFactory } from '../ir/program.js';
import { Primitive } from '../primitives/primitive.js';

// Specializes a program that is linear in some of its inputs (a backward program is linear in
// the output cotangents) to those inputs being symbolic zeros, as JAX's ad.Zero: the zero
// inputs are removed, every value that depends on cotangents through zero ones only is zero
// and its equation dropped, and the input cotangents that come out zero are reported instead of
// computed. The reverse sweep of the tape treats a missing cotangent the same way (it skips the
// nodes it would feed), so the specialized program computes what an eager backward pass does.

/** The program without its zero inputs, and which of its outputs are zero (dropped from `outputs`). */
export interface ZeroSpecialization {
  readonly program: Program;
  readonly zeroOutputs: readonly boolean[];
}

const PRIMAL = 0;
const ZERO = 1;
const LIVE = 2;

/**
 * `linear[i]` marks the inputs the program is linear in; `zero[i]` those of them that are zero.
 * A value is zero when it depends on linear inputs and on zero ones only.
 */
export function specializeZeros(program: Program, linear: readonly boolean[], zero: readonly boolean[]): ZeroSpecialization {
  const state = new Map<Var, number>();
  program.inputs.forEach((v, i) => {
    state.set(v, zero[i] === true ? ZERO : linear[i] === true ? LIVE : PRIMAL);
  });
  const statusOf = (v: Var): number => state.get(v) ?? PRIMAL;
  const alias = new Map<Var, Var>();
  const resolve = (v: Var): Var => alias.get(v) ?? v;
  const factory = new VarFactory(program);
  const constants = new Map<Var, Constant>(program.constants);
  const zeroLiteral = (like: Var): Var => {
    const v = factory.make(like.aval);
    constants.set(v, { kind: 'literal', value: 0 });
    return v;
  };
  const equations: Equation[] = [];
  for (const e of program.equations) {
    const inputs = e.inputs.map(resolve);
    const statuses = inputs.map(statusOf);
    const defined = e.kind === 'primitive' ? [e.output] : e.outputs;
    const anyZero = statuses.includes(ZERO);
    const anyLive = statuses.includes(LIVE);
    if (!anyZero) {
      for (const v of defined) state.set(v, anyLive ? LIVE : PRIMAL);
      equations.push(inputs.every((v, i) => v === e.inputs[i]) ? e : { ...e, inputs });
      continue;
    }
    if (!anyLive) {
      // Linear in the cotangents, all of which are zero here: the value is zero.
      for (const v of defined) state.set(v, ZERO);
      continue;
    }
    for (const v of defined) state.set(v, LIVE);
    if (e.kind === 'primitive') {
      const [a, b] = inputs as [Var, Var];
      const zeroA = statusOf(a) === ZERO;
      // The common case, sums of contributions: x + 0 and x - 0 are x, 0 - x is -x.
      const sameAval = (v: Var): boolean => v.aval.dtype === e.output.aval.dtype && shapesEqual(v.aval.shape, e.output.aval.shape);
      if ((e.primitive === Primitive.Add || (e.primitive === Primitive.Sub && !zeroA)) && sameAval(zeroA ? b : a)) {
        alias.set(e.output, zeroA ? b : a);
        continue;
      }
      if (e.primitive === Primitive.Sub && sameAval(b)) {
        const neg: PrimitiveEquation<Primitive.Neg> = {
          kind: 'primitive',
          primitive: Primitive.Neg,
          params: {},
          inputs: [b],
          output: e.output,
        };
        equations.push(neg);
        continue;
      }
    }
    // Elsewhere (a select between a zero and a live value, a concatenation) the zero is materialized.
    equations.push({ ...e, inputs: inputs.map((v) => (statusOf(v) === ZERO ? zeroLiteral(v) : v)) } as Equation);
  }
  const outputs: Var[] = [];
  const zeroOutputs = program.outputs.map((v) => {
    const r = resolve(v);
    if (statusOf(r) === ZERO) return true;
    outputs.push(r);
    return false;
  });
  const used = new Set<Var>();
  for (const e of equations) for (const v of e.inputs) used.add(v);
  for (const v of outputs) used.add(v);
  for (const v of [...constants.keys()]) if (!used.has(v)) constants.delete(v);
  const { memory: _memory, ...rest } = program;
  return {
    program: {
      ...rest,
      inputs: program.inputs.filter((_, i) => zero[i] !== true),
      constants,
      equations,
      outputs,
      ...(rest.donatedInputs === undefined ? {} : { donatedInputs: rest.donatedInputs.filter((_, i) => zero[i] !== true) }),
    },
    zeroOutputs,
  };
}
