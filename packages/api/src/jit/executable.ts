import { checkBackendDType } from '../backend/capabilities.js';
import { runCompositeKernel } from '../backend/composite-kernels.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { BackendError } from '../core/errors.js';
import { compositeArity, isLinalgCall, type LinalgCall } from '../ir/composite.js';
import { type CompiledKernel, kernelInputVars, kernelOf } from '../ir/kernel.js';
import type { FusionEquation, PrimitiveEquation, Program, Var } from '../ir/program.js';
import { Primitive } from '../primitives/primitive.js';
import { tidy, untrackTensor } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { linalgComposite } from '../transforms/linalg-calls.js';

type AnyKernel = (inputs: readonly unknown[], params: unknown, out: Aval) => unknown;

/**
 * One step of a compiled program: reads handles from `slots`, writes its outputs' handles there.
 * `owned[s]` says whether the program owns slot s's handle (intermediates; donated inputs).
 */
type Step = (slots: unknown[], owned: boolean[]) => void;

/**
 * A program lowered for one backend: a flat list of steps over numbered slots (one per Var),
 * each a kernel call, a compiled fused kernel, or a fused group run op by op where the backend
 * cannot compile it, with every intermediate buffer released after its last use (the memory
 * plan). Running it allocates nothing on the way but the slot arrays and the kernels' outputs.
 */
export class Executable {
  private readonly steps: Step[] = [];
  private readonly slotCount: number;
  private readonly inputSlots: number[];
  private readonly outputSlots: number[];
  private readonly outputAvals: Aval[];
  /** Slots prefilled with constant handles (never owned by a run). */
  private readonly constantSlots: [number, unknown][] = [];
  /** Handles this executable made (literals materialized for unfused ops); disposed with it. */
  private readonly madeHandles: unknown[] = [];
  private readonly ownedTemplate: boolean[];
  private readonly unusedInputSlots: number[];
  /** How many fused kernels the backend compiled, and how many run op by op. */
  readonly compiledKernels: number = 0;
  readonly fallbackKernels: number = 0;

  constructor(
    readonly program: Program,
    readonly backend: Backend,
  ) {
    const slot = new Map<Var, number>();
    let next = 0;
    const slotOf = (v: Var): number => {
      let s = slot.get(v);
      if (s === undefined) {
        s = next++;
        slot.set(v, s);
      }
      return s;
    };
    this.inputSlots = program.inputs.map(slotOf);
    for (const [v, c] of program.constants) {
      if (c.kind === 'tensor') {
        if (c.tensor._backend !== backend) {
          throw new BackendError(
            `jit: a tensor captured by the function lives on backend '${c.tensor.backend}', but the call runs on '${backend.name}'; move it with t.to('${backend.name}') or pass it as an argument`,
          );
        }
        this.constantSlots.push([slotOf(v), c.tensor._handle]);
      }
    }
    const literalHandle = (v: Var): void => {
      if (slot.has(v)) return;
      const c = program.constants.get(v);
      if (c?.kind !== 'literal') return;
      this.constantSlots.push([slotOf(v), this.materializeLiteral(c.value, v.aval)]);
    };
    const memory = program.memory;
    let compiled = 0;
    let fallback = 0;
    program.equations.forEach((e, index) => {
      for (const p of e.kind === 'primitive' ? [e] : e.body) checkBackendDType('jit', backend, p.output.aval.dtype);
      let step: Step;
      if (e.kind === 'primitive') {
        for (const v of e.inputs) literalHandle(v);
        step = this.primitiveStep(e, slotOf);
      } else if (e.composite !== undefined) {
        for (const v of e.inputs) literalHandle(v);
        step = this.compositeStep(e, slotOf);
      } else {
        const kernel = kernelOf(program, e, memory?.reusable[index] ?? null);
        let compiledKernel: CompiledKernel<unknown> | null = null;
        try {
          compiledKernel = backend.compile?.(kernel) ?? null;
        } catch {
          compiledKernel = null;
        }
        if (compiledKernel !== null) {
          compiled++;
          step = this.compiledStep(kernelInputVars(program, e), e.outputs, kernel.reusable, compiledKernel, slotOf);
        } else {
          fallback++;
          for (const v of e.inputs) literalHandle(v);
          step = this.fallbackStep(e, slotOf);
        }
      }
      const frees = (memory?.freeAfter[index] ?? []).filter((v) => !program.constants.has(v)).map(slotOf);
      this.steps.push(frees.length === 0 ? step : this.withFrees(step, frees));
    });
    (this as { compiledKernels: number }).compiledKernels = compiled;
    (this as { fallbackKernels: number }).fallbackKernels = fallback;
    for (const v of program.outputs) literalHandle(v);
    this.outputSlots = program.outputs.map(slotOf);
    this.outputAvals = program.outputs.map((v) => v.aval);
    this.unusedInputSlots = (memory?.unused ?? []).map(slotOf);
    this.slotCount = next;
    this.ownedTemplate = new Array<boolean>(next).fill(true);
    for (const s of this.inputSlots) this.ownedTemplate[s] = false;
    for (const [s] of this.constantSlots) this.ownedTemplate[s] = false;
  }

