import { ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { tensor, toTensor } from '../ops/convert.js';
import { add } from '../ops/elementwise.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';

// Counter-based keys, as in JAX: a key is an int32 tensor [2], and every random value is a pure
// function of a key. New keys are derived, never mutated, so code that splits its keys is
// reproducible under grad, vmap and jit alike.
//
// Derivations, all from the RandomBits primitive (Threefry-2x32; its stream layout is documented
// with the CPU backend's kernel: block j encrypts the counter (j, 0) under the key):
//   split(key, num)[i] = block i of key's stream = words 2i and 2i + 1.
//   foldIn(key, data)  = block 0 of the stream of (block 0 of key's stream) + [FOLD_TAG, data].
// foldIn hashes the key once before adding the data, so that structured keys (key(5) and key(6)
// differ by 1 in their low word) cannot collide: foldIn(key(5), 1) and foldIn(key(6), 0) start
// from unrelated hashed keys. The tag keeps foldIn(k, d) apart from split(split(k)[0])[0].
// As in JAX, using a key for values and also splitting it reuses bits: split a key and use each
// half once.

const FOLD_TAG = 0x243f6a88; // the first 32 fraction bits of pi: an arbitrary, documented constant

/** Options that pick where a new key lives. */
export interface KeyOptions {
  /** Backend name; the default backend when omitted. */
  readonly backend?: string;
}

/**
 * A random key from an integer seed: an int32 tensor [2] holding the seed's high and low 32 bits
 * (as JAX's `random.PRNGKey`). Negative seeds use their two's complement.
 *
 * @example
 * const k = random.key(0);
 * const [k1, k2] = random.split(k);
 */
export function key(seed: number, options: KeyOptions = {}): Tensor {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`random.key: seed must be an integer between -(2^53 - 1) and 2^53 - 1, got ${String(seed)}`);
  }
  const high = Math.floor(seed / 2 ** 32) | 0;
  const low = seed | 0;
  return tensor(new Int32Array([high, low]), options.backend === undefined ? {} : { backend: options.backend });
}

/** Checks that `k` is a key (int32 [2]); the error names `op`. */
export function checkKey(op: string, k: unknown): Tensor {
  if (!isTensor(k) || k.dtype !== 'int32' || k.shape.length !== 1 || k.shape[0] !== 2) {
    const got = isTensor(k) ? `${k.dtype} tensor of shape ${formatShape(k.shape)}` : typeof k;
    throw new ValueError(`${op}: expected a random key (an int32 tensor of shape [2], from random.key or random.split), got ${got}`);
  }
  return k;
}

/** `num` words of the key's stream, as int32 [num]. */
export function streamWords(k: Tensor, count: number): Tensor {
  return bind(Primitive.RandomBits, [k], { shape: [count] });
}

/**
 * `num` new keys derived from `key`, as an int32 tensor [num, 2]; row i is a key.
 *
 * @example
 * const keys = random.split(random.key(42), 3);  // [3, 2]
 * const first = random.keyAt(keys, 0);
 */
export function split(k: Tensor, num = 2): Tensor {
  const op = 'random.split';
  checkKey(op, k);
  if (!Number.isInteger(num) || num < 1) throw new ValueError(`${op}: num must be a positive integer, got ${num}`);
  return bind(Primitive.RandomBits, [k], { shape: [num, 2] });
}

/**
 * Row `i` of a [num, 2] tensor of keys (from `split`) as a key of shape [2].
 *
 * @example
 * const keys = random.split(k, 2);
 * const k0 = random.keyAt(keys, 0);
 */
export function keyAt(keys: Tensor, i: number): Tensor {
  const op = 'random.keyAt';
  if (!isTensor(keys) || keys.dtype !== 'int32' || keys.shape.length !== 2 || keys.shape[1] !== 2) {
    throw new ValueError(
      `${op}: expected keys of shape [num, 2] (from random.split), got ${isTensor(keys) ? formatShape(keys.shape) : typeof keys}`,
    );
  }
  const num = keys.shape[0] as number;
  if (!Number.isInteger(i) || i < -num || i >= num) throw new ValueError(`${op}: index ${i} is out of range for ${num} keys`);
  const row = i < 0 ? i + num : i;
  const sliced = bind(Primitive.Slice, [keys], { starts: [row, 0], stops: [row + 1, 2], steps: [1, 1] });
  return bind(Primitive.Reshape, [sliced], { shape: [2] });
}

/**
 * Splits `key` into `num` keys returned as a JavaScript array of [2] tensors, for destructuring.
 *
 * @example
 * const [dropoutKey, initKey] = random.splitKeys(random.key(0));
 */
export function splitKeys(k: Tensor, num = 2): Tensor[] {
  return tidy(() => {
    const keys = split(k, num);
    return Array.from({ length: num }, (_, i) => keyAt(keys, i));
  });
}

/**
 * A new key that mixes `data` (an integer, or an int32 scalar tensor) into `key`: the usual way
 * to derive a key per step, per layer or per example.
 *
 * @example
 * const stepKey = random.foldIn(baseKey, step);
 */
export function foldIn(k: Tensor, data: number | Tensor): Tensor {
  const op = 'random.foldIn';
  checkKey(op, k);
  let dataTensor: Tensor;
  if (isTensor(data)) {
    if (data.size !== 1) throw new ValueError(`${op}: data must be a single integer, got a tensor of shape ${formatShape(data.shape)}`);
    dataTensor = data;
  } else {
    if (typeof data !== 'number' || !Number.isInteger(data)) throw new ValueError(`${op}: data must be an integer, got ${String(data)}`);
    dataTensor = toTensor(op, data | 0, 'int32', k);
  }
  return tidy(() => {
    const hashed = streamWords(k, 2);
    const tag = bind(Primitive.Full, [], { shape: [1], dtype: 'int32', value: FOLD_TAG }, backendOf(k));
    const value = bind(Primitive.Reshape, [cast(dataTensor, 'int32')], { shape: [1] });
    const offset = bind(Primitive.Concat, [tag, value], { axis: 0 });
    return streamWords(add(hashed, offset), 2);
  });
}
