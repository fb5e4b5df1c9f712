import { checkBackendDType } from '../backend/capabilities.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { BackendError } from '../core/errors.js';
import { type ParamsOf, PRIMITIVE_COUNT, type Primitive } from '../primitives/primitive.js';
import type { RuleTable } from '../primitives/rule.js';
import { RULES } from '../primitives/rules.js';
import { Tensor } from './tensor.js';

/**
 * A transform interpreter (JVP, VJP tape, batching, jit tracing) that intercepts primitives while
 * active. The autodiff and jit issues install theirs with `setTracedBind`; with none active, `bind`
 * takes the eager fast path straight to the backend.
 */
export type TracedBind = <P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
  backend: Backend | undefined,
) => Tensor;

// The rule table copied into a dense array: dispatch indexes it by the primitive's number. Built
// on first use, because the rule modules import this one (their rules bind ops) and may still be
// initializing when it loads.
let ruleArray: readonly unknown[] | null = null;
function ruleFor<P extends Primitive>(primitive: P): RuleTable[P] {
  ruleArray ??= Array.from({ length: PRIMITIVE_COUNT }, (_, p) => RULES[p as Primitive]);
  return ruleArray[primitive] as RuleTable[P];
}

let activeInterpreters = 0;
let tracedBind: TracedBind | null = null;

/** @internal For transforms: install the traced dispatch and count active interpreters. */
export function setTracedBind(fn: TracedBind): void {
  tracedBind = fn;
}
/** @internal */
export function enterInterpreter(): void {
  activeInterpreters++;
}
/** @internal */
export function exitInterpreter(): void {
  activeInterpreters--;
}

/**
 * Rewrites a primitive's inputs before it is dispatched (autocast's casts), ahead of every
 * interpreter so that the tape and jit record the casts; null when none is installed.
 */
export type InputHook = (primitive: Primitive, inputs: readonly Tensor[]) => readonly Tensor[];
let inputHook: InputHook | null = null;

/** @internal For amp: installs (or, with null, removes) the input hook; returns the previous one. */
export function setInputHook(hook: InputHook | null): InputHook | null {
  const previous = inputHook;
  inputHook = hook;
  return previous;
}

/**
 * The one dispatch path (DESIGN.md): every op binds a primitive here. `backend` is only consulted
 * by primitives without inputs (creation); others run where their inputs live.
 */
export function bind<P extends Primitive>(primitive: P, inputs: readonly Tensor[], params: ParamsOf<P>, backend?: Backend): Tensor {
  if (inputHook === null) return dispatch(primitive, inputs, params, backend);
  const args = inputHook(primitive, inputs);
  try {
    return dispatch(primitive, args, params, backend);
  } finally {
    // The hook's casts belong to this call: freed now, or once a backward pass that saved them is done.
    if (args !== inputs) for (let i = 0; i < args.length; i++) if (args[i] !== inputs[i]) (args[i] as Tensor).dispose();
  }
}

function dispatch<P extends Primitive>(primitive: P, args: readonly Tensor[], params: ParamsOf<P>, backend: Backend | undefined): Tensor {
  if (activeInterpreters !== 0 && tracedBind !== null) return tracedBind(primitive, args, params, backend);
  return evalPrimitive(primitive, args, params, backend);
}

/**
 * @internal How many primitives ran eagerly, one kernel call each (compiled programs' steps are
 * not counted): tests use it to check that transformed jit calls stay compiled.
 */
export const eagerDispatches = { count: 0 };

/** Eager evaluation: abstract evaluation (validation), then the backend's kernel. */
export function evalPrimitive<P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
  backend?: Backend,
): Tensor {
  const rule = ruleFor(primitive);
  const out = rule.abstractEval(inputs, params);
  eagerDispatches.count++;
  const target = inputs.length === 0 ? (backend ?? getBackend()) : commonBackend(rule.name, inputs);
  checkBackendDType(rule.name, target, out.dtype);
  const handles = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) handles[i] = (inputs[i] as Tensor)._handle;
  const kernel = target.kernels[primitive] as (inputs: readonly unknown[], params: ParamsOf<P>, out: Aval) => unknown;
  return new Tensor(out.shape, out.dtype, target, kernel(handles, params, out));
}

function commonBackend(op: string, inputs: readonly Tensor[]): Backend {
  const first = (inputs[0] as Tensor).concreteBackend(op);
  for (let i = 1; i < inputs.length; i++) {
    const other = (inputs[i] as Tensor).concreteBackend(op);
    if (other !== first) {
      throw new BackendError(
        `${op}: inputs live on different backends ('${first.name}' and '${other.name}'); move one with t.to('${first.name}')`,
      );
    }
  }
  return first;
}
