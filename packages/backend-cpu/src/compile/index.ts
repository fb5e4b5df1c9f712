import type { CompiledKernel, KernelProgram } from '@flint/api';
import type { MemoryLedger } from '../storage.js';
import type { CpuHandle } from '../view.js';
import { compileContraction } from './contraction.js';
import { compileMapReduce } from './map-reduce.js';
import { compileSplitReduction } from './split-reduction.js';

/**
 * The CPU backend's jit hook: a fused kernel (see KernelProgram in @flint/api) becomes generated
 * code: one JavaScript loop nest per elementwise chain or reduction, or a WebAssembly SIMD kernel
 * (threaded when large) for float32 chains of the ops it knows; reductions of transcendental
 * producers split into such a chain and the reduction; a contraction is followed by its epilogue.
 * Returns null for anything it cannot generate, and jit runs those ops one by one.
 */
export function compileKernel(kernel: KernelProgram, ledger: MemoryLedger): CompiledKernel<CpuHandle> | null {
  switch (kernel.kind) {
    case 'elementwise':
      return compileMapReduce(kernel, ledger);
    case 'reduction':
      return compileSplitReduction(kernel, ledger) ?? compileMapReduce(kernel, ledger);
    case 'contraction':
      return compileContraction(kernel, ledger);
  }
}
