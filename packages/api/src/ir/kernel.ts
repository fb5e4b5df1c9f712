import type { Aval } from '../core/aval.js';
import { sizeOf } from '../core/shape.js';
import { type ParamsOf, Primitive, type ReducePrimitive } from '../primitives/primitive.js';
import { printProgram } from './print.js';
import type { Constant, FusionEquation, FusionKind, Program, Var } from './program.js';

/** The kinds of fused kernel a backend's compile hook receives (composites go to Backend.composites). */
export type KernelKind = Exclude<FusionKind, 'composite'>;

/** An operand of a kernel op: a kernel input, the result of an earlier op, or a literal filling the op's shape. */
export type KernelRef =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'op'; readonly index: number }
  | { readonly kind: 'literal'; readonly value: number };

/** One primitive inside a fused kernel. */
export interface KernelOp<P extends Primitive = Primitive> {
  readonly primitive: P;
  readonly params: ParamsOf<P>;
  readonly args: readonly KernelRef[];
  readonly aval: Aval;
}

/**
 * A fused kernel as a backend's `compile` hook receives it: the IR of one fusion group, self
 * contained. What `kind` promises about `ops` (jit's fusion pass guarantees it):
 *  - 'elementwise': every op is elementwise (unary, binary, where, cast) or a broadcast of an
 *    input, and every op has the same shape;
 *  - 'reduction': as 'elementwise', over the reduction's input shape, plus one reduction
 *    (reduceSum/Max/Min/Prod) of one of those values, as the last op;
 *  - 'contraction': op 0 is a dotGeneral or conv of two inputs; the other ops are an elementwise
 *    epilogue with the shape of op 0's result.
 */
export interface KernelProgram {
  readonly kind: KernelKind;
  readonly inputs: readonly Aval[];
  readonly ops: readonly KernelOp[];
  /** The ops whose results the kernel returns, in order. */
  readonly outputs: readonly number[];
  /**
   * Per input: the program will not read it after this kernel, so the kernel may write an output
   * of the same shape and dtype into its buffer when the caller hands it over (see CompiledKernel).
   */
  readonly reusable: readonly boolean[];
  /** The fusion as printed IR, for error messages and debugging. */
  readonly text: string;
}

/** A backend's compiled form of a KernelProgram. */
export interface CompiledKernel<H> {
  /**
   * Runs the kernel on `inputs` (one handle per kernel input) and returns one new handle per
   * output. `consumable[i]` is true when the caller owns `inputs[i]` and will not read it again:
   * the kernel may then write an output into that buffer (when nothing else views it) and return
   * the handle itself as that output. The caller disposes the consumable inputs that did not come
   * back as outputs; the kernel never disposes an input.
   */
  run(inputs: readonly H[], consumable: readonly boolean[]): H[];
}

/** The self-contained kernel description of a fusion equation of `program`. */
export function kernelOf(program: Program, fusion: FusionEquation, reusable: readonly boolean[] | null): KernelProgram {
  const kind = fusion.fusion;
  if (kind === 'composite') throw new Error('flint internal error: a composite equation is not a compiled kernel');
  const refs = new Map<Var, KernelRef>();
  const inputs: Aval[] = [];
  const inputReusable: boolean[] = [];
  fusion.inputs.forEach((v, i) => {
    const c: Constant | undefined = program.constants.get(v);
    if (c?.kind === 'literal') refs.set(v, { kind: 'literal', value: c.value });
    else {
      refs.set(v, { kind: 'input', index: inputs.length });
      inputs.push(v.aval);
      inputReusable.push(reusable?.[i] === true);
    }
  });
  const ops: KernelOp[] = fusion.body.map((e, index) => {
    const op: KernelOp = {
      primitive: e.primitive,
      params: e.params,
      args: e.inputs.map((v) => refs.get(v) as KernelRef),
      aval: e.output.aval,
    };
    refs.set(e.output, { kind: 'op', index });
    return op;
  });
  const outputs = fusion.outputs.map((v) => (refs.get(v) as { index: number }).index);
  const text = printProgram({
    name: `${fusion.fusion}_kernel`,
    inputs: [],
    constants: program.constants,
    equations: [fusion],
    outputs: fusion.outputs,
  });
  return { kind, inputs, ops, outputs, reusable: inputReusable, text };
}

