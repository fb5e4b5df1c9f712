import { DTypeError, ValueError } from './errors.js';

/**
 * The element types a tensor can hold. Integers are 32-bit (see DESIGN.md). `float16` (IEEE
 * binary16) and `bfloat16` are stored as 16-bit patterns in a Uint16Array (see core/half.ts).
 */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int32' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'uint8', 'bool'];

/** The 16-bit float dtypes, whose storage holds bit patterns rather than numbers. */
export type HalfDType = 'float16' | 'bfloat16';

/** The dtype of tensors made from JavaScript floats when no dtype is given. */
export const DEFAULT_FLOAT: DType = 'float32';
/** The dtype of tensors made from JavaScript integers when no dtype is given. */
export const DEFAULT_INT: DType = 'int32';

/**
 * The storage of a dtype at the backend SPI. A Uint16Array holds float16 or bfloat16 bit
 * patterns; `Tensor.data()` decodes those to a Float32Array.
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor;

const CONSTRUCTORS: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && value in CONSTRUCTORS;
}

/** Throws a DTypeError naming `op` unless `value` is one of Flint's dtypes. */
export function checkDType(op: string, value: unknown): DType {
  if (!isDType(value)) {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(value)}; expected one of ${DTYPES.join(', ')}`);
  }
  return value;
}

export function typedArrayConstructor(dtype: DType): TypedArrayConstructor {
  return CONSTRUCTORS[dtype];
}

/** A zero-filled typed array of `size` elements for `dtype`. */
export function allocTypedArray<D extends DType>(dtype: D, size: number): TypedArrayOf[D] {
  return new CONSTRUCTORS[dtype](size) as TypedArrayOf[D];
}

export function itemSize(dtype: DType): number {
  return CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** Whether `dtype` is float16 or bfloat16 (stored as 16-bit patterns, computed in float32). */
export function isHalf(dtype: DType): dtype is HalfDType {
  return dtype === 'float16' || dtype === 'bfloat16';
}

export function isInteger(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'uint8';
}

/** The smallest value of a dtype (-Infinity for floats): padding that never wins a maximum. */
export function lowestValue(dtype: DType): number {
  if (isFloating(dtype)) return Number.NEGATIVE_INFINITY;
  return dtype === 'int32' ? -2147483648 : 0;
}

/**
 * The dtype a typed array holds when no dtype is given (Uint8Array reads as uint8, not bool). A
 * Uint16Array is ambiguous (float16 or bfloat16 bits): a DTypeError asks for the dtype.
 */
export function dtypeOfTypedArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint16Array) {
    throw new DTypeError('a Uint16Array holds float16 or bfloat16 bit patterns; say which with the dtype option');
  }
  return 'uint8';
}

// Promotion follows PyTorch's categories: bool < integer < floating. Within a category the wider
// type wins; across categories the higher category wins, keeping its own width (int32 + float32
// is float32, where NumPy would give float64). float16 and bfloat16 share a rank: neither holds
// the other, so together they give float32, as in PyTorch. See docs/dtypes.md.
const CATEGORY: Record<DType, number> = { bool: 0, uint8: 1, int32: 1, float16: 2, bfloat16: 2, float32: 2, float64: 2 };
const RANK: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, float16: 3, bfloat16: 3, float32: 4, float64: 5 };

/** The dtype two tensors of dtypes `a` and `b` combine to. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const rankA = RANK[a];
  const rankB = RANK[b];
  if (rankA === rankB) return 'float32'; // float16 with bfloat16, the only distinct pair of equal rank
  return rankA > rankB ? a : b;
}

/** The category of a JavaScript scalar operand: booleans, integers, or non-integral numbers. */
export type ScalarKind = 'bool' | 'int' | 'float';

/**
 * The kind of a JavaScript scalar next to a tensor (a weak operand): every integral number is
 * 'int', so `int32Tensor.add(2 ** 31)` stays in int32 and is refused, not silently widened.
 * Creation infers with `inferredKind`, which also asks whether int32 holds the number.
 */
export function scalarKind(value: number | boolean): ScalarKind {
  if (typeof value === 'boolean') return 'bool';
  return Number.isInteger(value) ? 'int' : 'float';
}

/** The smallest and largest value of each integer dtype. */
const INTEGER_RANGE: Partial<Record<DType, readonly [number, number]>> = { int32: [-2147483648, 2147483647], uint8: [0, 255] };

/** Whether `value` is an integer that int32 holds: what creation infers as int32. */
export function isInt32(value: number): boolean {
  return Number.isInteger(value) && fitsDType('int32', value);
}

/**
 * The kind a JavaScript value infers when a tensor is made from it: 'int' only for an integer
 * that int32 holds. JavaScript has one number type, so `5e9` or `1e40` is as much a float as
 * `0.5`: it widens to float32 rather than wrapping in int32.
 */
export function inferredKind(value: number | boolean): ScalarKind {
  if (typeof value === 'boolean') return 'bool';
  return isInt32(value) ? 'int' : 'float';
}

/**
 * Whether storing the number `value` in `dtype` keeps it: always for float dtypes and bool (which
 * round, or test `!= 0`); for an integer dtype, when the value is finite and its integer part
 * (what the store keeps, truncating toward zero as a cast does) lies in the dtype's range.
 */
export function fitsDType(dtype: DType, value: number): boolean {
  const range = INTEGER_RANGE[dtype];
  return range === undefined || (value > range[0] - 1 && value < range[1] + 1);
}

/**
 * The ValueError for a number that the integer dtype `dtype` cannot hold, shared by creation and
 * the ops' weak scalars so both say the same: `subject` names the number (`the scalar 300`, `the
 * value 5000000000 at [0]`), `context` follows the range, and `fix` says what to do.
 *
 * @example
 * throw outOfRangeError('add', 'the scalar 300', 'uint8', ', the dtype this op computes in', "cast the tensor first");
 */
export function outOfRangeError(op: string, subject: string, dtype: DType, context: string, fix: string): ValueError {
  const range = INTEGER_RANGE[dtype];
  const holds = range === undefined ? '' : ` (integers from ${range[0]} to ${range[1]})`;
  return new ValueError(`${op}: ${subject} does not fit in ${dtype}${holds}${context}; ${fix}`);
}

/** A dtype that holds `value` (after truncation): int32 when it can, else float64 (exact for integers up to 2^53). */
export function dtypeHolding(value: number): DType {
  return fitsDType('int32', value) ? 'int32' : 'float64';
}

/**
 * The ValueError for a JavaScript number that the integer dtype asked for cannot hold (out of
 * range, NaN or infinite). Numbers are never wrapped: `tensor([5e9], { dtype: 'int32' })` would
 * otherwise give 705032704 with no sign that anything was lost. `position` is the element's index
 * path (none for a scalar or a fill value).
 */
export function valueOutOfRangeError(op: string, what: string, value: number, dtype: DType, position: readonly number[] = []): ValueError {
  const at = position.length === 0 ? '' : ` at [${position.join(', ')}]`;
  const holding = dtypeHolding(value);
  const noInt64 =
    Number.isInteger(value) && holding === 'float64' ? ' (Flint has no int64; float64 holds every integer up to 2^53 exactly)' : '';
  return outOfRangeError(op, `${what} ${value}${at}`, dtype, '', `use a dtype that holds it, e.g. { dtype: '${holding}' }${noInt64}`);
}

/**
 * The dtype a tensor of dtype `tensorDType` combines to with a JavaScript scalar. As in PyTorch
 * (and NumPy 2's "weak" scalars), a scalar never widens a tensor within its category; it only
 * lifts the result to its own category at that category's default width.
 */
export function promoteWithScalar(tensorDType: DType, kind: ScalarKind): DType {
  return combineCategories(tensorDType, inferDType(kind));
}

/**
 * PyTorch's combine_categories: the dtype operands of a higher priority (`higher`, already
 * promoted among themselves) combine to with those of a lower priority (`lower`). The lower ones
 * only count when their category is above the higher ones', and then with their own dtype
 * (`int32` with a lower `float64` gives float64; `float16` with a lower `float64` stays float16).
 * The priorities are dimensioned tensors, then 0-dim tensors, then JavaScript scalars.
 */
export function combineCategories(higher: DType, lower: DType): DType {
  if (CATEGORY[higher] === 2) return higher;
  if (higher === 'bool' || CATEGORY[lower] === 2) return promoteTypes(higher, lower);
  return higher;
}

/** An operand as promotion sees it: a tensor's dtype and rank, or a JavaScript scalar's kind. */
export type PromotionOperand = { readonly dtype: DType; readonly rank: number } | { readonly scalar: ScalarKind };

/**
 * The dtype operands combine to, as torch.result_type: dimensioned tensors promote among
 * themselves; 0-dim tensors and then JavaScript scalars ("wrapped numbers", inferred at the
 * default widths) count only where their category is higher (see `combineCategories`). So a
 * 0-dim tensor acts as a scalar next to dimensioned ones (`float16[3]` with `float32[]` gives
 * float16) but keeps its dtype when it lifts the category (`int32[3]` with `float64[]` gives
 * float64), and a scalar only lifts at its default width (`int32[]` with `0.5` gives float32).
 *
 * @example
 * resultTypeOf([{ dtype: 'float16', rank: 1 }, { dtype: 'float32', rank: 0 }]); // 'float16'
 */
export function resultTypeOf(operands: readonly PromotionOperand[]): DType {
  let dimensioned: DType | undefined;
  let zeroDim: DType | undefined;
  let scalar: DType | undefined;
  const promote = (acc: DType | undefined, dtype: DType): DType => (acc === undefined ? dtype : promoteTypes(acc, dtype));
  for (const operand of operands) {
    if ('scalar' in operand) scalar = promote(scalar, inferDType(operand.scalar));
    else if (operand.rank > 0) dimensioned = promote(dimensioned, operand.dtype);
    else zeroDim = promote(zeroDim, operand.dtype);
  }
  const combine = (higher: DType | undefined, lower: DType | undefined): DType | undefined =>
    higher === undefined ? lower : lower === undefined ? higher : combineCategories(higher, lower);
  const result = combine(dimensioned, combine(zeroDim, scalar));
  if (result === undefined) throw new DTypeError('resultTypeOf: no operands to promote');
  return result;
}

/** The dtype that JavaScript values infer when a tensor is built without a dtype. */
export function inferDType(kind: ScalarKind): DType {
  return kind === 'bool' ? 'bool' : kind === 'int' ? DEFAULT_INT : DEFAULT_FLOAT;
}

/**
 * The rest of a message about a tensor of `dtype` that had to be floating (to require grad, to be
 * differentiated): why it may be int32 without the user asking (`tensor([1.0, 2.0])` is
 * `tensor([1, 2])` to JavaScript) and how to fix it. Follows the dtype in the message.
 */
export function floatingFix(dtype: DType): string {
  const why = dtype === 'int32' ? ' (JavaScript numbers with no fractional part, such as 1.0, are inferred as int32)' : '';
  return `${why}; create it with { dtype: 'float32' }, e.g. tensor([1, 2], { dtype: 'float32' }), or convert it with x.float()`;
}

/** Float dtypes (half included) stay; others become the default float (what `exp(intTensor)` computes in). */
export function toFloating(dtype: DType): DType {
  return isFloating(dtype) ? dtype : DEFAULT_FLOAT;
}
