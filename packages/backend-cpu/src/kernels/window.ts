import { type Aval, allocTypedArray, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { type CpuHandle, contiguousData, wrap } from '../view.js';
import { lowest } from './reduce.js';
import { combinedWindowTable, windowTable } from './windows.js';

/**
 * Window sum or max over every dim. A table gives, for each (window position, output position),
 * the input element read or -1 for padding; padding holds the identity, so it is simply skipped.
 * Accumulation runs in a Float64Array (exact for integer sums that fit 2^53; stores then wrap).
 */
export function reduceWindowKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.ReduceWindow>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const data = contiguousData(x);
  const rank = x.shape.length;
  const outTotal = sizeOf(out.shape);
  const result = allocTypedArray(out.dtype, outTotal);
  if (outTotal === 0) return wrap(result, out.shape, out.dtype);
  const tables: Int32Array[] = [];
  for (let d = 0; d < rank; d++) {
    tables.push(
      windowTable(x.shape[d]!, params.window[d]!, out.shape[d]!, params.strides[d]!, params.padding[d]![0], params.dilation[d]!, 1),
    );
  }
  const offsets = combinedWindowTable(tables, params.window, out.shape, contiguousStrides(x.shape));
  const windowTotal = sizeOf(params.window);
  const accumulator = new Float64Array(outTotal);
  if (params.op === 'max') {
    accumulator.fill(lowest(x.dtype));
    for (let w = 0; w < windowTotal; w++) {
      const base = w * outTotal;
      for (let o = 0; o < outTotal; o++) {
        const offset = offsets[base + o]!;
        if (offset < 0) continue;
        const v = data[offset]!;
        if (v > accumulator[o]! || Number.isNaN(v)) accumulator[o] = v;
      }
    }
  } else {
    for (let w = 0; w < windowTotal; w++) {
      const base = w * outTotal;
      for (let o = 0; o < outTotal; o++) {
        const offset = offsets[base + o]!;
        if (offset >= 0) accumulator[o] = accumulator[o]! + data[offset]!;
      }
    }
  }
  if (out.dtype === 'int32') for (let o = 0; o < outTotal; o++) result[o] = accumulator[o]! | 0;
  else result.set(accumulator as never);
  return wrap(result, out.shape, out.dtype);
}
