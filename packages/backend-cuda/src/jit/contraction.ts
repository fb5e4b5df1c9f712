import {
  type Aval,
  type CompiledKernel,
  type KernelProgram,
  type KernelTable,
  type ParamsOf,
  Primitive,
  type SplitContraction,
  sizeOf,
  splitContraction,
} from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import { dotGeneralWithBias } from '../kernels/dot.js';

type ContractionKernel = (inputs: readonly CudaHandle[], params: never, out: Aval) => CudaHandle;

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The kernel input that a matmul's epilogue adds as a bias, when the epilogue is exactly that:
 * `result + broadcast(row)` (either order), the row holding one value per column of the product
 * (the rhs's free dims, after leading ones), in a float dtype; else null.
 */
function biasInput(kernel: KernelProgram, split: SplitContraction): number | null {
  const { head } = split;
  const [, broadcast, add] = kernel.ops;
  if (head.primitive !== Primitive.DotGeneral || kernel.ops.length !== 3 || broadcast === undefined || add === undefined) return null;
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(head.aval.dtype)) return null;
  if (kernel.outputs.length !== 1 || kernel.outputs[0] !== 2 || add.primitive !== Primitive.Add) return null;
  const [x, y] = add.args;
  const fromResult = (r: typeof x) => r?.kind === 'op' && r.index === 0;
  const fromRow = (r: typeof x) => r?.kind === 'op' && r.index === 1;
  if (!((fromResult(x) && fromRow(y)) || (fromRow(x) && fromResult(y)))) return null;
  const source = broadcast.args[0];
  if (broadcast.primitive !== Primitive.Broadcast || source?.kind !== 'input') return null;
  const row = kernel.inputs[source.index] as Aval;
  const params = head.params as ParamsOf<Primitive.DotGeneral>;
  const rhsRank = (kernel.inputs[split.rhs] as Aval).shape.length;
  const columns = head.aval.shape.slice(head.aval.shape.length - (rhsRank - params.rhsContracting.length - params.rhsBatch.length));
  let first = 0;
  while (first < row.shape.length && row.shape[first] === 1) first++;
  const rowDims = row.shape.slice(first);
  const fits =
    row.dtype === head.aval.dtype &&
    sizeOf(rowDims) === sizeOf(columns) &&
    sameShape(rowDims, columns.slice(columns.length - rowDims.length));
  return fits && sizeOf(columns) > 0 ? source.index : null;
}

/**
 * jit's 'contraction' fusions (a dotGeneral or conv with its elementwise epilogue: bias,
 * activation, residual): the contraction runs as the backend's own op (cuBLASLt or cuDNN where
 * present, else the addon's kernels) and the whole epilogue as one fused kernel over its result,
 * two launches where running the group op by op would take one per epilogue op. A matmul whose
 * epilogue only adds a bias row takes it in cuBLASLt's epilogue when `ltEpilogue()` says
 * cuBLASLt may serve: one launch. Null (jit runs the group op by op) when the epilogue cannot be
 * compiled.
 */
export function compileContraction(
  context: CudaContext,
  kernels: KernelTable<CudaHandle>,
  kernel: KernelProgram,
  compileElementwise: (epilogue: KernelProgram) => CompiledKernel<CudaHandle> | null,
  ltEpilogue: () => boolean,
): CompiledKernel<CudaHandle> | null {
  const split = splitContraction(kernel);
  if (split === null) return null;
  const { head, lhs, rhs, epilogue: epilogueKernel, resultIsOutput } = split;
  const epilogue = epilogueKernel === null ? null : compileElementwise(epilogueKernel);
  if (epilogueKernel !== null && epilogue === null) return null;
  const contract = kernels[head.primitive] as unknown as ContractionKernel;
  const bias = biasInput(kernel, split);
  // Shapes and dtypes are fixed per kernel; what else a decline depends on (the operands' strides,
  // and their alignment through the offsets) is the key: calls like one cuBLASLt declined go
  // straight to the exact fallback instead of packing and asking again.
  const declined = new Set<string>();
  const layoutKey = (inputs: readonly CudaHandle[]) =>
    [inputs[lhs] as CudaHandle, inputs[rhs] as CudaHandle, inputs[bias as number] as CudaHandle]
      .map((h) => `${h.strides.join(',')}@${h.offset % 64}`)
      .join('|');
  const withBias = (inputs: readonly CudaHandle[]): CudaHandle | null => {
    if (bias === null || !ltEpilogue()) return null;
    const key = layoutKey(inputs);
    if (declined.has(key)) return null;
    const packed = context.packed(inputs[bias] as CudaHandle);
    try {
      const params = head.params as ParamsOf<Primitive.DotGeneral>;
      const out = dotGeneralWithBias(context, inputs[lhs] as CudaHandle, inputs[rhs] as CudaHandle, packed.handle, params, head.aval);
      if (out === null) declined.add(key);
      return out;
    } finally {
      if (packed.temporary) context.release(packed.handle.storage);
    }
  };
  return {
    run(inputs: readonly CudaHandle[]): CudaHandle[] {
      const fused = withBias(inputs);
      if (fused !== null) return [fused];
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
