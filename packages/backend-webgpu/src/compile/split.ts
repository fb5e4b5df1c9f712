import type { CompiledKernel, KernelOp, KernelProgram, KernelRef } from '@flint/api';
import type { WebGpuHandle } from '../handle.js';
import { Unsupported } from './body.js';

// An elementwise group whose inputs and outputs together need more storage buffers than a shader
// may bind (an optimizer update of several tensors easily has a dozen) runs as a few kernels, each
// computing some of the outputs from the ops they depend on (shared producers are recomputed,
// which is cheaper than a round trip through memory). Still one dispatch per part instead of one
// per op.

/** The inputs and ops output `o` of `kernel` depends on. */
function ancestry(kernel: KernelProgram, o: number): { inputs: Set<number>; ops: Set<number> } {
  const inputs = new Set<number>();
  const ops = new Set<number>();
  const visit = (j: number): void => {
    if (ops.has(j)) return;
    ops.add(j);
    for (const ref of (kernel.ops[j] as KernelOp).args) {
      if (ref.kind === 'input') inputs.add(ref.index);
      else if (ref.kind === 'op') visit(ref.index);
    }
  };
  visit(o);
  return { inputs, ops };
}

/** `kernel` restricted to the ops behind `outputs` (renumbered), with the same inputs. */
function part(kernel: KernelProgram, outputs: readonly number[], index: number): KernelProgram {
  const keep = new Set<number>();
  for (const o of outputs) for (const j of ancestry(kernel, o).ops) keep.add(j);
  const order = [...keep].sort((a, b) => a - b);
  const renumber = new Map(order.map((j, k) => [j, k]));
  const remap = (ref: KernelRef): KernelRef => (ref.kind === 'op' ? { kind: 'op', index: renumber.get(ref.index) as number } : ref);
  return {
    kind: kernel.kind,
    inputs: kernel.inputs,
    ops: order.map((j) => {
      const op = kernel.ops[j] as KernelOp;
      return { ...op, args: op.args.map(remap) };
    }),
    outputs: outputs.map((o) => renumber.get(o) as number),
    reusable: kernel.inputs.map(() => false),
    text: `${kernel.text}\n# part ${index}: outputs ${outputs.join(',')}`,
  };
}

/**
 * Partitions `kernel`'s outputs into parts that each bind at most `limit` buffers (inputs read plus
 * outputs written), compiled by `compile`; throws Unsupported when one output alone needs more.
 */
export function compileInParts(
  kernel: KernelProgram,
  limit: number,
  compile: (part: KernelProgram) => CompiledKernel<WebGpuHandle>,
): CompiledKernel<WebGpuHandle> {
  const groups: { outputs: number[]; inputs: Set<number> }[] = [];
  for (const o of kernel.outputs) {
    const needs = ancestry(kernel, o).inputs;
    if (needs.size + 1 > limit)
      throw new Unsupported(`an output needing ${needs.size} inputs exceeds the device's ${limit} storage bindings`);
    const current = groups[groups.length - 1];
    const union = current === undefined ? needs : new Set([...current.inputs, ...needs]);
    if (current !== undefined && union.size + current.outputs.length + 1 <= limit) {
      current.outputs.push(o);
      current.inputs = union;
    } else groups.push({ outputs: [o], inputs: new Set(needs) });
  }
  const parts = groups.map((g, index) => ({ outputs: g.outputs, compiled: compile(part(kernel, g.outputs, index)) }));
  const position = new Map(kernel.outputs.map((o, m) => [o, m]));
  return {
    // No part writes into an input: a later part may still read it.
    run(inputs) {
      const results = new Array<WebGpuHandle>(kernel.outputs.length);
      const never = inputs.map(() => false);
      for (const p of parts) {
        const handles = p.compiled.run(inputs, never);
        p.outputs.forEach((o, k) => {
          results[position.get(o) as number] = handles[k] as WebGpuHandle;
        });
      }
      return results;
    },
  };
}