/** The kernel-input positions of a fusion's non-literal inputs, in order. */
export function kernelInputVars(program: Program, fusion: FusionEquation): Var[] {
  return fusion.inputs.filter((v) => program.constants.get(v)?.kind !== 'literal');
}

/**
 * A 'contraction' kernel taken apart for a backend that runs the contraction with its own kernel
 * and the epilogue after it: the contraction (op 0, a dotGeneral or conv of kernel inputs `lhs`
 * and `rhs`), and the epilogue as an 'elementwise' kernel whose input 0 is the contraction's
 * result and whose other inputs are the kernel inputs it reads, in order (null when there are no
 * other ops).
 */
export interface SplitContraction {
  readonly head: KernelOp;
  readonly lhs: number;
  readonly rhs: number;
  readonly epilogue: KernelProgram | null;
  /** Whether the contraction's result is itself one of the kernel's outputs (else the epilogue may consume it). */
  readonly resultIsOutput: boolean;
  /** The epilogue's arguments (handles, or flags such as `consumable`): the result's, then those of the inputs it reads. */
  epilogueArgs<T>(result: T, inputs: readonly T[]): T[];
  /** The kernel's outputs in order, from the contraction's result and the epilogue's outputs. */
  assemble<H>(result: H, epilogueOutputs: readonly H[]): H[];
}

/** `kernel` as its contraction and epilogue (see SplitContraction), or null when op 0 is not a contraction of two inputs. */
export function splitContraction(kernel: KernelProgram): SplitContraction | null {
  const head = kernel.ops[0];
  if (kernel.kind !== 'contraction' || head === undefined) return null;
  if (head.primitive !== Primitive.DotGeneral && head.primitive !== Primitive.Conv) return null;
  const [lhs, rhs] = head.args as [KernelRef | undefined, KernelRef | undefined];
  if (lhs?.kind !== 'input' || rhs?.kind !== 'input') return null;
  const resultIsOutput = kernel.outputs.includes(0);
  // The epilogue reads the result as its input 0 and only the kernel inputs its ops name (the
  // contraction's operands often not), renumbered in order after it.
  const read = [...new Set(kernel.ops.slice(1).flatMap((op) => op.args.filter((a) => a.kind === 'input').map((a) => a.index)))].sort(
    (a, b) => a - b,
  );
  const renumbered = new Map(read.map((index, i) => [index, i + 1]));
  const epilogueRef = (ref: KernelRef): KernelRef => {
    if (ref.kind === 'literal') return ref;
    if (ref.kind === 'input') return { kind: 'input', index: renumbered.get(ref.index) as number };
    return ref.index === 0 ? { kind: 'input', index: 0 } : { kind: 'op', index: ref.index - 1 };
  };
  const ops = kernel.ops.slice(1).map((op) => ({ ...op, args: op.args.map(epilogueRef) }));
  const epilogueArgs = <T>(result: T, inputs: readonly T[]): T[] => [result, ...read.map((index) => inputs[index] as T)];
  const epilogue: KernelProgram | null =
    ops.length === 0
      ? null
      : {
          kind: 'elementwise',
          inputs: epilogueArgs(head.aval, kernel.inputs),
          ops,
          outputs: kernel.outputs.filter((o) => o !== 0).map((o) => o - 1),
          reusable: epilogueArgs(!resultIsOutput, kernel.reusable),
          text: kernel.text,
        };
  return {
    head,
    lhs: lhs.index,
    rhs: rhs.index,
    epilogue,
    resultIsOutput,
    epilogueArgs,
    assemble<H>(result: H, epilogueOutputs: readonly H[]): H[] {
      let next = 0;
      return kernel.outputs.map((o) => (o === 0 ? result : (epilogueOutputs[next++] as H)));
    },
  };
}

/**
 * A 'reduction' kernel that folds leading axes into many neighbouring outputs (a bias's gradient,
 * `sum(g, 0)` of a [tokens, features] cotangent), taken apart for a backend whose own reduction
 * reads such columns a row of outputs at a time, where a generated kernel would take one output
 * per thread group and read it down one column: its elementwise prologue (null when the kernel
 * reduces an input and returns nothing else), then the reduction of the value the prologue
 * writes (or of that input).
 */
