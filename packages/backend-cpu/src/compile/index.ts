import type { CompiledKernel, KernelProgram } from '@flint/api';
import type { MemoryLedger } from '../storage.js';
import type { CpuHandle } from '../view.js';
import { compileContraction } from './contraction.js';
import { compileMapReduce } from './map-reduce.js';

/**
 * The CPU backend's jit hook: a fused kernel (see KernelProgram in @flint/api) becomes generated
 * JavaScript: one loop nest per elementwise chain or reduction, and a contraction followed by its
 * epilogue loop. Returns null for anything it cannot generate, and jit runs those ops one by one.
 */
export function compileKernel(kernel: KernelProgram, ledger: MemoryLedger): CompiledKernel<CpuHandle> | null {
  switch (kernel.kind) {
    case 'elementwise':
    case 'reduction':
      return compileMapReduce(kernel, ledger);
    case 'contraction':
      return compileContraction(kernel, ledger);
  }
}
