import { describe, expect, it } from 'vitest';
import { argumentData, int32Argument, int32ArgumentOf, nativeLayout } from './native-arguments.js';

// V8 keeps typed arrays of up to 64 bytes inside its heap; one whose buffer is larger than that
// was allocated outside it, which is the point of these arguments (Node-API then moves nothing).
const outsideHeap = (array: ArrayBufferView) => array.buffer.byteLength > 64;

describe('native-call arguments', () => {
  it('encode a view as [offset, rank, ...shape, ...strides]', () => {
    expect(Array.from(nativeLayout(5, [2, 3, 4], [12, -4, 0]))).toEqual([5, 3, 2, 3, 4, 12, -4, 0]);
    expect(Array.from(nativeLayout(0, [], []))).toEqual([0, 0]);
  });

  it('are views of a buffer outside V8 heap, aligned for any element type', () => {
    for (const made of [nativeLayout(0, [7], [1]), int32Argument(1), int32ArgumentOf([1, 2, 3])]) {
      expect(outsideHeap(made)).toBe(true);
      expect(made.byteOffset % 8).toBe(0);
    }
    expect(int32Argument(5).every((v) => v === 0)).toBe(true);
    for (const scalar of [new Float64Array([1.5]), new Uint16Array([0x3c00]), new Uint8Array([1]), new Float32Array(16)]) {
      const copy = argumentData(scalar);
      expect(copy).not.toBe(scalar);
      expect(copy.constructor).toBe(scalar.constructor);
      expect(Array.from(copy)).toEqual(Array.from(scalar));
      expect(outsideHeap(copy)).toBe(true);
      expect(copy.byteOffset % 8).toBe(0);
    }
  });

  it('copy a typed-array subclass as the plain array of its kind', () => {
    const bytes = Buffer.from([1, 0, 1]);
    const copy = argumentData(bytes);
    expect(copy.constructor).toBe(Uint8Array);
    expect(Array.from(copy)).toEqual([1, 0, 1]);
    expect(outsideHeap(copy)).toBe(true);
  });

  it('go on after a caller detaches the chunk an argument came from', () => {
    const taken = int32ArgumentOf([1, 2]);
    structuredClone(taken.buffer, { transfer: [taken.buffer] });
    expect(taken.length).toBe(0);
    expect(Array.from(nativeLayout(3, [4], [1]))).toEqual([3, 1, 4, 1]);
  });

  it('leave data over 64 bytes as it is', () => {
    const row = new Float32Array(17);
    expect(argumentData(row)).toBe(row);
  });

  it('never hand out memory a held argument uses, across chunks', () => {
    // Arguments of mixed lengths, each filled with its own number, held while several 64 KiB
    // chunks' worth are made: a reused or overlapping range would change an earlier one.
    const held: Int32Array[] = [];
    for (let i = 0; i < 20000; i++) {
      const made = int32Argument(1 + (i % 9));
      made.fill(i);
      held.push(made);
    }
    const chunks = new Set(held.map((a) => a.buffer));
    expect(chunks.size).toBeGreaterThan(2);
    held.forEach((made, i) => {
      expect(made.length).toBe(1 + (i % 9));
      expect(made.every((v) => v === i)).toBe(true);
    });
  });

  it('give a long argument a buffer of its own, zeroed', () => {
    const long = int32Argument(1000);
    expect(long.byteOffset).toBe(0);
    expect(long.buffer.byteLength).toBe(4000);
    expect(long.every((v) => v === 0)).toBe(true);
    expect(Array.from(int32ArgumentOf(Array.from({ length: 300 }, (_, i) => i - 150))).slice(0, 3)).toEqual([-150, -149, -148]);
  });
});
