import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { foldOf } from './reduce.js';

// One thread per output element walks its window; taps in the padding hold the reduction's
// identity and are skipped.

const SLOTS = 11; // total, rank, outShapeAt, windowAt, stridesAt, dilationAt, lowAt, inShapeAt, inStridesAt, inOffset, windowSize

function windowSource(type: string, op: 'sum' | 'max', dtype: Parameters<typeof foldOf>[1]): () => string {
  const fold = foldOf(op, dtype);
  return () => `${bindings(wgslType(dtype), [wgslType(dtype)])}${library(fold.helpers)}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let rank = params[1];
  var acc: ${type} = ${fold.identity};
  for (var w = 0; w < params[10]; w++) {
    var restOut = i;
    var restWindow = w;
    var offset = params[9];
    var inside = true;
    for (var d = rank - 1; d >= 0; d--) {
      let outDim = params[params[2] + d];
      let windowDim = params[params[3] + d];
      let o = restOut % outDim;
      restOut = restOut / outDim;
      let tap = restWindow % windowDim;
      restWindow = restWindow / windowDim;
      let position = o * params[params[4] + d] + tap * params[params[5] + d] - params[params[6] + d];
      if (position < 0 || position >= params[params[7] + d]) { inside = false; }
      offset = offset + position * params[params[8] + d];
    }
    if (inside) {
      let v = input0[offset];
      acc = ${fold.combine('acc', 'v')};
    }
  }
  result[i] = ${fold.finish('acc')};
}
`;
}

export function reduceWindowKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.ReduceWindow>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const writer = new ParamWriter(SLOTS);
    writer.set(0, total);
    writer.set(1, out.shape.length);
    writer.section(2, out.shape);
    writer.section(3, params.window);
    writer.section(4, params.strides);
    writer.section(5, params.dilation);
    writer.section(
      6,
      params.padding.map((p) => p[0]),
    );
    writer.section(7, x.shape);
    writer.section(8, x.strides);
    writer.set(9, x.offset);
    writer.set(10, sizeOf(params.window));
    context.launch(
      {
        name: `reduceWindow ${params.op} (${x.dtype})`,
        key: `reduceWindow:${params.op}:${x.dtype}`,
        source: windowSource(wgslType(x.dtype), params.op, x.dtype),
        params: writer.words,
        workgroups: grid(total, WORKGROUP),
      },
      output,
      [x.storage],
    );
  }
  return context.handle(output, out.shape, out.dtype);
}
