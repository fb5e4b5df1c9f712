import { type CompiledKernel, type KernelOp, type KernelProgram, Primitive, sizeOf } from '@flint/api';
import type { MemoryLedger } from '../storage.js';
import type { CpuHandle } from '../view.js';
import { compileMapReduce } from './map-reduce.js';
import { simdCompatible } from './wasm/elementwise.js';

// A reduction whose producers include exp, log, tanh or logistic (softmax's sum of exponentials,
// logsumexp, a mean of log-probabilities) runs as two kernels: the producers as an elementwise
// kernel, which gets the SIMD code (and the threads) when its inputs allow, writing the reduced
// value to a temporary array, then the reduction alone over it. One more pass over memory, much
// less than calling Math.exp per element in the generated loop. Cheap producers (sum(x * y))
// stay in one loop, where that pass would cost more than it saves.

const TRANSCENDENTAL = new Set<Primitive>([Primitive.Exp, Primitive.Log, Primitive.Tanh, Primitive.Logistic]);

/** Elements below which the single loop stays (the split costs a kernel call and an allocation). */
const SPLIT_MIN_ELEMENTS = 4096;

/** The reduction as elementwise producers + the reduction alone, or null where that does not pay. */
export function compileSplitReduction(kernel: KernelProgram, ledger: MemoryLedger): CompiledKernel<CpuHandle> | null {
  const ops = kernel.ops;
  const reduceIndex = ops.length - 1;
  const reduce = ops[reduceIndex];
  const argument = reduce?.args[0];
  if (reduce === undefined || argument?.kind !== 'op' || reduce.aval.dtype !== 'float32') return null;
  const mapOps = ops.slice(0, -1);
  const shape = (mapOps[argument.index] as KernelOp).aval.shape;
  if (sizeOf(shape) < SPLIT_MIN_ELEMENTS || !mapOps.some((op) => TRANSCENDENTAL.has(op.primitive))) return null;
  if (
    !simdCompatible(
      mapOps,
      kernel.inputs.map((a) => a.dtype),
    )
  )
    return null;
  const mapOutputs = kernel.outputs.filter((o) => o !== reduceIndex);
  const producerOutputs = mapOutputs.includes(argument.index) ? mapOutputs : [...mapOutputs, argument.index];
  const producers = compileMapReduce(
    { kind: 'elementwise', inputs: kernel.inputs, ops: mapOps, outputs: producerOutputs, reusable: kernel.reusable, text: kernel.text },
    ledger,
  );
  const reduction = compileMapReduce(
    {
      kind: 'reduction',
      inputs: [(mapOps[argument.index] as KernelOp).aval],
      ops: [{ ...reduce, args: [{ kind: 'input', index: 0 }] }],
      outputs: [0],
      reusable: [false],
      text: kernel.text,
    },
    ledger,
  );
  if (producers === null || reduction === null) return null;
  const valueAt = producerOutputs.indexOf(argument.index);
  const valueIsOutput = mapOutputs.includes(argument.index);
  return {
    run(inputs, consumable) {
      const produced = producers.run(inputs, consumable);
      const value = produced[valueAt] as CpuHandle;
      const [reduced] = reduction.run([value], [false]);
      // A temporary written into a consumable input is that input: the caller disposes it.
      if (!valueIsOutput && !inputs.includes(value) && !value.released) {
        value.released = true;
        ledger.release(value.storage);
      }
      return kernel.outputs.map((o) => (o === reduceIndex ? (reduced as CpuHandle) : (produced[producerOutputs.indexOf(o)] as CpuHandle)));
    },
  };
}
