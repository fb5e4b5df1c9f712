import { type Aval, type CompiledKernel, type KernelProgram, type KernelTable, splitContraction } from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';

type ContractionKernel = (inputs: readonly CudaHandle[], params: never, out: Aval) => CudaHandle;

/**
 * jit's 'contraction' fusions (a dotGeneral or conv with its elementwise epilogue: bias,
 * activation, residual): the contraction runs as the backend's own op (cuBLASLt or cuDNN where
 * present, else the addon's kernels) and the whole epilogue as one fused kernel over its result,
 * two launches where running the group op by op would take one per epilogue op. Null (jit runs
 * the group op by op) when the epilogue cannot be compiled.
 */
export function compileContraction(
  context: CudaContext,
  kernels: KernelTable<CudaHandle>,
  kernel: KernelProgram,
  compileElementwise: (epilogue: KernelProgram) => CompiledKernel<CudaHandle> | null,
): CompiledKernel<CudaHandle> | null {
  const split = splitContraction(kernel);
  if (split === null) return null;
  const { head, lhs, rhs, epilogue: epilogueKernel, resultIsOutput } = split;
  const epilogue = epilogueKernel === null ? null : compileElementwise(epilogueKernel);
  if (epilogueKernel !== null && epilogue === null) return null;
  const contract = kernels[head.primitive] as unknown as ContractionKernel;
  return {
    run(inputs: readonly CudaHandle[]): CudaHandle[] {
      const result = contract([inputs[lhs] as CudaHandle, inputs[rhs] as CudaHandle], head.params as never, head.aval);
      if (epilogue === null) return [result];
      let after: CudaHandle[];
      try {
        after = epilogue.run(split.epilogueArgs(result, inputs), []);
      } catch (error) {
        context.release(result.storage);
        throw error;
      }
      // The fused kernels write fresh buffers, so a result the kernel does not return is garbage now.
      if (!resultIsOutput) context.release(result.storage);
      return split.assemble(result, after);
    },
  };
}