export interface SplitColumnReduction {
  readonly reduction: KernelOp<ReducePrimitive>;
  /** An 'elementwise' kernel over the kernel's inputs returning `returned`'s ops, in order. */
  readonly prologue: KernelProgram | null;
  /** The reduction's operand, from the kernel's inputs and the prologue's outputs. */
  operand<H>(inputs: readonly H[], prologueOutputs: readonly H[]): H;
  /** Whether that operand is an intermediate nothing returns (the caller frees it after the reduction). */
  readonly operandIsTemporary: boolean;
  /** The kernel's outputs in order, from the reduction's result and the prologue's outputs. */
  assemble<H>(result: H, prologueOutputs: readonly H[]): H[];
}

/**
 * `kernel` as its prologue and a column reduction (see SplitColumnReduction), or null unless its
 * last op (one of its outputs) reduces leading axes into at least 32 outputs of more than 32
 * elements each.
 */
export function splitColumnReduction(kernel: KernelProgram): SplitColumnReduction | null {
  const last = kernel.ops.length - 1;
  const reduction = kernel.ops[last];
  if (kernel.kind !== 'reduction' || reduction === undefined || !kernel.outputs.includes(last)) return null;
  if (!REDUCTIONS.has(reduction.primitive)) return null;
  const argument = reduction.args[0];
  if (argument === undefined || argument.kind === 'literal') return null;
  const shape =
    argument.kind === 'input' ? (kernel.inputs[argument.index] as Aval).shape : (kernel.ops[argument.index] as KernelOp).aval.shape;
  const { axes } = reduction.params as ParamsOf<ReducePrimitive>;
  if (axes.length === 0 || axes.length >= shape.length || !axes.every((axis, i) => axis === i)) return null;
  if (sizeOf(shape.slice(0, axes.length)) <= 32 || sizeOf(shape.slice(axes.length)) < 32) return null;
  // The prologue returns the reduced value (when an op makes it) and the kernel's other outputs.
  const returned = [...new Set([...(argument.kind === 'op' ? [argument.index] : []), ...kernel.outputs.filter((o) => o !== last)])];
  const prologue: KernelProgram | null =
    returned.length === 0
      ? null
      : {
          kind: 'elementwise',
          inputs: kernel.inputs,
          ops: kernel.ops.slice(0, last),
          outputs: returned,
          reusable: kernel.reusable,
          text: `${kernel.text}\n(the prologue of a column reduction)`,
        };
  const returnedValue = <H>(prologueOutputs: readonly H[], index: number): H => prologueOutputs[returned.indexOf(index)] as H;
  return {
    reduction: reduction as KernelOp<ReducePrimitive>,
    prologue,
    operand: <H>(inputs: readonly H[], prologueOutputs: readonly H[]): H =>
      argument.kind === 'input' ? (inputs[argument.index] as H) : returnedValue(prologueOutputs, argument.index),
    operandIsTemporary: argument.kind === 'op' && !kernel.outputs.includes(argument.index),
    assemble: <H>(result: H, prologueOutputs: readonly H[]): H[] =>
      kernel.outputs.map((o) => (o === last ? result : returnedValue(prologueOutputs, o))),
  };
}

/**
 * The compiled kernel of a split column reduction: the compiled `prologue` (null when the split
 * has none), then `reduce` of the operand. `release` frees a handle the kernel made: the
 * prologue's outputs when the reduction throws, the temporary operand once it is reduced. No
 * input is handed to the prologue: the reduction still reads the value it writes.
 */
export function columnReductionKernel<H>(
  split: SplitColumnReduction,
  prologue: CompiledKernel<H> | null,
  reduce: (operand: H) => H,
  release: (handle: H) => void,
): CompiledKernel<H> {
  return {
    run(inputs: readonly H[]): H[] {
      const produced = prologue === null ? [] : prologue.run(inputs, []);
      const operand = split.operand(inputs, produced);
      let result: H;
      try {
        result = reduce(operand);
      } catch (error) {
        for (const h of produced) release(h);
        throw error;
      }
      if (split.operandIsTemporary) release(operand);
      return split.assemble(result, produced);
    },
  };
}

const REDUCTIONS: ReadonlySet<Primitive> = new Set([Primitive.ReduceSum, Primitive.ReduceMax, Primitive.ReduceMin, Primitive.ReduceProd]);
