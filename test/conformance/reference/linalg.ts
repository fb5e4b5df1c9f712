import type { PadPair, ParamsOf, Primitive } from '@flint/api';
import { at, dtypeRange, isFloatDType, type RefArray, type RefResult, sizeOfShape, toDType, unravel } from './ndarray.js';

/** Product modulo the integer dtype's width, exact in float64 for floats. */
function multiply(a: number, b: number, dtype: RefArray['dtype']): number {
  if (dtype === 'int32') return Math.imul(a, b);
  if (dtype === 'uint8') return (a * b) % 256;
  return a * b;
}

function accumulate(sum: number, term: number, dtype: RefArray['dtype']): number {
  return isFloatDType(dtype) ? sum + term : toDType(sum + term, dtype);
}

/** XLA DotGeneral: output dims are the batch dims, then lhs free dims, then rhs free dims. */
export function dotGeneralReference(lhs: RefArray, rhs: RefArray, params: ParamsOf<Primitive.DotGeneral>): RefResult {
  const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
  const lhsFree = lhs.shape.map((_, i) => i).filter((i) => !lhsContracting.includes(i) && !lhsBatch.includes(i));
  const rhsFree = rhs.shape.map((_, i) => i).filter((i) => !rhsContracting.includes(i) && !rhsBatch.includes(i));
  const batchShape = lhsBatch.map((a) => lhs.shape[a] as number);
  const contractShape = lhsContracting.map((a) => lhs.shape[a] as number);
  const outShape = [...batchShape, ...lhsFree.map((a) => lhs.shape[a] as number), ...rhsFree.map((a) => rhs.shape[a] as number)];
  const outSize = sizeOfShape(outShape);
  const contractSize = sizeOfShape(contractShape);
  const data: number[] = [];
  const magnitude: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const index = unravel(o, outShape);
    const batch = index.slice(0, lhsBatch.length);
    const freeL = index.slice(lhsBatch.length, lhsBatch.length + lhsFree.length);
    const freeR = index.slice(lhsBatch.length + lhsFree.length);
    let sum = 0;
    let scale = 0;
    for (let c = 0; c < contractSize; c++) {
      const contract = unravel(c, contractShape);
      const li: number[] = new Array(lhs.shape.length);
      const ri: number[] = new Array(rhs.shape.length);
      lhsBatch.forEach((a, k) => {
        li[a] = batch[k] as number;
      });
      rhsBatch.forEach((a, k) => {
        ri[a] = batch[k] as number;
      });
      lhsContracting.forEach((a, k) => {
        li[a] = contract[k] as number;
      });
      rhsContracting.forEach((a, k) => {
        ri[a] = contract[k] as number;
      });
      lhsFree.forEach((a, k) => {
        li[a] = freeL[k] as number;
      });
      rhsFree.forEach((a, k) => {
        ri[a] = freeR[k] as number;
      });
      const x = at(lhs, li);
      const y = at(rhs, ri);
      sum = accumulate(sum, multiply(x, y, lhs.dtype), lhs.dtype);
      scale += Math.abs(x * y);
    }
    data.push(toDType(sum, lhs.dtype));
    magnitude.push(scale);
  }
  return { out: { shape: outShape, dtype: lhs.dtype, data }, magnitude };
}

/** Where dilated-and-padded coordinate `q` falls in the original input, or -1 in padding or holes. */
function sourceIndex(q: number, size: number, inputDilation: number): number {
  if (q < 0 || q % inputDilation !== 0) return -1;
  const i = q / inputDilation;
  return i < size ? i : -1;
}

function windowCount(size: number, window: number, stride: number, pad: PadPair, dilation: number, inputDilation: number): number {
  const dilated = size === 0 ? 0 : (size - 1) * inputDilation + 1;
  const padded = dilated + pad[0] + pad[1];
  const span = (window - 1) * dilation + 1;
  return padded < span ? 0 : Math.floor((padded - span) / stride) + 1;
}

