import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { scalarBits, wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, MAIN_1D, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { fillKernel } from './copy.js';

const IOTA_VALUE: Record<string, string> = { f32: 'f32(v)', i32: 'v', u32: 'u32(v) & 255u' };

function iotaSource(type: string): () => string {
  return () => `${bindings(type as 'f32', [])}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let v = (i / params[2]) % params[1];
  result[i] = ${IOTA_VALUE[type]};
}
`;
}

export function iotaKernel(context: WebGpuContext, params: ParamsOf<Primitive.Iota>, out: Aval): WebGpuHandle {
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const type = wgslType(out.dtype);
    context.launch(
      {
        name: `iota (${out.dtype})`,
        key: `iota:${type}`,
        source: iotaSource(type),
        params: [total, out.shape[params.axis] as number, sizeOf(out.shape.slice(params.axis + 1))],
        workgroups: grid(total, WORKGROUP),
      },
      output,
      [],
    );
  }
  return context.handle(output, out.shape, out.dtype);
}

export function fullKernel(context: WebGpuContext, params: ParamsOf<Primitive.Full>, out: Aval): WebGpuHandle {
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  fillKernel(context, `full (${out.dtype})`, output, total, scalarBits(params.value, out.dtype));
  return context.handle(output, out.shape, out.dtype);
}
