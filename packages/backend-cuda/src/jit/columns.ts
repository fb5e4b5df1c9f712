import {
  type Aval,
  type CompiledKernel,
  type KernelOp,
  type KernelProgram,
  type KernelTable,
  type ParamsOf,
  type ReducePrimitive,
  sizeOf,
} from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import { REDUCE_CODES } from '../native/codes.js';

type ReduceKernel = (inputs: readonly CudaHandle[], params: ParamsOf<ReducePrimitive>, out: Aval) => CudaHandle;

/** A reduction kernel's reduction (its last op) when it folds leading axes into at least 32 neighbouring outputs, each of more than 32 elements. */
function columnReduction(kernel: KernelProgram): KernelOp<ReducePrimitive> | null {
  if (kernel.kind !== 'reduction') return null;
  const reduction = kernel.ops[kernel.ops.length - 1];
  if (reduction === undefined || !(reduction.primitive in REDUCE_CODES) || !kernel.outputs.includes(kernel.ops.length - 1)) return null;
  const argument = reduction.args[0];
  if (argument === undefined || argument.kind === 'literal') return null;
  const shape =
    argument.kind === 'input' ? (kernel.inputs[argument.index] as Aval).shape : (kernel.ops[argument.index] as KernelOp).aval.shape;
  const { axes } = reduction.params as ParamsOf<ReducePrimitive>;
  const leading = axes.length > 0 && axes.length < shape.length && axes.every((axis, i) => axis === i);
  if (!leading) return null;
  const reduced = sizeOf(shape.slice(0, axes.length));
  const outputs = sizeOf(shape.slice(axes.length));
  return reduced > 32 && outputs >= 32 ? (reduction as KernelOp<ReducePrimitive>) : null;
}

/**
 * jit's reductions over leading axes into many neighbouring outputs: a bias's gradient in a
 * jitted training step, `sum(g, 0)` of a [tokens, features] cotangent. The generated reduction
 * takes a warp per output, whose lanes would read 32 rows of one column per load (a sector per
 * value); such a fusion runs instead as its elementwise prologue's kernel (when it has one: it
 * writes the reduced value and the prologue's outputs) and the addon's reduction, whose column
 * kernels read a row of outputs per load and spread the rows over the device. Null when the
 * kernel is not such a reduction, or when the prologue cannot be compiled.
 */
export function compileColumnReduction(
  context: CudaContext,
  kernels: KernelTable<CudaHandle>,
  kernel: KernelProgram,
  compileElementwise: (prologue: KernelProgram) => CompiledKernel<CudaHandle> | null,
): CompiledKernel<CudaHandle> | null {
  const reduction = columnReduction(kernel);
  if (reduction === null) return null;
  const last = kernel.ops.length - 1;
  const argument = reduction.args[0] as Exclude<KernelOp['args'][number], { kind: 'literal' }>;
  // The prologue returns the reduced value (when an op makes it) and the kernel's other outputs.
  const returned = [...new Set([...(argument.kind === 'op' ? [argument.index] : []), ...kernel.outputs.filter((i) => i !== last)])];
  let prologue: CompiledKernel<CudaHandle> | null = null;
  if (returned.length > 0) {
    prologue = compileElementwise({
      kind: 'elementwise',
      inputs: kernel.inputs,
      ops: kernel.ops.slice(0, last),
      outputs: returned,
      reusable: kernel.reusable,
      text: `${kernel.text}\n(the prologue of a column reduction)`,
    });
    if (prologue === null) return null;
  }
  const reduce = kernels[reduction.primitive] as unknown as ReduceKernel;
  const temporary = argument.kind === 'op' && !kernel.outputs.includes(argument.index);
  return {
    run(inputs: readonly CudaHandle[]): CudaHandle[] {
      // No input is handed to the prologue: the reduction still reads the value it writes.
      const produced = prologue === null ? [] : prologue.run(inputs, []);
      const valueOf = (index: number) => produced[returned.indexOf(index)] as CudaHandle;
      const operand = argument.kind === 'input' ? (inputs[argument.index] as CudaHandle) : valueOf(argument.index);
      let result: CudaHandle;
      try {
        result = reduce([operand], reduction.params, reduction.aval);
      } catch (error) {
        for (const h of produced) context.release(h.storage);
        throw error;
      }
      if (temporary) context.release(operand.storage);
      return kernel.outputs.map((index) => (index === last ? result : valueOf(index)));
    },
  };
}