  private kernel(p: Primitive): AnyKernel {
    return this.backend.kernels[p] as unknown as AnyKernel;
  }

  private materializeLiteral(value: number, aval: Aval): unknown {
    checkBackendDType('jit', this.backend, aval.dtype);
    const scalar = this.kernel(Primitive.Full)([], { shape: [], dtype: aval.dtype, value }, { shape: [], dtype: aval.dtype });
    if (aval.shape.length === 0) {
      this.madeHandles.push(scalar);
      return scalar;
    }
    const wide = this.kernel(Primitive.Broadcast)([scalar], { shape: [...aval.shape] }, aval);
    this.backend.dispose(scalar);
    this.madeHandles.push(wide);
    return wide;
  }

  private primitiveStep(e: PrimitiveEquation, slotOf: (v: Var) => number): Step {
    const kernel = this.kernel(e.primitive);
    const ins = e.inputs.map(slotOf);
    const out = slotOf(e.output);
    const aval = e.output.aval;
    const params = e.params;
    const n = ins.length;
    if (n === 1) {
      const a = ins[0] as number;
      return (slots) => {
        slots[out] = kernel([slots[a]], params, aval);
      };
    }
    if (n === 2) {
      const a = ins[0] as number;
      const b = ins[1] as number;
      return (slots) => {
        slots[out] = kernel([slots[a], slots[b]], params, aval);
      };
    }
    return (slots) => {
      const handles = new Array<unknown>(n);
      for (let i = 0; i < n; i++) handles[i] = slots[ins[i] as number];
      slots[out] = kernel(handles, params, aval);
    };
  }

  private compiledStep(
    inputs: readonly Var[],
    outputs: readonly Var[],
    reusable: readonly boolean[],
    kernel: CompiledKernel<unknown>,
    slotOf: (v: Var) => number,
  ): Step {
    const ins = inputs.map(slotOf);
    const outs = outputs.map(slotOf);
    const n = ins.length;
    const anyReusable = reusable.some((r) => r);
    const never = new Array<boolean>(n).fill(false);
    return (slots, owned) => {
      const handles = new Array<unknown>(n);
      for (let i = 0; i < n; i++) handles[i] = slots[ins[i] as number];
      let consumable = never;
      if (anyReusable) {
        consumable = new Array<boolean>(n);
        for (let i = 0; i < n; i++) consumable[i] = reusable[i] === true && owned[ins[i] as number] === true;
      }
      const results = kernel.run(handles, consumable);
      for (let j = 0; j < outs.length; j++) slots[outs[j] as number] = results[j];
      if (anyReusable) {
        // An input the kernel wrote into now lives on as an output: its slot must not free it.
        for (let i = 0; i < n; i++) if (consumable[i] && results.includes(handles[i])) slots[ins[i] as number] = undefined;
      }
    };
  }

  /**
   * A composite (softmax, layer norm) by the backend's fused kernel, or by its primitives on a
   * call where the kernel declines.
   */
  private compositeStep(e: FusionEquation, slotOf: (v: Var) => number): Step {
    const call = e.composite as NonNullable<FusionEquation['composite']>;
    const ins = e.inputs.slice(0, compositeArity(call)).map(slotOf);
    const outs = e.outputs.map(slotOf);
    const avals = e.outputs.map((v) => v.aval);
    const primitives = isLinalgCall(call) ? this.linalgStep(call, e, slotOf) : this.fallbackStep(e, slotOf);
    const backend = this.backend;
    return (slots, owned) => {
      const handles = new Array<unknown>(ins.length);
      for (let i = 0; i < ins.length; i++) handles[i] = slots[ins[i] as number];
      const results = runCompositeKernel(backend, call, handles, avals);
      if (results === null) {
        primitives(slots, owned);
        return;
      }
      for (let j = 0; j < outs.length; j++) slots[outs[j] as number] = results[j];
    };
  }

  /**
   * A linear-algebra call whose kernel declined (or that the backend lacks): its composite, run
   * eagerly on the inputs' buffers (no trace is active while a program runs), so that the sweeps
   * stop when they converge. The results' buffers go to the output slots.
   */
  private linalgStep(call: LinalgCall, e: FusionEquation, slotOf: (v: Var) => number): Step {
    const ins = e.inputs.map(slotOf);
    const inputAvals = e.inputs.map((v) => v.aval);
    const outs = e.outputs.map(slotOf);
    const backend = this.backend;
    return (slots) => {
      // Borrowed: the slots keep the buffers, so the wrappers are untracked and emptied afterwards.
      const inputs = ins.map((s, i) => new Tensor((inputAvals[i] as Aval).shape, (inputAvals[i] as Aval).dtype, backend, slots[s]));
      try {
        const results = tidy(() => linalgComposite(call, inputs));
        results.forEach((r, j) => {
          if (inputs.includes(r)) {
            // The composite handed an input back as it is (a trivial case): the output gets its own view.
            slots[outs[j] as number] = this.kernel(Primitive.Reshape)([r._handle], { shape: [...r.shape] }, r);
            return;
          }
          slots[outs[j] as number] = r._handle;
          r._handle = undefined;
          untrackTensor(r);
        });
      } finally {
        for (const x of inputs) {
          x._handle = undefined;
          untrackTensor(x);
        }
      }
    };
  }

