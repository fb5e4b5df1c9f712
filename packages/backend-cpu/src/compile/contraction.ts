import { type Aval, type CompiledKernel, type KernelOp, type KernelProgram, type KernelRef, type ParamsOf, Primitive } from '@flint/api';
import { convKernel } from '../kernels/conv.js';
import { dotGeneralKernel } from '../kernels/dot.js';
import type { MemoryLedger } from '../storage.js';
import type { CpuHandle } from '../view.js';
import { compileMapReduce } from './map-reduce.js';

// A contraction with its epilogue, as oneDNN's post-ops: the matmul or conv kernel writes its
// result, and the epilogue (bias, activation, residual) runs over it right after, in place while
// it is still in cache, instead of as separate kernels each allocating and streaming a new tensor.

type ContractionKernel = (inputs: readonly CpuHandle[], params: never, out: Aval) => CpuHandle;

function shiftRef(ref: KernelRef): KernelRef {
  if (ref.kind === 'literal') return ref;
  if (ref.kind === 'input') return { kind: 'input', index: ref.index + 1 };
  return ref.index === 0 ? { kind: 'input', index: 0 } : { kind: 'op', index: ref.index - 1 };
}

export function compileContraction(kernel: KernelProgram, ledger: MemoryLedger): CompiledKernel<CpuHandle> | null {
  const head = kernel.ops[0];
  if (head === undefined || (head.primitive !== Primitive.DotGeneral && head.primitive !== Primitive.Conv)) return null;
  const [lhs, rhs] = head.args as [KernelRef, KernelRef];
  if (lhs?.kind !== 'input' || rhs?.kind !== 'input') return null;
  const contract = (head.primitive === Primitive.DotGeneral ? dotGeneralKernel : convKernel) as unknown as ContractionKernel;
  const params = head.params as ParamsOf<Primitive.DotGeneral>;
  const resultIsOutput = kernel.outputs.includes(0);
  const epilogueOps: KernelOp[] = kernel.ops.slice(1).map((op) => ({ ...op, args: op.args.map(shiftRef) }));
  const epilogueOutputs = kernel.outputs.filter((o) => o !== 0).map((o) => o - 1);
  const epilogue =
    epilogueOps.length === 0
      ? null
      : compileMapReduce(
          {
            kind: 'elementwise',
            inputs: [head.aval, ...kernel.inputs],
            ops: epilogueOps,
            outputs: epilogueOutputs,
            reusable: [!resultIsOutput, ...kernel.reusable],
            text: kernel.text,
          },
          ledger,
        );
  if (epilogueOps.length > 0 && epilogue === null) return null;
  return {
    run(inputs, consumable) {
      const result = contract([inputs[lhs.index] as CpuHandle, inputs[rhs.index] as CpuHandle], params as never, head.aval);
      ledger.track(result.storage);
      if (epilogue === null) return [result];
      const after = epilogue.run([result, ...inputs], [!resultIsOutput, ...consumable]);
      if (!resultIsOutput && !after.includes(result) && !result.released) {
        result.released = true;
        ledger.release(result.storage);
      }
      let next = 0;
      return kernel.outputs.map((o) => (o === 0 ? result : (after[next++] as CpuHandle)));
    },
  };
}
