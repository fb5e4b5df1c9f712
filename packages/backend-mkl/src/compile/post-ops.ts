import { type CompiledKernel, type KernelProgram, type KernelRef, type ParamsOf, Primitive, sizeOf, type TypedArray } from '@flint/api';
import { isContiguous, layoutOf, type MklHandle, wrap } from '../handle.js';
import { convParamsOf } from '../kernels/conv.js';
import { asRank3 } from '../kernels/dot.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';

export interface PostOpsContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  /** Counts a contraction run with its epilogue fused as oneDNN post-ops (for tests and profiling). */
  readonly recordFused: () => void;
}

// oneDNN post-op kinds as the addon decodes them (native/matmul.cc, matmulPostOps). Kind 1,
// oneDNN's relu, is not planned: with a zero slope it is a vector max that turns NaN into 0 and
// -0 into +0, where Flint's relu and max(x, 0) keep NaN (a diverging activation must reach the
// loss, not be zeroed inside a jitted layer) and relu keeps -0. A ReLU epilogue runs the generic
// path: the product, then one in-place pass.
const LINEAR = 0;
const TANH = 2;
const LOGISTIC = 3;
const ADD = 4;
const MUL = 5;
/** Binary operand layouts: a row of n values broadcast over batch and rows, or the whole result. */
const ROW = 0;
const FULL = 1;

interface BinaryOperand {
  /** Kernel input whose values the post-op reads. */
  readonly input: number;
  readonly layout: typeof ROW | typeof FULL;
  readonly size: number;
}

interface Plan {
  /** [kind, alpha, beta, layout] per post-op. */
  readonly encoded: Float64Array;
  readonly operands: readonly BinaryOperand[];
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The epilogue of a float32 dotGeneral or conv as oneDNN post-ops, or null when it is not one chain of
 * them: each op takes the previous result once and is `x + c`, `x - c`, `c - x`, `x * c`,
 * `x / c`, `-x`, `max(x, 0)`, tanh, logistic, or an add or multiply by a kernel input that is
 * either the result's shape or a row broadcast along the rhs free dims of a matmul or the channels
 * of a conv (a bias); only the last op
 * is an output. oneDNN's tanh and logistic are polynomial approximations (within float32
 * tolerance; NaN and infinities are not preserved), the rest is exact.
 */
