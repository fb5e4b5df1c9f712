import { ValueError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { tensor } from '../ops/convert.js';
import { stack } from '../ops/movement.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What `defaultCollate` makes of samples of type T: tensors stack into a batch tensor, numbers
 * and booleans become a 1-d tensor, strings a list, and arrays and plain objects are collated
 * position by position and key by key.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : never;

function describe(value: unknown): string {
  if (isTensor(value)) return `a tensor of shape ${formatShape(value.shape)} (${value.dtype})`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return value === null ? 'null' : typeof value;
}

function collateAt(samples: readonly unknown[], path: string): unknown {
  const first = samples[0];
  const where = path === '' ? 'the samples' : `samples${path}`;
  const mismatch = (i: number, expected: string) =>
    new ValueError(`defaultCollate: ${where} differ: sample 0 has ${expected}, sample ${i} has ${describe(samples[i])}`);
  if (isTensor(first)) {
    samples.forEach((s, i) => {
      if (!isTensor(s) || !shapesEqual(s.shape, first.shape) || s.dtype !== first.dtype) throw mismatch(i, describe(first));
    });
    return stack(samples as Tensor[], 0);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    samples.forEach((s, i) => {
      if (typeof s !== typeof first) throw mismatch(i, typeof first);
    });
    // tensor() infers bool, int32 (all integers) or float32, as PyTorch infers bool, int64 or float.
    return tensor(samples as (number | boolean)[]);
  }
  if (typeof first === 'string') {
    samples.forEach((s, i) => {
      if (typeof s !== 'string') throw mismatch(i, 'a string');
    });
    return [...samples];
  }
  if (Array.isArray(first)) {
    samples.forEach((s, i) => {
      if (!Array.isArray(s) || s.length !== first.length) throw mismatch(i, describe(first));
    });
    return first.map((_, k) =>
      collateAt(
        samples.map((s) => (s as unknown[])[k]),
        `${path}[${k}]`,
      ),
    );
  }
  if (typeof first === 'object' && first !== null && Object.getPrototypeOf(first) === Object.prototype) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    samples.forEach((s, i) => {
      if (typeof s !== 'object' || s === null || Object.keys(s).length !== keys.length || keys.some((k) => !(k in s)))
        throw mismatch(i, `keys ${keys.join(', ')}`);
    });
    for (const key of keys)
      out[key] = collateAt(
        samples.map((s) => (s as Record<string, unknown>)[key]),
        `${path}.${key}`,
      );
    return out;
  }
  throw new ValueError(`defaultCollate: cannot collate ${where}: ${describe(first)}; write a collate function for this kind of sample`);
}

/**
 * Batches samples as torch's default_collate: tensors are stacked along a new first axis,
 * numbers become an int32 or float32 tensor, booleans a bool tensor, strings a list, and tuples
 * and objects are collated element by element.
 *
 * @example
 * const [images, labels] = defaultCollate([dataset.get(0), dataset.get(1)]);
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (!Array.isArray(samples) || samples.length === 0) throw new ValueError('defaultCollate: expected a non-empty list of samples');
  return collateAt(samples, '') as Collated<T>;
}
