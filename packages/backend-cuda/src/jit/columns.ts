import {
  type Aval,
  type CompiledKernel,
  columnReductionKernel,
  type KernelProgram,
  type KernelTable,
  type ParamsOf,
  type ReducePrimitive,
  splitColumnReduction,
} from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';

type ReduceKernel = (inputs: readonly CudaHandle[], params: ParamsOf<ReducePrimitive>, out: Aval) => CudaHandle;

/**
 * jit's reductions over leading axes into many neighbouring outputs (splitColumnReduction: a
 * bias's gradient in a jitted training step). The generated reduction takes a warp per output,
 * whose lanes would read 32 rows of one column per load (a sector per value); such a fusion runs
 * instead as its elementwise prologue's kernel and the addon's reduction, whose column kernels
 * read a row of outputs per load and spread the rows over the device. Null when the kernel is not
 * such a reduction, or when the prologue cannot be compiled.
 */
export function compileColumnReduction(
  context: CudaContext,
  kernels: KernelTable<CudaHandle>,
  kernel: KernelProgram,
  compileElementwise: (prologue: KernelProgram) => CompiledKernel<CudaHandle> | null,
): CompiledKernel<CudaHandle> | null {
  const split = splitColumnReduction(kernel);
  if (split === null) return null;
  const prologue = split.prologue === null ? null : compileElementwise(split.prologue);
  if (split.prologue !== null && prologue === null) return null;
  const { reduction } = split;
  const reduce = kernels[reduction.primitive] as unknown as ReduceKernel;
  return columnReductionKernel(
    split,
    prologue,
    (operand) => reduce([operand], reduction.params, reduction.aval),
    (h) => context.release(h.storage),
  );
}