/**
 * Cross-correlation as PyTorch computes it, for any number of spatial dims: every output element
 * sums input * weight over the input channels of its group and the kernel's positions.
 */
export function convReference(lhs: RefArray, rhs: RefArray, params: ParamsOf<Primitive.Conv>): RefResult {
  const { strides, padding, lhsDilation, rhsDilation, groups } = params;
  const [n, c] = lhs.shape as [number, number];
  const [o, cPerGroup] = rhs.shape as [number, number];
  const spatialIn = lhs.shape.slice(2);
  const kernel = rhs.shape.slice(2);
  const spatialOut = spatialIn.map((size, i) =>
    windowCount(size, kernel[i] as number, strides[i] as number, padding[i] as PadPair, rhsDilation[i] as number, lhsDilation[i] as number),
  );
  const outShape = [n, o, ...spatialOut];
  const outPerGroup = o / groups;
  if (cPerGroup * groups !== c) throw new Error('reference: conv channels do not match groups');
  const data: number[] = [];
  const magnitude: number[] = [];
  const kernelSize = sizeOfShape(kernel);
  for (let flat = 0; flat < sizeOfShape(outShape); flat++) {
    const [batch, outChannel, ...position] = unravel(flat, outShape) as [number, number, ...number[]];
    const group = Math.floor(outChannel / outPerGroup);
    let sum = 0;
    let scale = 0;
    for (let ci = 0; ci < cPerGroup; ci++) {
      for (let k = 0; k < kernelSize; k++) {
        const kernelIndex = unravel(k, kernel);
        const inputIndex: number[] = [];
        let inside = true;
        for (let d = 0; d < spatialIn.length; d++) {
          const q =
            (position[d] as number) * (strides[d] as number) +
            (kernelIndex[d] as number) * (rhsDilation[d] as number) -
            (padding[d] as PadPair)[0];
          const i = sourceIndex(q, spatialIn[d] as number, lhsDilation[d] as number);
          if (i < 0) {
            inside = false;
            break;
          }
          inputIndex.push(i);
        }
        if (!inside) continue;
        const x = at(lhs, [batch, group * cPerGroup + ci, ...inputIndex]);
        const w = at(rhs, [outChannel, ci, ...kernelIndex]);
        sum += x * w;
        scale += Math.abs(x * w);
      }
    }
    data.push(toDType(sum, lhs.dtype));
    magnitude.push(scale);
  }
  return { out: { shape: outShape, dtype: lhs.dtype, data }, magnitude };
}

/** Window sums or maxima over every dim; padding holds the reduction's identity. */
export function reduceWindowReference(x: RefArray, params: ParamsOf<Primitive.ReduceWindow>): RefResult {
  const { op, window, strides, padding, dilation } = params;
  const outShape = x.shape.map((size, i) =>
    windowCount(size, window[i] as number, strides[i] as number, padding[i] as PadPair, dilation[i] as number, 1),
  );
  const identity = op === 'sum' ? 0 : dtypeRange(x.dtype).lowest;
  const data: number[] = [];
  const magnitude: number[] = [];
  for (let flat = 0; flat < sizeOfShape(outShape); flat++) {
    const position = unravel(flat, outShape);
    let acc = identity;
    let scale = 0;
    for (let k = 0; k < sizeOfShape(window); k++) {
      const offset = unravel(k, window);
      const source = position.map(
        (p, d) => p * (strides[d] as number) + (offset[d] as number) * (dilation[d] as number) - (padding[d] as PadPair)[0],
      );
      const inside = source.every((i, d) => i >= 0 && i < (x.shape[d] as number));
      const v = inside ? at(x, source) : identity;
      if (op === 'sum') {
        acc = accumulate(acc, v, x.dtype);
        scale += Math.abs(v);
      } else if (v > acc || Number.isNaN(v)) acc = v;
    }
    data.push(toDType(acc, x.dtype));
    magnitude.push(op === 'sum' ? scale : Math.abs(acc));
  }
  return { out: { shape: outShape, dtype: x.dtype, data }, magnitude };
}
