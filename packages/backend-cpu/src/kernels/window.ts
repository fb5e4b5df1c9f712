import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { scratchFloat64 } from '../scratch.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';
import { lowest } from './reduce.js';
import { combinedWindowTable, windowTable } from './windows.js';

/**
 * Window sum or max over every dim. Dims the window leaves alone (window 1, stride 1, no padding,
 * typically batch and channels) are iterated plainly; for the windowed dims a table gives, for
 * each (window position, output position), the input offset read, or -1 for padding. Padding
 * holds the identity, so it is skipped. Accumulation runs in a Float64Array (exact for integer
 * sums below 2^53; the final store then wraps).
 */
export function reduceWindowKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.ReduceWindow>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const data = contiguousData(x);
  const rank = x.shape.length;
  const outTotal = sizeOf(out.shape);
  const result = allocateUninitialized(out.dtype, outTotal);
  if (outTotal === 0) return wrap(result, out.shape, out.dtype);
  const inStrides = contiguousStrides(x.shape);
  const outStrides = contiguousStrides(out.shape);
  const windowed: number[] = [];
  const plain: number[] = [];
  for (let d = 0; d < rank; d++) {
    const [lo, hi] = params.padding[d]!;
    if (params.window[d] === 1 && params.strides[d] === 1 && lo === 0 && hi === 0) plain.push(d);
    else windowed.push(d);
  }
  const tables = windowed.map((d) =>
    windowTable(x.shape[d]!, params.window[d]!, out.shape[d]!, params.strides[d]!, params.padding[d]![0], params.dilation[d]!, 1),
  );
  const windows = windowed.map((d) => params.window[d]!);
  const outSizes = windowed.map((d) => out.shape[d]!);
  const offsets = combinedWindowTable(
    tables,
    windows,
    outSizes,
    windowed.map((d) => inStrides[d]!),
  );
  // Output offsets of the windowed positions, from the same construction with window 1.
  const outOffsets = combinedWindowTable(
    outSizes.map((size) => Int32Array.from({ length: size }, (_, i) => i)),
    outSizes.map(() => 1),
    outSizes,
    windowed.map((d) => outStrides[d]!),
  );
  const windowTotal = sizeOf(windows);
  const positions = outOffsets.length;
  const accumulator = scratchFloat64('window.accumulator', outTotal);
  const isMax = params.op === 'max';
  accumulator.fill(isMax ? lowest(x.dtype) : 0);
  const plainShape = plain.map((d) => x.shape[d]!);
  const plainCount = sizeOf(plainShape);
  const counter = new Array<number>(plain.length).fill(0);
  let inBase = 0;
  let outBase = 0;
  for (let index = 0; index < plainCount; index++) {
    for (let w = 0; w < windowTotal; w++) {
      const row = w * positions;
      if (isMax) {
        for (let o = 0; o < positions; o++) {
          const offset = offsets[row + o]!;
          if (offset < 0) continue;
          const v = data[inBase + offset]!;
          const at = outBase + outOffsets[o]!;
          if (v > accumulator[at]! || Number.isNaN(v)) accumulator[at] = v;
        }
      } else {
        for (let o = 0; o < positions; o++) {
          const offset = offsets[row + o]!;
          if (offset >= 0) {
            const at = outBase + outOffsets[o]!;
            accumulator[at] = accumulator[at]! + data[inBase + offset]!;
          }
        }
      }
    }
    for (let axis = plain.length - 1; axis >= 0; axis--) {
      const d = plain[axis]!;
      inBase += inStrides[d]!;
      outBase += outStrides[d]!;
      if (++counter[axis]! < plainShape[axis]!) break;
      inBase -= inStrides[d]! * plainShape[axis]!;
      outBase -= outStrides[d]! * plainShape[axis]!;
      counter[axis] = 0;
    }
  }
  result.set(accumulator as never);
  return wrap(result, out.shape, out.dtype);
}
