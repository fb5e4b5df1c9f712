import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { grid } from '../runtime.js';
import { bindings, MAIN_1D, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';

// Threefry-2x32 with 20 rounds, the counter-based generator every Flint backend reproduces bit
// for bit (see the CPU backend's kernels/random.ts for the stream layout): block j encrypts the
// counter (j, 0) under the key and yields words 2j and 2j + 1 of the stream. One thread per block.

const THREEFRY = /* wgsl */ `
fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  var keys = array<u32, 3>(k0, k1, 0x1bd11bdau ^ k0 ^ k1);
  var rotations = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var x0 = c0 + k0;
  var x1 = c1 + k1;
  for (var roundIndex = 0u; roundIndex < 20u; roundIndex++) {
    let r = rotations[roundIndex & 7u];
    x0 = x0 + x1;
    x1 = (x1 << r) | (x1 >> (32u - r));
    x1 = x1 ^ x0;
    if ((roundIndex & 3u) == 3u) {
      let s = (roundIndex + 1u) >> 2u;
      x0 = x0 + keys[s % 3u];
      x1 = x1 + keys[(s + 1u) % 3u] + s;
    }
  }
  return vec2<u32>(x0, x1);
}
`;

function randomSource(uniform: boolean): () => string {
  const convert = uniform ? (word: string) => `f32(${word} >> 8u) * 5.9604644775390625e-8` : (word: string) => word;
  return () => `${bindings(uniform ? 'f32' : 'u32', ['u32'])}${THREEFRY}
// params: count, key offset, key stride
${MAIN_1D} {
  let block = ${THREAD_INDEX};
  let count = params[0];
  if (2 * block >= count) { return; }
  let k0 = input0[params[1]];
  let k1 = input0[params[1] + params[2]];
  let words = threefry(k0, k1, u32(block), 0u);
  result[2 * block] = ${convert('words.x')};
  if (2 * block + 1 < count) { result[2 * block + 1] = ${convert('words.y')}; }
}
`;
}

function randomKernel(uniform: boolean) {
  return (context: WebGpuContext, inputs: readonly WebGpuHandle[], out: Aval): WebGpuHandle => {
    const key = inputs[0] as WebGpuHandle;
    const total = sizeOf(out.shape);
    const output = context.allocate(total);
    if (total > 0) {
      context.launch(
        {
          name: uniform ? `randomUniform (${out.dtype})` : 'randomBits',
          key: uniform ? 'randomUniform' : 'randomBits',
          source: randomSource(uniform),
          params: [total, key.offset, key.strides[0] as number],
          workgroups: grid(Math.ceil(total / 2), WORKGROUP),
        },
        output,
        [key.storage],
      );
    }
    return context.handle(output, out.shape, out.dtype);
  };
}

export const randomBitsKernel: (
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.RandomBits>,
  out: Aval,
) => WebGpuHandle = (context, inputs, _params, out) => randomKernel(false)(context, inputs, out);

export const randomUniformKernel: (
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.RandomUniform>,
  out: Aval,
) => WebGpuHandle = (context, inputs, _params, out) => randomKernel(true)(context, inputs, out);
