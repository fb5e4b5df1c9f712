import { type Aval, BackendError, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { Storage, WebGpuHandle } from '../handle.js';
import { wgslType } from '../layout.js';
import { ParamWriter } from '../wgsl/shader.js';
import { fillKernel } from './copy.js';
import { TILE, tiledProductSource } from './tiled.js';

// Convolution as an implicit GEMM on the tiled product kernel: per group g,
//   C[m, n] = sum_k W[g * outPerGroup + m, k] * X(n, k),
// with m an output channel, n = image * outSize + output position, and k = channel * kernelSize +
// kernel position. X(n, k) is the input element under that kernel tap (zero in padding or between
// dilated input points), computed on the fly instead of materializing im2col columns. The input
// is read through its strides; the weights are packed.

const SLOTS = 20;
// 0: unused, 1-3: M, N, K, 4: spatial rank, 5: kernel size, 6: output positions per image,
// 7: outPerGroup, 8: channelsPerGroup, 9: out channels, 10: x offset, 11: x batch stride,
// 12: x channel stride, 13: weights offset, then sections: 14 input sizes, 15 kernel sizes,
// 16 output sizes, 17 strides, 18 low padding, 19 input dilation, and (after them) rhs dilation
// and x spatial strides at params[19] + rank and params[19] + 2 * rank.

/** The linear output index of the product element (group, m, n) (see the store below). */
export const CONV_OUTPUT_INDEX = '(n / params[6] * params[9] + group * params[7] + m) * params[6] + n % params[6]';

function convFunctions(type: string, zero: string, finish: string): string {
  return `${convLoaders(type, zero)}
fn store(group: i32, m: i32, n: i32, value: ${type}) {
  result[${CONV_OUTPUT_INDEX}] = ${finish};
}
`;
}

/** loadA (weights, input1) and loadB (input taps, input0) of the implicit GEMM. */
export function convLoaders(type: string, zero: string): string {
  return `
fn loadA(group: i32, m: i32, k: i32) -> ${type} {
  return input1[params[13] + (group * params[7] + m) * params[3] + k];
}
fn loadB(group: i32, k: i32, n: i32) -> ${type} {
  let rank = params[4];
  let kernelSize = params[5];
  let outSize = params[6];
  let channel = k / kernelSize;
  var kernelPosition = k % kernelSize;
  let image = n / outSize;
  var outPosition = n % outSize;
  var offset = params[10] + image * params[11] + (group * params[8] + channel) * params[12];
  for (var d = rank - 1; d >= 0; d--) {
    let kernelDim = params[params[15] + d];
    let outDim = params[params[16] + d];
    let tap = kernelPosition % kernelDim;
    kernelPosition = kernelPosition / kernelDim;
    let o = outPosition % outDim;
    outPosition = outPosition / outDim;
    let position = o * params[params[17] + d] + tap * params[params[19] + rank + d] - params[params[18] + d];
    let inputDilation = params[params[19] + d];
    if (position < 0 || position % inputDilation != 0) { return ${zero}; }
    let index = position / inputDilation;
    if (index >= params[params[14] + d]) { return ${zero}; }
    offset = offset + index * params[params[19] + 2 * rank + d];
  }
  return input0[offset];
}
`;
}

/** A Conv as one launch of the tiled kernel: its packed weights, parameters and grid. */
export interface ConvPlan {
  readonly weights: { storage: Storage; offset: number; temporary: boolean };
  readonly params: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

/**
 * Prepares the implicit-GEMM launch of a Conv (packing the weights when they are a view), or
 * null when the product has no depth (the output is zeros). The caller releases the weights when
 * `temporary` after recording the launch.
 */
export function planConv(
  context: WebGpuContext,
  lhs: WebGpuHandle,
  rhs: WebGpuHandle,
  params: ParamsOf<Primitive.Conv>,
  out: Aval,
): ConvPlan | null {
  const [batch, channels] = lhs.shape as [number, number];
  const outChannels = rhs.shape[0] as number;
  const groups = params.groups;
  const channelsPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  const kernelSizes = rhs.shape.slice(2);
  const kernelSize = sizeOf(kernelSizes);
  const outSizes = out.shape.slice(2);
  const outSize = sizeOf(outSizes);
  const depth = channelsPerGroup * kernelSize;
  if (depth === 0) return null;
  if (groups > 65535 || Math.ceil((batch * outSize) / TILE) > 65535) {
    throw new BackendError(
      `webgpu: conv of ${groups} groups over ${batch * outSize} output positions exceeds the dispatch limits (65535 groups, ${65535 * TILE} positions)`,
    );
  }
  const weights = context.packed(rhs);
  const rank = kernelSizes.length;
  const writer = new ParamWriter(SLOTS);
  writer.set(1, outPerGroup);
  writer.set(2, batch * outSize);
  writer.set(3, depth);
  writer.set(4, rank);
  writer.set(5, kernelSize);
  writer.set(6, outSize);
  writer.set(7, outPerGroup);
  writer.set(8, channelsPerGroup);
  writer.set(9, outChannels);
  writer.set(10, lhs.offset);
  writer.set(11, lhs.strides[0] as number);
  writer.set(12, lhs.strides[1] as number);
  writer.set(13, weights.offset);
  writer.section(14, lhs.shape.slice(2));
  writer.section(15, kernelSizes);
  writer.section(16, outSizes);
  writer.section(17, params.strides);
  writer.section(
    18,
    params.padding.map((p) => p[0]),
  );
  writer.section(19, [...params.lhsDilation, ...params.rhsDilation, ...lhs.strides.slice(2)]);
  return { weights, params: writer.words, workgroups: [Math.ceil((batch * outSize) / TILE), Math.ceil(outPerGroup / TILE), groups] };
}

export function convKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Conv>,
  out: Aval,
): WebGpuHandle {
  const lhs = inputs[0] as WebGpuHandle;
  const rhs = inputs[1] as WebGpuHandle;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  const label = `conv (${out.dtype})`;
  if (total === 0) return context.handle(output, out.shape, out.dtype);
  let plan: ConvPlan | null;
  try {
    plan = planConv(context, lhs, rhs, params, out);
  } catch (error) {
    context.release(output);
    throw error;
  }
  if (plan === null) {
    fillKernel(context, label, output, total, 0);
    return context.handle(output, out.shape, out.dtype);
  }
  const type = wgslType(out.dtype);
  const zero = type === 'f32' ? '0.0' : type === 'i32' ? '0' : '0u';
  context.launch(
    {
      name: label,
      key: `conv:${out.dtype}`,
      source: () => tiledProductSource(type, [type, type], convFunctions(type, zero, out.dtype === 'uint8' ? 'value & 255u' : 'value')),
      params: plan.params,
      workgroups: plan.workgroups,
    },
    output,
    [lhs.storage, plan.weights.storage],
  );
  if (plan.weights.temporary) context.release(plan.weights.storage);
  return context.handle(output, out.shape, out.dtype);
}
