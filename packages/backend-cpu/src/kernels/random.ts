import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';

// Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011), the counter-based generator JAX uses.
//
// Stream layout, which every Flint backend must reproduce bit for bit:
//   - the key is the int32 tensor [k0, k1];
//   - block j (j = 0, 1, 2, ...) encrypts the counter (c0, c1) = (j, 0) and yields two 32-bit words,
//     word 2j = x0 and word 2j + 1 = x1, so the stream is x0(0), x1(0), x0(1), x1(1), ...;
//   - RandomBits of n elements is words 0 .. n-1 of the stream in row-major order (as int32);
//   - RandomUniform float32 element i takes word i: (word >>> 8) * 2^-24;
//   - RandomUniform float64 element i takes words 2i (high) and 2i + 1 (low):
//     ((high >>> 5) * 2^26 + (low >>> 6)) * 2^-53.
// A prefix of a longer request therefore equals the shorter request.

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

/**
 * Encrypts the counter (c0, c1) under the key (k0, k1) and writes the two output words (as
 * int32) to out[at] and out[at + 1] (or only out[at] when `both` is false).
 */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Int32Array | Uint32Array, at: number, both = true): void {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = 0x1bd11bda ^ ks0 ^ ks1;
  let x0 = (c0 + ks0) | 0;
  let x1 = (c1 + ks1) | 0;
  for (let round = 0; round < 20; round++) {
    const r = ROTATIONS[round & 7]!;
    x0 = (x0 + x1) | 0;
    x1 = (x1 << r) | (x1 >>> (32 - r));
    x1 ^= x0;
    if ((round & 3) === 3) {
      const s = (round + 1) >> 2;
      const a = s % 3;
      x0 = (x0 + (a === 0 ? ks0 : a === 1 ? ks1 : ks2)) | 0;
      const b = (s + 1) % 3;
      x1 = (x1 + (b === 0 ? ks0 : b === 1 ? ks1 : ks2) + s) | 0;
    }
  }
  out[at] = x0;
  if (both) out[at + 1] = x1;
}

/** Words 0 .. count-1 of the stream for key (k0, k1), as int32. */
export function threefryStream(k0: number, k1: number, count: number): Int32Array {
  const words = allocateUninitialized('int32', count) as Int32Array;
  const blocks = count >>> 1;
  for (let j = 0; j < blocks; j++) threefry2x32(k0, k1, j, 0, words, 2 * j);
  if (count & 1) threefry2x32(k0, k1, blocks, 0, words, count - 1, false);
  return words;
}

function keyOf(h: CpuHandle): [number, number] {
  const key = contiguousData(h);
  return [key[0]!, key[1]!];
}

export function randomBitsKernel(inputs: readonly CpuHandle[], _params: ParamsOf<Primitive.RandomBits>, out: Aval): CpuHandle {
  const [k0, k1] = keyOf(inputs[0]!);
  return wrap(threefryStream(k0, k1, sizeOf(out.shape)), out.shape, 'int32');
}

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_26 = 2 ** 26;

export function randomUniformKernel(inputs: readonly CpuHandle[], _params: ParamsOf<Primitive.RandomUniform>, out: Aval): CpuHandle {
  const [k0, k1] = keyOf(inputs[0]!);
  const n = sizeOf(out.shape);
  const result = allocateUninitialized(out.dtype, n);
  if (out.dtype === 'float64') {
    const words = threefryStream(k0, k1, 2 * n);
    for (let i = 0; i < n; i++) result[i] = ((words[2 * i]! >>> 5) * TWO_POW_26 + (words[2 * i + 1]! >>> 6)) * TWO_POW_M53;
  } else {
    const words = threefryStream(k0, k1, n);
    for (let i = 0; i < n; i++) result[i] = (words[i]! >>> 8) * TWO_POW_M24;
  }
  return wrap(result, out.shape, out.dtype);
}
