import { type BinaryPrimitive, type DType, Primitive, type ReducePrimitive, type UnaryPrimitive } from '@flint/api';

// The integer codes the addon understands (native/shared.h); the addon checks every code it
// receives, so a mismatch is an exception, never a wrong kernel.

export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  float32: 0,
  float64: 1,
  int32: 2,
  uint8: 3,
  bool: 4,
  // Bit patterns in Uint16Arrays (native/elementwise_math.cuh: Float16, BFloat16).
  float16: 5,
  bfloat16: 6,
};

export const UNARY_CODES: Readonly<Record<UnaryPrimitive, number>> = {
  [Primitive.Neg]: 0,
  [Primitive.Abs]: 1,
  [Primitive.Sign]: 2,
  [Primitive.Exp]: 3,
  [Primitive.Log]: 4,
  [Primitive.Log1p]: 5,
  [Primitive.Expm1]: 6,
  [Primitive.Sqrt]: 7,
  [Primitive.Rsqrt]: 8,
  [Primitive.Sin]: 9,
  [Primitive.Cos]: 10,
  [Primitive.Tan]: 11,
  [Primitive.Tanh]: 12,
  [Primitive.Logistic]: 13,
  [Primitive.Erf]: 14,
  [Primitive.Floor]: 15,
  [Primitive.Ceil]: 16,
  [Primitive.Round]: 17,
  [Primitive.Reciprocal]: 18,
  [Primitive.Not]: 19,
  [Primitive.Relu]: 20,
  [Primitive.Asin]: 21,
  [Primitive.Acos]: 22,
  [Primitive.Atan]: 23,
};

export const BINARY_CODES: Readonly<Record<BinaryPrimitive, number>> = {
  [Primitive.Add]: 0,
  [Primitive.Sub]: 1,
  [Primitive.Mul]: 2,
  [Primitive.Div]: 3,
  [Primitive.Pow]: 4,
  [Primitive.Max]: 5,
  [Primitive.Min]: 6,
  [Primitive.Mod]: 7,
  [Primitive.FloorDivide]: 8,
  [Primitive.Equal]: 9,
  [Primitive.NotEqual]: 10,
  [Primitive.Less]: 11,
  [Primitive.LessEqual]: 12,
  [Primitive.Greater]: 13,
  [Primitive.GreaterEqual]: 14,
  [Primitive.And]: 15,
  [Primitive.Or]: 16,
  [Primitive.ReluGrad]: 17,
  [Primitive.Atan2]: 18,
};

export const REDUCE_CODES: Readonly<Record<ReducePrimitive, number>> = {
  [Primitive.ReduceSum]: 0,
  [Primitive.ReduceMax]: 1,
  [Primitive.ReduceMin]: 2,
  [Primitive.ReduceProd]: 3,
};

export const ARG_REDUCE_CODES = { [Primitive.Argmax]: 0, [Primitive.Argmin]: 1 } as const;

export const SCAN_CODES = { sum: 0, prod: 1, max: 2, min: 3 } as const;

export const WINDOW_CODES = { sum: 0, max: 1 } as const;

/** Which implementation a contraction may use: the faster available, the addon's own kernel, or the vendor library only. */
export const Engine = { auto: 0, kernel: 1, vendor: 2 } as const;
export type Engine = (typeof Engine)[keyof typeof Engine];
