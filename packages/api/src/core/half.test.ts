import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { bfloat16Bits, bfloat16Value, decodeHalf, encodeHalf, float16Bits, float16Value, roundToHalf } from './half.js';

const ALL_BITS = Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNaNBits = {
  float16: (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0,
  bfloat16: (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0,
};

/** A float16 value by its definition, without float32 bit tricks. */
function float16ByDefinition(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Deterministic float32 bit patterns covering every exponent (no Math.random in tests). */
function randomFloat32(count: number, seed = 12345): Float32Array {
  const words = new Uint32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    words[i] = state ^ (Math.imul(state >>> 16, 40503) << 7);
  }
  return new Float32Array(words.buffer);
}

describe.each(['float16', 'bfloat16'] as const)('%s: every bit pattern', (dtype) => {
  const decoded = decodeHalf(dtype, ALL_BITS);
  const encoded = encodeHalf(dtype, decoded);

  test('decodes and encodes back to itself (NaNs stay NaN)', () => {
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const nan = isNaNBits[dtype](h);
      if (nan !== Number.isNaN(decoded[h] as number)) mismatches++;
      else if (nan ? !isNaNBits[dtype](encoded[h] as number) : encoded[h] !== h) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('scalar conversions agree with the bulk ones', () => {
    const value = dtype === 'float16' ? float16Value : bfloat16Value;
    const bits = dtype === 'float16' ? float16Bits : bfloat16Bits;
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const v = value(h);
      if (!(Object.is(v, decoded[h]) || (Number.isNaN(v) && Number.isNaN(decoded[h] as number)))) mismatches++;
      else if (!Number.isNaN(v) && bits(v) !== h) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('signed zeros and infinities are kept', () => {
    const bits = dtype === 'float16' ? float16Bits : bfloat16Bits;
    const inf = dtype === 'float16' ? 0x7c00 : 0x7f80;
    expect(bits(0)).toBe(0);
    expect(bits(-0)).toBe(0x8000);
    expect(bits(Number.POSITIVE_INFINITY)).toBe(inf);
    expect(bits(Number.NEGATIVE_INFINITY)).toBe(inf | 0x8000);
    expect(isNaNBits[dtype](bits(Number.NaN))).toBe(true);
  });
});

describe('float16', () => {
  test('values match the definition for every bit pattern', () => {
    const decoded = decodeHalf('float16', ALL_BITS);
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const want = float16ByDefinition(h);
      if (!(Object.is(decoded[h], want) || (Number.isNaN(want) && Number.isNaN(decoded[h] as number)))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('rounds ties to even', () => {
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and 1 + 2^-10: down to even
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between odd 0x3c01 and 0x3c02: up
    expect(float16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just past halfway: up
    expect(float16Bits(2049)).toBe(float16Bits(2048));
    expect(float16Bits(2051)).toBe(float16Bits(2052));
  });

  test('overflows to Infinity from 65520, the halfway point past 65504', () => {
    expect(float16Value(float16Bits(65504))).toBe(65504);
    expect(float16Value(float16Bits(65519.99))).toBe(65504);
    expect(float16Bits(65520)).toBe(0x7c00);
    expect(float16Bits(-1e6)).toBe(0xfc00);
  });

  test('subnormals round correctly', () => {
    expect(float16Bits(2 ** -24)).toBe(1);
    expect(float16Bits(2 ** -25)).toBe(0); // a tie: to even zero
    expect(float16Bits(2 ** -25 * 1.000001)).toBe(1);
    expect(float16Bits(3 * 2 ** -25)).toBe(2); // 1.5 units: to even 2
    expect(float16Bits(5 * 2 ** -25)).toBe(2); // 2.5 units: to even 2
    expect(float16Bits(-(2 ** -24))).toBe(0x8001);
    expect(float16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // halfway between 0x3ff and 0x400: up to the even normal
    expect(float16Bits(2 ** -14 - 2 ** -24)).toBe(0x03ff);
    expect(float16Bits(1e-10)).toBe(0);
  });

  test('roundToHalf gives the stored value', () => {
    expect(roundToHalf('float16', 0.1)).toBe(0.0999755859375);
    expect(roundToHalf('bfloat16', 0.1)).toBe(0.10009765625);
  });
});

describe('bfloat16', () => {
  test('is the top half of a float32', () => {
    const f = new Float32Array([1.5, -2.25, 3e38]);
    const words = new Uint32Array(f.buffer);
    for (let i = 0; i < 2; i++) expect(bfloat16Bits(f[i] as number)).toBe((words[i] as number) >>> 16);
  });

  test('rounds ties to even', () => {
    expect(bfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(bfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bfloat16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
  });

  test('overflows to Infinity past the largest finite value', () => {
    const largest = bfloat16Value(0x7f7f);
    expect(bfloat16Bits(largest)).toBe(0x7f7f);
    expect(bfloat16Bits(3.4e38)).toBe(0x7f80); // above the halfway point 2^128 (1 - 2^-9)
    expect(bfloat16Bits(-3.4028234e38)).toBe(0xff80);
  });

  test('keeps a NaN whose payload sits in the dropped bits a NaN', () => {
    const word = new Uint32Array([0x7f800001]);
    expect(isNaNBits.bfloat16(bfloat16Bits(new Float32Array(word.buffer)[0] as number))).toBe(true);
  });
});

describe('bulk conversions', () => {
  test('Float64Array and plain arrays round like their float32 values', () => {
    const values = [0.1, 1 / 3, 65519, 1e-7, -2.5e38, Math.PI];
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const fromF32 = encodeHalf(dtype, Float32Array.from(values));
      expect([...encodeHalf(dtype, Float64Array.from(values))]).toEqual([...fromF32]);
      expect([...encodeHalf(dtype, values)]).toEqual([...fromF32]);
    }
  });

  test('float64 values round through float32, as PyTorch converts them', () => {
    // Just above a float16 tie, by less than float32 holds: float32 rounds it onto the tie,
    // which then goes to even. numpy, rounding straight from float64, would give 0x3c01.
    expect(float16Bits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c00);
  });

  test('writes into a given output array, also through subarray views', () => {
    const source = randomFloat32(64);
    const out = new Uint16Array(80);
    encodeHalf('float16', source.subarray(8, 40), out.subarray(16, 48));
    expect([...out.subarray(16, 48)]).toEqual([...encodeHalf('float16', source.slice(8, 40))]);
    const back = new Float32Array(40);
    decodeHalf('bfloat16', out.subarray(16, 48), back.subarray(4, 36));
    expect([...back.subarray(4, 36)]).toEqual([...decodeHalf('bfloat16', out.slice(16, 48))]);
  });
});

// The reference: numpy's float32 -> float16 cast, and an exact nearest-neighbour search for
// bfloat16 (half_reference.py). Run over random float32 bit patterns of every exponent.
const SCRIPT = fileURLToPath(new URL('./half_reference.py', import.meta.url));
const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const pythonReason =
  python.error !== undefined ? 'python3 is not installed' : python.status !== 0 ? 'numpy is not installed for python3' : '';
const folder = mkdtempSync(join(tmpdir(), 'flint-half-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe.skipIf(pythonReason !== '')(`agrees with numpy${pythonReason === '' ? '' : ` (skipped: ${pythonReason})`}`, () => {
  test('on 200000 random float32 values and every edge case', () => {
    const edges = Float32Array.from([
      0,
      -0,
      1,
      65504,
      65519.99,
      65520,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      2 ** -14 - 2 ** -25,
      3.4e38,
      3.3961e38,
    ]);
    const random = randomFloat32(200000);
    const values = new Float32Array(edges.length + random.length + 65536);
    values.set(edges);
    values.set(random, edges.length);
    // Every float32 halfway between two adjacent float16 values, and just around it.
    const halves = decodeHalf('float16', ALL_BITS);
    for (let h = 0; h < 65535; h++) {
      const mid = ((halves[h] as number) + (halves[h + 1] as number)) / 2;
      values[edges.length + random.length + h] = Number.isFinite(mid) ? mid : 0;
    }
    const input = join(folder, 'in.f32');
    const output = join(folder, 'out.u16');
    writeFileSync(input, new Uint8Array(values.buffer));
    const run = spawnSync('python3', [SCRIPT, input, output], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const bytes = readFileSync(output);
    const reference = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    const n = values.length;
    const ours = { float16: encodeHalf('float16', values), bfloat16: encodeHalf('bfloat16', values) };
    for (const [k, dtype] of [
      [0, 'float16'],
      [1, 'bfloat16'],
    ] as const) {
      let mismatches = 0;
      let first = -1;
      for (let i = 0; i < n; i++) {
        const want = reference[k * n + i] as number;
        const got = ours[dtype][i] as number;
        const same = isNaNBits[dtype](want) ? isNaNBits[dtype](got) : got === want;
        if (!same) {
          mismatches++;
          if (first < 0) first = i;
        }
      }
      expect(mismatches, `${dtype}: first mismatch at ${values[first]}`).toBe(0);
    }
  });
});
