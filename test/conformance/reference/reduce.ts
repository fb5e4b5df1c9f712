import type { DType } from '@flint/api';
import { dtypeRange, isFloatDType, type RefArray, type RefResult, ravel, sizeOfShape, toDType, unravel } from './ndarray.js';

export type ReduceName = 'sum' | 'max' | 'min' | 'prod';

/**
 * For every output position (the input's multi-index with `axes` removed), the input elements
 * that reduce into it, in row-major order of the reduced axes.
 */
function groups(x: RefArray, axes: readonly number[]): { outShape: number[]; members: number[][] } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = kept.map((i) => x.shape[i] as number);
  const reducedShape = axes.map((i) => x.shape[i] as number);
  const outSize = sizeOfShape(outShape);
  const reducedSize = sizeOfShape(reducedShape);
  const members: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const outIndex = unravel(o, outShape);
    const list: number[] = [];
    for (let r = 0; r < reducedSize; r++) {
      const reducedIndex = unravel(r, reducedShape);
      const index: number[] = new Array(x.shape.length);
      kept.forEach((axis, k) => {
        index[axis] = outIndex[k] as number;
      });
      axes.forEach((axis, k) => {
        index[axis] = reducedIndex[k] as number;
      });
      list.push(x.data[ravel(index, x.shape)] as number);
    }
    members.push(list);
  }
  return { outShape, members };
}

function reduceValues(name: ReduceName, values: readonly number[], dtype: DType): number {
  const float = isFloatDType(dtype);
  switch (name) {
    case 'sum': {
      let s = 0;
      for (const v of values) s = float ? s + v : toDType(s + v, dtype);
      return s;
    }
    case 'prod': {
      let p = 1;
      for (const v of values) p = float ? p * v : dtype === 'int32' ? Math.imul(p, v) : (p * v) % 256;
      return p;
    }
    case 'max': {
      let m = dtypeRange(dtype).lowest;
      for (const v of values) {
        if (Number.isNaN(v)) return Number.NaN; // NaN propagates, as torch.max does
        if (v > m) m = v;
      }
      return m;
    }
    case 'min': {
      let m = dtypeRange(dtype).highest;
      for (const v of values) {
        if (Number.isNaN(v)) return Number.NaN;
        if (v < m) m = v;
      }
      return m;
    }
  }
}

/** Empty sum 0, empty prod 1, empty max the dtype's lowest value, empty min its highest. */
export function reduceReference(name: ReduceName, inputs: readonly RefArray[], axes: readonly number[]): RefResult {
  const x = inputs[0] as RefArray;
  const { outShape, members } = groups(x, axes);
  const data = members.map((values) => toDType(reduceValues(name, values, x.dtype), x.dtype));
  let magnitude: number[] | undefined;
  if (name === 'sum') magnitude = members.map((values) => values.reduce((s, v) => s + Math.abs(v), 0));
  if (name === 'prod') magnitude = data.map((v, i) => Math.abs(v) * ((members[i] as number[]).length + 1));
  return magnitude ? { out: { shape: outShape, dtype: x.dtype, data }, magnitude } : { out: { shape: outShape, dtype: x.dtype, data } };
}

/** Index of the first maximum (or minimum); a NaN counts as both the maximum and the minimum. */
export function argReference(kind: 'max' | 'min', inputs: readonly RefArray[], axis: number): RefResult {
  const x = inputs[0] as RefArray;
  const { outShape, members } = groups(x, [axis]);
  const data = members.map((values) => {
    let best = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (Number.isNaN(v)) return i;
      const b = values[best] as number;
      if (kind === 'max' ? v > b : v < b) best = i;
    }
    return best;
  });
  return { out: { shape: outShape, dtype: 'int32', data } };
}
