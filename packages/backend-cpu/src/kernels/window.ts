import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf, type TypedArray } from '@flint/api';
import { scratchFloat64 } from '../scratch.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';
import { lowest } from './reduce.js';
import { maxPool2x2 } from './square-pool.js';
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
  if (isPlanePooling(x.shape, params)) {
    const [height, width] = x.shape.slice(-2) as [number, number];
    const planes = sizeOf(x.shape) / (height * width);
    const square = params.op === 'max' && out.dtype === 'float32' && isTwoByTwo(params.window, params.strides);
    if (!(square && maxPool2x2(data as Float32Array, planes, height, width, result as Float32Array)))
      planePooling(data, x.shape, out.shape, params, result);
    return wrap(result, out.shape, out.dtype);
  }
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

/**
 * Whether the window covers only the last two dims, without padding or dilation: 2-d pooling,
 * which the plane loop below runs without the general kernel's offset tables.
 */
function isPlanePooling(shape: readonly number[], params: ParamsOf<Primitive.ReduceWindow>): boolean {
  const rank = shape.length;
  if (rank < 2 || params.window[rank - 2]! < 1 || params.window[rank - 1]! < 1) return false;
  for (let d = 0; d < rank; d++) {
    const [lo, hi] = params.padding[d]!;
    if (lo !== 0 || hi !== 0 || params.dilation[d] !== 1) return false;
    if (d < rank - 2 && (params.window[d] !== 1 || params.strides[d] !== 1)) return false;
  }
  return true;
}

/** Whether the window is 2 x 2 of stride 2 over the last two dims (1 over the others, as isPlanePooling checks). */
function isTwoByTwo(window: readonly number[], strides: readonly number[]): boolean {
  const rank = window.length;
  return window[rank - 2] === 2 && window[rank - 1] === 2 && strides[rank - 2] === 2 && strides[rank - 1] === 2;
}

/** 2-d window max or sum over each [H, W] plane of row-major `data`; max propagates NaN. */
function planePooling(
  data: TypedArray,
  inShape: readonly number[],
  outShape: readonly number[],
  params: ParamsOf<Primitive.ReduceWindow>,
  result: TypedArray,
): void {
  const rank = inShape.length;
  const [height, width] = [inShape[rank - 2]!, inShape[rank - 1]!];
  const [outHeight, outWidth] = [outShape[rank - 2]!, outShape[rank - 1]!];
  const [windowHeight, windowWidth] = [params.window[rank - 2]!, params.window[rank - 1]!];
  const [strideHeight, strideWidth] = [params.strides[rank - 2]!, params.strides[rank - 1]!];
  const planes = sizeOf(inShape) / (height * width);
  const isMax = params.op === 'max';
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const planeBase = plane * height * width;
    for (let oh = 0; oh < outHeight; oh++) {
      const rowBase = planeBase + oh * strideHeight * width;
      for (let ow = 0; ow < outWidth; ow++, o++) {
        const origin = rowBase + ow * strideWidth;
        let acc = isMax ? data[origin]! : 0;
        for (let kh = 0; kh < windowHeight; kh++) {
          for (let kw = 0, p = origin + kh * width; kw < windowWidth; kw++, p++) {
            const v = data[p]!;
            if (!isMax) acc += v;
            else if (v > acc || Number.isNaN(v)) acc = v;
          }
        }
        result[o] = acc;
      }
    }
  }
}
