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
 * Below these many elements an op runs the portable kernel: crossing into the addon (argument
 * checks, layout arrays) costs two to four microseconds, more than a JavaScript loop over so few
 * elements, and sending everything there would make a one-element add several times slower than
 * on the portable backend. Where the two cross depends on what the loop does per element
 * (bench/kernel-thresholds.ts times both sides, alternating):
 * - `cheap`: arithmetic, comparisons, where and casts, which the JavaScript loop keeps up with
 *   to about 1000 elements;
 * - `costly`: the transcendental functions (exp, log, tanh, pow...) and the half dtypes, which
 *   cost the JavaScript loop ~10 ns an element: the addon wins from about 256;
 * - `reduction`: the addon wins from 256 to 1024 elements, by axis.
 * `FLINT_MKL_NATIVE_MIN_ELEMENTS` sets all three.
 */
export const NATIVE_MIN = nativeThresholds(process.env.FLINT_MKL_NATIVE_MIN_ELEMENTS);

/** The measured thresholds, or `value` for all three when it is a non-negative integer (0 sends every op to the addon: for testing the native kernels on small cases). */
function nativeThresholds(value: string | undefined): { readonly cheap: number; readonly costly: number; readonly reduction: number } {
  const parsed = value === undefined ? Number.NaN : Number(value);
  if (Number.isInteger(parsed) && parsed >= 0) return { cheap: parsed, costly: parsed, reduction: parsed };
  return { cheap: 1024, costly: 256, reduction: 512 };
}

/**
 * The size from which an elementwise op, cast or where runs in the addon: NATIVE_MIN.costly for a
 * transcendental function or when `dtype` or `other` is a half dtype (the portable half kernels
 * decode and round every element, which costs as much), else NATIVE_MIN.cheap.
 */
export function elementwiseThreshold(costly: boolean, dtype: string, other: string = dtype): number {
  return costly || isHalfDType(dtype) || isHalfDType(other) ? NATIVE_MIN.costly : NATIVE_MIN.cheap;
}
