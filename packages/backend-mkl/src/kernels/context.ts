import type { Aval, KernelTable, Primitive } from '@flint/api';
import type { MklHandle } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';

/** What the mkl kernels share: the addon, the backend's memory, and the portable kernels they fall back to. */
export interface KernelContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  readonly fallback: KernelTable<MklHandle>;
  /** Counts a native run of `primitive` (for tests and profiling). */
  readonly recordNative: (primitive: Primitive) => void;
}

/** A kernel with its primitive erased, as the table builders handle them. */
export type AnyKernel = (inputs: readonly MklHandle[], params: never, out: Aval) => MklHandle;

export function isFloat(dtype: string): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}
