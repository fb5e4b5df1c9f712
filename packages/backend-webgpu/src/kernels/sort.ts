import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { axisLastView, axisParams } from './scan.js';

// Stable argsort by ranking: each element counts the elements that sort before it (smaller keys,
// or equal keys at lower indices) and writes its own index at that rank. Every thread works
// alone, there are no passes to synchronize, and ties keep their order by construction. It does
// length^2 comparisons per row, which suits the short rows of top-k and sorting within a batch.

const KEY: Record<string, string> = {
  // NaN above +Infinity: last ascending, first descending (as PyTorch).
  f32: 'fn sortKey(v: f32) -> u32 { if (isNanF(v)) { return 0xffffffffu; } return keyF(v); }',
  i32: 'fn sortKey(v: i32) -> u32 { return bitcast<u32>(v) ^ 0x80000000u; }',
  u32: 'fn sortKey(v: u32) -> u32 { return v; }',
};

function sortSource(type: string): () => string {
  return () => `${bindings('i32', [type as 'f32'])}${library(type === 'f32' ? ['orderF'] : [])}${KEY[type]}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let length = params[1];
  let run = i / length;
  let p = i % length;
  let start = params[6] + stridedOffset(run, params[2], params[3], params[4]);
  let stride = params[5];
  let descending = params[7] != 0;
  let mine = sortKey(input0[start + p * stride]);
  var rank = 0;
  for (var j = 0; j < length; j++) {
    let other = sortKey(input0[start + j * stride]);
    let before = select((other < mine), (other > mine), descending) || (other == mine && j < p);
    if (before) { rank = rank + 1; }
  }
  result[run * length + rank] = p;
}
`;
}

export function argsortKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Argsort>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const total = sizeOf(x.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const type = wgslType(x.dtype);
    context.launch(
      {
        name: `argsort (${x.dtype})`,
        key: `argsort:${type}`,
        source: sortSource(type),
        params: axisParams(x, params.axis, params.descending ? 1 : 0).words,
        workgroups: grid(total, WORKGROUP),
      },
      output,
      [x.storage],
    );
  }
  return axisLastView(context, output, x.shape, params.axis, out.dtype);
}
