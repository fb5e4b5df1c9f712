import { type DType, Primitive } from '@flint/api';

// The integer codes the addon understands (native/common.h and native/ops.h); the addon checks
// every code it receives, so a mismatch is an exception, never a wrong kernel.

export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  float32: 0,
  float64: 1,
  int32: 2,
  uint8: 3,
  bool: 4,
  // 16-bit patterns in Uint16Arrays: elementwise ops, casts, where, reductions, copies, and bfloat16
  // matmul and conv.
  float16: 5,
  bfloat16: 6,
};

/** Unary primitives the addon computes for float32/float64, with their codes. */
export const UNARY_CODES: ReadonlyMap<Primitive, number> = new Map([
  [Primitive.Neg, 0],
  [Primitive.Abs, 1],
  [Primitive.Sign, 2],
  [Primitive.Exp, 3],
  [Primitive.Log, 4],
  [Primitive.Log1p, 5],
  [Primitive.Expm1, 6],
  [Primitive.Sqrt, 7],
  [Primitive.Rsqrt, 8],
  [Primitive.Sin, 9],
  [Primitive.Cos, 10],
  [Primitive.Tan, 11],
  [Primitive.Tanh, 12],
  [Primitive.Logistic, 13],
  [Primitive.Erf, 14],
  [Primitive.Floor, 15],
  [Primitive.Ceil, 16],
  [Primitive.Round, 17],
  [Primitive.Reciprocal, 18],
  [Primitive.Relu, 19],
  [Primitive.Asin, 20],
  [Primitive.Acos, 21],
  [Primitive.Atan, 22],
]);

/** Binary primitives the addon computes for float32/float64 (comparisons write bool). */
export const BINARY_CODES: ReadonlyMap<Primitive, number> = new Map([
  [Primitive.Add, 0],
  [Primitive.Sub, 1],
  [Primitive.Mul, 2],
  [Primitive.Div, 3],
  [Primitive.Pow, 4],
  [Primitive.Max, 5],
  [Primitive.Min, 6],
  [Primitive.Mod, 7],
  [Primitive.FloorDivide, 8],
  [Primitive.Equal, 9],
  [Primitive.NotEqual, 10],
  [Primitive.Less, 11],
  [Primitive.LessEqual, 12],
  [Primitive.Greater, 13],
  [Primitive.GreaterEqual, 14],
  [Primitive.ReluGrad, 17],
  [Primitive.Atan2, 18],
]);

/** Binary primitives the addon computes for int32/uint8 (and bool: max, min, comparisons, and, or). */
export const INTEGER_BINARY_CODES: ReadonlyMap<Primitive, number> = new Map([
  [Primitive.Add, 0],
  [Primitive.Sub, 1],
  [Primitive.Mul, 2],
  [Primitive.Max, 5],
  [Primitive.Min, 6],
  [Primitive.Equal, 9],
  [Primitive.NotEqual, 10],
  [Primitive.Less, 11],
  [Primitive.LessEqual, 12],
  [Primitive.Greater, 13],
  [Primitive.GreaterEqual, 14],
  [Primitive.And, 15],
  [Primitive.Or, 16],
]);

export const REDUCE_CODES: ReadonlyMap<Primitive, number> = new Map([
  [Primitive.ReduceSum, 0],
  [Primitive.ReduceMax, 1],
  [Primitive.ReduceMin, 2],
  [Primitive.ReduceProd, 3],
]);

/** Matmul engine choice: the faster per shape, CBLAS, or oneDNN. */
export const MatmulMode = { auto: 0, blas: 1, onednn: 2 } as const;
export type MatmulMode = (typeof MatmulMode)[keyof typeof MatmulMode];
