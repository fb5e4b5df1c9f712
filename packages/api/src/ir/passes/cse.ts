import { Primitive } from '../../primitives/primitive.js';
import { compositeArity } from '../composite.js';
import type { Var } from '../program.js';
import { type Constant, type Equation, type Program, renameInputs, withChanges } from '../program.js';

function numberKey(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

// JSON writes NaN and the infinities as null and -0 as 0; params (a pad value) may hold them.
const exactNumbers = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0)) ? numberKey(value) : value;

// Operations whose two operands commute exactly (IEEE addition and multiplication round the same
// either way): `a * b` and `b * a` get one key. Backward passes write both orders often (the VJP
// of `x * x` is `g * x + x * g`).
const COMMUTATIVE: ReadonlySet<number> = new Set([Primitive.Add, Primitive.Mul, Primitive.Equal, Primitive.NotEqual]);

/** A key equal for two equations exactly when they compute the same value from the same Vars. */
export function equationKey(primitive: number, inputs: readonly Var[], params: unknown): string {
  let key = `${primitive}(`;
  const first = inputs[0];
  const second = inputs[1];
  if (inputs.length === 2 && COMMUTATIVE.has(primitive) && first !== undefined && second !== undefined && second.id < first.id)
    key += `${second.id},${first.id},`;
  else for (const v of inputs) key += `${v.id},`;
  return `${key})${JSON.stringify(params, exactNumbers)}`;
}

/**
 * Common-subexpression elimination by value numbering: an equation that applies the same
 * primitive with the same params to the same Vars as an earlier one is dropped and its output
 * replaced by the earlier output (a composite equation likewise, all its outputs). Literals of one
 * value, dtype and shape are merged first, and tensor constants holding the same tensor, so that
 * `x * 2` written twice becomes one product.
 */
export function eliminateCommonSubexpressions(program: Program): Program {
  const replace = new Map<Var, Var>();
  const sub = (v: Var): Var => replace.get(v) ?? v;
  const constants = new Map<Var, Constant>();
  const constantKeys = new Map<unknown, Var>();
  for (const [v, c] of program.constants) {
    const key = c.kind === 'tensor' ? c.tensor : `${v.aval.dtype}[${v.aval.shape.join(',')}]=${numberKey(c.value)}`;
    const seen = constantKeys.get(key);
    if (seen !== undefined) replace.set(v, seen);
    else {
      constantKeys.set(key, v);
      constants.set(v, c);
    }
  }
  const seen = new Map<string, Var>();
  const seenComposites = new Map<string, readonly Var[]>();
  const equations: Equation[] = [];
  let changed = constants.size !== program.constants.size;
  for (const e of program.equations) {
    const renamed = renameInputs(e, sub);
    const inputs = renamed.inputs;
    const inputsChanged = renamed !== e;
    if (renamed.kind === 'fusion' || e.kind === 'fusion') {
      // A composite (formed before this pass) computes its outputs from its kernel's arguments
      // alone: a second one of the same call on the same Vars is the first. Other fusions form
      // after this pass.
      const call = renamed.kind === 'fusion' ? renamed.composite : undefined;
      if (call !== undefined && renamed.kind === 'fusion') {
        const key = `composite ${JSON.stringify(call, exactNumbers)}(${inputs
          .slice(0, compositeArity(call))
          .map((v) => v.id)
          .join(',')})`;
        const previous = seenComposites.get(key);
        if (previous !== undefined) {
          for (let i = 0; i < renamed.outputs.length; i++) replace.set(renamed.outputs[i] as Var, previous[i] as Var);
          changed = true;
          continue;
        }
        seenComposites.set(key, renamed.outputs);
      }
      equations.push(renamed);
      changed ||= inputsChanged;
      continue;
    }
    const key = equationKey(e.primitive, inputs, e.params);
    const previous = seen.get(key);
    if (previous !== undefined) {
      replace.set(e.output, previous);
      changed = true;
      continue;
    }
    seen.set(key, e.output);
    equations.push(inputsChanged ? { ...e, inputs } : e);
    changed ||= inputsChanged;
  }
  if (!changed) return program;
  return withChanges(program, { constants, equations, outputs: program.outputs.map(sub) });
}
