import { hasCompositeKernel } from '../backend/composite-kernels.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { isFloating } from '../core/dtype.js';
import { BackendError, DisposedError } from '../core/errors.js';
import { isLinalgCall } from '../ir/composite.js';
import type { KernelProgram } from '../ir/kernel.js';
import { type WholeRegion, wholeRegions } from '../ir/passes/composites.js';
import { type PassRecord, runPasses } from '../ir/pipeline.js';
import { printProgram } from '../ir/print.js';
import type { PrimitiveEquation, Program, Var } from '../ir/program.js';
import { full, zerosLike } from '../primitives/lax.js';
import { bind, evalPrimitive } from '../tensor/dispatch.js';
import { keep, untrackTensor } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { vmapFlat } from '../transforms/batch-trace.js';
import { bindLinalg, bindStopGradient, popTrace, pushTrace, raise, setStagingTrace } from '../transforms/core.js';
import { jvpFlat } from '../transforms/jvp.js';
import type { SpecializedCall, StagedCall, StagedVjp } from '../transforms/staged-call.js';
import { vjpFlat } from '../transforms/vjp-trace.js';
import { bindCompositeRegion } from './composite-binders.js';
import { dispatchStateKey } from './dispatch-state.js';
import { Executable } from './executable.js';
import { splitJoint } from './partial-eval.js';
import { specializeZeros } from './symbolic-zeros.js';
import { JitTrace, type JitTracer } from './trace.js';

/** A traced and optimized call of a jitted function, for inspection. */
export interface Lowered {
  /** The program as traced. */
  readonly traced: Program;
  /** The program after the passes (what runs). */
  readonly optimized: Program;
  /** Each pass with the program before and after it. */
  readonly passes: readonly PassRecord[];
  /** Milliseconds spent optimizing and compiling (and tracing, for the call that traced). */
  readonly compileTimeMs: number;
  /** The backend it was compiled for. */
  readonly backend: string;
  /** Fused kernels the backend compiled to code, and fused groups it runs op by op. */
  readonly compiledKernels: number;
  readonly fallbackKernels: number;
  /** The optimized program, printed. */
  toString(): string;
}

/** A program compiled for one backend. */
export interface Compiled {
  readonly executable: Executable;
  readonly lowered: Lowered;
  /** Constants folded at compile time, owned by this compilation. */
  readonly created: readonly Tensor[];
}

/** Counts shared by a jitted function and every call derived from it. */
export interface CompileCounter {
  compiles: number;
}

/** Whether `backend` compiles `kernel` (as the executor asks it: a throw is a decline). */
function compilesKernel(backend: Backend, kernel: KernelProgram): boolean {
  try {
    return (backend.compile?.(kernel) ?? null) !== null;
  } catch {
    return false;
  }
}

/**
 * Traces `fn` on fresh inputs of `avals` into a program (a jit level on the stack, staging every
 * primitive). Returns the program and the tensors it captured as constants (retained).
 */
export function traceFlat(
  name: string,
  avals: readonly Aval[],
  fn: (inputs: Tensor[]) => readonly Tensor[],
): { program: Program; captured: Tensor[] } {
  const jitTrace = pushTrace((level) => new JitTrace(level));
  const previous = setStagingTrace(jitTrace);
  try {
    const inputs = avals.map((a) => jitTrace.input(a));
    const outputs = fn(inputs).map((o) => (raise(jitTrace, o) as JitTracer).variable);
    return { program: jitTrace.builder.build(name, outputs), captured: jitTrace.captured };
  } catch (error) {
    for (const t of jitTrace.captured) t.release();
    throw error;
  } finally {
    setStagingTrace(previous);
    popTrace(jitTrace);
  }
}

/**
 * Binds a program's equations one by one on `inputs` (under a jit trace: re-staged there). A whole
 * composite region (a softmax, a layer norm...) is bound as one op (bindCompositeRegion), so
 * that the programs derived from this one keep it.
 */
