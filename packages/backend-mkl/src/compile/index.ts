import type { CompiledKernel, KernelProgram } from '@flint/api';
import type { MklHandle } from '../handle.js';
import type { MklMemory } from '../memory.js';
import { type ContractionContext, compileContraction } from './contraction.js';
import { compileFusedElementwise } from './elementwise.js';

/** What the mkl compile hook needs: its own kernels and memory, and the portable backend's code generator. */
export interface CompileContext extends ContractionContext {
  readonly memory: MklMemory;
  /** The portable CPU backend's compile hook, on the same handles (generated JavaScript and Wasm SIMD). */
  readonly portable: (kernel: KernelProgram) => CompiledKernel<MklHandle> | null;
}

/**
 * The mkl backend's jit hook. Contractions run oneDNN's matmul with its epilogue as post-ops where
 * the epilogue is a chain oneDNN expresses (bias, residual, ReLU, tanh, logistic, scaling), and
 * otherwise the addon's matmul or conv followed by the epilogue. Elementwise chains of float32 and
 * bool run as one native pass on every core (elementwise.ts); other chains and reductions are the
 * portable backend's generated code: the handles are shared, so it runs on this backend's tensors
 * as they are. Returns null for what neither handles.
 */
export function compileMklKernel(kernel: KernelProgram, context: CompileContext): CompiledKernel<MklHandle> | null {
  if (kernel.kind === 'contraction') return compileContraction(kernel, context);
  return (
    (kernel.kind === 'elementwise' ? compileFusedElementwise(kernel, context) : null) ?? tracked(context.portable(kernel), context.memory)
  );
}

/** The kernel with its fresh outputs entered in this backend's ledger (in-place outputs are already there). */
export function tracked(compiled: CompiledKernel<MklHandle> | null, memory: MklMemory): CompiledKernel<MklHandle> | null {
  if (compiled === null) return null;
  return {
    run(inputs, consumable) {
      const outputs = compiled.run(inputs, consumable);
      for (const output of outputs) memory.track(output.storage);
      return outputs;
    },
  };
}
