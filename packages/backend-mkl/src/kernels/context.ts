import type { Aval, KernelTable, Primitive } from '@flint/api';
import type { MklHandle } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';

/** What the mkl kernels share: the addon, the backend's memory, and the portable kernels they fall back to. */
export interface KernelContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  readonly fallback: KernelTable<MklHandle>;
  /** Whether bfloat16 contractions run natively (the CPU has AVX-512 BF16 or AMX). */
  readonly bfloat16: boolean;
  /** Counts a native run of `primitive` (for tests and profiling). */
  readonly recordNative: (primitive: Primitive) => void;
}

/** A kernel with its primitive erased, as the table builders handle them. */
export type AnyKernel = (inputs: readonly MklHandle[], params: never, out: Aval) => MklHandle;

export function isFloat(dtype: string): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

/** int32, uint8 and bool: the dtypes of the addon's integer kernels. */
export function isInteger(dtype: string): dtype is 'int32' | 'uint8' | 'bool' {
  return dtype === 'int32' || dtype === 'uint8' || dtype === 'bool';
}

/**
 * float16 and bfloat16 (16-bit storage): the portable kernels widen them to float32 and round
 * each result, so the kernels without a half path of their own hand them on.
 */
export function isHalfDType(dtype: string): boolean {
  return dtype === 'float16' || dtype === 'bfloat16';
}

/** The float dtypes the addon's elementwise ops and reductions compute: float32, float64, and the half dtypes through float32. */
export function isNativeFloat(dtype: string): boolean {
  return isFloat(dtype) || isHalfDType(dtype);
}

/**
 * Below this many elements an elementwise op or reduction runs the portable kernel: crossing
 * into the addon (argument checks, layout arrays) costs a few microseconds, more than a
 * JavaScript loop over so few elements, and it would make a one-element add several times
 * slower than on the portable backend. `FLINT_MKL_NATIVE_MIN_ELEMENTS` overrides it.
 */
export const NATIVE_MIN_ELEMENTS = nativeMinElements(process.env.FLINT_MKL_NATIVE_MIN_ELEMENTS);

/** The threshold, or `value` when it is a non-negative integer (0 sends every op to the addon: for testing the native kernels on small cases). */
function nativeMinElements(value: string | undefined): number {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : 2048;
}
