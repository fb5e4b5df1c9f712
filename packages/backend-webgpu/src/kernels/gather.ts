import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, type WebGpuHandle } from '../handle.js';
import { type WgslScalar, wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';

// Gather and ScatterAdd see x as [outer, axis, inner]. Gather reads any view of x and of the
// indices through their strides. ScatterAdd gives each target element one thread, which adds the
// updates of every index equal to its position in index order: no atomics (WGSL has none for
// floats), and the sums come out in the same order on every run.

const GATHER_SOURCE = (): string => `${bindings('u32', ['u32', 'i32'])}${library([])}
// params: total, count, inner, xOffset, axisStride, outerRank, outerShapeAt, outerStridesAt,
//         innerRank, innerShapeAt, innerStridesAt, indexOffset, indexRank, indexShapeAt, indexStridesAt
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let count = params[1];
  let inner = params[2];
  let n = i % inner;
  let j = (i / inner) % count;
  let o = i / (inner * count);
  let k = input1[params[11] + stridedOffset(j, params[12], params[13], params[14])];
  let at = params[3] + stridedOffset(o, params[5], params[6], params[7]) + k * params[4] + stridedOffset(n, params[8], params[9], params[10]);
  result[i] = input0[at];
}
`;

function merged(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const m = coalesce(shape, [strides]);
  return { shape: m.shape, strides: m.strides[0] as number[] };
}

export function gatherKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Gather>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const indices = inputs[1] as WebGpuHandle;
  const axis = params.axis;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const outer = merged(x.shape.slice(0, axis), x.strides.slice(0, axis));
    const inner = merged(x.shape.slice(axis + 1), x.strides.slice(axis + 1));
    const index = merged(indices.shape, indices.strides);
    const writer = new ParamWriter(15);
    writer.set(0, total);
    writer.set(1, sizeOf(indices.shape));
    writer.set(2, sizeOf(x.shape.slice(axis + 1)));
    writer.set(3, x.offset);
    writer.set(4, x.strides[axis] as number);
    writer.set(5, outer.shape.length);
    writer.section(6, outer.shape);
    writer.section(7, outer.strides);
    writer.set(8, inner.shape.length);
    writer.section(9, inner.shape);
    writer.section(10, inner.strides);
    writer.set(11, indices.offset);
    writer.set(12, index.shape.length);
    writer.section(13, index.shape);
    writer.section(14, index.strides);
    context.launch(
      { name: `gather (${x.dtype})`, key: 'gather', source: GATHER_SOURCE, params: writer.words, workgroups: grid(total, WORKGROUP) },
      output,
      [x.storage, indices.storage],
    );
  }
  return context.handle(output, out.shape, out.dtype);
}

function scatterSource(type: WgslScalar, add: string): () => string {
  return () => `${bindings(type, [type, 'i32', type])}${library([])}
// params: total, size, inner, count, targetRank, targetShapeAt, targetStridesAt, targetOffset,
//         indexOffset, updatesOffset (indices and updates are packed)
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let size = params[1];
  let inner = params[2];
  let count = params[3];
  let n = i % inner;
  let k = (i / inner) % size;
  let o = i / (inner * size);
  var acc = input0[params[7] + stridedOffset(i, params[4], params[5], params[6])];
  for (var j = 0; j < count; j++) {
    if (input1[params[8] + j] == k) {
      let u = input2[params[9] + (o * count + j) * inner + n];
      acc = ${add};
    }
  }
  result[i] = acc;
}
`;
}

export function scatterAddKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.ScatterAdd>,
  out: Aval,
): WebGpuHandle {
  const target = inputs[0] as WebGpuHandle;
  const axis = params.axis;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const indices = context.packed(inputs[1] as WebGpuHandle);
    const updates = context.packed(inputs[2] as WebGpuHandle);
    const shape = merged(target.shape, target.strides);
    const writer = new ParamWriter(10);
    writer.set(0, total);
    writer.set(1, target.shape[axis] as number);
    writer.set(2, sizeOf(target.shape.slice(axis + 1)));
    writer.set(3, sizeOf((inputs[1] as WebGpuHandle).shape));
    writer.set(4, shape.shape.length);
    writer.section(5, shape.shape);
    writer.section(6, shape.strides);
    writer.set(7, target.offset);
    writer.set(8, indices.offset);
    writer.set(9, updates.offset);
    const type = wgslType(target.dtype);
    const add = target.dtype === 'uint8' ? '(acc + u) & 255u' : 'acc + u';
    context.launch(
      {
        name: `scatterAdd (${target.dtype})`,
        key: `scatterAdd:${target.dtype}`,
        source: scatterSource(type, add),
        params: writer.words,
        workgroups: grid(total, WORKGROUP),
      },
      output,
      [target.storage, indices.storage, updates.storage],
    );
    if (indices.temporary) context.release(indices.storage);
    if (updates.temporary) context.release(updates.storage);
  }
  return context.handle(output, out.shape, out.dtype);
}
