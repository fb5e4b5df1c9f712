import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { ValueError } from '../core/errors.js';
import type { CompositeCall, LinalgCall } from '../ir/composite.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import { RULES } from '../primitives/rules.js';
import { enterInterpreter, evalPrimitive, exitInterpreter, setTracedBind } from '../tensor/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import type { CustomJvpCall, CustomVjpCall } from './custom-call.js';
import { linalgComposite, linalgConcrete } from './linalg-calls.js';
import type { StagedCall } from './staged-call.js';

// Nested trace levels, in the manner of JAX's core (Autodidax). Each active transform (jvp, vjp,
// vmap, and later jit) owns one Trace on a stack; its level is its position. A Tracer belongs to
// one trace. `bind` finds the highest-level trace among a primitive's inputs, lifts the other
// inputs into it as constants, and lets it process the primitive; the trace computes on the
// values one level down by calling `bind` again. So transforms nest in any order, and a value
// traced by an outer transform is a constant to an inner one: no perturbation is confused.

/** One active transform. Subclasses: JvpTrace, VjpTrace (the per-level tape), BatchTrace. */
export abstract class Trace {
  /** False once the transform has returned; its tracers may no longer be used. */
  active = true;
  /** The transform's name in error messages ('grad', 'jvp', 'vmap', ...). */
  abstract readonly transform: string;

  constructor(readonly level: number) {}

  /** Wraps a value of a lower level as a tracer of this trace that does not vary. */
  abstract lift(value: Tensor): Tracer;

  /** Applies the transform to one primitive; may return a lower-level value (a constant). */
  abstract processPrimitive<P extends Primitive>(primitive: P, tracers: readonly Tracer[], params: ParamsOf<P>, out: Aval): Tensor;

  abstract processCustomJvp(call: CustomJvpCall, tracers: readonly Tracer[]): Tensor[];
  abstract processCustomVjp(call: CustomVjpCall, tracers: readonly Tracer[]): Tensor[];
  abstract processStopGradient(tracer: Tracer): Tensor;
  /** A call of a jit-compiled function: derives the call's transformed form and binds it one level down. */
  abstract processStagedCall(call: StagedCall, tracers: readonly Tracer[]): Tensor[];

  /**
   * A composite (softmax, layer norm) computed by `compute` from its primitives on `inputs`. A
   * transform sees those primitives; jit also notes which composite they compute (see ir/composite.ts).
   */
  processComposite(_call: CompositeCall, _inputs: readonly Tensor[], compute: () => Tensor[]): Tensor[] {
    return compute();
  }

  /**
   * A linear-algebra call on stacks of matrices (see transforms/linalg-calls.ts). A transform
   * sees the composite's primitives; jit stages the call whole, vmap joins its batch to the stacks'.
   */
  processLinalg(call: LinalgCall, inputs: readonly Tracer[]): Tensor[] {
    return linalgComposite(call, inputs);
  }
}

/**
 * A value being traced by a transform: a Tensor without data (`_backend` is null, so reading it
 * raises a ConcretizationError), carrying its trace and whatever the transform tracks.
 */
export abstract class Tracer extends Tensor {
  constructor(
    readonly _trace: Trace,
    aval: Aval,
  ) {
    super(aval.shape, aval.dtype, null, undefined);
  }

  /** @internal A tensor one level down that this tracer wraps (its primal or batched value), if any. */
  abstract _lower(): Tensor | null;

  /**
   * @internal Every tensor one level down that this tracer holds (its primal, and a JVP tracer's
   * tangent): what `tidy` keeps with a returned tracer, whose values live one level down.
   */
  _wrapped(): (Tensor | null)[] {
    return [this._lower()];
  }

  /**
   * A tracer has no data of its own: retaining it retains the values it wraps, down to the
   * concrete ones. A graph node that saves a tracer (grad under vmap saves batched values) reads
   * them when its pullback runs, after the `tidy` scope that made them may have ended.
   */
  override retain(): void {
    super.retain();
    for (const t of this._wrapped()) t?.retain();
  }

  override release(): void {
    if (this._retainCount === 0) return;
    super.release();
    for (const t of this._wrapped()) t?.release();
  }
}

const stack: Trace[] = [];
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  setTracedBind(tracedBind);
}

