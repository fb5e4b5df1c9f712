import { type Aval, sizeOf, type TypedArray, type WindowGeometry } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';
import { maxPool2x2Backward } from './square-pool.js';

// Max pooling's backward pass in one kernel (CompositeKernels.windowMaxBackward): the composite it
// replaces runs argmax over the windows, builds flat indices, scatter-adds the cotangent into
// zeros and slices the padding off, five passes and an index array; here each window's first
// maximum is found and receives the window's cotangent in one pass over x.

let runs = 0;

/** How many times the kernel has run (not declined), for tests. */
export function windowMaxBackwardRuns(): number {
  return runs;
}

/** Argmax's step over a window's taps: whether `v` replaces the best so far (a greater value, or the first NaN). */
function replacesBest(v: number, best: number): boolean {
  return v > best || (Number.isNaN(v) && !Number.isNaN(best));
}

/** Spatial dims the kernel takes, after the leading ones (which the window must leave alone). */
const SPATIAL = 3;

/** Per spatial dim: the sizes and the window's geometry, leading dims padded with size-1 windows of 1. */
interface Pool {
  readonly planes: number;
  readonly in: number[];
  readonly out: number[];
  readonly window: number[];
  readonly stride: number[];
  readonly padLow: number[];
  readonly dilation: number[];
}

/**
 * The geometry as planes (the leading dims, which the window leaves alone) of up to three spatial
 * dims (from the first the window touches), or null where it touches more than three.
 */
function poolOf(inShape: readonly number[], outShape: readonly number[], geometry: WindowGeometry): Pool | null {
  const rank = inShape.length;
  let lead = 0;
  while (lead < rank) {
    const [lo, hi] = geometry.padding[lead]!;
    if (geometry.window[lead] !== 1 || geometry.strides[lead] !== 1 || lo !== 0 || hi !== 0 || geometry.dilation[lead] !== 1) break;
    lead++;
  }
  if (rank - lead > SPATIAL) return null;
  const pool: Pool = { planes: sizeOf(inShape.slice(0, lead)), in: [], out: [], window: [], stride: [], padLow: [], dilation: [] };
  for (let s = 0; s < SPATIAL; s++) {
    const d = rank - SPATIAL + s;
    const real = d >= lead;
    pool.in.push(real ? inShape[d]! : 1);
    pool.out.push(real ? outShape[d]! : 1);
    pool.window.push(real ? geometry.window[d]! : 1);
    pool.stride.push(real ? geometry.strides[d]! : 1);
    pool.padLow.push(real ? geometry.padding[d]![0] : 0);
    pool.dilation.push(real ? geometry.dilation[d]! : 1);
  }
  return pool;
}

/**
 * Along one spatial dim, each output position's taps inside the input: [first, last) of the
 * window's taps (first > 0 where the window starts in the low padding).
 */
function tapRanges(pool: Pool, s: number): { first: Int32Array; last: Int32Array } {
  const count = pool.out[s]!;
  const first = new Int32Array(count);
  const last = new Int32Array(count);
  const window = pool.window[s]!;
  const dilation = pool.dilation[s]!;
  for (let o = 0; o < count; o++) {
    const origin = o * pool.stride[s]! - pool.padLow[s]!;
    const begin = Math.min(window, origin >= 0 ? 0 : Math.ceil(-origin / dilation));
    const room = pool.in[s]! - 1 - origin;
    first[o] = begin;
    last[o] = Math.max(begin, room < 0 ? 0 : Math.min(window, Math.floor(room / dilation) + 1));
  }
  return { first, last };
}

/**
 * 2 x 2 windows of stride 2 over [H, W] planes, none reaching padding (ceil mode's last windows
 * may) or dilated: the usual max pool.
 */
function isSquare(pool: Pool): boolean {
  return (
    pool.in[0] === 1 &&
    pool.out[0] === 1 &&
    2 * pool.out[1]! <= pool.in[1]! &&
    2 * pool.out[2]! <= pool.in[2]! &&
    pool.window[0] === 1 &&
    pool.window[1] === 2 &&
    pool.window[2] === 2 &&
    pool.stride[1] === 2 &&
    pool.stride[2] === 2 &&
    pool.padLow[1] === 0 &&
    pool.padLow[2] === 0 &&
    pool.dilation[1] === 1 &&
    pool.dilation[2] === 1
  );
}

/**
 * `x`'s cotangent under max pooling with `geometry`, from the pool's cotangent `g`: zero but at
 * each window's first maximum (argmax's over its taps in row-major order, padding read as
 * -Infinity: a greater value or the first NaN replaces the best), which receives the window's
 * cotangent, summed where windows overlap. A window whose taps inside are all -Infinity ties with
 * its padding, so its first tap wins, and its cotangent is dropped when that tap is padding (the
 * rule the api's composite follows). Float32 and float64; null (the api runs the composite) for
 * other dtypes and for windows over more than the last three dims.
 */
