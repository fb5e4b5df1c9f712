import { type Aval, type CompiledKernel, type KernelOp, type KernelProgram, primitiveName, sizeOf } from '@flint/api';
import { takesOutput } from '@flint/api/strided-backend';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { grid } from '../runtime.js';
import { library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { fusedBody, storageType, storedValue, Unsupported } from './body.js';
import { fusedBindings, inputBuffer, loadStrides, outputBuffer, pointReads, pointSlots, writePointParams } from './pointwise.js';
import { compileInParts } from './split.js';

/** The distinct kernel inputs a body reads, in order of first use. */
export function readInputs(loads: readonly { input: number }[]): number[] {
  const seen: number[] = [];
  for (const load of loads) if (!seen.includes(load.input)) seen.push(load.input);
  return seen;
}

/** The storage buffers a fused kernel may bind besides its parameters. */
export function bindingLimit(context: WebGpuContext): number {
  return context.runtime.device.limits.maxStorageBuffersPerShaderStage - 1;
}

/** Checks that a kernel's buffers fit the device's storage bindings (binding 0 is the parameters). */
export function checkBindings(context: WebGpuContext, buffers: number): void {
  const limit = bindingLimit(context);
  if (buffers > limit) throw new Unsupported(`${buffers} buffers exceed the device's ${limit} storage bindings`);
}

/** A readable name for a fused kernel in error messages: its kind and primitives. */
export function fusedName(kernel: KernelProgram): string {
  const names = kernel.ops.map((op: KernelOp) => primitiveName(op.primitive));
  const shown = names.length > 6 ? [...names.slice(0, 6), '...'] : names;
  return `fused ${kernel.kind} (${shown.join(', ')})`;
}

/**
 * An elementwise chain as one shader: one thread per element reads every load through its strides
 * (broadcasts included), computes the ops in registers and writes each output contiguously. An
 * output may be written into a consumable input (see CompiledKernel.run): each thread reads that
 * input's element before writing the same element, so the input is read through the output's
 * binding (WebGPU forbids binding one buffer both read-only and writable in a dispatch).
 */
export function compileElementwise(context: WebGpuContext, kernel: KernelProgram): CompiledKernel<WebGpuHandle> {
  const first = kernel.ops[0];
  if (first === undefined) throw new Unsupported('an empty kernel');
  const shape = first.aval.shape;
  const body = fusedBody(kernel, 0, kernel.ops.length);
  const used = readInputs(body.loads);
  const broadcastRead = new Set(body.loads.filter((load) => load.broadcast !== null).map((load) => load.input));
  const outputAvals = kernel.outputs.map((o) => (kernel.ops[o] as KernelOp).aval);
  const outputTypes = outputAvals.map((aval) => storageType(aval.dtype));
  const limit = bindingLimit(context);
  if (used.length + outputTypes.length > limit) return compileInParts(kernel, limit, (part) => compileElementwise(context, part));
  const base = 1;
  /** The shader for one choice of outputs written in place: `written.get(input)` is the output. */
  const sourceFor = (written: ReadonlyMap<number, number>) => (): string => {
    const writes = kernel.outputs
      .map((o, m) => `  ${outputBuffer(m)}[i] = ${storedValue(body.valueOf(o), (outputAvals[m] as Aval).dtype)};`)
      .join('\n');
    const inputs = used
      .filter((input) => !written.has(input))
      .map((input) => ({ name: inputBuffer(input), type: storageType((kernel.inputs[input] as Aval).dtype) }));
    const buffer = (input: number): string => {
      const output = written.get(input);
      return output === undefined ? inputBuffer(input) : outputBuffer(output);
    };
    return `${fusedBindings(outputTypes, inputs)}${library(body.helpers)}${body.functions}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
${pointReads(body, base, 'i', buffer)}
${body.statements}
${writes}
}
`;
  };
  const sources = new Map<string, () => string>();
  const name = fusedName(kernel);
  const total = sizeOf(shape);
  /** The consumable input output m may be written into, or -1. */
  const reusableInput = (
    m: number,
    inputs: readonly WebGpuHandle[],
    consumable: readonly boolean[],
    taken: ReadonlyMap<number, number>,
  ): number => {
    const aval = outputAvals[m] as Aval;
    for (let i = 0; i < inputs.length; i++) {
      const h = inputs[i] as WebGpuHandle;
      if (consumable[i] && !taken.has(i) && !broadcastRead.has(i) && takesOutput(h, aval.shape, aval.dtype)) return i;
    }
    return -1;
  };
  return {
    run(inputs, consumable) {
      const written = new Map<number, number>();
      const results: WebGpuHandle[] = outputAvals.map((aval, m) => {
        const reused = total > 0 ? reusableInput(m, inputs, consumable, written) : -1;
        if (reused < 0) return context.handle(context.allocate(total), aval.shape, aval.dtype);
        written.set(reused, m);
        return inputs[reused] as WebGpuHandle;
      });
      if (total > 0) {
        const writer = new ParamWriter(base + pointSlots(body));
        writer.set(0, total);
        writePointParams(writer, base, body, shape, inputs, loadStrides(kernel, body, inputs));
        const pattern = [...written].map(([input, m]) => `${input}>${m}`).join(',');
        let source = sources.get(pattern);
        if (source === undefined) {
          source = sourceFor(new Map(written));
          sources.set(pattern, source);
        }
        context.launchMany(
          { name, key: `fused:${pattern}:${kernel.text}`, source, params: writer.words, workgroups: grid(total, WORKGROUP) },
          results.map((h) => h.storage),
          used.filter((input) => !written.has(input)).map((input) => (inputs[input] as WebGpuHandle).storage),
          results.filter((h) => !inputs.includes(h)).map((h) => h.storage),
        );
      }
      return results;
    },
  };
}
