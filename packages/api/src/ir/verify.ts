import { shapesEqual } from '../core/shape.js';
import { RULES } from '../primitives/rules.js';
import { compositeArity, formatCompositeCall, isLinalgCall, type LinalgCall, linalgOutputs } from './composite.js';
import { formatAval } from './print.js';
import type { FusionEquation, PrimitiveEquation, Program, Var } from './program.js';

/**
 * Checks that `program` is well formed: every Var defined once and before it is read, fusion
 * bodies reading only their declared inputs, every equation's output aval what its primitive's
 * abstract evaluation gives. Passes run it under FLINT_VERIFY_IR and in tests; a failure is a bug
 * in a pass, so it throws a plain Error naming the pass and the equation.
 */
export function verifyProgram(program: Program, after = 'trace'): void {
  const defined = new Set<Var>();
  const fail = (message: string): never => {
    throw new Error(`flint internal error: invalid IR after ${after}: ${message}`);
  };
  const define = (v: Var): void => {
    if (defined.has(v)) fail(`%${v.id} is defined twice`);
    defined.add(v);
  };
  const checkPrimitive = (e: PrimitiveEquation, visible: Set<Var>): void => {
    for (const v of e.inputs) if (!visible.has(v)) fail(`%${v.id} is read by ${RULES[e.primitive].name} before it is defined`);
    const aval = RULES[e.primitive].abstractEval(
      e.inputs.map((v) => v.aval),
      e.params as never,
    );
    if (!shapesEqual(aval.shape, e.output.aval.shape) || aval.dtype !== e.output.aval.dtype) {
      fail(`${RULES[e.primitive].name} gives ${formatAval(aval)} but %${e.output.id} is declared ${formatAval(e.output.aval)}`);
    }
  };
  for (const v of program.inputs) define(v);
  for (const v of program.constants.keys()) define(v);
  for (const e of program.equations) {
    if (e.kind === 'primitive') {
      checkPrimitive(e, defined);
      define(e.output);
      continue;
    }
    for (const v of e.inputs) if (!defined.has(v)) fail(`fusion input %${v.id} is not defined before the fusion`);
    if (e.composite !== undefined && isLinalgCall(e.composite)) {
      checkLinalgCall(e, e.composite, fail);
      for (const v of e.outputs) define(v);
      continue;
    }
    const local = new Set<Var>(e.inputs);
    for (const inner of e.body) {
      checkPrimitive(inner, local);
      if (local.has(inner.output) || defined.has(inner.output)) fail(`%${inner.output.id} is defined twice`);
      local.add(inner.output);
    }
    for (const v of e.outputs) {
      if (!local.has(v) || e.inputs.includes(v)) fail(`fusion output %${v.id} is not computed by its body`);
      define(v);
    }
  }
  for (const v of program.outputs) if (!defined.has(v)) fail(`output %${v.id} is not defined`);
}

/** A linear-algebra call's equation (no body): its inputs, and the outputs its call gives for them. */
function checkLinalgCall(e: FusionEquation, call: LinalgCall, fail: (message: string) => never): void {
  const arity = compositeArity(call);
  if (e.inputs.length !== arity || e.body.length !== 0) fail(`${formatCompositeCall(call)} takes ${arity} input(s) and has no body`);
  const inputs = e.inputs.map((v) => v.aval);
  const expected = linalgOutputs(call, inputs);
  const matches =
    expected.length === e.outputs.length &&
    expected.every((a, i) => {
      const v = e.outputs[i] as Var;
      return a.dtype === v.aval.dtype && shapesEqual(a.shape, v.aval.shape);
    });
  if (!matches)
    fail(
      `${formatCompositeCall(call)} of ${inputs.map(formatAval).join(', ')} gives ${expected.map(formatAval).join(', ')}, not ${e.outputs.map((v) => formatAval(v.aval)).join(', ')}`,
    );
}
