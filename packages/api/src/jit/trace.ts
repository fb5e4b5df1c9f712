import { isGradEnabled } from '../autograd/grad-mode.js';
import { recordCustomJvp, recordCustomVjp } from '../autograd/tape.js';
import { hasCompositeKernel } from '../backend/composite-kernels.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { ConcretizationError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { ProgramBuilder } from '../ir/builder.js';
import type { CompositeCall, LinalgCall } from '../ir/composite.js';
import type { Var } from '../ir/program.js';
import { roundTo } from '../ir/scalar.js';
import { scalarNumberOf } from '../ops/convert.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import type { Tensor } from '../tensor/tensor.js';
import { raise, Trace, Tracer } from '../transforms/core.js';
import type { CustomJvpCall, CustomVjpCall } from '../transforms/custom-call.js';
import { type GradEdge, recordPrimitive } from '../transforms/graph.js';
import { kernelTakes } from '../transforms/linalg-calls.js';
import type { StagedCall } from '../transforms/staged-call.js';

/**
 * Raised inside tracing when the function reaches a value that jit cannot stage: a tracer of an
 * enclosing transform (grad, vmap) captured in a closure, or a tensor the imperative tape is
 * recording. jit then runs the function as it is, under those transforms (see jit.ts).
 */
export class StageOut extends Error {
  constructor(readonly reason: string) {
    super(`flint internal: jit cannot stage this call (${reason})`);
  }
}

/** A value while jit traces: only its shape and dtype, and the IR Var that will hold it. */
export class JitTracer extends Tracer {
  constructor(
    trace: JitTrace,
    readonly variable: Var,
  ) {
    super(trace, variable.aval);
  }

  _lower(): Tensor | null {
    return null;
  }

  override concreteBackend(op: string): Backend {
    throw new ConcretizationError(
      `${op}: inside a jit-compiled function this tensor (shape ${formatShape(this.shape)}, ${this.dtype}) has no value yet: it is computed from the ` +
        "function's inputs when the compiled code runs. Branch with where() instead of JavaScript if, mark the argument static " +
        '(jit(f, { staticArgnums: [...] })), or read the value outside the jitted function',
    );
  }
}

/**
 * jit's level on the transform stack. Every primitive that reaches it (from the jitted function,
 * or from transforms nested inside it such as grad, whose backward pass is then staged too) is
 * recorded as an equation; tensors from outside become constants: rank-0 and one-element ones as
 * literals (scalars written in user code), others as captured tensor constants.
 */
export class JitTrace extends Trace {
  readonly transform = 'jit';
  readonly builder = new ProgramBuilder();
  /** Captured tensor constants, retained for as long as the compiled program lives. */
  readonly captured: Tensor[] = [];
  private readonly constants = new Map<Tensor, Var>();
  /** Tensors that become inputs instead of constants when read (compile()'s module state). */
  private readonly implicit = new Map<Tensor, Var>();

  /** Declares an input of the program and returns its tracer. */
  input(aval: Aval): JitTracer {
    return new JitTracer(this, this.builder.input(aval));
  }

  /** Makes reads of `value` (a module's parameter, say) read the program input `tracer` stands for. */
  bindImplicit(value: Tensor, tracer: JitTracer): void {
    this.implicit.set(value, tracer.variable);
  }

  tracerOf(v: Var): JitTracer {
    return new JitTracer(this, v);
  }

  lift(value: Tensor): JitTracer {
    if (value instanceof Tracer) throw new StageOut(`a value traced by ${value._trace.transform} is captured in the jitted function`);
    const implicit = this.implicit.get(value);
    if (implicit !== undefined) return new JitTracer(this, implicit);
    if (value._autograd !== null && isGradEnabled()) throw new StageOut('a tensor that requires grad is captured while the tape records');
    let v = this.constants.get(value);
    if (v === undefined) {
      const backend = value.concreteBackend('jit');
      // A JavaScript scalar (the 0.1 of `mul(g, 0.1)`) is a literal on every backend, also on one
      // that cannot read it back; other one-element tensors are read where that is possible.
      const scalar = scalarNumberOf(value);
      if (scalar !== undefined) v = this.builder.literal(roundTo(value.dtype, scalar), value);
      else if (value.size === 1 && backend.readSync !== undefined) v = this.builder.literal(value.dataSync()[0] as number, value);
      else {
        v = this.builder.tensor(value);
        value.retain();
        this.captured.push(value);
      }
      this.constants.set(value, v);
    }
    return new JitTracer(this, v);
  }

