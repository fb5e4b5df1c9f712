import {
  type BinaryPrimitive,
  type DType,
  type KernelOp,
  type KernelProgram,
  type KernelRef,
  Primitive,
  primitiveName,
  roundToHalf,
  type UnaryPrimitive,
} from '@flint/api';
import { BINARY, type ByType, castExpression, type Expression, lookup, UNARY } from '../kernels/elementwise.js';
import { isWordDType, scalarBits, type WgslScalar, wgslType } from '../layout.js';

// The elementwise part of a fused kernel as WGSL: every op becomes a small function (built from
// the same expression table the op-by-op kernels use, so a fused chain computes what they compute,
// op by op) and one `let` per op. Kernel inputs are read through "loads", each a strided read of
// one input over the kernel's index space (directly, or as a Broadcast op of it); the kernel that
// embeds the body declares the loads (`l0`, `l1`, ...) and the literals' parameter slots.

/** One strided read of a kernel input: directly, or as the broadcast op `broadcast` of it. */
export interface Load {
  readonly input: number;
  readonly broadcast: number | null;
  readonly dtype: DType;
}

/** A literal operand: its 32-bit pattern in the parameters, read back as `type`. */
export interface Literal {
  readonly bits: number;
  readonly type: WgslScalar;
}

export interface FusedBody {
  readonly loads: readonly Load[];
  readonly literals: readonly Literal[];
  /** The per-op functions and the math helpers they call. */
  readonly functions: string;
  readonly helpers: ReadonlySet<string>;
  /** `let` statements computing every op (after the loads are declared). */
  readonly statements: string;
  /** The WGSL name of op j's value (`v3`, or the load that a broadcast op is). */
  readonly valueOf: (op: number) => string;
  /** The WGSL type of op j's value. */
  readonly typeOf: (op: number) => WgslScalar;
  /** The WGSL name of an operand of a later op the embedding kernel computes (adds a load for an input). */
  readonly reference: (ref: KernelRef) => string;
}

/** Why a fused kernel is not generated: jit then runs its ops one by one (tests read the reason). */
export class Unsupported extends Error {}

const isUnary = (p: Primitive): p is UnaryPrimitive => p in UNARY;
const isBinary = (p: Primitive): p is BinaryPrimitive => p in BINARY;

/** The WGSL type a value of `dtype` is computed in (float16 in f32); throws Unsupported for dtypes kernels cannot hold. */
export function valueType(dtype: DType): WgslScalar {
  if (dtype === 'float16') return 'f32';
  if (!isWordDType(dtype)) throw new Unsupported(`${dtype} values`);
  return wgslType(dtype);
}

/** The WGSL element type of a buffer of `dtype` (float16: its bits in a u32 word; see layout.ts). */
export function storageType(dtype: DType): WgslScalar {
  return dtype === 'float16' ? 'u32' : valueType(dtype);
}

/** A stored element as a value: float16 bits widen to f32. */
export function loadedValue(element: string, dtype: DType): string {
  return dtype === 'float16' ? `halfToFloat(${element})` : element;
}

/** A value as a stored element: float16 rounds to its bits. */
export function storedValue(value: string, dtype: DType): string {
  return dtype === 'float16' ? `floatToHalf(${value})` : value;
}

/** The dtype whose kernels compute `dtype` (float16 computes as float32 and rounds each result). */
const arithmetic = (dtype: DType): DType => (dtype === 'float16' ? 'float32' : dtype);

/** The dtype of a non-literal operand. */
export function dtypeOf(kernel: KernelProgram, ref: KernelRef, ops: readonly KernelOp[] = kernel.ops): DType | null {
  if (ref.kind === 'input') return kernel.inputs[ref.index]?.dtype ?? null;
  if (ref.kind === 'op') return ops[ref.index]?.aval.dtype ?? null;
  return null;
}

/** The expression and operand dtypes of an elementwise op, or Unsupported. */
function opExpression(op: KernelOp, operandDTypes: readonly (DType | null)[]): { expression: Expression; operands: DType[] } {
  const p = op.primitive;
  const name = primitiveName(p);
  if (p === Primitive.Where) {
    const x = op.aval.dtype;
    return { expression: { code: 'select(c, b, a != 0u)', helpers: [] }, operands: ['bool', x, x] };
  }
  if (p === Primitive.Cast) {
    const from = operandDTypes[0];
    if (from === null || from === undefined) throw new Unsupported('cast of a literal');
    const to = op.aval.dtype;
    valueType(from);
    valueType(to);
    if (arithmetic(from) === arithmetic(to)) return { expression: { code: 'a', helpers: [] }, operands: [from] };
    return { expression: castExpression(arithmetic(from), arithmetic(to)).expression, operands: [from] };
  }
  const known = operandDTypes.find((d): d is DType => d !== null && d !== undefined);
  if (known === undefined) throw new Unsupported(`${name} of literals only`);
  valueType(known);
  let table: ByType;
  if (isUnary(p)) table = UNARY[p];
  else if (isBinary(p)) table = BINARY[p];
  else throw new Unsupported(`${name} is not elementwise`);
  let expression: Expression;
  try {
    expression = lookup(table, name, arithmetic(known));
  } catch {
    throw new Unsupported(`${name} on ${known}`);
  }
  return { expression, operands: operandDTypes.map(() => known) };
}

