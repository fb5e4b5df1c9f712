import { shapesEqual } from '../../core/shape.js';
import { type ParamsOf, Primitive } from '../../primitives/primitive.js';
import {
  type Constant,
  type Equation,
  type PrimitiveEquation,
  type Program,
  renameInputs,
  type Var,
  VarFactory,
  withChanges,
} from '../program.js';

/** A rewrite: the Var that replaces the equation's output, a new equation to emit instead, or null to keep it. */
type Rewrite = Var | { readonly primitive: Primitive; readonly inputs: readonly Var[]; readonly params: object } | null;

interface Facts {
  literal(v: Var): number | undefined;
  definition(v: Var): PrimitiveEquation | undefined;
}

const isLiteral = (facts: Facts, v: Var, value: number): boolean =>
  Object.is(facts.literal(v), value) || (value === 0 && facts.literal(v) === 0);

/** Permutation applying `first` then `second` (transpose(transpose(x, first), second)). */
function composePermutations(first: readonly number[], second: readonly number[]): number[] {
  return second.map((axis) => first[axis] as number);
}

const isIdentityPermutation = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/** Casts that lose nothing, so that casting back restores the value exactly. */
function widens(from: string, to: string): boolean {
  const order: Record<string, readonly string[]> = {
    bool: ['uint8', 'int32', 'float32', 'float64'],
    uint8: ['int32', 'float32', 'float64'],
    int32: ['float64'],
    float32: ['float64'],
  };
  return order[from]?.includes(to) ?? false;
}

function simplify(e: PrimitiveEquation, facts: Facts): Rewrite {
  const [a, b] = e.inputs as [Var, Var];
  const out = e.output.aval;
  const same = (v: Var | undefined): v is Var => v !== undefined && shapesEqual(v.aval.shape, out.shape) && v.aval.dtype === out.dtype;
  switch (e.primitive) {
    case Primitive.Add:
      if (isLiteral(facts, b, 0)) return a;
      if (isLiteral(facts, a, 0)) return b;
      return null;
    case Primitive.Sub:
      if (isLiteral(facts, b, 0)) return a;
      if (isLiteral(facts, a, 0)) return { primitive: Primitive.Neg, inputs: [b], params: {} };
      return null;
    case Primitive.Mul:
      if (isLiteral(facts, b, 1)) return a;
      if (isLiteral(facts, a, 1)) return b;
      if (isLiteral(facts, b, -1)) return { primitive: Primitive.Neg, inputs: [a], params: {} };
      if (isLiteral(facts, a, -1)) return { primitive: Primitive.Neg, inputs: [b], params: {} };
      return null;
    case Primitive.Div:
      return isLiteral(facts, b, 1) ? a : null;
    case Primitive.Pow:
      if (isLiteral(facts, b, 1)) return a;
      if (isLiteral(facts, b, 2)) return { primitive: Primitive.Mul, inputs: [a, a], params: {} };
      return null;
    case Primitive.Max:
    case Primitive.Min:
      return a === b ? a : null;
    case Primitive.Neg: {
      const inner = facts.definition(a);
      return inner?.primitive === Primitive.Neg ? (inner.inputs[0] as Var) : null;
    }
    case Primitive.Where: {
      const condition = facts.literal(a);
      if (condition !== undefined) return condition !== 0 ? b : (e.inputs[2] as Var);
      return b === e.inputs[2] ? b : null;
    }
    case Primitive.Cast: {
      if (a.aval.dtype === out.dtype) return a;
      const inner = facts.definition(a);
      if (inner?.primitive === Primitive.Cast) {
        const source = inner.inputs[0] as Var;
        if (source.aval.dtype === out.dtype && widens(out.dtype, a.aval.dtype)) return source;
      }
      return null;
    }
    case Primitive.Reshape: {
      if (shapesEqual(a.aval.shape, out.shape)) return a;
      const inner = facts.definition(a);
      if (inner?.primitive === Primitive.Reshape) {
        const source = inner.inputs[0] as Var;
        return same(source) ? source : { primitive: Primitive.Reshape, inputs: [source], params: e.params };
      }
      return null;
    }
    case Primitive.Broadcast: {
      if (shapesEqual(a.aval.shape, out.shape)) return a;
      const inner = facts.definition(a);
      if (inner?.primitive === Primitive.Broadcast)
        return { primitive: Primitive.Broadcast, inputs: [inner.inputs[0] as Var], params: e.params };
      return null;
    }
    case Primitive.Transpose: {
      const perm = (e.params as ParamsOf<Primitive.Transpose>).perm;
      if (isIdentityPermutation(perm)) return a;
      const inner = facts.definition(a);
      if (inner?.primitive === Primitive.Transpose) {
        const composed = composePermutations((inner.params as ParamsOf<Primitive.Transpose>).perm, perm);
        const source = inner.inputs[0] as Var;
        return isIdentityPermutation(composed) ? source : { primitive: Primitive.Transpose, inputs: [source], params: { perm: composed } };
      }
      return null;
    }
    case Primitive.ReduceSum:
    case Primitive.ReduceMax:
    case Primitive.ReduceMin:
    case Primitive.ReduceProd:
      return (e.params as ParamsOf<Primitive.ReduceSum>).axes.length === 0 ? a : null;
    default:
      return null;
  }
}

/**
 * Algebraic simplification: identities that hold for every input (x * 1, x + 0, x / 1, x ** 1,
 * neg(neg(x)), where with a known condition), movement that cancels or composes (a transpose of a
 * transpose, a reshape of a reshape, a broadcast of a broadcast, movement to the same shape),
 * casts to the same dtype or back from a wider one, and cheaper equivalents (x ** 2 as x * x,
 * x * -1 as neg). Broadcasts of scalar literals are folded into literals by constant folding,
 * which runs first. Rewrites see the already-simplified producers, so chains collapse in one
 * sweep; what they bypass is left for dead-code elimination.
 */
export function simplifyAlgebra(program: Program): Program {
  const vars = new VarFactory(program);
  const replace = new Map<Var, Var>();
  const sub = (v: Var): Var => replace.get(v) ?? v;
  const definitions = new Map<Var, PrimitiveEquation>();
  const constants: ReadonlyMap<Var, Constant> = program.constants;
  const facts: Facts = {
    literal: (v) => {
      const c = constants.get(v);
      return c?.kind === 'literal' ? c.value : undefined;
    },
    definition: (v) => definitions.get(v),
  };
  const equations: Equation[] = [];
  let changed = false;
  for (const original of program.equations) {
    const e = renameInputs(original, sub);
    changed ||= e !== original;
    if (e.kind === 'fusion') {
      equations.push(e);
      continue;
    }
    const rewrite = simplify(e, facts);
    if (rewrite === null) {
      definitions.set(e.output, e);
      equations.push(e);
      continue;
    }
    changed = true;
    if ('id' in rewrite) {
      replace.set(e.output, rewrite);
      continue;
    }
    const output = vars.make(e.output.aval);
    const replacement = {
      kind: 'primitive',
      primitive: rewrite.primitive,
      params: rewrite.params,
      inputs: rewrite.inputs,
      output,
    } as PrimitiveEquation;
    // The replacement may simplify further against its own producers (neg of a neg).
    const again = simplify(replacement, facts);
    if (again !== null && 'id' in again) {
      replace.set(e.output, again);
      continue;
    }
    replace.set(e.output, output);
    definitions.set(output, replacement);
    equations.push(replacement);
  }
  if (!changed) return program;
  return withChanges(program, { equations, outputs: program.outputs.map(sub) });
}