  processPrimitive<P extends Primitive>(primitive: P, tracers: readonly Tracer[], params: ParamsOf<P>, out: Aval): Tensor {
    const inputs = new Array<Var>(tracers.length);
    let edges: (GradEdge | null)[] | null = null;
    for (let i = 0; i < tracers.length; i++) {
      const t = tracers[i] as JitTracer;
      inputs[i] = t.variable;
      if (t._autograd !== null) {
        edges ??= new Array<GradEdge | null>(tracers.length).fill(null);
        edges[i] = t._autograd.edge;
      }
    }
    const result = new JitTracer(this, this.builder.bindWithAval(primitive, inputs, params, out));
    // A training step compiled by compile(): the imperative tape records on the traced values
    // (parameters are leaves), so that loss.backward() inside the step is staged like any op.
    if (edges !== null && isGradEnabled()) {
      const node = recordPrimitive(primitive, tracers, params, result, edges);
      if (node !== null) result._autograd = { edge: { node, index: 0 }, slot: null };
    }
    return result;
  }

  // jit does not differentiate: user rules are for the transforms above it; the function itself is
  // staged, and the program notes that transforms of it must run the function (see jit.ts). Where
  // compile()'s tape records the inputs, the rule goes on the tape, as eager backward() takes it.
  processCustomJvp(call: CustomJvpCall, tracers: readonly Tracer[]): Tensor[] {
    this.builder.customRules = true;
    return recordCustomJvp(call, tracers) ?? call.fn(tracers);
  }

  processCustomVjp(call: CustomVjpCall, tracers: readonly Tracer[]): Tensor[] {
    // A rule that only computes fn's own derivative another way leaves the program's transforms free to differentiate fn.
    if (call.ruleIsDerivative !== true) this.builder.customRules = true;
    return recordCustomVjp(call, tracers) ?? call.fn(tracers);
  }

  // The composite's primitives are staged as they are, and the program notes which Vars they
  // define, for the composite-formation pass (ir/passes/composites.ts).
  override processComposite(call: CompositeCall, inputs: readonly Tensor[], compute: () => Tensor[]): Tensor[] {
    const variables = inputs.map((x) => (raise(this, x) as JitTracer).variable);
    const first = this.builder.equationCount;
    const outputs = compute();
    const results: Var[] = [];
    for (const o of outputs) {
      if (!(o instanceof JitTracer) || o._trace !== this) return outputs;
      results.push(o.variable);
    }
    this.builder.composite(call, variables, results, first);
    return outputs;
  }

  // One equation that runs the kernel of the backend the program is traced for (the composite,
  // eagerly, where it declines: jit/executable.ts), instead of the composite's thousands. The
  // program's transforms then run the function itself, so that the decomposition's analytic
  // rules (ops/linalg/) differentiate it and no derivative goes through the composite.
  override processLinalg(call: LinalgCall, inputs: readonly Tracer[]): Tensor[] {
    // (Values compile()'s tape records take the composite, whose primitives the tape records.)
    const recorded = isGradEnabled() && inputs.some((x) => x._autograd !== null);
    if (recorded || !kernelTakes(inputs) || !hasCompositeKernel(getBackend().composites, call)) return super.processLinalg(call, inputs);
    this.builder.customRules = true;
    return this.builder
      .linalg(
        call,
        inputs.map((x) => (x as JitTracer).variable),
      )
      .map((v) => new JitTracer(this, v));
  }

  // Kept in the program as a marked identity, so that the JVP or backward program derived from
  // it (grad of a jitted function) cuts the derivative there too.
  processStopGradient(tracer: Tracer): Tensor {
    return new JitTracer(this, this.builder.stopGradient((tracer as JitTracer).variable));
  }

  // A jitted function called inside another is inlined: the enclosing program is compiled as a whole.
  processStagedCall(call: StagedCall, tracers: readonly Tracer[]): Tensor[] {
    return call.inline(tracers);
  }
}
