import type { Aval } from '../core/aval.js';
import { isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { zerosLike } from '../primitives/lax.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import { RULES } from '../primitives/rules.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindCustomJvp, bindStagedCall, bindStopGradient, Trace, Tracer } from './core.js';
import type { CustomJvpCall, CustomVjpCall } from './custom-call.js';
import type { StagedCall } from './staged-call.js';

/** A value under forward-mode differentiation: its primal and its tangent (null: a symbolic zero). */
export class JvpTracer extends Tracer {
  constructor(
    trace: JvpTrace,
    readonly primal: Tensor,
    readonly tangent: Tensor | null,
  ) {
    super(trace, primal);
  }
  _lower(): Tensor {
    return this.primal;
  }
  override _wrapped(): (Tensor | null)[] {
    return [this.primal, this.tangent];
  }
}

/** Whether forward mode (jvp, jacfwd, linearize) traces `x` at some level. */
export function forwardModeTraces(x: Tensor): boolean {
  for (let t: Tensor | null = x; t instanceof Tracer; t = t._lower()) if (t instanceof JvpTracer) return true;
  return false;
}

/** Forward mode: every primitive computes its primal one level down, then its tangent by its JVP rule. */
export class JvpTrace extends Trace {
  constructor(
    level: number,
    readonly transform: string = 'jvp',
  ) {
    super(level);
  }

  lift(value: Tensor): JvpTracer {
    return new JvpTracer(this, value, null);
  }

  /** A tracer carrying `tangent`, or the primal itself when the tangent is zero. */
  wrap(primal: Tensor, tangent: Tensor | null): Tensor {
    return tangent === null ? primal : new JvpTracer(this, primal, tangent);
  }

  processPrimitive<P extends Primitive>(primitive: P, tracers: readonly Tracer[], params: ParamsOf<P>, out: Aval): Tensor {
    const n = tracers.length;
    const primals = new Array<Tensor>(n);
    const tangents = new Array<Tensor | null>(n);
    let varying = false;
    for (let i = 0; i < n; i++) {
      const t = tracers[i] as JvpTracer;
      primals[i] = t.primal;
      tangents[i] = t.tangent;
      if (t.tangent !== null) varying = true;
    }
    const primalOut = bind(primitive, primals, params);
    const rule = RULES[primitive].jvp;
    if (!varying || rule === null || !isFloating(out.dtype)) return primalOut;
    return this.wrap(primalOut, rule(tangents, primals, primalOut, params));
  }

  processCustomJvp(call: CustomJvpCall, tracers: readonly Tracer[]): Tensor[] {
    const jvpTracers = tracers as readonly JvpTracer[];
    const primals = jvpTracers.map((t) => t.primal);
    if (jvpTracers.every((t) => t.tangent === null)) return bindCustomJvp(call, primals);
    const tangents = jvpTracers.map((t) => t.tangent ?? zerosLike(t.primal));
    const result = call.jvp(primals, tangents);
    return result.outputs.map((o, i) => (isFloating(o.dtype) ? this.wrap(o, result.tangents[i] ?? null) : o));
  }

  processCustomVjp(call: CustomVjpCall, tracers: readonly Tracer[]): Tensor[] {
    if (call.differentiateFnInForwardMode) return call.fn(tracers);
    throw new ValueError(
      `${this.transform}: cannot differentiate the customVjp function '${call.name}' in forward mode; its rule only gives reverse-mode derivatives. ` +
        'Define it with customJvp instead (which serves both modes), as in JAX',
    );
  }

  processStopGradient(tracer: Tracer): Tensor {
    return bindStopGradient((tracer as JvpTracer).primal);
  }

  // The JVP of a compiled call is the compiled JVP of its program: one call computing the
  // outputs and their tangents together.
  processStagedCall(call: StagedCall, tracers: readonly Tracer[]): Tensor[] {
    const jvpTracers = tracers as readonly JvpTracer[];
    const primals = jvpTracers.map((t) => t.primal);
    const varying = jvpTracers.map((t) => t.tangent !== null && isFloating(t.primal.dtype));
    if (!varying.includes(true)) return bindStagedCall(call, primals);
    const tangents: Tensor[] = [];
    jvpTracers.forEach((t, i) => {
      if (varying[i]) tangents.push(t.tangent as Tensor);
    });
    const results = bindStagedCall(call.jvp(varying), [...primals, ...tangents]);
    const count = call.outputAvals.length;
    let next = count;
    return results.slice(0, count).map((o) => (isFloating(o.dtype) ? this.wrap(o, results[next++] as Tensor) : o));
  }
}