export function evaluateProgram(program: Program, inputs: readonly Tensor[]): Tensor[] {
  const values = new Map<Var, Tensor>();
  program.inputs.forEach((v, i) => {
    values.set(v, inputs[i] as Tensor);
  });
  const like = inputs[0];
  const read = (v: Var): Tensor => {
    let t = values.get(v);
    if (t === undefined) {
      const c = program.constants.get(v);
      if (c === undefined) throw new Error(`flint internal error: ${program.name} reads an undefined value`);
      t = c.kind === 'tensor' ? c.tensor : full(v.aval.shape, v.aval.dtype, c.value, like);
      values.set(v, t);
    }
    return t;
  };
  const stopped = program.stopGradients;
  const evaluate = (e: PrimitiveEquation, read: (v: Var) => Tensor): Tensor => {
    const out = bind(e.primitive, e.inputs.map(read), e.params);
    return stopped?.has(e.output) ? bindStopGradient(out) : out;
  };
  // Regions by their first equation; their other equations are skipped.
  const regionAt = new Map<number, WholeRegion>();
  const inRegion = new Set<number>();
  for (const whole of wholeRegions(program, () => true)) {
    regionAt.set(whole.members[0] as number, whole);
    for (const i of whole.members) inRegion.add(i);
  }
  program.equations.forEach((e, index) => {
    const whole = regionAt.get(index);
    if (whole !== undefined) {
      const { region, members } = whole;
      const body = (xs: readonly Tensor[]): Tensor[] => {
        const local = new Map<Var, Tensor>();
        region.inputs.forEach((v, i) => {
          local.set(v, xs[i] as Tensor);
        });
        const readLocal = (v: Var): Tensor => local.get(v) ?? read(v);
        for (const i of members) {
          const member = program.equations[i] as PrimitiveEquation;
          local.set(member.output, evaluate(member, readLocal));
        }
        return region.outputs.map(readLocal);
      };
      const results = bindCompositeRegion(region.call, region.inputs.map(read), body);
      region.outputs.forEach((v, i) => {
        values.set(v, results[i] as Tensor);
      });
      return;
    }
    if (inRegion.has(index)) return;
    if (e.kind === 'fusion' && e.composite !== undefined && isLinalgCall(e.composite)) {
      const results = bindLinalg(e.composite, e.inputs.map(read));
      e.outputs.forEach((v, i) => {
        values.set(v, results[i] as Tensor);
      });
      return;
    }
    const body = e.kind === 'primitive' ? [e] : e.body;
    for (const inner of body) values.set(inner.output, evaluate(inner, read));
  });
  return program.outputs.map(read);
}

const maskKey = (mask: readonly boolean[]): string => mask.map((b) => (b ? '1' : '0')).join('');

/**
 * A traced program as a staged call: compiled per backend on first run, and the source of the
 * calls derived from it (JVP, forward/backward split, batched), each traced once and cached.
 */
export class StagedProgram implements StagedCall {
  readonly name: string;
  readonly inputAvals: readonly Aval[];
  readonly outputAvals: readonly Aval[];
  private readonly compiledFor = new Map<Backend, Compiled>();
  private readonly derived = new Map<string, StagedProgram>();
  private readonly splits = new Map<string, StagedVjp>();
  /** The backward and joint calls specialized to symbolic-zero cotangents, per split. */
  private readonly specialized: Map<string, SpecializedCall>[] = [];
  private disposed = false;

  constructor(
    readonly program: Program,
    /** Tensors captured as constants, retained until `dispose()`. */
    private readonly captured: readonly Tensor[],
    private readonly counter: CompileCounter,
    /** Milliseconds the trace took, reported by the first compilation's `lowered`. */
    private traceTimeMs = 0,
  ) {
    this.name = program.name;
    this.inputAvals = program.inputs.map((v) => v.aval);
    this.outputAvals = program.outputs.map((v) => v.aval);
  }

