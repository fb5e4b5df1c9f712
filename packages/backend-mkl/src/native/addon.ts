import type { TypedArray } from '@flint/api';

/** What the addon reports about itself (native/dnnl_ops.cc, `info`). */
export interface NativeInfo {
  /** oneDNN's version, e.g. "2.6.3". */
  readonly onednn: string;
  /** The CBLAS it links: "mkl" or "openblas". */
  readonly blas: string;
  /** Threads of the OpenMP loops (all cores unless OMP_NUM_THREADS says otherwise). */
  readonly threads: number;
  /** The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16". */
  readonly isa: string;
  /** Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX). */
  readonly bfloat16: boolean;
}

/**
 * The addon's functions. A layout is an Int32Array [offset, rank, ...shape, ...strides] that
 * describes a strided view of the typed array passed before it; outputs are contiguous typed
 * arrays of exactly the output's size. The addon validates every argument and throws a
 * TypeError or RangeError for anything out of contract (see native/view.cc).
 */
export interface Addon {
  info(): NativeInfo;
  copy(dtype: number, data: TypedArray, layout: Int32Array, out: TypedArray): void;
  unary(op: number, dtype: number, data: TypedArray, layout: Int32Array, out: TypedArray): void;
  binary(op: number, dtype: number, a: TypedArray, aLayout: Int32Array, b: TypedArray, bLayout: Int32Array, out: TypedArray): void;
  reduce(op: number, dtype: number, data: TypedArray, layout: Int32Array, axes: Int32Array, out: TypedArray): void;
  /** Returns the engine that ran: 1 CBLAS, 2 oneDNN. */
  matmul(dtype: number, a: TypedArray, aLayout: Int32Array, b: TypedArray, bLayout: Int32Array, out: TypedArray, mode: number): number;
  /** Returns false, leaving `out` alone, for a configuration it does not take. */
  conv(dtype: number, x: TypedArray, xLayout: Int32Array, w: TypedArray, wLayout: Int32Array, out: TypedArray, params: Int32Array): boolean;
  /** Returns false, leaving `out` alone, for a configuration it does not take. */
  pool(op: number, dtype: number, x: TypedArray, xLayout: Int32Array, out: TypedArray, params: Int32Array): boolean;
}
