import * as E from 'fp-ts/lib/Either.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { FLINT_DTYPE_OF, SAFETENSORS_ITEM_SIZE } from './dtypes.js';
import type { SafetensorsProblem } from './errors.js';
import type { SafetensorsEntry } from './header.js';

/** Whether this machine stores numbers little-endian, as safetensors does (every current JS host does). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the bytes of each `itemSize`-byte element in place (for big-endian hosts). */
export function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/**
 * The element bytes of `entry`, aligned for a typed-array view: a view into `bytes` when already
 * aligned on a little-endian host, else a copy.
 */
function elementBytes(bytes: Uint8Array, start: number, length: number, itemSize: number): Uint8Array {
  const absolute = bytes.byteOffset + start;
  if (LITTLE_ENDIAN && absolute % itemSize === 0) return bytes.subarray(start, start + length);
  // A fresh array, not `bytes.slice`: on a Node Buffer, slice is a view.
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(start, start + length));
  if (!LITTLE_ENDIAN) swapBytes(copy, itemSize);
  return copy;
}

/** The Flint dtype and elements of one tensor, or the problem that prevents reading it. */
export function decodeEntry(
  bytes: Uint8Array,
  dataStart: number,
  entry: SafetensorsEntry,
): E.Either<SafetensorsProblem, { dtype: DType; data: TypedArray }> {
  const { name, dtype: stored } = entry;
  const [begin, end] = entry.dataOffsets;
  const offset = dataStart + begin;
  const dtype = FLINT_DTYPE_OF[stored];
  if (dtype === undefined) {
    return E.left({
      tensor: name,
      offset,
      message: `dtype ${stored} cannot be read: Flint has no 8-bit float type (it reads F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)`,
    });
  }
  const itemSize = SAFETENSORS_ITEM_SIZE[stored];
  const raw = elementBytes(bytes, offset, end - begin, itemSize);
  const count = raw.length / itemSize;
  const buffer = raw.buffer as ArrayBuffer;
  switch (stored) {
    case 'F32':
      return E.right({ dtype, data: new Float32Array(buffer, raw.byteOffset, count) });
    case 'F64':
      return E.right({ dtype, data: new Float64Array(buffer, raw.byteOffset, count) });
    case 'I32':
      return E.right({ dtype, data: new Int32Array(buffer, raw.byteOffset, count) });
    case 'U8':
    case 'BOOL':
      return E.right({ dtype, data: raw });
    case 'F16':
    case 'BF16':
      // Bit patterns, loaded as they are into a float16 or bfloat16 tensor.
      return E.right({ dtype, data: new Uint16Array(buffer, raw.byteOffset, count) });
    case 'I8':
      return E.right({ dtype, data: Int32Array.from(new Int8Array(buffer, raw.byteOffset, count)) });
    case 'I16':
      return E.right({ dtype, data: Int32Array.from(new Int16Array(buffer, raw.byteOffset, count)) });
    case 'U16':
      return E.right({ dtype, data: Int32Array.from(new Uint16Array(buffer, raw.byteOffset, count)) });
    case 'U32': {
      const words = new Uint32Array(buffer, raw.byteOffset, count);
      const bad = words.findIndex((w) => w > 0x7fffffff);
      if (bad >= 0) return E.left(outOfRange(name, stored, offset + bad * 4, bad, String(words[bad])));
      return E.right({ dtype, data: new Int32Array(words) });
    }
    default: {
      // I64 and U64: the low and high 32-bit words of each element; the value fits in int32 when
      // the high word is the sign extension of the low one.
      const words = new Int32Array(buffer, raw.byteOffset, count * 2);
      const [lowWord, highWord] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const low = words[2 * i + lowWord] as number;
        const high = words[2 * i + highWord] as number;
        const fits = stored === 'I64' ? high === low >> 31 : high === 0 && low >= 0;
        if (!fits) {
          const value =
            stored === 'I64' ? BigInt(high) * 2n ** 32n + BigInt(low >>> 0) : BigInt(high >>> 0) * 2n ** 32n + BigInt(low >>> 0);
          return E.left(outOfRange(name, stored, offset + i * 8, i, value.toString()));
        }
        out[i] = low;
      }
      return E.right({ dtype, data: out });
    }
  }
}

function outOfRange(name: string, stored: string, offset: number, index: number, value: string): SafetensorsProblem {
  return {
    tensor: name,
    offset,
    message: `${stored} element ${index} is ${value}, outside int32: Flint's integers are 32-bit and ${stored} tensors load as int32 only when every value fits`,
  };
}
