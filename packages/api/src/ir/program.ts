import type { Aval } from '../core/aval.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CompositeCall, CompositeRegion } from './composite.js';

// Flint's jit IR: a program in SSA form. Every value is a `Var`, defined once (a program input, a
// constant, or the output of one equation) and never reassigned; equations are listed in an order
// where each one's inputs are defined before it. All primitives have a single output, so a plain
// equation defines one Var; a fusion equation (made by the fusion pass) groups several
// primitives that run as one kernel and may define several.

/** One SSA value: an id unique within its program and the abstract value (shape, dtype). */
export class Var {
  constructor(
    readonly id: number,
    readonly aval: Aval,
  ) {}
}

/**
 * A value known when the program is compiled. A literal fills its Var's whole shape with one
 * number (scalars written in user code, `zeros`, `full`, broadcasts of those); a tensor constant
 * is data captured from outside the traced function or folded at compile time.
 */
export type Constant = { readonly kind: 'literal'; readonly value: number } | { readonly kind: 'tensor'; readonly tensor: Tensor };

/** `output = primitive[params](...inputs)`. */
export interface PrimitiveEquation<P extends Primitive = Primitive> {
  readonly kind: 'primitive';
  readonly primitive: P;
  readonly params: ParamsOf<P>;
  readonly inputs: readonly Var[];
  readonly output: Var;
}

/**
 * The shapes of fused kernel the fusion pass forms (each one kernel on a backend with a compile
 * hook): a chain of elementwise ops over one shape; elementwise producers feeding one reduction;
 * a contraction (dotGeneral or conv) with an elementwise epilogue on its output. A 'composite'
 * (made by the composite-formation pass, not by fusion) is a softmax or layer norm that the
 * backend's fused kernel computes, its body the primitives that compute it where the kernel declines;
 * a matrix decomposition is staged as one by jit itself, with no body (see LinalgCall).
 */
export type FusionKind = 'elementwise' | 'reduction' | 'contraction' | 'composite';

/**
 * Several primitives run as one kernel. `body` is in SSA order and reads only `inputs` (every Var
 * defined outside the group that it reads, literal constants included) and its own Vars;
 * `outputs` are the body's Vars that something outside the group uses.
 */
export interface FusionEquation {
  readonly kind: 'fusion';
  readonly fusion: FusionKind;
  readonly inputs: readonly Var[];
  readonly body: readonly PrimitiveEquation[];
  readonly outputs: readonly Var[];
  /**
   * For a 'composite': which one. Its kernel's arguments are the first `compositeArity(call)`
   * inputs, and its results are `outputs`, in order; the body is kept whole.
   */
  readonly composite?: CompositeCall;
}

export type Equation = PrimitiveEquation | FusionEquation;

/**
 * What the memory-planning pass decides, by equation index: which Vars are dead after the
 * equation (their buffers freed at once), and, for fused kernels, which inputs die there and may
 * lend their buffer to an output (in-place update). Inputs of the program are freed or reused only
 * when the caller donated them.
 */
export interface MemoryPlan {
  /** Inputs of the program that no equation reads (freed on entry when donated). */
  readonly unused: readonly Var[];
  readonly freeAfter: readonly (readonly Var[])[];
  /** Per equation, per input of a fusion: the input dies there and an output of its shape and dtype may take its buffer. */
  readonly reusable: readonly (readonly boolean[] | null)[];
  /** Bytes of the largest set of intermediate values alive at once (program inputs and constants excluded). */
  readonly peakBytes: number;
  /** Bytes of intermediate values the plan expects to write into a buffer they took over. */
  readonly reusedBytes: number;
}

/** A traced function: inputs, constants, equations in SSA order, outputs. */
export interface Program {
  /** Printed in the header (the traced function's name). */
  readonly name: string;
  readonly inputs: readonly Var[];
  readonly constants: ReadonlyMap<Var, Constant>;
  readonly equations: readonly Equation[];
  readonly outputs: readonly Var[];
  readonly memory?: MemoryPlan;
  /**
   * Values whose derivative is cut (stopGradient), each defined by an identity reshape. Only the
   * traced program needs them: the transforms derive the JVP, backward and batched programs of a
   * jitted call from it. The passes may drop them (what runs computes the same values).
   */
  readonly stopGradients?: ReadonlySet<Var>;
  /**
   * Set when the traced function called a function with a user-defined derivative (customJvp,
   * customVjp, checkpoint): the program holds its primal computation only, so transforms of the
   * call must run the function itself.
   */
  readonly customRules?: boolean;
  /** Composites traced into the program (softmax, layer norm), for the composite-formation pass. */
  readonly composites?: readonly CompositeRegion[];
  /**
   * Per input: the caller hands it over on every call (jit's donated arguments, the residuals a
   * backward program consumes), so the memory plan counts writing an output into it as reuse.
   * What a call actually hands over is decided when it runs.
   */
  readonly donatedInputs?: readonly boolean[];
}

/** The Vars an equation defines. */
export function definedBy(equation: Equation): readonly Var[] {
  return equation.kind === 'primitive' ? [equation.output] : equation.outputs;
}

/**
 * `e` reading `rename(v)` for each Var v it reads, a fusion's body included (its own Vars are
 * never renamed); `e` itself when nothing changes.
 */
export function renameInputs(e: Equation, rename: (v: Var) => Var): Equation {
  const inputs = e.inputs.map(rename);
  if (inputs.every((v, i) => v === e.inputs[i])) return e;
  if (e.kind === 'primitive') return { ...e, inputs };
  return { ...e, inputs, body: e.body.map((inner) => ({ ...inner, inputs: inner.inputs.map(rename) })) };
}

/** A fresh-id source for passes that create Vars: one past the largest id in `program`. */
export class VarFactory {
  private next: number;

  constructor(program?: Program) {
    let max = -1;
    if (program !== undefined) {
      for (const v of program.inputs) max = Math.max(max, v.id);
      for (const v of program.constants.keys()) max = Math.max(max, v.id);
      for (const e of program.equations) {
        for (const v of definedBy(e)) max = Math.max(max, v.id);
        if (e.kind === 'fusion') for (const inner of e.body) max = Math.max(max, inner.output.id);
      }
    }
    this.next = max + 1;
  }

  make(aval: Aval): Var {
    return new Var(this.next++, { shape: aval.shape, dtype: aval.dtype });
  }
}

/** The literal value of `v`, or undefined when it is not a literal constant. */
export function literalOf(program: Program, v: Var): number | undefined {
  const c = program.constants.get(v);
  return c !== undefined && c.kind === 'literal' ? c.value : undefined;
}

/** How many times each Var is read (equation inputs, fusions' outer inputs, program outputs). */
export function useCounts(program: Program): Map<Var, number> {
  const counts = new Map<Var, number>();
  const use = (v: Var): void => {
    counts.set(v, (counts.get(v) ?? 0) + 1);
  };
  for (const e of program.equations) for (const v of e.inputs) use(v);
  for (const v of program.outputs) use(v);
  return counts;
}

/** A copy of `program` with some fields replaced. The memory plan is dropped unless given: it describes one equation list. */
export function withChanges(program: Program, changes: Partial<Omit<Program, 'name'>>): Program {
  const { memory: _memory, ...rest } = program;
  return { ...rest, ...changes };
}
