import type { PadPair } from '@flint/api';
import { at, build, isFloatDType, type RefArray, type RefResult, ravel, sizeOfShape, toDType, unravel } from './ndarray.js';

export function reshapeReference(x: RefArray, shape: readonly number[]): RefResult {
  if (sizeOfShape(shape) !== x.data.length) throw new Error('reference: reshape changes the size');
  return { out: { shape: [...shape], dtype: x.dtype, data: [...x.data] } };
}

/** Output axis i is input axis perm[i]. */
export function transposeReference(x: RefArray, perm: readonly number[]): RefResult {
  const shape = perm.map((p) => x.shape[p] as number);
  return {
    out: build(shape, x.dtype, (index) => {
      const source: number[] = new Array(x.shape.length);
      perm.forEach((p, i) => {
        source[p] = index[i] as number;
      });
      return at(x, source);
    }),
  };
}

/** NumPy broadcast_to: dims align to the right; a size-1 input dim repeats. */
export function broadcastReference(x: RefArray, shape: readonly number[]): RefResult {
  const offset = shape.length - x.shape.length;
  return {
    out: build(shape, x.dtype, (index) =>
      at(
        x,
        x.shape.map((d, i) => (d === 1 ? 0 : (index[offset + i] as number))),
      ),
    ),
  };
}

export function sliceReference(x: RefArray, starts: readonly number[], stops: readonly number[], steps: readonly number[]): RefResult {
  const shape = x.shape.map((_, i) => Math.max(0, Math.ceil(((stops[i] as number) - (starts[i] as number)) / (steps[i] as number))));
  return {
    out: build(shape, x.dtype, (index) =>
      at(
        x,
        index.map((j, i) => (starts[i] as number) + j * (steps[i] as number)),
      ),
    ),
  };
}

export function padReference(x: RefArray, widths: readonly PadPair[], value: number): RefResult {
  const shape = x.shape.map((d, i) => d + (widths[i] as PadPair)[0] + (widths[i] as PadPair)[1]);
  const fill = toDType(value, x.dtype);
  return {
    out: build(shape, x.dtype, (index) => {
      const source = index.map((j, i) => j - (widths[i] as PadPair)[0]);
      const inside = source.every((j, i) => j >= 0 && j < (x.shape[i] as number));
      return inside ? at(x, source) : fill;
    }),
  };
}

export function concatReference(inputs: readonly RefArray[], axis: number): RefResult {
  const first = inputs[0] as RefArray;
  const shape = [...first.shape];
  shape[axis] = inputs.reduce((n, t) => n + (t.shape[axis] as number), 0);
  return {
    out: build(shape, first.dtype, (index) => {
      let position = index[axis] as number;
      for (const t of inputs) {
        const d = t.shape[axis] as number;
        if (position < d) {
          const source = [...index];
          source[axis] = position;
          return at(t, source);
        }
        position -= d;
      }
      throw new Error('reference: concat index out of range');
    }),
  };
}

export function flipReference(x: RefArray, axes: readonly number[]): RefResult {
  return {
    out: build(x.shape, x.dtype, (index) =>
      at(
        x,
        index.map((j, i) => (axes.includes(i) ? (x.shape[i] as number) - 1 - j : j)),
      ),
    ),
  };
}

/** NumPy take: out[pre, idx..., post] = x[pre, indices[idx...], post]. */
export function gatherReference(x: RefArray, indices: RefArray, axis: number): RefResult {
  const k = indices.shape.length;
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  return {
    out: build(shape, x.dtype, (index) => {
      const indexIndex = index.slice(axis, axis + k);
      const source = [...index.slice(0, axis), at(indices, indexIndex), ...index.slice(axis + k)];
      return at(x, source);
    }),
  };
}

/** Target plus updates added at the gathered positions; repeated indices add up. */
export function scatterAddReference(target: RefArray, indices: RefArray, updates: RefArray, axis: number): RefResult {
  const k = indices.shape.length;
  const data = [...target.data];
  const magnitude = target.data.map((v) => Math.abs(v));
  const float = isFloatDType(target.dtype);
  for (let u = 0; u < updates.data.length; u++) {
    const index = unravel(u, updates.shape);
    const indexIndex = index.slice(axis, axis + k);
    const destination = ravel([...index.slice(0, axis), at(indices, indexIndex), ...index.slice(axis + k)], target.shape);
    const value = updates.data[u] as number;
    data[destination] = float ? (data[destination] as number) + value : toDType((data[destination] as number) + value, target.dtype);
    magnitude[destination] = (magnitude[destination] as number) + Math.abs(value);
  }
  return { out: { shape: target.shape, dtype: target.dtype, data: data.map((v) => toDType(v, target.dtype)) }, magnitude };
}