/** @internal The hook that evaluates a primitive with no tracer among its inputs (the imperative tape installs one). */
export type BaseBind = <P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
  backend: Backend | undefined,
) => Tensor;
let baseBind: BaseBind = evalPrimitive;
let baseRecording: () => boolean = () => false;

/**
 * @internal Installs the imperative tape's recording evaluation (`records` says whether it is
 * recording now) and switches traced dispatch on for good.
 */
export function installBaseBind(fn: BaseBind, records: () => boolean): void {
  baseBind = fn;
  baseRecording = records;
  install();
  enterInterpreter();
}

/**
 * Whether values computed now can only be seen by the caller: no transform is tracing them and
 * the imperative tape is not saving them. Then a backward sweep may free its intermediates.
 */
export function nothingObserves(): boolean {
  return stack.length === 0 && !baseRecording();
}

/**
 * Whether no transform is active (no trace on the stack, jit not staging): values computed now
 * are concrete. The imperative tape may still record them; whatever its nodes save they retain.
 */
export function atBaseLevel(): boolean {
  return stack.length === 0;
}

/** @internal Opens a new transform level on top of the stack. */
export function pushTrace<T extends Trace>(make: (level: number) => T): T {
  install();
  const trace = make(stack.length + 1);
  stack.push(trace);
  enterInterpreter();
  return trace;
}

/** @internal Closes the top level; its tracers become invalid. */
export function popTrace(trace: Trace): void {
  const top = stack.pop();
  exitInterpreter();
  trace.active = false;
  if (top !== trace) throw new Error('flint internal error: transform levels closed out of order');
}

/** @internal Runs `fn` inside a new level, closing it even when `fn` throws. */
export function withTrace<T extends Trace, R>(make: (level: number) => T, fn: (trace: T) => R): R {
  const trace = pushTrace(make);
  try {
    return fn(trace);
  } finally {
    popTrace(trace);
  }
}

/** Throws when `x` is a tracer whose transform has returned. */
export function checkLive(x: Tensor): void {
  if (x instanceof Tracer && !x._trace.active) escaped(x);
}

function escaped(tracer: Tracer): never {
  throw new ValueError(
    `a value traced by ${tracer._trace.transform} (shape ${JSON.stringify(tracer.shape)}, ${tracer.dtype}) was used after ${tracer._trace.transform} returned; ` +
      'return it from the transformed function instead of storing it outside (an escaped tracer)',
  );
}

/** The highest-level trace among `inputs`, or null when none is a tracer. */
export function findTopTrace(inputs: readonly Tensor[]): Trace | null {
  let top: Trace | null = null;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (x instanceof Tracer) {
      const trace = x._trace;
      if (!trace.active) escaped(x);
      if (top === null || trace.level > top.level) top = trace;
    }
  }
  return top;
}

/** `x` as a tracer of `trace`: its own tracer, or a lower value lifted as a constant. */
export function raise(trace: Trace, x: Tensor): Tracer {
  if (x instanceof Tracer) {
    if (x._trace === trace) return x;
    if (!x._trace.active || x._trace.level >= trace.level) escaped(x);
  }
  return trace.lift(x);
}

function raiseAll(trace: Trace, inputs: readonly Tensor[]): Tracer[] {
  const out = new Array<Tracer>(inputs.length);
  for (let i = 0; i < inputs.length; i++) out[i] = raise(trace, inputs[i] as Tensor);
  return out;
}

// jit's trace, while it traces: it takes every primitive without tracer inputs too (creation ops,
// ops on captured constants), as JAX's dynamic trace does, so they become part of the compiled
// program instead of running eagerly at trace time. jit opens it only on an empty stack.
let stagingTrace: Trace | null = null;

/** @internal Sets the trace that stages primitives without tracer inputs (jit); returns the previous one. */
export function setStagingTrace(trace: Trace | null): Trace | null {
  const previous = stagingTrace;
  stagingTrace = trace;
  return previous;
}

/**
 * Whether an op on `inputs` runs eagerly on their data at the base level: no input is a tracer of
 * a transform and jit is not staging. Only then may an op use a backend's fused kernel for a
 * composite instead of binding its primitives (which transforms must see).
 */
