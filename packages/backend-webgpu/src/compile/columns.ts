import { type CompiledKernel, type KernelProgram, splitColumnReduction } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { reduceKernel } from '../kernels/reduce.js';
import { compileElementwise } from './elementwise.js';

/**
 * jit's reductions over leading axes into many neighbouring outputs (splitColumnReduction: a
 * bias's gradient in a jitted training step). The generated reduction takes a workgroup per
 * output, whose threads would read one column element by element from other rows; such a fusion
 * runs instead as its elementwise prologue's shader and the op-by-op reduction, whose column
 * shader reads a row of outputs at a time. Null when the kernel is not such a reduction.
 */
export function compileColumnReduction(context: WebGpuContext, kernel: KernelProgram): CompiledKernel<WebGpuHandle> | null {
  const split = splitColumnReduction(kernel);
  if (split === null) return null;
  const prologue = split.prologue === null ? null : compileElementwise(context, split.prologue);
  const { reduction } = split;
  const reduce = reduceKernel(reduction.primitive);
  return {
    run(inputs: readonly WebGpuHandle[]): WebGpuHandle[] {
      // No input is handed to the prologue: the reduction still reads the value it writes.
      const produced = prologue === null ? [] : prologue.run(inputs, []);
      const operand = split.operand(inputs, produced);
      let result: WebGpuHandle;
      try {
        result = reduce(context, [operand], reduction.params, reduction.aval);
      } catch (error) {
        for (const h of produced) context.release(h.storage);
        throw error;
      }
      if (split.operandIsTemporary) context.release(operand.storage);
      return split.assemble(result, produced);
    },
  };
}