const LETTERS = ['a', 'b', 'c'];

/**
 * The body of the elementwise `ops` (indices `from` .. `to` - 1 of `kernel.ops`), whose operands
 * are kernel inputs, earlier ops and literals. `preset` names values the embedding kernel already
 * holds (a contraction's result) instead of computing them.
 */
export function fusedBody(kernel: KernelProgram, from: number, to: number, preset: ReadonlyMap<number, string> = new Map()): FusedBody {
  const ops = kernel.ops;
  const loads: Load[] = [];
  const directLoad = new Map<number, number>();
  const literals: Literal[] = [];
  const helpers = new Set<string>();
  const functions: string[] = [];
  const statements: string[] = [];
  const names: string[] = [];
  const types: WgslScalar[] = [];
  const load = (input: number, broadcast: number | null): string => {
    if (broadcast === null) {
      const existing = directLoad.get(input);
      if (existing !== undefined) return `l${existing}`;
      directLoad.set(input, loads.length);
    }
    const dtype = (kernel.inputs[input] as { dtype: DType }).dtype;
    if (dtype === 'float16') helpers.add('halfF');
    loads.push({ input, broadcast, dtype });
    return `l${loads.length - 1}`;
  };
  for (const [j, name] of preset) {
    names[j] = name;
    types[j] = valueType((ops[j] as KernelOp).aval.dtype);
  }
  for (let j = from; j < to; j++) {
    const op = ops[j] as KernelOp;
    const outType = valueType(op.aval.dtype);
    types[j] = outType;
    if (op.primitive === Primitive.Broadcast) {
      const arg = op.args[0] as KernelRef;
      if (arg.kind !== 'input') throw new Unsupported('broadcast of a computed value');
      names[j] = load(arg.index, j);
      continue;
    }
    const operandDTypes = op.args.map((ref) => dtypeOf(kernel, ref));
    const { expression, operands } = opExpression(op, operandDTypes);
    const args = op.args.map((ref, k) => {
      if (ref.kind === 'literal') {
        const dtype = operands[k] as DType;
        // A float16 literal is its rounded value, computed with in f32.
        const bits = dtype === 'float16' ? scalarBits(roundToHalf('float16', ref.value), 'float32') : scalarBits(ref.value, dtype);
        literals.push({ bits, type: valueType(dtype) });
        return `c${literals.length - 1}`;
      }
      if (ref.kind === 'input') return load(ref.index, null);
      const name = names[ref.index];
      if (name === undefined) throw new Unsupported(`op ${j} reads op ${ref.index} before it is computed`);
      return name;
    });
    const parameters = args.map((_, k) => `${LETTERS[k]}: ${valueType(operands[k] as DType)}`).join(', ');
    functions.push(`fn op${j}(${parameters}) -> ${outType} { return ${expression.code}; }`);
    for (const h of expression.helpers) helpers.add(h);
    // float16 results round once per op, as the op-by-op kernels store them (a select only picks rounded values).
    const rounds = op.aval.dtype === 'float16' && op.primitive !== Primitive.Where;
    if (rounds) helpers.add('halfF');
    statements.push(`  let v${j} = ${rounds ? `roundHalfF(op${j}(${args.join(', ')}))` : `op${j}(${args.join(', ')})`};`);
    names[j] = `v${j}`;
  }
  return {
    loads,
    literals,
    functions: `${functions.join('\n')}\n`,
    helpers,
    statements: statements.join('\n'),
    valueOf: (op) => {
      const name = names[op];
      if (name === undefined) throw new Unsupported(`op ${op} has no value`);
      return name;
    },
    typeOf: (op) => types[op] as WgslScalar,
    reference: (ref) => {
      if (ref.kind === 'input') return load(ref.index, null);
      if (ref.kind === 'literal') throw new Unsupported('a literal operand of the closing op');
      const name = names[ref.index];
      if (name === undefined) throw new Unsupported(`op ${ref.index} has no value`);
      return name;
    },
  };
}

/** WGSL reading literal `index` of `body` from parameter word `slot`. */
export function literalDeclaration(literal: Literal, index: number, slot: number): string {
  const read = literal.type === 'i32' ? `params[${slot}]` : `bitcast<${literal.type}>(params[${slot}])`;
  return `  let c${index} = ${read};`;
}