export function runsEagerly(inputs: readonly Tensor[]): boolean {
  return stagingTrace === null && findTopTrace(inputs) === null;
}

/** The traced dispatch `bind` takes while any transform or the imperative tape is active. */
function tracedBind<P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
  backend: Backend | undefined,
): Tensor {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return baseBind(primitive, inputs, params, backend);
  // Validate against the traced (per-example) shapes, so errors name what the user wrote.
  const out = RULES[primitive].abstractEval(inputs, params);
  return top.processPrimitive(primitive, raiseAll(top, inputs), params, out);
}

/** @internal Hooks of the imperative tape for custom calls and stopGradient at the base level. */
export interface BaseCustomHandlers {
  customJvp(call: CustomJvpCall, inputs: readonly Tensor[]): Tensor[];
  customVjp(call: CustomVjpCall, inputs: readonly Tensor[]): Tensor[];
  stopGradient(x: Tensor): Tensor;
  stagedCall(call: StagedCall, inputs: readonly Tensor[], consumable?: readonly boolean[] | null): Tensor[];
}
let baseCustom: BaseCustomHandlers = {
  customJvp: (call, inputs) => call.fn(inputs),
  customVjp: (call, inputs) => call.fn(inputs),
  stopGradient: (x) => x,
  stagedCall: (call, inputs, consumable) => call.run(inputs, consumable),
};
/** @internal */
export function installBaseCustom(handlers: BaseCustomHandlers): void {
  baseCustom = handlers;
}

/** @internal Dispatches a customJvp function call to the innermost trace among its inputs. */
export function bindCustomJvp(call: CustomJvpCall, inputs: readonly Tensor[]): Tensor[] {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return baseCustom.customJvp(call, inputs);
  return top.processCustomJvp(call, raiseAll(top, inputs));
}

/** @internal Dispatches a customVjp (or checkpoint) function call. */
export function bindCustomVjp(call: CustomVjpCall, inputs: readonly Tensor[]): Tensor[] {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return baseCustom.customVjp(call, inputs);
  return top.processCustomVjp(call, raiseAll(top, inputs));
}

/**
 * @internal A composite that `compute` computes from its primitives on `inputs`, offered to the
 * innermost trace among them so that jit can hand the whole composite to a backend's fused kernel.
 */
export function stageComposite(call: CompositeCall, inputs: readonly Tensor[], compute: () => Tensor[]): Tensor[] {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return compute();
  return top.processComposite(call, inputs, compute);
}

/**
 * @internal A linear-algebra call (eigh, svd, qr, cholesky, luFactor, triangularSolve) on stacks
 * of matrices: by the backend's kernel where one takes them, at every level that can
 * (transforms/linalg-calls.ts).
 */
export function bindLinalg(call: LinalgCall, inputs: readonly Tensor[]): Tensor[] {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return linalgConcrete(call, inputs);
  return top.processLinalg(call, raiseAll(top, inputs));
}

/** @internal stopGradient of one tensor, through every level. */
export function bindStopGradient(x: Tensor): Tensor {
  const top = findTopTrace([x]) ?? stagingTrace;
  if (top === null) return baseCustom.stopGradient(x);
  return top.processStopGradient(raise(top, x));
}

/**
 * @internal Dispatches a call of a jit-compiled function to the innermost trace among its inputs,
 * or runs it. `consumable` (inputs the caller hands over, see StagedCall.run) applies only where
 * the call runs on concrete tensors: a trace never consumes its values.
 */
export function bindStagedCall(call: StagedCall, inputs: readonly Tensor[], consumable?: readonly boolean[] | null): Tensor[] {
  const top = findTopTrace(inputs) ?? stagingTrace;
  if (top === null) return baseCustom.stagedCall(call, inputs, consumable);
  return top.processStagedCall(call, raiseAll(top, inputs));
}

/** A concrete tensor underneath `x` (through its tracers), if there is one: where constants for it should live. */
export function concreteOf(x: Tensor): Tensor | undefined {
  let t: Tensor | null = x;
  while (t instanceof Tracer) t = t._lower();
  return t === null || t._backend === null ? undefined : t;
}

/** The backend of the concrete data underneath `x`, if any. */
export function backendOf(x: Tensor): Backend | undefined {
  return concreteOf(x)?._backend ?? undefined;
}