function planPostOps(kernel: KernelProgram): Plan | null {
  const head = kernel.ops[0]!;
  if ((head.primitive !== Primitive.DotGeneral && head.primitive !== Primitive.Conv) || head.aval.dtype !== 'float32') return null;
  if (head.primitive === Primitive.Conv && (head.params as ParamsOf<Primitive.Conv>).lhsDilation.some((d) => d !== 1)) return null;
  const last = kernel.ops.length - 1;
  if (last < 1 || kernel.outputs.length !== 1 || kernel.outputs[0] !== last) return null;
  const outShape = head.aval.shape;
  const outSize = sizeOf(outShape);
  if (outSize === 0) return null;
  // A row operand: one value per output column of a matmul (its rhs free dims), or per output
  // channel of a conv ([O, 1, ...] after leading ones).
  let isRow: (suffix: readonly number[]) => boolean;
  let n: number;
  if (head.primitive === Primitive.DotGeneral) {
    const params = head.params as ParamsOf<Primitive.DotGeneral>;
    const rhsRank = kernel.inputs[(head.args[1] as { index: number }).index]!.shape.length;
    const rhsFree = rhsRank - params.rhsContracting.length - params.rhsBatch.length;
    n = sizeOf(outShape.slice(outShape.length - rhsFree));
    isRow = (suffix) =>
      suffix.length <= rhsFree && sizeOf(suffix) === n && sameShape(suffix, outShape.slice(outShape.length - suffix.length));
  } else {
    n = outShape[1]!;
    isRow = (suffix) => suffix.length === outShape.length - 1 && suffix[0] === n && suffix.slice(1).every((d) => d === 1);
  }
  const uses = new Array<number>(kernel.ops.length).fill(0);
  for (const op of kernel.ops) for (const a of op.args) if (a.kind === 'op') uses[a.index]!++;
  const encoded: number[] = [];
  const operands: BinaryOperand[] = [];
  const binary = (ref: KernelRef): BinaryOperand | null => {
    let input: number;
    let shape: readonly number[];
    if (ref.kind === 'input') {
      input = ref.index;
      shape = kernel.inputs[input]!.shape;
    } else if (ref.kind === 'op') {
      const source = kernel.ops[ref.index]!;
      const from = source.args[0];
      if (source.primitive !== Primitive.Broadcast || from?.kind !== 'input') return null;
      input = from.index;
      shape = kernel.inputs[input]!.shape;
    } else return null;
    if (kernel.inputs[input]!.dtype !== 'float32') return null;
    if (sizeOf(shape) === outSize && sameShape(shape, outShape)) return { input, layout: FULL, size: outSize };
    let first = 0;
    while (first < shape.length && shape[first] === 1) first++;
    return isRow(shape.slice(first)) ? { input, layout: ROW, size: n } : null;
  };
  let current = 0;
  for (let i = 1; i <= last; i++) {
    const op = kernel.ops[i]!;
    if (op.primitive === Primitive.Broadcast) {
      if (op.args[0]?.kind !== 'input' || uses[i] !== 1) return null;
      continue;
    }
    if (uses[current] !== 1 || op.aval.dtype !== 'float32' || !sameShape(op.aval.shape, outShape)) return null;
    const position = op.args.findIndex((a) => a.kind === 'op' && a.index === current);
    if (position < 0 || op.args.filter((a) => a.kind === 'op' && a.index === current).length !== 1) return null;
    const other = op.args[1 - position];
    const literal = other?.kind === 'literal' ? other.value : null;
    switch (op.primitive) {
      // A beta of -0 adds nothing (x + -0 is x for every x) where +0 would turn -0 into +0.
      case Primitive.Neg:
        encoded.push(LINEAR, -1, -0, 0);
        break;
      case Primitive.Tanh:
        encoded.push(TANH, 0, 0, 0);
        break;
      case Primitive.Logistic:
        encoded.push(LOGISTIC, 0, 0, 0);
        break;
      case Primitive.Add:
      case Primitive.Mul: {
        if (literal !== null) {
          encoded.push(LINEAR, op.primitive === Primitive.Add ? 1 : literal, op.primitive === Primitive.Add ? literal : -0, 0);
          break;
        }
        const operand = other === undefined ? null : binary(other);
        if (operand === null) return null;
        operands.push(operand);
        encoded.push(op.primitive === Primitive.Add ? ADD : MUL, 0, 0, operand.layout);
        break;
      }
      case Primitive.Sub:
        if (literal === null) return null;
        encoded.push(LINEAR, position === 0 ? 1 : -1, position === 0 ? -literal : literal, 0);
        break;
      case Primitive.Div:
        // x / c equals x * (1 / c) only when the reciprocal is exact in float32.
        if (literal === null || position !== 0 || !hasExactReciprocal(literal)) return null;
        encoded.push(LINEAR, 1 / literal, -0, 0);
        break;
      default:
        return null;
    }
    current = i;
  }
  if (current !== last || encoded.length === 0) return null;
  const merged = mergeLinear(encoded);
  // Two linear ops left: the addon refuses them (oneDNN 2.6 computes such chains wrong).
  if (linearCount(merged) > 1) return null;
  return { encoded: merged, operands };
}

/** Whether `1 / c` is exact in float32: c is a float32 power of two whose reciprocal float32 holds. */
export function hasExactReciprocal(c: number): boolean {
  const magnitude = Math.abs(c);
  if (magnitude === 0 || !Number.isFinite(magnitude) || Math.fround(magnitude) !== magnitude) return false;
  const exponent = Math.round(Math.log2(magnitude));
  return 2 ** exponent === magnitude && Math.fround(2 ** -exponent) === 2 ** -exponent;
}

/** How many `alpha * x + beta` post-ops a list holds. */
export function linearCount(encoded: Float64Array): number {
  let count = 0;
  for (let i = 0; i < encoded.length; i += 4) if (encoded[i] === LINEAR) count++;
  return count;
}

/**
 * The post-ops with each run of consecutive `alpha * x + beta` ops folded into one (rounding once
 * where the chain rounded per op). oneDNN 2.6 computes a chain holding two linear post-ops wrong
 * (`2x + 1` then `3x` gave `6x`; with a relu or a binary op between them the offsets were lost
 * too), so after folding, a chain with more than one is not fused (planPostOps).
 *
 * A zero beta is exact about the sign of a zero result: -0 passes the sign of `alpha * x` through,
 * +0 makes every zero +0. Two such ops fold into one that keeps that, except `+ 0` followed by a
 * scaling by a negative or zero factor (always -0, or the sign of the first op's result), which
 * no single `alpha * x + beta` computes: those two are left apart.
 */
export function mergeLinear(encoded: readonly number[]): Float64Array {
  const merged: number[] = [];
  for (let i = 0; i < encoded.length; i += 4) {
    const [kind, alpha, beta, layout] = encoded.slice(i, i + 4) as [number, number, number, number];
    const previous = merged.length - 4;
    if (kind === LINEAR && previous >= 0 && merged[previous] === LINEAR) {
      const [a1, b1] = [merged[previous + 1]!, merged[previous + 2]!];
      const folded = foldedBeta(b1, alpha, beta);
      if (folded !== null) {
        merged[previous + 1] = alpha * a1;
        merged[previous + 2] = folded;
        continue;
      }
    }
    merged.push(kind, alpha, beta, layout);
  }
  return Float64Array.from(merged);
}

