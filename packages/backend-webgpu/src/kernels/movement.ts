import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { scalarBits } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { copyStridedKernel } from './copy.js';

// The movement views live in @flint/api/strided-backend. Pad and Concat write new buffers with
// raw-word kernels.

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
