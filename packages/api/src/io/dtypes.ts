import type { DType } from '../core/dtype.js';

/** Every dtype the safetensors format names, with its element size in bytes. */
export const SAFETENSORS_ITEM_SIZE = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const;

export type SafetensorsDType = keyof typeof SAFETENSORS_ITEM_SIZE;

export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.hasOwn(SAFETENSORS_ITEM_SIZE, value);
}

/** The safetensors dtype Flint writes for each of its dtypes. */
export const SAFETENSORS_OF: Readonly<Record<DType, SafetensorsDType>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

/**
 * The Flint dtype each readable safetensors dtype loads as. Flint's own seven load unchanged; the
 * others widen (I8, I16, U16 to int32) or narrow with a range check
 * (I64, U32, U64 to int32: PyTorch writes int64 for counters such as BatchNorm's
 * num_batches_tracked). FP8 is not read.
 */
export const FLINT_DTYPE_OF: Readonly<Partial<Record<SafetensorsDType, DType>>> = {
  F32: 'float32',
  F64: 'float64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
  F16: 'float16',
  BF16: 'bfloat16',
  I8: 'int32',
  I16: 'int32',
  U16: 'int32',
  I64: 'int32',
  U32: 'int32',
  U64: 'int32',
};
