/**
 * The benchmark's shared pseudo-random inputs. Every system (TypeScript, Python, C) computes the
 * same counter-based hash, so all of them see bit-identical float32 inputs without exchanging
 * files: element i of stream `seed` depends only on (seed, i). The same formulas live in
 * peers/bench_common.py and peers/prng.h; change all three together.
 *
 * Values are multiples of 2^-23 in [-1, 1) (or 2^-24 in [0, 1)), so they are exact in float32 and
 * float64 alike, and a float64 reference computes on exactly the inputs the float32 systems see.
 */

/** 32-bit avalanche hash (the "lowbias32" mixer). */
export function hash32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** 32 random bits for element `index` of stream `seed`. */
export function randomBits(seed: number, index: number): number {
  return hash32((Math.imul(index, 0x9e3779b9) + Math.imul(seed, 0x85ebca6b) + 0x165667b1) >>> 0);
}

/** Uniform in [0, 1) with 24 random bits. */
export function uniform(seed: number, index: number): number {
  return (randomBits(seed, index) >>> 8) / 16777216;
}

/** Uniform in [-1, 1) with 24 random bits. */
export function symmetric(seed: number, index: number): number {
  return (randomBits(seed, index) >>> 8) / 8388608 - 1;
}

/** `size` symmetric values of stream `seed`, each multiplied by `scale` in float32 arithmetic. */
export function symmetricArray(seed: number, size: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  const s = Math.fround(scale);
  for (let i = 0; i < size; i++) out[i] = symmetric(seed, i) * s;
  return out;
}

/** Class labels in [0, classes): floor(uniform * classes). */
export function labels(seed: number, count: number, classes: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(uniform(seed, i) * classes);
  return out;
}

/** Row-major one-hot matrix [labels.length, classes]. */
export function oneHot(values: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(values.length * classes);
  for (let i = 0; i < values.length; i++) out[i * classes + (values[i] as number)] = 1;
  return out;
}

/** The float32 scale 1/sqrt(fanIn) that every system applies to initial weights. */
export function initScale(fanIn: number): number {
  return Math.fround(1 / Math.sqrt(fanIn));
}
