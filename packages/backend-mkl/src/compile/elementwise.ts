import {
  broadcastLayout,
  type CompiledKernel,
  type DType,
  type KernelProgram,
  type KernelRef,
  Primitive,
  sizeOf,
  type TypedArray,
} from '@flint/api';
import { isContiguous, layout, type MklHandle, wrap } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES, UNARY_CODES } from '../native/codes.js';
import { kernelSource, OperandKind } from './codegen.js';
import type { GeneratedKernel, KernelCache } from './kernel-cache.js';

// jit's elementwise fusion groups as one native pass (native/fused.cc): a register program the
// addon runs over the output in chunks on every core, reading strided and broadcast inputs in
// place. Values are float32 (bool as 0/1) and each op rounds to float32, so the result equals the
// eager native kernels' exactly. Where every input is read whole or as one broadcast element (an
// optimizer's update, an activation chain), the same program is also generated as C
// (codegen.ts) and compiled in the background (kernel-cache.ts); calls whose full inputs are
// contiguous run that instead, with the same results.

export interface FusedContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  /** Compiled C versions of the programs (codegen.ts), used once they are ready. */
  readonly generated: KernelCache;
  /** The addon computes the transcendental ops through glibc's vector math (NativeInfo.vectorMath). */
  readonly vectorMath: boolean;
}

// Op codes of native/fused.cc: the unary ops numbered as the eager kernels number them
// (native/ops.h) up to reciprocal, then not, the cast to bool, the copy, relu, asin, acos and
// atan; the binary ops from 32, the select at 48, atan2 at 49.
const UNARY_OPS = new Map<Primitive, number>([
  ...[...UNARY_CODES].filter(([, code]) => code <= 18),
  [Primitive.Not, 19],
  [Primitive.Relu, 22],
  [Primitive.Asin, 23],
  [Primitive.Acos, 24],
  [Primitive.Atan, 25],
]);
const TO_BOOL = 20;
const COPY = 21;
const BINARY_OPS = new Map<Primitive, number>([
  [Primitive.Add, 32],
  [Primitive.Sub, 33],
  [Primitive.Mul, 34],
  [Primitive.Div, 35],
  [Primitive.Pow, 36],
  [Primitive.Max, 37],
  [Primitive.Min, 38],
  [Primitive.Equal, 39],
  [Primitive.NotEqual, 40],
  [Primitive.Less, 41],
  [Primitive.LessEqual, 42],
  [Primitive.Greater, 43],
  [Primitive.GreaterEqual, 44],
  [Primitive.And, 45],
  [Primitive.Or, 46],
  [Primitive.ReluGrad, 47],
  [Primitive.Atan2, 49],
]);
const WHERE = 48;

const supported = (dtype: DType) => dtype === 'float32' || dtype === 'bool';
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A register read from a kernel input: directly, or through a broadcast to the kernel's shape. */
interface Load {
  readonly input: number;
  readonly broadcast: boolean;
}

/**
 * The kernel as a native fused pass, or null when it holds a dtype other than float32 and bool, or
 * an op the addon's program does not have (jit then asks the portable code generator).
 */