  /** The program optimized and compiled for `backend` (once). */
  compiled(backend: Backend): Compiled {
    let entry = this.compiledFor.get(backend);
    if (entry !== undefined) return entry;
    const start = performance.now();
    const created: Tensor[] = [];
    try {
      const { program, records } = runPasses(this.program, {
        evaluate: (p, inputs, params) => evalPrimitive(p, inputs, params, backend),
        created,
        composites: (call) => hasCompositeKernel(backend.composites, call),
        recomputeScalars: backend.capabilities.recomputeScalars === true,
        compiles: (kernel) => compilesKernel(backend, kernel),
      });
      // Folded constants belong to the compilation, not to a tidy scope the first call ran in.
      for (const t of created) keep(t);
      const executable = new Executable(program, backend);
      const compileTimeMs = performance.now() - start + this.traceTimeMs;
      this.traceTimeMs = 0;
      const lowered: Lowered = {
        traced: this.program,
        optimized: program,
        passes: records,
        compileTimeMs,
        backend: backend.name,
        compiledKernels: executable.compiledKernels,
        fallbackKernels: executable.fallbackKernels,
        toString: () => printProgram(program),
      };
      entry = { executable, lowered, created };
    } catch (error) {
      for (const t of created) t.dispose();
      throw error;
    }
    this.counter.compiles++;
    this.compiledFor.set(backend, entry);
    return entry;
  }

