import {
  type Aval,
  type CompiledKernel,
  type DType,
  type KernelOp,
  type KernelProgram,
  type ParamsOf,
  Primitive,
  sizeOf,
} from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { Storage, WebGpuHandle } from '../handle.js';
import { CONV_OUTPUT_INDEX, type ConvPlan, convLoaders, planConv } from '../kernels/conv.js';
import { dotLoaders, planDot } from '../kernels/dot.js';
import { tiledProductWithBindings } from '../kernels/tiled.js';
import { helperSource } from '../wgsl/math.js';
import { ParamWriter } from '../wgsl/shader.js';
import { fusedBody, storageType, storedValue, Unsupported, valueType } from './body.js';
import { checkBindings, fusedName, readInputs } from './elementwise.js';
import { fusedBindings, inputBuffer, loadStrides, outputBuffer, pointReads, pointSlots, writePointParams } from './pointwise.js';

// A matmul or conv with its epilogue (bias, activation, residual...) as one launch of the tiled
// kernel: each thread applies the epilogue to its 4 x 4 block of results as it stores them, so
// the product never makes a round trip through memory before the epilogue reads it.

/** The product's launch: the operands, its parameters (the epilogue's follow them) and grid. */
interface Product {
  readonly operands: readonly { storage: Storage; temporary: boolean }[];
  readonly params: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

export function compileContraction(context: WebGpuContext, kernel: KernelProgram): CompiledKernel<WebGpuHandle> {
  const head = kernel.ops[0];
  const isDot = head?.primitive === Primitive.DotGeneral;
  if (head === undefined || (!isDot && head.primitive !== Primitive.Conv))
    throw new Unsupported('a contraction without a dotGeneral or conv');
  const [lhsRef, rhsRef] = head.args;
  if (lhsRef?.kind !== 'input' || rhsRef?.kind !== 'input') throw new Unsupported('a contraction of computed operands');
  if (!isDot) {
    const lhsShape = (kernel.inputs[lhsRef.index] as Aval).shape;
    const rhsShape = (kernel.inputs[rhsRef.index] as Aval).shape;
    const depth = ((lhsShape[1] as number) / (head.params as ParamsOf<Primitive.Conv>).groups) * sizeOf(rhsShape.slice(2));
    if (depth === 0) throw new Unsupported('a conv without depth (its result is zeros)');
  }
  if (head.aval.dtype === 'float16') throw new Unsupported('float16 contractions (run by the converting kernels)');
  const headType = valueType(head.aval.dtype);
  const body = fusedBody(kernel, 1, kernel.ops.length, new Map([[0, 'v0']]));
  const used = readInputs(body.loads);
  const outputDTypes = kernel.outputs.map((o) => (kernel.ops[o] as KernelOp).aval.dtype);
  const outputTypes = outputDTypes.map(storageType);
  checkBindings(context, 2 + used.length + outputTypes.length);
  const finish = head.aval.dtype === 'uint8' ? 'value & 255u' : 'value';
  const zero = headType === 'f32' ? '0.0' : headType === 'i32' ? '0' : '0u';
  // Where the epilogue's parameters start: after the product's, whose count depends only on the
  // kernel's shapes (fixed by its signature); set by the first run, before the shader is built.
  let base = 0;
  const source = (): string => {
    const inputs = [
      { name: 'input0', type: headType },
      { name: 'input1', type: headType },
      ...used.map((input) => ({ name: inputBuffer(input), type: storageType((kernel.inputs[input] as Aval).dtype) })),
    ];
    const writes = kernel.outputs
      .map((o, m) => `  ${outputBuffer(m)}[i] = ${storedValue(body.valueOf(o), outputDTypes[m] as DType)};`)
      .join('\n');
    const store = `
fn store(${isDot ? 'batch' : 'group'}: i32, m: i32, n: i32, value: ${headType}) {
  let i = ${isDot ? '(batch * params[1] + m) * params[2] + n' : CONV_OUTPUT_INDEX};
  let v0 = ${finish};
${pointReads(body, base, 'i', inputBuffer)}
${body.statements}
${writes}
}
`;
    return tiledProductWithBindings(
      headType,
      fusedBindings(outputTypes, inputs),
      `${helperSource(body.helpers)}${body.functions}${isDot ? dotLoaders(headType) : convLoaders(headType, zero)}${store}`,
    );
  };
  const name = fusedName(kernel);
  const shape = head.aval.shape;
  const total = sizeOf(shape);
  const product = (context: WebGpuContext, lhs: WebGpuHandle, rhs: WebGpuHandle): Product => {
    if (isDot) {
      const plan = planDot(context, lhs, rhs, head.params as ParamsOf<Primitive.DotGeneral>);
      return { operands: [plan.a, plan.b], params: plan.params, workgroups: plan.workgroups };
    }
    const plan = planConv(context, lhs, rhs, head.params as ParamsOf<Primitive.Conv>, head.aval) as ConvPlan;
    return { operands: [{ storage: lhs.storage, temporary: false }, plan.weights], params: plan.params, workgroups: plan.workgroups };
  };
  return {
    run(inputs) {
      const outputs: Storage[] = kernel.outputs.map(() => context.allocate(total));
      if (total > 0) {
        let plan: Product;
        try {
          plan = product(context, inputs[lhsRef.index] as WebGpuHandle, inputs[rhsRef.index] as WebGpuHandle);
        } catch (error) {
          for (const output of outputs) context.release(output);
          throw error;
        }
        base = plan.params.length;
        const writer = new ParamWriter(base + pointSlots(body));
        plan.params.forEach((word, slot) => {
          writer.set(slot, word);
        });
        writePointParams(writer, base, body, shape, inputs, loadStrides(kernel, body, inputs));
        context.launchMany(
          { name, key: `fused:${base}:${kernel.text}`, source, params: writer.words, workgroups: plan.workgroups },
          outputs,
          [...plan.operands.map((o) => o.storage), ...used.map((input) => (inputs[input] as WebGpuHandle).storage)],
        );
        for (const operand of plan.operands) if (operand.temporary) context.release(operand.storage);
      }
      return outputs.map((storage, m) => {
        const aval = (kernel.ops[kernel.outputs[m] as number] as KernelOp).aval;
        return context.handle(storage, aval.shape, aval.dtype);
      });
    },
  };
}