export function windowMaxBackwardKernel(x: CpuHandle, g: CpuHandle, geometry: WindowGeometry, out: Aval): CpuHandle | null {
  const dtype = out.dtype;
  if ((dtype !== 'float32' && dtype !== 'float64') || x.dtype !== dtype || g.dtype !== dtype) return null;
  const pool = poolOf(x.shape, g.shape, geometry);
  if (pool === null) return null;
  const input = contiguousData(x);
  const grad = contiguousData(g);
  const dx = allocateUninitialized(dtype, sizeOf(x.shape));
  const inPlane = pool.in[0]! * pool.in[1]! * pool.in[2]!;
  const outPlane = pool.out[0]! * pool.out[1]! * pool.out[2]!;
  if (!isSquare(pool)) generalWindows(input, grad, dx, pool, inPlane, outPlane);
  else if (
    !(
      dtype === 'float32' &&
      tilesByTwo(pool) &&
      maxPool2x2Backward(input as Float32Array, grad as Float32Array, pool.planes, pool.in[1]!, pool.in[2]!, dx as Float32Array)
    )
  )
    squareWindows(input, grad, dx, pool, inPlane, outPlane);
  runs++;
  return wrap(dx, out.shape, dtype);
}

/** Whether a square pool's windows are all of floor mode's (the SIMD kernel's geometry). */
function tilesByTwo(pool: Pool): boolean {
  return pool.out[1] === Math.floor(pool.in[1]! / 2) && pool.out[2] === Math.floor(pool.in[2]! / 2);
}

function squareWindows(input: TypedArray, grad: TypedArray, dx: TypedArray, pool: Pool, inPlane: number, outPlane: number): void {
  const [, height, width] = pool.in as [number, number, number];
  const [, outHeight, outWidth] = pool.out as [number, number, number];
  // Windows that tile the plane write every element; otherwise the rows and columns past the last
  // window stay zero.
  if (outHeight * 2 !== height || outWidth * 2 !== width) dx.fill(0);
  for (let plane = 0; plane < pool.planes; plane++) {
    const base = plane * inPlane;
    let o = plane * outPlane;
    for (let oh = 0; oh < outHeight; oh++) {
      let top = base + 2 * oh * width;
      for (let ow = 0; ow < outWidth; ow++, o++, top += 2) {
        const bottom = top + width;
        const a = input[top]!;
        const b = input[top + 1]!;
        const c = input[bottom]!;
        const d = input[bottom + 1]!;
        let best = a;
        let k = 0;
        if (replacesBest(b, best)) {
          best = b;
          k = 1;
        }
        if (replacesBest(c, best)) {
          best = c;
          k = 2;
        }
        if (replacesBest(d, best)) k = 3;
        // + 0: a -0 cotangent lands as +0, as it does added to the zeros of the general path.
        const cotangent = grad[o]! + 0;
        dx[top] = k === 0 ? cotangent : 0;
        dx[top + 1] = k === 1 ? cotangent : 0;
        dx[bottom] = k === 2 ? cotangent : 0;
        dx[bottom + 1] = k === 3 ? cotangent : 0;
      }
    }
  }
}

function generalWindows(input: TypedArray, grad: TypedArray, dx: TypedArray, pool: Pool, inPlane: number, outPlane: number): void {
  dx.fill(0);
  const [depths, rows, columns] = [tapRanges(pool, 0), tapRanges(pool, 1), tapRanges(pool, 2)];
  const [, inHeight, inWidth] = pool.in as [number, number, number];
  const [outDepth, outHeight, outWidth] = pool.out as [number, number, number];
  const [dilationD, dilationH, dilationW] = pool.dilation as [number, number, number];
  for (let plane = 0; plane < pool.planes; plane++) {
    const base = plane * inPlane;
    let o = plane * outPlane;
    for (let od = 0; od < outDepth; od++) {
      const depth0 = od * pool.stride[0]! - pool.padLow[0]!;
      for (let oh = 0; oh < outHeight; oh++) {
        const height0 = oh * pool.stride[1]! - pool.padLow[1]!;
        for (let ow = 0; ow < outWidth; ow++, o++) {
          const width0 = ow * pool.stride[2]! - pool.padLow[2]!;
          let best = Number.NEGATIVE_INFINITY;
          let chosen = -1;
          for (let kd = depths.first[od]!; kd < depths.last[od]!; kd++) {
            for (let kh = rows.first[oh]!; kh < rows.last[oh]!; kh++) {
              const row = base + ((depth0 + kd * dilationD) * inHeight + height0 + kh * dilationH) * inWidth + width0;
              for (let kw = columns.first[ow]!; kw < columns.last[ow]!; kw++) {
                const at = row + kw * dilationW;
                const v = input[at]!;
                if (chosen < 0 || replacesBest(v, best)) {
                  best = v;
                  chosen = at;
                }
              }
            }
          }
          const paddingFirst = depths.first[od]! > 0 || rows.first[oh]! > 0 || columns.first[ow]! > 0;
          if (chosen >= 0 && !(best === Number.NEGATIVE_INFINITY && paddingFirst)) dx[chosen] = dx[chosen]! + grad[o]!;
        }
      }
    }
  }
}