  run(inputs: readonly Tensor[], consumable: readonly boolean[] | null = null): Tensor[] {
    let backend: Backend | null = null;
    const handles = new Array<unknown>(inputs.length);
    let owned: boolean[] | null = null;
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i] as Tensor;
      if (t._handle === undefined)
        throw new DisposedError(`${this.name}: input ${i} (shape [${t.shape.join(',')}], ${t.dtype}) was disposed`);
      const b = t._backend as Backend;
      if (backend === null) backend = b;
      else if (b !== backend) {
        throw new BackendError(
          `${this.name}: inputs live on different backends ('${backend.name}' and '${b.name}'); move them with t.to('${backend.name}')`,
        );
      }
      handles[i] = t._handle;
    }
    const target = backend ?? getBackend();
    const { executable } = this.compiled(target);
    if (consumable !== null) {
      // As jit's donation: the handle moves into the program only when nothing else can reach the data.
      owned = inputs.map((t, i) => {
        const alone =
          consumable[i] === true && t._retainCount === 0 && t._autograd === null && inputs.indexOf(t) === i && inputs.lastIndexOf(t) === i;
        if (alone) {
          t._handle = undefined;
          untrackTensor(t);
        }
        return alone;
      });
    }
    const results = executable.run(handles, owned);
    return this.outputAvals.map((a, i) => new Tensor(a.shape, a.dtype, target, results[i]));
  }

  inline(inputs: readonly Tensor[]): Tensor[] {
    return evaluateProgram(this.program, inputs);
  }

  private derive(key: string, name: string, avals: readonly Aval[], fn: (inputs: Tensor[]) => readonly Tensor[]): StagedProgram {
    let call = this.derived.get(key);
    if (call === undefined) {
      const start = performance.now();
      const { program, captured } = traceFlat(name, avals, fn);
      call = new StagedProgram(program, captured, this.counter, performance.now() - start);
      this.derived.set(key, call);
    }
    return call;
  }

  jvp(varying: readonly boolean[]): StagedCall {
    const n = this.inputAvals.length;
    const tangentAvals = this.inputAvals.filter((_, i) => varying[i]);
    const floatingOutputs = this.outputAvals.map((a, i) => (isFloating(a.dtype) ? i : -1)).filter((i) => i >= 0);
    return this.derive(`jvp:${maskKey(varying)}:${dispatchStateKey()}`, `${this.name}.jvp`, [...this.inputAvals, ...tangentAvals], (xs) => {
      const primals = xs.slice(0, n);
      let next = n;
      const tangents = varying.map((v) => (v ? (xs[next++] as Tensor) : null));
      const result = jvpFlat((inputs) => this.inline(inputs), primals, tangents, 'jvp');
      return [...result.outputs, ...floatingOutputs.map((i) => result.tangents[i] as Tensor)];
    });
  }

  batch(batched: readonly boolean[], axisSize: number): StagedCall {
    const avals = this.inputAvals.map((a, i) => (batched[i] ? { shape: [axisSize, ...a.shape], dtype: a.dtype } : a));
    const dims = batched.map((b) => (b ? 0 : null));
    return this.derive(`batch:${maskKey(batched)}:${axisSize}:${dispatchStateKey()}`, `${this.name}.vmap`, avals, (xs) =>
      vmapFlat((inputs) => this.inline(inputs), xs, dims, axisSize),
    );
  }

  vjp(wanted: readonly boolean[]): StagedVjp {
    // Derived calls are traced now, under the autocast state of this call: keyed on it.
    const key = `${maskKey(wanted)}:${dispatchStateKey()}`;
    let split = this.splits.get(key);
    if (split !== undefined) return split;
    const n = this.inputAvals.length;
    const cotangentOutputs = this.outputAvals.map((a, i) => (isFloating(a.dtype) ? i : -1)).filter((i) => i >= 0);
    const outputCount = this.outputAvals.length;
    const start = performance.now();
    const joint = traceFlat(this.name, [...this.inputAvals, ...cotangentOutputs.map((i) => this.outputAvals[i] as Aval)], (xs) => {
      const primals = xs.slice(0, n);
      const { outputs, pullback, release } = vjpFlat((inputs) => this.inline(inputs), primals, 'grad');
      const cotangents: (Tensor | null)[] = outputs.map(() => null);
      cotangentOutputs.forEach((o, k) => {
        cotangents[o] = xs[n + k] as Tensor;
      });
      const grads = pullback(cotangents);
      release();
      const wantedGrads: Tensor[] = [];
      wanted.forEach((w, i) => {
        if (w) wantedGrads.push(grads[i] ?? zerosLike(primals[i] as Tensor));
      });
      return [...outputs, ...wantedGrads];
    });
    const split0 = splitJoint(joint.program, n, outputCount);
    // The computed residuals are dead after the backward call, which is handed them to consume.
    const residualsDonated = split0.backward.inputs.map(
      (_, i) => i >= split0.residualInputs.length && i < split0.backward.inputs.length - cotangentOutputs.length,
    );
    const parts = { ...split0, backward: { ...split0.backward, donatedInputs: residualsDonated } };
    const traceTime = performance.now() - start;
    // The three calls read the joint trace's captured constants; each holds them until disposed.
    for (const t of joint.captured) {
      t.retain();
      t.retain();
    }
    const gradientsOnly = { ...joint.program, name: `${this.name}.joint`, outputs: joint.program.outputs.slice(outputCount) };
    const specialized = new Map<string, SpecializedCall>();
    this.specialized.push(specialized);
    const specialize = (zeroCotangents: readonly boolean[], jointCall: boolean): SpecializedCall => {
      const specializedKey = `${jointCall ? 'joint' : 'backward'}:${maskKey(zeroCotangents)}`;
      let made = specialized.get(specializedKey);
      if (made !== undefined) return made;
      const base = jointCall ? gradientsOnly : parts.backward;
      // Both programs take the cotangents last, and are linear in them.
      const first = base.inputs.length - cotangentOutputs.length;
      const linear = base.inputs.map((_, i) => i >= first);
      const zero = base.inputs.map((_, i) => i >= first && zeroCotangents[i - first] === true);
      const { program, zeroOutputs } = specializeZeros(base, linear, zero);
      for (const t of joint.captured) t.retain();
      made = { call: new StagedProgram(program, [...joint.captured], this.counter), zeroOutputs };
      specialized.set(specializedKey, made);
      return made;
    };
    split = {
      forward: new StagedProgram(parts.forward, joint.captured, this.counter, traceTime),
      backward: new StagedProgram(parts.backward, [...joint.captured], this.counter),
      joint: new StagedProgram(gradientsOnly, [...joint.captured], this.counter),
      outputCount,
      residualInputs: parts.residualInputs,
      cotangentOutputs,
      specialize,
    };
    this.splits.set(key, split);
    return split;
  }

  /** Releases what this call and the calls derived from it hold. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.compiledFor.values()) {
      c.executable.dispose();
      for (const t of c.created) t.dispose();
    }
    this.compiledFor.clear();
    for (const t of this.captured) t.release();
    for (const d of this.derived.values()) d.dispose();
    for (const s of this.splits.values()) {
      (s.forward as StagedProgram).dispose();
      (s.backward as StagedProgram).dispose();
      (s.joint as StagedProgram).dispose();
    }
    for (const calls of this.specialized) for (const c of calls.values()) (c.call as StagedProgram).dispose();
    this.derived.clear();
    this.splits.clear();
    this.specialized.length = 0;
  }
}
