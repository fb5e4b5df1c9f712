import { type Aval, type CompiledKernel, type KernelProgram, type KernelTable, splitContraction } from '@flint/api';
import type { MklHandle } from '../handle.js';
import type { MklMemory } from '../memory.js';
import { compileFusedElementwise } from './elementwise.js';
import type { KernelCache } from './kernel-cache.js';
import { compilePostOps, type PostOpsContext } from './post-ops.js';

export interface ContractionContext extends PostOpsContext {
  readonly memory: MklMemory;
  /** Compiled C versions of elementwise programs (codegen.ts), for epilogues. */
  readonly generated: KernelCache;
  /** The addon computes the transcendental ops through glibc's vector math (NativeInfo.vectorMath). */
  readonly vectorMath: boolean;
  /** This backend's kernels (their outputs are counted in its ledger). */
  readonly kernels: KernelTable<MklHandle>;
  readonly portable: (kernel: KernelProgram) => CompiledKernel<MklHandle> | null;
}

type ContractionKernel = (inputs: readonly MklHandle[], params: never, out: Aval) => MklHandle;

/**
 * A contraction with its epilogue: oneDNN post-ops when the epilogue is one (see post-ops.ts),
 * else the addon's matmul or conv writes the result and the epilogue runs over it right after as
 * generated code, in place while the result is still in cache.
 */
export function compileContraction(kernel: KernelProgram, context: ContractionContext): CompiledKernel<MklHandle> | null {
  const split = splitContraction(kernel);
  if (split === null) return null;
  const { head, lhs, rhs, epilogue: epilogueKernel, resultIsOutput } = split;
  const { memory } = context;
  const contract = context.kernels[head.primitive] as unknown as ContractionKernel;
  const params = head.params;
  const epilogue = epilogueKernel === null ? null : (compileFusedElementwise(epilogueKernel, context) ?? context.portable(epilogueKernel));
  if (epilogueKernel !== null && epilogue === null) return null;
  const generic: CompiledKernel<MklHandle> = {
    run(inputs, consumable) {
      const result = contract([inputs[lhs] as MklHandle, inputs[rhs] as MklHandle], params as never, head.aval);
      if (epilogue === null) return [result];
      const after = epilogue.run(split.epilogueArgs(result, inputs), split.epilogueArgs(!resultIsOutput, consumable));
      for (const output of after) memory.track(output.storage);
      if (!resultIsOutput && !after.includes(result) && !result.released) {
        result.released = true;
        memory.release(result.storage);
      }
      return split.assemble(result, after);
    },
  };
  return compilePostOps(kernel, context, generic) ?? generic;
}
