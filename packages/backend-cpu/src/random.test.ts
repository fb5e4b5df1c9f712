import { bind, Primitive, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { threefry2x32 } from './kernels/random.js';

function encrypt(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const out = new Uint32Array(2);
  threefry2x32(k0, k1, c0, c1, out, 0);
  return [out[0]!, out[1]!];
}

describe('Threefry-2x32-20', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(encrypt(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
    expect(encrypt(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(encrypt(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  it('RandomBits lays the stream out as documented: block j encrypts counter (j, 0)', () => {
    const key = tensor([0x13198a2e, 0x03707344], { dtype: 'int32' });
    const bits = bind(Primitive.RandomBits, [key], { shape: [2, 3] });
    expect(bits.shape).toEqual([2, 3]);
    const words = new Uint32Array(bits.dataSync().buffer.slice(0));
    const expected: number[] = [];
    for (let j = 0; j < 3; j++) expected.push(...encrypt(0x13198a2e, 0x03707344, j, 0));
    expect([...words]).toEqual(expected);
    // A shorter request is a prefix of a longer one.
    const five = new Uint32Array(
      bind(Primitive.RandomBits, [key], { shape: [5] })
        .dataSync()
        .buffer.slice(0),
    );
    expect([...five]).toEqual(expected.slice(0, 5));
  });

  it('RandomUniform maps words to [0, 1) for float32 and float64', () => {
    const key = tensor([0, 0], { dtype: 'int32' });
    const f32 = bind(Primitive.RandomUniform, [key], { shape: [2], dtype: 'float32' }).dataSync();
    expect(f32[0]).toBe((0x6b200159 >>> 8) * 2 ** -24);
    expect(f32[1]).toBe((0x99ba4efe >>> 8) * 2 ** -24);
    const f64 = bind(Primitive.RandomUniform, [key], { shape: [1], dtype: 'float64' }).dataSync();
    expect(f64[0]).toBe(((0x6b200159 >>> 5) * 2 ** 26 + (0x99ba4efe >>> 6)) * 2 ** -53);
    const many = bind(Primitive.RandomUniform, [key], { shape: [10000], dtype: 'float32' }).dataSync();
    let sum = 0;
    for (const v of many) {
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(Math.abs(sum / many.length - 0.5)).toBeLessThan(0.02);
  });
});
