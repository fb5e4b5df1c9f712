import type { ParamsOf, Primitive } from '@flint/api';
import { isFloatDType, type RefArray, type RefResult, ravel, sizeOfShape, toDType, unravel } from './ndarray.js';

/** The flat positions of every line along `axis`, each in increasing order along the axis. */
function lines(shape: readonly number[], axis: number): number[][] {
  const outer = shape.map((d, i) => (i === axis ? 1 : d));
  const result: number[][] = [];
  for (let flat = 0; flat < sizeOfShape(outer); flat++) {
    const base = unravel(flat, outer);
    const line: number[] = [];
    for (let j = 0; j < (shape[axis] as number); j++) {
      const index = [...base];
      index[axis] = j;
      line.push(ravel(index, shape));
    }
    result.push(line);
  }
  return result;
}

function combine(op: ParamsOf<Primitive.Cumulative>['op'], acc: number, v: number, dtype: RefArray['dtype']): number {
  const float = isFloatDType(dtype);
  switch (op) {
    case 'sum':
      return float ? acc + v : toDType(acc + v, dtype);
    case 'prod':
      return float ? acc * v : dtype === 'int32' ? Math.imul(acc, v) : (acc * v) % 256;
    case 'max':
      return Math.max(acc, v); // NaN propagates
    case 'min':
      return Math.min(acc, v);
  }
}

/** Inclusive scan along `axis`, from the end when `reverse`; NaN propagates through max and min. */
export function cumulativeReference(x: RefArray, params: ParamsOf<Primitive.Cumulative>): RefResult {
  const data = new Array<number>(x.data.length);
  const magnitude = new Array<number>(x.data.length);
  for (const line of lines(x.shape, params.axis)) {
    const order = params.reverse ? [...line].reverse() : line;
    let acc = 0;
    let scale = 0;
    order.forEach((position, k) => {
      const v = x.data[position] as number;
      acc = k === 0 ? v : combine(params.op, acc, v, x.dtype);
      scale = params.op === 'sum' ? scale + Math.abs(v) : Math.abs(acc) * (k + 1);
      data[position] = toDType(acc, x.dtype);
      magnitude[position] = scale;
    });
  }
  return { out: { shape: x.shape, dtype: x.dtype, data }, magnitude };
}

/**
 * Stable argsort along `axis`: equal elements (including -0 and +0) keep their order; NaN sorts
 * after everything ascending and before everything descending, as PyTorch does.
 */
export function argsortReference(x: RefArray, params: ParamsOf<Primitive.Argsort>): RefResult {
  const data = new Array<number>(x.data.length);
  for (const line of lines(x.shape, params.axis)) {
    const positions = line.map((_, j) => j);
    const value = (j: number) => x.data[line[j] as number] as number;
    // Insertion sort: written out so stability does not rest on Array.prototype.sort.
    const sorted: number[] = [];
    for (const j of positions) {
      let k = sorted.length;
      while (k > 0 && before(value(j), value(sorted[k - 1] as number), params.descending)) k--;
      sorted.splice(k, 0, j);
    }
    sorted.forEach((j, k) => {
      data[line[k] as number] = j;
    });
  }
  return { out: { shape: x.shape, dtype: 'int32', data } };
}

/** Whether `a` must come strictly before `b`. */
function before(a: number, b: number, descending: boolean): boolean {
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return descending ? aNaN && !bNaN : !aNaN && bNaN;
  return descending ? a > b : a < b;
}