/** The beta of `alpha * (a1 * x + b1) + beta` as one linear op, or null when none is exact about zeros. */
function foldedBeta(b1: number, alpha: number, beta: number): number | null {
  if (b1 !== 0 || beta !== 0) return alpha * b1 + beta;
  if (!Object.is(beta, -0)) return 0;
  if (Object.is(b1, -0)) return -0;
  return alpha > 0 ? 0 : null;
}

/** The operand's values as a contiguous Float32Array of exactly its size: its own array when it is one. */
function contiguousOperand(context: PostOpsContext, h: MklHandle, size: number): { data: Float32Array; temporary: boolean } {
  const data = h.storage.data as Float32Array;
  if (h.offset === 0 && data.length === size && isContiguous(h)) return { data, temporary: false };
  const copy = context.memory.allocateUninitialized('float32', size) as Float32Array;
  context.addon.copy(DTYPE_CODES.float32, data, layoutOf(h), copy);
  return { data: copy, temporary: true };
}

/**
 * A dotGeneral or conv with its epilogue as one oneDNN matmul or convolution with post-ops (see
 * planPostOps), or null when the epilogue is not such a chain. At run time a layout oneDNN
 * refuses runs `generic`.
 */
export function compilePostOps(
  kernel: KernelProgram,
  context: PostOpsContext,
  generic: CompiledKernel<MklHandle>,
): CompiledKernel<MklHandle> | null {
  const plan = planPostOps(kernel);
  if (plan === null) return null;
  const head = kernel.ops[0]!;
  const lhsIndex = (head.args[0] as { index: number }).index;
  const rhsIndex = (head.args[1] as { index: number }).index;
  const outAval = kernel.ops[kernel.ops.length - 1]!.aval;
  const { addon, memory } = context;
  const finish = (
    data: TypedArray,
    done: boolean,
    temporaries: TypedArray[],
    inputs: readonly MklHandle[],
    consumable: readonly boolean[],
  ) => {
    for (const t of temporaries) memory.recycle(t);
    if (!done) {
      memory.recycle(data);
      return generic.run(inputs, consumable);
    }
    context.recordFused();
    const handle = wrap(data, outAval.shape, outAval.dtype);
    memory.track(handle.storage);
    return [handle];
  };
  if (head.primitive === Primitive.Conv) {
    const convParams = convParamsOf(head.params as ParamsOf<Primitive.Conv>);
    return {
      run(inputs, consumable) {
        const x = inputs[lhsIndex]!;
        const w = inputs[rhsIndex]!;
        const operands = plan.operands.map((o) => contiguousOperand(context, inputs[o.input]!, o.size));
        const data = memory.allocateUninitialized('float32', sizeOf(outAval.shape));
        const done = addon.conv(
          DTYPE_CODES.float32,
          x.storage.data,
          layoutOf(x),
          w.storage.data,
          layoutOf(w),
          data,
          convParams,
          plan.encoded,
          operands.map((o) => o.data),
        );
        return finish(
          data,
          done,
          operands.filter((o) => o.temporary).map((o) => o.data),
          inputs,
          consumable,
        );
      },
    };
  }
  const params = head.params as ParamsOf<Primitive.DotGeneral>;
  return {
    run(inputs, consumable) {
      const lhs = inputs[lhsIndex]!;
      const rhs = inputs[rhsIndex]!;
      const lhsFree: number[] = [];
      for (let i = 0; i < lhs.shape.length; i++) if (!params.lhsContracting.includes(i) && !params.lhsBatch.includes(i)) lhsFree.push(i);
      const rhsFree: number[] = [];
      for (let i = 0; i < rhs.shape.length; i++) if (!params.rhsContracting.includes(i) && !params.rhsBatch.includes(i)) rhsFree.push(i);
      const a = asRank3(memory, addon, lhs, params.lhsBatch, lhsFree, params.lhsContracting);
      const b = asRank3(memory, addon, rhs, params.rhsBatch, params.rhsContracting, rhsFree);
      const operands = plan.operands.map((o) => contiguousOperand(context, inputs[o.input]!, o.size));
      const data = memory.allocateUninitialized('float32', sizeOf(outAval.shape));
      const done = addon.matmulPostOps(
        a.data as Float32Array,
        a.layout,
        b.data as Float32Array,
        b.layout,
        data as Float32Array,
        plan.encoded,
        operands.map((o) => o.data),
      );
      const temporaries: TypedArray[] = [...operands.filter((o) => o.temporary).map((o) => o.data)];
      if (a.packed) temporaries.push(a.data);
      if (b.packed) temporaries.push(b.data);
      return finish(data, done, temporaries, inputs, consumable);
    },
  };
}
