import { sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, type Storage, type WebGpuHandle } from '../handle.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';

// Raw 32-bit word kernels shared by every dtype: they move bits, so NaN payloads, signed zeros
// and subnormals survive exactly.

const COPY_SOURCE = (): string => `${bindings('u32', ['u32'])}${library([])}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let rank = params[1];
  let readAt = params[3] + stridedOffset(i, rank, params[2], params[4]);
  let writeAt = params[5] + stridedOffset(i, rank, params[2], params[6]);
  result[writeAt] = input0[readAt];
}
`;

/**
 * Copies the view `source` into `target`, element [i...] going to word
 * `targetOffset + sum(i_d * targetStrides[d])`.
 */
export function copyStridedKernel(
  context: WebGpuContext,
  source: WebGpuHandle,
  target: Storage,
  targetOffset: number,
  targetStrides: readonly number[],
): void {
  const total = sizeOf(source.shape);
  if (total === 0) return;
  const merged = coalesce(source.shape, [source.strides, targetStrides]);
  const params = new ParamWriter(7);
  params.set(0, total);
  params.set(1, merged.shape.length);
  params.section(2, merged.shape);
  params.set(3, source.offset);
  params.section(4, merged.strides[0] as number[]);
  params.set(5, targetOffset);
  params.section(6, merged.strides[1] as number[]);
  context.launch({ name: 'copy', key: 'copy', source: COPY_SOURCE, params: params.words, workgroups: grid(total, WORKGROUP) }, target, [
    source.storage,
  ]);
}

const FILL_SOURCE = (): string => `${bindings('u32', [])}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  result[i] = bitcast<u32>(params[1]);
}
`;

/** Fills the first `total` words of `target` with the 32-bit pattern `bits`. */
export function fillKernel(context: WebGpuContext, name: string, target: Storage, total: number, bits: number): void {
  if (total === 0) return;
  context.launch({ name, key: 'fill', source: FILL_SOURCE, params: [total, bits | 0], workgroups: grid(total, WORKGROUP) }, target, []);
}
