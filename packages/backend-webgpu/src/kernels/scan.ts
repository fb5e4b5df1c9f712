import { type Aval, contiguousStrides, type DType, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, type Storage, type WebGpuHandle } from '../handle.js';
import { wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';

// Cumulative and Argsort work along one axis. The input is read through its strides with the
// axis last; the output is written as [other dims..., axis] and returned as a view in the
// original axis order, so nothing is transposed back.

/** Header of the along-axis parameters: total, length, outerRank, outerShapeAt, outerStridesAt, axisStride, offset, flag. */
export const AXIS_SLOTS = 8;

export function axisParams(x: WebGpuHandle, axis: number, flag: number): ParamWriter {
  const outer = x.shape.map((_, d) => d).filter((d) => d !== axis);
  const merged = coalesce(
    outer.map((d) => x.shape[d] as number),
    [outer.map((d) => x.strides[d] as number)],
  );
  const writer = new ParamWriter(AXIS_SLOTS);
  writer.set(0, sizeOf(x.shape));
  writer.set(1, x.shape[axis] as number);
  writer.set(2, merged.shape.length);
  writer.section(3, merged.shape);
  writer.section(4, merged.strides[0] as number[]);
  writer.set(5, x.strides[axis] as number);
  writer.set(6, x.offset);
  writer.set(7, flag);
  return writer;
}

/** A handle of `shape` over `storage`, which holds the elements as [other dims..., axis] row-major. */
export function axisLastView(context: WebGpuContext, storage: Storage, shape: readonly number[], axis: number, dtype: DType): WebGpuHandle {
  const order = [...shape.map((_, d) => d).filter((d) => d !== axis), axis];
  const packed = contiguousStrides(order.map((d) => shape[d] as number));
  const strides = new Array<number>(shape.length);
  order.forEach((d, i) => {
    strides[d] = packed[i] as number;
  });
  const handle = context.handle(storage, shape, dtype);
  return { ...handle, strides };
}

const COMBINE: Record<'sum' | 'prod' | 'max' | 'min', (type: string, byte: boolean) => { code: string; helpers: string[] }> = {
  sum: (_type, byte) => ({ code: byte ? '(acc + v) & 255u' : 'acc + v', helpers: [] }),
  prod: (_type, byte) => ({ code: byte ? '(acc * v) & 255u' : 'acc * v', helpers: [] }),
  max: (type) => (type === 'f32' ? { code: 'maxF(acc, v)', helpers: ['orderF'] } : { code: 'max(acc, v)', helpers: [] }),
  min: (type) => (type === 'f32' ? { code: 'minF(acc, v)', helpers: ['orderF'] } : { code: 'min(acc, v)', helpers: [] }),
};

function scanSource(type: string, combine: { code: string; helpers: string[] }): () => string {
  return () => `${bindings(type as 'f32', [type as 'f32'])}${library(combine.helpers)}
${MAIN_1D} {
  let run = ${THREAD_INDEX};
  let length = params[1];
  if (run * length >= params[0]) { return; }
  let start = params[6] + stridedOffset(run, params[2], params[3], params[4]);
  let stride = params[5];
  let reverse = params[7] != 0;
  var acc = input0[start + select(0, length - 1, reverse) * stride];
  for (var p = 0; p < length; p++) {
    let position = select(p, length - 1 - p, reverse);
    let v = input0[start + position * stride];
    if (p > 0) { acc = ${combine.code}; }
    result[run * length + position] = acc;
  }
}
`;
}

export function cumulativeKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Cumulative>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const total = sizeOf(x.shape);
  const length = x.shape[params.axis] as number;
  const output = context.allocate(total);
  if (total > 0) {
    const type = wgslType(x.dtype);
    const combine = COMBINE[params.op](type, x.dtype === 'uint8');
    context.launch(
      {
        name: `cumulative ${params.op} (${x.dtype})`,
        key: `cumulative:${params.op}:${x.dtype}`,
        source: scanSource(type, combine),
        params: axisParams(x, params.axis, params.reverse ? 1 : 0).words,
        workgroups: grid(total / length, WORKGROUP),
      },
      output,
      [x.storage],
    );
  }
  return axisLastView(context, output, x.shape, params.axis, out.dtype);
}
