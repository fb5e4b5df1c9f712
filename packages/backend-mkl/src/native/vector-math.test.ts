// The transcendental unary ops on float32 (native/vector_math.h: glibc's vector math library where
// the addon has it, else scalar libm): every run length and tail, special values, nothing written
// past the output, and the same bits whatever the input's layout.
import { Primitive, primitiveName } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { Addon } from './addon.js';
import { DTYPE_CODES, UNARY_CODES } from './codes.js';
import { loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: vector math tests skipped, the addon is unavailable: ${missing}`);

/** erf by its Maclaurin series (|x| <= 2) or continued fraction, to float64 accuracy, as the reference. */
function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  if (a <= 2) {
    let term = a;
    let total = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      total += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * total);
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) * 1 / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...))))
  let fraction = a;
  for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction);
}

/** Each op with its reference and the half-width of the interval its inputs spread over. */
const REFERENCES: [Primitive, (x: number) => number, number][] = [
  [Primitive.Exp, Math.exp, 9],
  [Primitive.Log, Math.log, 9],
  [Primitive.Log1p, Math.log1p, 9],
  [Primitive.Expm1, Math.expm1, 9],
  [Primitive.Sin, Math.sin, 9],
  [Primitive.Cos, Math.cos, 9],
  [Primitive.Tan, Math.tan, 9],
  [Primitive.Tanh, Math.tanh, 9],
  [Primitive.Erf, erf, 9],
  // Inside their domain [-1, 1] (the special values step outside it, to NaN).
  [Primitive.Asin, Math.asin, 1],
  [Primitive.Acos, Math.acos, 1],
  [Primitive.Atan, Math.atan, 9],
];

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-40, -1e-40, 88.5, -100, 1e-8, 1, -1];

/** Inputs of `length` elements: the special values first, then values spread over [-spread, spread]. */
function inputs(length: number, spread = 9): Float32Array {
  return Float32Array.from({ length }, (_, i) => (i < SPECIAL.length ? SPECIAL[i]! : Math.sin(i * 0.731) * spread));
}

/** Within 4 float32 ulps of the float64 reference (absolute 2e-7 near zero crossings of sin, cos, tan). */
function close(actual: number, reference: number): boolean {
  if (Number.isNaN(reference)) return Number.isNaN(actual);
  if (!Number.isFinite(reference) || Math.abs(reference) > 3.4e38) return actual === Math.fround(reference);
  return Math.abs(actual - reference) <= Math.max(4 * 2 ** -23 * Math.abs(reference), 2e-7);
}

describe.skipIf(missing !== undefined)('transcendental float32 kernels', () => {
  const addon = (loaded as { addon: Addon }).addon;
  const contiguous = (length: number) => Int32Array.from([0, 1, length, 1]);

  it('agree with float64 references on every run length, and write nothing past the output', () => {
    for (const [primitive, reference, spread] of REFERENCES) {
      const code = UNARY_CODES.get(primitive)!;
      for (const length of [...Array.from({ length: 40 }, (_, i) => i + 1), 257, 4099]) {
        const x = inputs(length, spread);
        const buffer = new Float32Array(length + 16).fill(12345);
        const out = buffer.subarray(0, length);
        addon.unary(code, DTYPE_CODES.float32, x, contiguous(length), out);
        for (let i = 0; i < length; i++) {
          const expected = reference(x[i]!);
          expect(close(out[i]!, expected), `${primitiveName(primitive)} of ${x[i]} (length ${length}): ${out[i]} against ${expected}`).toBe(
            true,
          );
        }
        expect(Array.from(buffer.subarray(length)), `${primitiveName(primitive)}, length ${length}`).toEqual(new Array(16).fill(12345));
      }
    }
  });

  it('keep signed zeros', () => {
    for (const primitive of [
      Primitive.Expm1,
      Primitive.Log1p,
      Primitive.Sin,
      Primitive.Tan,
      Primitive.Tanh,
      Primitive.Erf,
      Primitive.Asin,
      Primitive.Atan,
    ]) {
      const out = new Float32Array(2);
      addon.unary(UNARY_CODES.get(primitive)!, DTYPE_CODES.float32, Float32Array.of(-0, 0), contiguous(2), out);
      expect(Object.is(out[0], -0), `${primitiveName(primitive)}(-0)`).toBe(true);
      expect(Object.is(out[1], 0), `${primitiveName(primitive)}(0)`).toBe(true);
    }
  });

  it('give the same bits for a strided view as for the same values contiguous', () => {
    const length = 1000;
    for (const [primitive, , spread] of REFERENCES) {
      const x = inputs(length, spread);
      const interleaved = new Float32Array(2 * length + 3);
      for (let i = 0; i < length; i++) interleaved[3 + 2 * i] = x[i]!;
      const code = UNARY_CODES.get(primitive)!;
      const dense = new Float32Array(length);
      const strided = new Float32Array(length);
      addon.unary(code, DTYPE_CODES.float32, x, contiguous(length), dense);
      addon.unary(code, DTYPE_CODES.float32, interleaved, Int32Array.from([3, 1, length, 2]), strided);
      const mismatch = dense.findIndex((v, i) => !Object.is(v, strided[i]));
      expect(mismatch, `${primitiveName(primitive)} differs at ${mismatch}`).toBe(-1);
    }
  });
});
