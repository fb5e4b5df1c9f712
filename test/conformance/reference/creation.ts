import type { DType, ParamsOf, Primitive } from '@flint/api';
import { castValue } from './elementwise.js';
import { build, type RefArray, type RefResult, roundToHalfFormat, sizeOfShape } from './ndarray.js';

export function iotaReference(params: ParamsOf<Primitive.Iota>): RefResult {
  return { out: build(params.shape, params.dtype, (index) => index[params.axis] as number) };
}

/** `value` is cast to the dtype with Cast's semantics (a float value truncates into an integer dtype). */
export function fullReference(params: ParamsOf<Primitive.Full>): RefResult {
  const v = castValue(params.value, 'float64', params.dtype);
  return { out: build(params.shape, params.dtype, () => v) };
}

// Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011), written from the paper: four rounds of mix (add, rotate, xor) between key
// injections, rotation constants R_2x32, and the key-schedule parity constant 0x1BD11BDA.
const ROTATIONS_2X32 = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const KEY_PARITY = 0x1bd11bda;

const u32 = (v: number): number => v >>> 0;
const rotateLeft = (v: number, r: number): number => u32((v << r) | (v >>> (32 - r)));

/** Encrypts the 64-bit counter (c0, c1) under the key (k0, k1); all words unsigned 32-bit. */
export function threefry2x32(key: readonly [number, number], counter: readonly [number, number]): [number, number] {
  const ks = [u32(key[0]), u32(key[1]), u32(KEY_PARITY ^ key[0] ^ key[1])];
  let x0 = u32(counter[0] + (ks[0] as number));
  let x1 = u32(counter[1] + (ks[1] as number));
  for (let round = 0; round < 20; round++) {
    x0 = u32(x0 + x1);
    x1 = rotateLeft(x1, ROTATIONS_2X32[round % 8] as number) ^ x0;
    x1 = u32(x1);
    if (round % 4 === 3) {
      const injection = (round + 1) / 4;
      x0 = u32(x0 + (ks[injection % 3] as number));
      x1 = u32(x1 + (ks[(injection + 1) % 3] as number) + injection);
    }
  }
  return [x0, x1];
}

/**
 * Words 0 .. count-1 of the key's stream, unsigned. Flint's stream layout (documented with the
 * RandomBits primitive and in the backends): block j encrypts the counter (j, 0); its two output
 * words are stream words 2j and 2j + 1.
 */
export function threefryWords(key: readonly [number, number], count: number): number[] {
  const words: number[] = [];
  for (let j = 0; words.length < count; j++) {
    const [x0, x1] = threefry2x32(key, [j, 0]);
    words.push(x0);
    if (words.length < count) words.push(x1);
  }
  return words;
}

function keyOf(key: RefArray): [number, number] {
  return [key.data[0] as number, key.data[1] as number];
}

/** RandomBits: stream word i is element i (row-major), read as int32. */
export function randomBitsReference(inputs: readonly RefArray[], params: ParamsOf<Primitive.RandomBits>): RefResult {
  const n = sizeOfShape(params.shape);
  const words = threefryWords(keyOf(inputs[0] as RefArray), n);
  return { out: { shape: [...params.shape], dtype: 'int32', data: words.map((w) => w | 0) } };
}

/**
 * RandomUniform: float32 element i is the top 24 bits of word i times 2^-24; float64 element i
 * joins the top 27 bits of word 2i with the top 26 bits of word 2i + 1 into 53 bits times 2^-53.
 * Both are in [0, 1) and exact in their dtype. float16 and bfloat16 elements are the float32
 * ones rounded toward zero.
 */
export function randomUniformReference(inputs: readonly RefArray[], params: ParamsOf<Primitive.RandomUniform>): RefResult {
  const n = sizeOfShape(params.shape);
  const key = keyOf(inputs[0] as RefArray);
  const dtype: DType = params.dtype;
  let data: number[];
  if (dtype === 'float64') {
    const words = threefryWords(key, 2 * n);
    data = Array.from(
      { length: n },
      (_, i) => (Math.floor((words[2 * i] as number) / 32) * 2 ** 26 + Math.floor((words[2 * i + 1] as number) / 64)) * 2 ** -53,
    );
  } else {
    const words = threefryWords(key, n);
    data = words.map((w) => Math.floor(w / 256) * 2 ** -24);
    // The half dtypes round the float32 sample toward zero, so that it stays below 1.
    if (dtype === 'float16' || dtype === 'bfloat16') data = data.map((v) => roundToHalfFormat(v, dtype, 'towardZero'));
  }
  return { out: { shape: [...params.shape], dtype, data } };
}
