import { type CompiledKernel, columnReductionKernel, type KernelProgram, splitColumnReduction } from '@flint/api';
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
  return columnReductionKernel(
    split,
    prologue,
    (operand) => reduce(context, [operand], reduction.params, reduction.aval),
    (h) => context.release(h.storage),
  );
}
