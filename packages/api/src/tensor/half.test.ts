import '@flint/backend-cpu';
import { describe, expect, test } from 'vitest';
import { getBackend } from '../backend/registry.js';
import { DTypeError } from '../core/errors.js';
import { bfloat16Bits, float16Bits, float16Value } from '../core/half.js';
import { tensor } from '../ops/convert.js';
import { arange, linspace, ones, zeros } from '../ops/creation.js';
import { memory } from './memory.js';
import '../index.js';

// The Tensor-level contract of the half dtypes (docs/dtypes.md): values in, values out, bit
// patterns only at the backend SPI or when asked for with a Uint16Array.

describe('float16 and bfloat16 tensors', () => {
  test('creation rounds each value to nearest even', () => {
    const h = tensor([0.1, 1 + 2 ** -11, 65519, 65520, -1e-8, Number.NaN], { dtype: 'float16' });
    expect(h.dtype).toBe('float16');
    const data = h.dataSync();
    expect(data).toBeInstanceOf(Float32Array);
    expect([...data]).toEqual([float16Value(float16Bits(0.1)), 1, 65504, Infinity, -0, Number.NaN]);
    const b = tensor(new Float32Array([1 + 2 ** -8, 3e38]), { dtype: 'bfloat16' });
    expect([...b.dataSync()]).toEqual([1, 226 * 2 ** 120]); // 3e38 is 225.7 units of 2^120
    expect(tensor(new Float64Array([0.1]), { dtype: 'bfloat16' }).item()).toBe(0.10009765625);
    expect(tensor(new Int32Array([3, 257]), { dtype: 'bfloat16' }).arraySync()).toEqual([3, 256]);
  });

  test('a Uint16Array is taken as bit patterns, and only with a half dtype', () => {
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7c00]);
    expect([...tensor(bits, { dtype: 'float16' }).dataSync()]).toEqual([1, -2, Infinity]);
    expect([...tensor(new Uint16Array([0x3f80, bfloat16Bits(-0.5)]), { dtype: 'bfloat16' }).dataSync()]).toEqual([1, -0.5]);
    expect(() => tensor(bits)).toThrow(DTypeError);
    expect(() => tensor(bits, { dtype: 'float32' })).toThrow(/Uint16Array holds float16 or bfloat16 bit patterns/);
  });

  test('array() and item() give plain numbers', async () => {
    const h = tensor(
      [
        [0.5, -1.25],
        [3, 4],
      ],
      { dtype: 'float16' },
    );
    expect(h.arraySync()).toEqual([
      [0.5, -1.25],
      [3, 4],
    ]);
    expect(await h.array()).toEqual(h.arraySync());
    expect([...(await h.data())]).toEqual([0.5, -1.25, 3, 4]);
    expect(tensor(2.5, { dtype: 'bfloat16' }).item()).toBe(2.5);
  });

  test('astype, half(), bfloat16() and float() convert', () => {
    const x = tensor([0.1, 1000.3]);
    expect(x.half().dtype).toBe('float16');
    expect([...x.half().dataSync()]).toEqual([float16Value(float16Bits(0.1)), 1000.5]);
    expect(x.bfloat16().dtype).toBe('bfloat16');
    expect([...x.bfloat16().dataSync()]).toEqual([0.10009765625, 1000]);
    expect(x.half().float().dtype).toBe('float32');
    expect(x.astype('float16').astype('float64').dtype).toBe('float64');
    expect(x.half().half()).not.toBe(x);
  });

  test('creation functions take the half dtypes', () => {
    expect([...zeros([2], { dtype: 'float16' }).dataSync()]).toEqual([0, 0]);
    expect([...ones([2], { dtype: 'bfloat16' }).dataSync()]).toEqual([1, 1]);
    expect(arange(4, { dtype: 'float16' }).dtype).toBe('float16');
    expect([...arange(0, 1, 0.25, { dtype: 'float16' }).dataSync()]).toEqual([0, 0.25, 0.5, 0.75]);
    expect([...linspace(0, 1, 5, { dtype: 'bfloat16' }).dataSync()]).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  test('memory() counts 2 bytes per element', () => {
    // Counted on the backend the tensors live on: memory() also sums the backends other test files
    // made, and a stand-in that wraps 'cpu' counts its buffers again.
    const bytes = () => memory().backends.find((b) => b.backend === getBackend().name)?.bytes ?? 0;
    const before = bytes();
    const t = zeros([500], { dtype: 'float16' });
    expect(bytes() - before).toBe(1000);
    t.dispose();
    expect(bytes()).toBe(before);
  });

  test('toString prints the values and names the dtype', () => {
    expect(tensor([1, 0.5], { dtype: 'float16' }).toString()).toBe('tensor([1.0000, 0.5000], dtype=float16)');
    expect(tensor([70000], { dtype: 'float16' }).toString()).toBe('tensor([inf], dtype=float16)');
    expect(tensor([1e30], { dtype: 'bfloat16' }).toString()).toMatch(/e\+30\], dtype=bfloat16\)$/);
  });
});