  /** A fused group run primitive by primitive, freeing its temporaries as it goes. */
  private fallbackStep(e: FusionEquation, slotOf: (v: Var) => number): Step {
    const local = new Map<Var, number>();
    for (const v of e.inputs) local.set(v, -1 - slotOf(v));
    const outputsSet = new Set(e.outputs);
    const body = e.body.map((inner, index) => {
      local.set(inner.output, index);
      return inner;
    });
    const lastUse = new Map<Var, number>();
    body.forEach((inner, index) => {
      for (const v of inner.inputs) lastUse.set(v, index);
    });
    const plan = body.map((inner, index) => ({
      kernel: this.kernel(inner.primitive),
      params: inner.params,
      aval: inner.output.aval,
      args: inner.inputs.map((v) => local.get(v) as number),
      // Body temporaries that die here (not outputs of the fusion).
      frees: body
        .filter((b, j) => j < index + 1 && !outputsSet.has(b.output) && lastUse.get(b.output) === index)
        .map((b) => local.get(b.output) as number),
    }));
    const outputSlots = e.outputs.map((v) => [local.get(v) as number, slotOf(v)] as const);
    const backend = this.backend;
    return (slots) => {
      const values = new Array<unknown>(plan.length);
      for (let k = 0; k < plan.length; k++) {
        const p = plan[k] as (typeof plan)[number];
        const handles = p.args.map((a) => (a < 0 ? slots[-1 - a] : values[a]));
        values[k] = p.kernel(handles, p.params, p.aval);
        for (const f of p.frees) backend.dispose(values[f]);
      }
      for (const [from, to] of outputSlots) slots[to] = values[from];
    };
  }

  private withFrees(step: Step, frees: readonly number[]): Step {
    const backend = this.backend;
    return (slots, owned) => {
      step(slots, owned);
      for (let i = 0; i < frees.length; i++) {
        const s = frees[i] as number;
        const h = slots[s];
        if (h !== undefined && owned[s]) {
          backend.dispose(h);
          slots[s] = undefined;
        }
      }
    };
  }

  /**
   * Runs the program. `owned[i]` says the caller hands input i's handle over (a donated
   * argument): the program may then free or overwrite it. Returns one new handle per output.
   */
  run(inputs: readonly unknown[], ownedInputs: readonly boolean[] | null): unknown[] {
    const slots = new Array<unknown>(this.slotCount);
    const owned = this.ownedTemplate.slice();
    for (let i = 0; i < this.inputSlots.length; i++) {
      const s = this.inputSlots[i] as number;
      slots[s] = inputs[i];
      if (ownedInputs !== null && ownedInputs[i] === true) owned[s] = true;
    }
    for (let i = 0; i < this.constantSlots.length; i++) {
      const [s, h] = this.constantSlots[i] as [number, unknown];
      slots[s] = h;
    }
    const backend = this.backend;
    try {
      for (const s of this.unusedInputSlots) {
        if (owned[s] && slots[s] !== undefined) {
          backend.dispose(slots[s]);
          slots[s] = undefined;
        }
      }
      const steps = this.steps;
      for (let i = 0; i < steps.length; i++) (steps[i] as Step)(slots, owned);
    } catch (error) {
      for (let s = 0; s < slots.length; s++) if (owned[s] && slots[s] !== undefined) backend.dispose(slots[s]);
      throw error;
    }
    const results = new Array<unknown>(this.outputSlots.length);
    for (let i = 0; i < this.outputSlots.length; i++) {
      const s = this.outputSlots[i] as number;
      const aval = this.outputAvals[i] as Aval;
      if (owned[s] && slots[s] !== undefined) {
        results[i] = slots[s];
        owned[s] = false; // a second output of the same Var gets its own handle
      } else {
        // An input the caller keeps, a constant, or a repeated output: a new handle viewing it.
        results[i] = this.kernel(Primitive.Reshape)([slots[s]], { shape: [...aval.shape] }, aval);
      }
    }
    // Donated inputs read by nothing after their last step were freed there; outputs are handed out.
    return results;
  }

  /** Releases the handles the executable made (captured tensors belong to the jit cache). */
  dispose(): void {
    for (const h of this.madeHandles) this.backend.dispose(h);
    this.madeHandles.length = 0;
  }
}
