import { isFloating } from '../../core/dtype.js';
import { sizeOf } from '../../core/shape.js';
import { type ParamsOf, Primitive } from '../../primitives/primitive.js';
import type { Tensor } from '../../tensor/tensor.js';
import { isElementwise, isMovement } from '../classify.js';
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
import { evaluateScalar, roundTo } from '../scalar.js';
import { DEFAULT_FOLD_LIMIT, type PassContext } from './context.js';

/** The literal an equation whose inputs are all literals reduces to, if this pass knows how. */
function foldLiterals(e: PrimitiveEquation, values: readonly number[]): number | undefined {
  const out = e.output.aval;
  const p = e.primitive;
  if (p === Primitive.Full) return roundTo(out.dtype, (e.params as ParamsOf<Primitive.Full>).value);
  if (isElementwise(p)) {
    const inputDType = (e.inputs[p === Primitive.Where ? 1 : 0] as Var).aval.dtype;
    return evaluateScalar(p, values, inputDType, out.dtype);
  }
  const first = values[0];
  if (first === undefined) return undefined;
  if (isMovement(p)) return first;
  if (p === Primitive.Concat) return values.every((v) => Object.is(v, first)) ? first : undefined;
  if (p === Primitive.Pad) {
    const pad = roundTo(out.dtype, (e.params as ParamsOf<Primitive.Pad>).value);
    return Object.is(pad, first) ? first : undefined;
  }
  const input = e.inputs[0] as Var;
  const count = sizeOf(out.shape) === 0 ? 0 : sizeOf(input.aval.shape) / sizeOf(out.shape);
  switch (p) {
    case Primitive.ReduceSum:
      return roundTo(out.dtype, isFloating(out.dtype) ? first * count : Math.imul(first, count));
    case Primitive.ReduceMax:
    case Primitive.ReduceMin:
      return count > 0 ? first : undefined;
    case Primitive.ReduceProd:
      return isFloating(out.dtype) ? roundTo(out.dtype, first ** count) : undefined;
    case Primitive.Argmax:
    case Primitive.Argmin:
      return count > 0 ? 0 : undefined;
    default:
      return undefined;
  }
}

/**
 * Constant folding: an equation whose inputs are all known at compile time is replaced by its
 * value. Creation (`full`) and everything computed from literals alone (arithmetic, movement,
 * reductions of a uniform value) becomes a literal, which costs no memory and which later passes
 * can reason about (x * 1). Small results that need real data (ops on captured tensors, iota) are
 * computed once with the context's evaluator and kept as tensor constants; large ones stay in the
 * program, where they cost time per call but not memory held between calls.
 */
export function foldConstants(program: Program, context: PassContext = {}): Program {
  const vars = new VarFactory(program);
  const constants = new Map<Var, Constant>(program.constants);
  const replace = new Map<Var, Var>();
  const sub = (v: Var): Var => replace.get(v) ?? v;
  const limit = context.foldLimit ?? DEFAULT_FOLD_LIMIT;
  const equations: Equation[] = [];
  let changed = false;
  const materialize = (v: Var): Tensor | undefined => {
    const c = constants.get(v);
    if (c === undefined || context.evaluate === undefined) return undefined;
    if (c.kind === 'tensor') return c.tensor;
    const t = context.evaluate(Primitive.Full, [], { shape: [...v.aval.shape], dtype: v.aval.dtype, value: c.value });
    context.created?.push(t);
    return t;
  };
  for (const original of program.equations) {
    const e = renameInputs(original, sub);
    const inputs = e.inputs;
    if (e.kind === 'fusion' || !inputs.every((v) => constants.has(v))) {
      equations.push(e);
      continue;
    }
    const literals = inputs.map((v) => constants.get(v)).filter((c): c is Constant & { kind: 'literal' } => c?.kind === 'literal');
    if (literals.length === inputs.length) {
      const value = foldLiterals(
        e,
        literals.map((c) => c.value),
      );
      if (value !== undefined) {
        const folded = vars.make(e.output.aval);
        constants.set(folded, { kind: 'literal', value });
        replace.set(e.output, folded);
        changed = true;
        continue;
      }
    }
    const random = e.primitive === Primitive.RandomBits || e.primitive === Primitive.RandomUniform;
    if (context.evaluate !== undefined && !random && sizeOf(e.output.aval.shape) <= limit) {
      const tensors = inputs.map(materialize);
      if (tensors.every((t): t is Tensor => t !== undefined)) {
        const value = context.evaluate(e.primitive, tensors, e.params as never);
        context.created?.push(value);
        const folded = vars.make(e.output.aval);
        constants.set(folded, { kind: 'tensor', tensor: value });
        replace.set(e.output, folded);
        changed = true;
        continue;
      }
    }
    equations.push(e);
  }
  if (!changed) return program;
  return withChanges(program, { constants, equations, outputs: program.outputs.map(sub) });
}
