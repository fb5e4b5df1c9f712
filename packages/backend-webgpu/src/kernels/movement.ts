import {
  type Aval,
  broadcastLayout,
  contiguousStrides,
  flipLayout,
  type ParamsOf,
  type Primitive,
  reshapeStrides,
  type StridedLayout,
  sizeOf,
  sliceLayout,
  transposeLayout,
} from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { view, type WebGpuHandle } from '../handle.js';
import { scalarBits } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { copyStridedKernel } from './copy.js';

// Reshape (when the strides allow), Transpose, Broadcast, Slice and Flip are views: they record
// no GPU work at all. Pad and Concat write new buffers with raw-word kernels.

export function reshapeKernel(context: WebGpuContext, inputs: readonly WebGpuHandle[], out: Aval): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const strides = reshapeStrides(x.shape, x.strides, out.shape);
  if (strides !== null) return view(x, out.shape, strides, x.offset);
  return context.handle(context.copyContiguous(x), out.shape, out.dtype);
}

/** A view of `x`'s storage with another layout. */
function viewAs(x: WebGpuHandle, layout: StridedLayout): WebGpuHandle {
  return view(x, layout.shape, layout.strides, layout.offset);
}

export function transposeKernel(inputs: readonly WebGpuHandle[], params: ParamsOf<Primitive.Transpose>): WebGpuHandle {
  return viewAs(inputs[0] as WebGpuHandle, transposeLayout(inputs[0] as WebGpuHandle, params.perm));
}

export function broadcastKernel(inputs: readonly WebGpuHandle[], params: ParamsOf<Primitive.Broadcast>): WebGpuHandle {
  return viewAs(inputs[0] as WebGpuHandle, broadcastLayout(inputs[0] as WebGpuHandle, params.shape));
}

export function sliceKernel(inputs: readonly WebGpuHandle[], params: ParamsOf<Primitive.Slice>, out: Aval): WebGpuHandle {
  return viewAs(inputs[0] as WebGpuHandle, sliceLayout(inputs[0] as WebGpuHandle, params.starts, params.steps, out.shape));
}

export function flipKernel(inputs: readonly WebGpuHandle[], params: ParamsOf<Primitive.Flip>): WebGpuHandle {
  return viewAs(inputs[0] as WebGpuHandle, flipLayout(inputs[0] as WebGpuHandle, params.axes));
}

const PAD_SOURCE = (): string => `${bindings('u32', ['u32'])}${library([])}
// params: total, rank, outShapeAt, lowAt, inShapeAt, inStridesAt, inOffset, fill bits
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let rank = params[1];
  var rest = i;
  var offset = params[6];
  var inside = true;
  for (var d = rank - 1; d >= 0; d--) {
    let dim = params[params[2] + d];
    let position = rest % dim - params[params[3] + d];
    rest = rest / dim;
    if (position < 0 || position >= params[params[4] + d]) { inside = false; }
    offset = offset + position * params[params[5] + d];
  }
  if (inside) { result[i] = input0[offset]; } else { result[i] = bitcast<u32>(params[7]); }
}
`;

export function padKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Pad>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const writer = new ParamWriter(8);
    writer.set(0, total);
    writer.set(1, out.shape.length);
    writer.section(2, out.shape);
    writer.section(
      3,
      params.widths.map((w) => w[0]),
    );
    writer.section(4, x.shape);
    writer.section(5, x.strides);
    writer.set(6, x.offset);
    writer.set(7, scalarBits(params.value, out.dtype));
    context.launch(
      { name: `pad (${out.dtype})`, key: 'pad', source: PAD_SOURCE, params: writer.words, workgroups: grid(total, WORKGROUP) },
      output,
      [x.storage],
    );
  }
  return context.handle(output, out.shape, out.dtype);
}

export function concatKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Concat>,
  out: Aval,
): WebGpuHandle {
  const output = context.allocate(sizeOf(out.shape));
  const strides = contiguousStrides(out.shape);
  let offset = 0;
  for (const x of inputs) {
    copyStridedKernel(context, x, output, offset, strides);
    offset += (x.shape[params.axis] as number) * (strides[params.axis] as number);
  }
  return context.handle(output, out.shape, out.dtype);
}
