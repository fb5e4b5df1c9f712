import type { DType } from '../core/dtype.js';

/**
 * Flint's closed set of primitives. Every operation a user calls is one of these or a composite
 * written in them, so a backend implements exactly this list and a transform (grad, vmap, jit)
 * needs one rule per entry. Numeric members keep dispatch an array index, not a string lookup.
 */
export enum Primitive {
  // Elementwise unary. Float-only ones expect a floating input (ops cast integers first).
  Neg,
  Abs,
  Sign,
  Exp,
  Log,
  Log1p,
  Expm1,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  Tanh,
  Logistic,
  Erf,
  Floor,
  Ceil,
  Round,
  Reciprocal,
  Not,
  Relu,
  // Elementwise binary: both inputs have the same shape and dtype.
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Atan2,
  Max,
  Min,
  Mod,
  FloorDivide,
  Equal,
  NotEqual,
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
  And,
  Or,
  ReluGrad,
  // Elementwise, other.
  Where,
  Cast,
  // Reductions over a set of axes, which are removed from the shape.
  ReduceSum,
  ReduceMax,
  ReduceMin,
  ReduceProd,
  Argmax,
  Argmin,
  // Movement. Backends implement these as views where they can.
  Reshape,
  Transpose,
  Broadcast,
  Slice,
  Pad,
  Concat,
  Flip,
  Gather,
  ScatterAdd,
  // Linear algebra, convolution, windows.
  DotGeneral,
  Conv,
  ReduceWindow,
  // Scans and sorting.
  Cumulative,
  Argsort,
  // Creation and randomness.
  Iota,
  Full,
  RandomBits,
  RandomUniform,
}

export const PRIMITIVE_COUNT = Primitive.RandomUniform + 1;