export function compileFusedElementwise(kernel: KernelProgram, context: FusedContext): CompiledKernel<MklHandle> | null {
  if (kernel.kind !== 'elementwise' || kernel.ops.length === 0) return null;
  const shape = kernel.ops[0]!.aval.shape;
  const size = sizeOf(shape);
  if (!kernel.inputs.every((a) => supported(a.dtype))) return null;
  const loads: Load[] = [];
  const loadOf = new Map<string, number>();
  const literals: number[] = [];
  // Keyed so that -0 and 0 stay apart (a Map alone treats them as one key): x / -0 is -Infinity.
  const literalOf = new Map<number | '-0', number>();
  // Registers are numbered after the program is built: loads, then literals, then op results.
  type Operand = { kind: 'load' | 'literal' | 'op'; index: number };
  const opOperand: (Operand | null)[] = [];
  const instructions: [number, number, Operand, Operand, Operand][] = [];
  const resultOf: Operand[] = [];
  const load = (input: number, broadcast: boolean): Operand => {
    const key = `${input}:${broadcast}`;
    let index = loadOf.get(key);
    if (index === undefined) {
      index = loads.length;
      loads.push({ input, broadcast });
      loadOf.set(key, index);
    }
    return { kind: 'load', index };
  };
  const operand = (ref: KernelRef): Operand | null => {
    if (ref.kind === 'input') return sameShape(kernel.inputs[ref.index]!.shape, shape) ? load(ref.index, false) : null;
    if (ref.kind === 'op') return opOperand[ref.index] ?? null;
    const key = Object.is(ref.value, -0) ? '-0' : ref.value;
    let index = literalOf.get(key);
    if (index === undefined) {
      index = literals.length;
      literals.push(ref.value);
      literalOf.set(key, index);
    }
    return { kind: 'literal', index };
  };
  for (let i = 0; i < kernel.ops.length; i++) {
    const op = kernel.ops[i]!;
    if (!supported(op.aval.dtype) || !sameShape(op.aval.shape, shape)) return null;
    if (op.primitive === Primitive.Broadcast) {
      const from = op.args[0];
      if (from?.kind !== 'input') return null;
      opOperand.push(load(from.index, true));
      resultOf.push({ kind: 'op', index: i });
      continue;
    }
    const args = op.args.map(operand);
    if (args.some((a) => a === null)) return null;
    const [a, b, c] = args as Operand[];
    const self: Operand = { kind: 'op', index: i };
    let code: number | undefined;
    if (op.primitive === Primitive.Cast) code = op.aval.dtype === 'bool' ? TO_BOOL : COPY;
    else if (op.primitive === Primitive.Where) code = WHERE;
    else code = UNARY_OPS.get(op.primitive) ?? BINARY_OPS.get(op.primitive);
    if (code === undefined || a === undefined) return null;
    instructions.push([code, i, a, b ?? a, c ?? a]);
    opOperand.push(self);
    resultOf.push(self);
  }
  const literalBase = loads.length;
  const opBase = literalBase + literals.length;
  const registerOf = (o: Operand) => (o.kind === 'load' ? o.index : o.kind === 'literal' ? literalBase + o.index : opBase + o.index);
  // An output that is a broadcast (or an input read as is) is copied out by a COPY instruction.
  const outputs = kernel.outputs.map((o) => {
    const op = kernel.ops[o]!;
    if (op.primitive !== Primitive.Broadcast) return { register: opBase + o, dtype: op.aval.dtype };
    instructions.push([COPY, o, opOperand[o]!, opOperand[o]!, opOperand[o]!]);
    return { register: opBase + o, dtype: op.aval.dtype };
  });
  const registerCount = opBase + kernel.ops.length;
  if (registerCount > 512) return null;
  const program = Int32Array.from([
    loads.length,
    outputs.length,
    registerCount,
    instructions.length,
    shape.length,
    ...shape,
    ...loads.map((l) => DTYPE_CODES[kernel.inputs[l.input]!.dtype]),
    ...outputs.flatMap((o) => [o.register, DTYPE_CODES[o.dtype]]),
    ...instructions.flatMap(([code, dst, a, b, c]) => [code, opBase + dst, registerOf(a), registerOf(b), registerOf(c)]),
  ]);
  const literalArray = Float64Array.from(literals);
  const broadcastRead = new Set(loads.filter((l) => l.broadcast).map((l) => l.input));
  const { addon, memory } = context;
  const generated = generatedKernel(kernel, loads, program, literalArray, context.generated, context.vectorMath);
  return {
    run(inputs, consumable) {
      const args: (TypedArray | Int32Array)[] = [];
      for (const l of loads) {
        const h = inputs[l.input]!;
        const view = l.broadcast ? broadcastLayout(h, shape) : h;
        args.push(h.storage.data, layout(view.offset, view.shape, view.strides));
      }
      // An output may take the buffer of a consumable input read only directly (element i is
      // loaded before it is stored) that nothing else views.
      const taken = new Set<number>();
      const results = outputs.map((o) => {
        for (let i = 0; i < inputs.length; i++) {
          const candidate = inputs[i]!;
          if (!consumable[i] || !kernel.reusable[i] || taken.has(i) || broadcastRead.has(i) || candidate.dtype !== o.dtype) continue;
          if (candidate.storage.life.refs !== 1 || !isContiguous(candidate) || !sameShape(candidate.shape, shape)) continue;
          taken.add(i);
          const data = candidate.storage.data;
          args.push(candidate.offset === 0 && data.length === size ? data : data.subarray(candidate.offset, candidate.offset + size));
          return candidate;
        }
        const handle = wrap(memory.allocateUninitialized(o.dtype, size), shape, o.dtype);
        memory.track(handle.storage);
        args.push(handle.storage.data);
        return handle;
      });
      const id = generated?.id() ?? null;
      if (id !== null && loads.every((l) => l.broadcast || isContiguous(inputs[l.input]!))) addon.runKernel(id, size, ...args);
      else addon.fused(program, literalArray, ...args);
      return results;
    },
  };
}

/**
 * The program's compiled C form when every load reads an input whole or broadcasts a single
 * element; null for other broadcasts (rows, columns), which only the register program reads.
 */
function generatedKernel(
  kernel: KernelProgram,
  loads: readonly Load[],
  program: Int32Array,
  literals: Float64Array,
  cache: KernelCache,
  vectorMath: boolean,
): GeneratedKernel | null {
  const kinds: OperandKind[] = [];
  for (const l of loads) {
    const input = kernel.inputs[l.input]!;
    const bool = input.dtype === 'bool';
    if (!l.broadcast) kinds.push(bool ? OperandKind.fullBool : OperandKind.fullFloat);
    else if (sizeOf(input.shape) === 1) kinds.push(bool ? OperandKind.scalarBool : OperandKind.scalarFloat);
    else return null;
  }
  const source = kernelSource(program, literals, kinds, vectorMath);
  return source === null ? null : cache.kernel(source);
}
