import { type CompiledKernel, type KernelProgram, Primitive } from '@flint/api';
import { simdCompatible } from '@flint/backend-cpu';
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
 * bool run as one native pass on every core (elementwise.ts). Where the addon has no vector math
 * (NativeInfo.vectorMath: glibc's libmvec), chains with transcendental functions run as the
 * portable backend's WebAssembly SIMD instead: the native pass would call the C library's scalar
 * exp/tanh per element, about 5x slower on the bench's 10-op chain than the SIMD polynomials. With
 * it, the native pass is twice as fast as the SIMD kernel on that chain (4.2 to 4.6 against 9.3 to
 * 13.7 ms) and computes what eager computes, bit for bit. Other chains and reductions are the portable backend's generated code: the handles
 * are shared, so it runs on this backend's tensors as they are. Returns null for what neither handles.
 */
export function compileMklKernel(kernel: KernelProgram, context: CompileContext): CompiledKernel<MklHandle> | null {
  if (kernel.kind === 'contraction') return compileContraction(kernel, context);
  if (kernel.kind === 'elementwise' && !context.vectorMath && prefersSimd(kernel)) {
    const simd = tracked(context.portable(kernel), context.memory);
    if (simd !== null) return simd;
  }
  return (
    (kernel.kind === 'elementwise' ? compileFusedElementwise(kernel, context) : null) ?? tracked(context.portable(kernel), context.memory)
  );
}

const TRANSCENDENTAL = new Set<Primitive>([Primitive.Exp, Primitive.Log, Primitive.Tanh, Primitive.Logistic]);

/** Whether the portable SIMD generator takes `kernel` and it computes a transcendental function. */
function prefersSimd(kernel: KernelProgram): boolean {
  return (
    kernel.ops.some((op) => TRANSCENDENTAL.has(op.primitive)) &&
    simdCompatible(
      kernel.ops,
      kernel.inputs.map((input) => input.dtype),
    )
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