export function primitiveName(p: Primitive): string {
  const name = Primitive[p];
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export type UnaryPrimitive =
  | Primitive.Neg
  | Primitive.Abs
  | Primitive.Sign
  | Primitive.Exp
  | Primitive.Log
  | Primitive.Log1p
  | Primitive.Expm1
  | Primitive.Sqrt
  | Primitive.Rsqrt
  | Primitive.Sin
  | Primitive.Cos
  | Primitive.Tan
  | Primitive.Asin
  | Primitive.Acos
  | Primitive.Atan
  | Primitive.Tanh
  | Primitive.Logistic
  | Primitive.Erf
  | Primitive.Floor
  | Primitive.Ceil
  | Primitive.Round
  | Primitive.Reciprocal
  | Primitive.Not
  | Primitive.Relu;

export type BinaryPrimitive =
  | Primitive.Add
  | Primitive.Sub
  | Primitive.Mul
  | Primitive.Div
  | Primitive.Pow
  | Primitive.Atan2
  | Primitive.Max
  | Primitive.Min
  | Primitive.Mod
  | Primitive.FloorDivide
  | Primitive.Equal
  | Primitive.NotEqual
  | Primitive.Less
  | Primitive.LessEqual
  | Primitive.Greater
  | Primitive.GreaterEqual
  | Primitive.And
  | Primitive.Or
  | Primitive.ReluGrad;

export type ReducePrimitive = Primitive.ReduceSum | Primitive.ReduceMax | Primitive.ReduceMin | Primitive.ReduceProd;

/** A [low, high] amount of padding for one dimension. */
export type PadPair = readonly [number, number];

/** A window's geometry over every dim of its input: ReduceWindow's, and max pooling's backward composite's. */
export interface WindowGeometry {
  readonly window: readonly number[];
  readonly strides: readonly number[];
  readonly padding: readonly PadPair[];
  readonly dilation: readonly number[];
}

/**
 * A window's geometry as one array, section by section: [...window, ...strides, ...padLow,
 * ...padHigh, ...dilation]. The form the native backends' addons (mkl, cuda) take it in.
 */
export function packWindowGeometry(geometry: WindowGeometry): Int32Array {
  return Int32Array.from([
    ...geometry.window,
    ...geometry.strides,
    ...geometry.padding.map((p) => p[0]),
    ...geometry.padding.map((p) => p[1]),
    ...geometry.dilation,
  ]);
}

type NoParams = Record<string, never>;

/**
 * The parameters of each primitive. Semantics (all axes are already normalized to be
 * non-negative, all shapes validated, when a backend sees them):
 */
export interface PrimitiveParams {
  [Primitive.Neg]: NoParams;
  [Primitive.Abs]: NoParams;
  [Primitive.Sign]: NoParams;
  [Primitive.Exp]: NoParams;
  [Primitive.Log]: NoParams;
  [Primitive.Log1p]: NoParams;
  [Primitive.Expm1]: NoParams;
  [Primitive.Sqrt]: NoParams;
  [Primitive.Rsqrt]: NoParams;
  [Primitive.Sin]: NoParams;
  [Primitive.Cos]: NoParams;
  [Primitive.Tan]: NoParams;
  /** asin and acos are NaN outside [-1, 1]; asin and atan keep the sign of zero (C, torch). */
  [Primitive.Asin]: NoParams;
  [Primitive.Acos]: NoParams;
  [Primitive.Atan]: NoParams;
  [Primitive.Tanh]: NoParams;
  [Primitive.Logistic]: NoParams;
  [Primitive.Erf]: NoParams;
  /** Floor/Ceil/Round are identity on integer dtypes. Round is half-to-even, as in NumPy/PyTorch. */
  [Primitive.Floor]: NoParams;
  [Primitive.Ceil]: NoParams;
  [Primitive.Round]: NoParams;
  [Primitive.Reciprocal]: NoParams;
  /** Logical not of a bool tensor. */
  [Primitive.Not]: NoParams;
  /**
   * `x < 0 ? 0 : x` (torch.relu: NaN and -0 pass through): one kernel where `where(x <= 0, 0, x)`
   * takes a comparison and a select, ReLU being the activation most networks run.
   */
  [Primitive.Relu]: NoParams;
  [Primitive.Add]: NoParams;
  [Primitive.Sub]: NoParams;
  [Primitive.Mul]: NoParams;
  /** Float: IEEE division. Integer: truncation toward zero (C semantics); x/0 gives 0. */
  [Primitive.Div]: NoParams;
  [Primitive.Pow]: NoParams;
  /**
   * Inputs [y, x]: the angle of the point (x, y) in [-pi, pi], as C's atan2 (torch.atan2): signed
   * zeros and infinities pick the quadrant (atan2(±0, -0) = ±pi, atan2(±inf, -inf) = ±3pi/4).
   */
  [Primitive.Atan2]: NoParams;
  /** Max/Min propagate NaN, as torch.maximum/minimum do. */
  [Primitive.Max]: NoParams;
  [Primitive.Min]: NoParams;
  /** Remainder with the sign of the divisor (Python's %, torch.remainder); integer x%0 gives 0. */
  [Primitive.Mod]: NoParams;
  /** floor(a / b) (torch.floor_divide); integer a//0 gives 0. */
  [Primitive.FloorDivide]: NoParams;
  /** Comparisons and logical ops output bool. */
  [Primitive.Equal]: NoParams;
  [Primitive.NotEqual]: NoParams;
  [Primitive.Less]: NoParams;
  [Primitive.LessEqual]: NoParams;
  [Primitive.Greater]: NoParams;
  [Primitive.GreaterEqual]: NoParams;
  [Primitive.And]: NoParams;
  [Primitive.Or]: NoParams;
  /**
   * Inputs [y, g]: `y <= 0 ? 0 : g` (torch's threshold_backward at 0), ReLU's derivative applied to
   * `g` when `y` is ReLU's output (or input): its VJP and JVP in one kernel. NaN in `y` lets `g` through.
   */
  [Primitive.ReluGrad]: NoParams;
  /** Inputs [condition: bool, x, y], all of one shape; x and y of one dtype. */
  [Primitive.Where]: NoParams;
  /** Float to integer truncates toward zero; to bool is `!= 0`; NaN to integer gives 0. */
  [Primitive.Cast]: { readonly dtype: DType };
  /** Reductions: `axes` sorted, distinct; removed from the output shape. Empty sum is 0, empty prod 1, empty max -Inf (integers: the dtype's minimum). */
  [Primitive.ReduceSum]: { readonly axes: readonly number[] };
  [Primitive.ReduceMax]: { readonly axes: readonly number[] };
  [Primitive.ReduceMin]: { readonly axes: readonly number[] };
  [Primitive.ReduceProd]: { readonly axes: readonly number[] };
  /** Index (int32) of the first maximum along `axis`, which is removed. NaN counts as the maximum. */
  [Primitive.Argmax]: { readonly axis: number };
  [Primitive.Argmin]: { readonly axis: number };
  /** Row-major reshape to `shape` (same size, no -1). */
  [Primitive.Reshape]: { readonly shape: readonly number[] };
  /** Output axis i is input axis perm[i]. */
  [Primitive.Transpose]: { readonly perm: readonly number[] };
  /** NumPy broadcast_to: `shape` has rank >= input rank; input dims align to the right and are 1 or equal. */
  [Primitive.Broadcast]: { readonly shape: readonly number[] };
  /** Per-axis start (inclusive), stop (exclusive) and positive step, all in range: out dim = ceil((stop - start) / step). */
  [Primitive.Slice]: { readonly starts: readonly number[]; readonly stops: readonly number[]; readonly steps: readonly number[] };
  /** Constant padding, non-negative [low, high] per axis. */
  [Primitive.Pad]: { readonly widths: readonly PadPair[]; readonly value: number };
  /** Variadic inputs of one dtype and equal shape except along `axis`. */
  [Primitive.Concat]: { readonly axis: number };
  [Primitive.Flip]: { readonly axes: readonly number[] };
  /**
   * NumPy `take`: inputs [x, indices: int32]; output shape x.shape[:axis] + indices.shape +
   * x.shape[axis+1:]. Indices are in [0, x.shape[axis]) (ops wrap negatives and check bounds).
   */
  [Primitive.Gather]: { readonly axis: number };
  /**
   * Transpose of Gather: inputs [target, indices: int32, updates] with updates shaped like
   * Gather's output; returns target with updates added at the indexed positions (repeats add up).
   */
  [Primitive.ScatterAdd]: { readonly axis: number };
  /**
   * Batched contraction, as XLA's DotGeneral: output dims are batch dims, then lhs free dims,
   * then rhs free dims, each in input order. Inputs share a dtype.
   */
  [Primitive.DotGeneral]: {
    readonly lhsContracting: readonly number[];
    readonly rhsContracting: readonly number[];
    readonly lhsBatch: readonly number[];
    readonly rhsBatch: readonly number[];
  };
  /**
   * N-d convolution (cross-correlation, as in PyTorch): lhs [N, C, ...spatial], rhs
   * [O, C / groups, ...kernel] -> [N, O, ...outSpatial]. Per spatial dim: lhs dilated by
   * lhsDilation (for transposed convolutions), padded by padding (may be negative), kernel dilated
   * by rhsDilation, windows taken every stride.
   */
  [Primitive.Conv]: {
    readonly strides: readonly number[];
    readonly padding: readonly PadPair[];
    readonly lhsDilation: readonly number[];
    readonly rhsDilation: readonly number[];
    readonly groups: number;
  };
  /**
   * Window reduction over every dim (window 1 leaves a dim alone): padding takes the reduction's
   * identity (-Inf for max, 0 for sum), out dim = floor((padded - dilated window) / stride) + 1.
   */
  [Primitive.ReduceWindow]: WindowGeometry & { readonly op: 'sum' | 'max' };
  /** Inclusive scan along `axis`; `reverse` scans from the end. */
  [Primitive.Cumulative]: { readonly op: 'sum' | 'prod' | 'max' | 'min'; readonly axis: number; readonly reverse: boolean };
  /** Stable argsort (int32) along `axis`; NaN sorts last ascending, first descending (as PyTorch). */
  [Primitive.Argsort]: { readonly axis: number; readonly descending: boolean };
  /** No inputs: int32/float tensor of `shape` whose value is the index along `axis`. */
  [Primitive.Iota]: { readonly shape: readonly number[]; readonly dtype: DType; readonly axis: number };
  /** No inputs: a tensor of `shape` filled with `value` (cast to `dtype`). */
  [Primitive.Full]: { readonly shape: readonly number[]; readonly dtype: DType; readonly value: number };
  /**
   * Input: a key, int32 [2]. Output: int32 of `shape` holding uniformly random 32 bits per element
   * from Threefry-2x32-20 (counter-based, identical on every backend; the stream layout is
   * documented in packages/backend-cpu/src/kernels/random.ts, the reference implementation).
   */
  [Primitive.RandomBits]: { readonly shape: readonly number[] };
  /** Input: a key, int32 [2]. Output: floats uniform in [0, 1) of `shape` and `dtype`, from the same bits. */
  [Primitive.RandomUniform]: { readonly shape: readonly number[]; readonly dtype: DType };
}

export type ParamsOf<P extends Primitive> = PrimitiveParams[P];
