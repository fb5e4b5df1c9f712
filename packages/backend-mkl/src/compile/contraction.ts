import { type Aval, type CompiledKernel, type KernelOp, type KernelProgram, type KernelRef, type KernelTable, Primitive } from '@flint/api';
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

/** A ref of the contraction's epilogue seen as its own kernel, whose input 0 is the contraction's result. */
function shiftRef(ref: KernelRef): KernelRef {
  if (ref.kind === 'literal') return ref;
  if (ref.kind === 'input') return { kind: 'input', index: ref.index + 1 };
  return ref.index === 0 ? { kind: 'input', index: 0 } : { kind: 'op', index: ref.index - 1 };
}

/**
 * A contraction with its epilogue: oneDNN post-ops when the epilogue is one (see post-ops.ts),
 * else the addon's matmul or conv writes the result and the epilogue runs over it right after as
 * generated code, in place while the result is still in cache.
 */
export function compileContraction(kernel: KernelProgram, context: ContractionContext): CompiledKernel<MklHandle> | null {
  const head = kernel.ops[0];
  if (head === undefined || (head.primitive !== Primitive.DotGeneral && head.primitive !== Primitive.Conv)) return null;
  const [lhs, rhs] = head.args as [KernelRef | undefined, KernelRef | undefined];
  if (lhs?.kind !== 'input' || rhs?.kind !== 'input') return null;
  const { memory } = context;
  const contract = context.kernels[head.primitive] as unknown as ContractionKernel;
  const params = head.params;
  const resultIsOutput = kernel.outputs.includes(0);
  const epilogueOps: KernelOp[] = kernel.ops.slice(1).map((op) => ({ ...op, args: op.args.map(shiftRef) }));
  const epilogueOutputs = kernel.outputs.filter((o) => o !== 0).map((o) => o - 1);
  const epilogueKernel: KernelProgram = {
    kind: 'elementwise',
    inputs: [head.aval, ...kernel.inputs],
    ops: epilogueOps,
    outputs: epilogueOutputs,
    reusable: [!resultIsOutput, ...kernel.reusable],
    text: kernel.text,
  };
  const epilogue = epilogueOps.length === 0 ? null : (compileFusedElementwise(epilogueKernel, context) ?? context.portable(epilogueKernel));
  if (epilogueOps.length > 0 && epilogue === null) return null;
  const generic: CompiledKernel<MklHandle> = {
    run(inputs, consumable) {
      const result = contract([inputs[lhs.index] as MklHandle, inputs[rhs.index] as MklHandle], params as never, head.aval);
      if (epilogue === null) return [result];
      const after = epilogue.run([result, ...inputs], [!resultIsOutput, ...consumable]);
      for (const output of after) memory.track(output.storage);
      if (!resultIsOutput && !after.includes(result) && !result.released) {
        result.released = true;
        memory.release(result.storage);
      }
      let next = 0;
      return kernel.outputs.map((o) => (o === 0 ? result : (after[next++] as MklHandle)));
    },
  };
  return compilePostOps(kernel, context, generic) ?? generic;
}
