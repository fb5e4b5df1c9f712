import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf, type TypedArray } from '@flint/api';
import { scratch } from '../scratch.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, copyBetween, isContiguous, wrapPermuted } from '../view.js';
import { gemm, gemmPackedB, type PackB, runsThreaded } from './gemm.js';

/** Upper bound on im2col elements per gemm call (1 MiB of float32, about an L2 cache). */
const COLUMN_BUDGET = 1 << 18;
/**
 * Packed patches plus output elements per gemm call on the thread pool, whose threads pack the
 * patches in parallel into its shared memory and write the product there before it is copied
 * out: about 2^23 elements (32 MiB of float32, 64 MiB of float64; more only where the 64-column
 * minimum below exceeds it), to which the copied input span adds up to four times the patches
 * (gemm.ts, patchStaging). That memory is kept for later products, so the output counts: x [8,
 * 16, 64, 64] * w [512, 16, 1, 1] took one chunk of all 32768 columns by the patches alone, and
 * grew the pool by a copy of its whole 64 MiB output. The gemm blocks k itself, so chunks only
 * bound memory, and fewer, wider gemms pack A fewer times (a filter gradient's chunks of 64
 * columns packed its 1M-element A five times).
 */
const THREADED_BUDGET = 1 << 23;

/**
 * N-d convolution as one gemm per group and chunk of columns: out[O/groups, columns] =
 * weights[O/groups, C/groups * kernelSize] x patches[C/groups * kernelSize, columns], where a column
 * is an (image, output position) pair. The output is laid out [O, N, ...outSpatial], so that every
 * chunk is a block of columns, and returned as the [N, O, ...] view of it.
 *
 * Padding and input dilation are materialized once into a zero-filled copy of the input, so that
 * every patch element is `input[columnBase[column] + rowDelta[row]]` with no bounds test; strides
 * and kernel dilation live in those two tables. For floats the patches are written straight into
 * the packed panels the gemm micro-kernel reads (no im2col matrix in between).
 */
export function convKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): CpuHandle {
  const lhs = inputs[0]!;
  const rhs = inputs[1]!;
  const [batch, channels] = lhs.shape as [number, number];
  const outChannels = rhs.shape[0]!;
  const groups = params.groups;
  const channelsPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  const kernelSizes = rhs.shape.slice(2);
  const outSizes = out.shape.slice(2);
  const kernelSize = sizeOf(kernelSizes);
  const outSize = sizeOf(outSizes);
  const rows = channelsPerGroup * kernelSize;
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  const perm = out.shape.map((_, i) => (i === 0 ? 1 : i === 1 ? 0 : i));
  if (result.length === 0) return wrapPermuted(result, out.shape, perm, out.dtype);
  const source = paddedInput(lhs, params);
  // Element offsets of each output position's window origin, and of each kernel tap from it.
  const positionOffsets = gridOffsets(
    outSizes,
    outSizes.map((_, d) => params.strides[d]! * source.strides[2 + d]!),
  );
  const tapOffsets = gridOffsets(
    kernelSizes,
    kernelSizes.map((_, d) => params.rhsDilation[d]! * source.strides[2 + d]!),
  );
  const totalColumns = batch * outSize;
  const columnBase = new Int32Array(totalColumns);
  for (let image = 0, j = 0; image < batch; image++) {
    const base = source.offset + image * source.strides[0]!;
    for (let o = 0; o < outSize; o++) columnBase[j++] = base + positionOffsets[o]!;
  }
  const rowDelta = new Int32Array(rows);
  for (let c = 0, p = 0; c < channelsPerGroup; c++) {
    for (let t = 0; t < kernelSize; t++) rowDelta[p++] = c * source.strides[1]! + tapOffsets[t]!;
  }
  const weights = weightMatrix(rhs, outChannels, rows);
  const floating = out.dtype === 'float32' || out.dtype === 'float64';
  const threaded = floating && runsThreaded(outPerGroup, totalColumns, rows);
  // Elements per column within the budget: the patches' rows, and on the pool the output's too.
  const perColumn = threaded ? rows + outPerGroup : Math.max(1, rows);
  // Chunks are whole panels of 8 columns, and at least 64 columns wide so that a deep kernel
  // (weight gradients: large kernels, few outputs) still gives the gemm a useful width; equal
  // ones, so that no last sliver of columns repacks A for a few columns.
  const budgetColumns = Math.max(64, Math.floor((threaded ? THREADED_BUDGET : COLUMN_BUDGET) / perColumn / 8) * 8);
  const chunks = Math.ceil(totalColumns / budgetColumns);
  const chunk = Math.min(totalColumns, Math.ceil(totalColumns / chunks / 8) * 8);
  for (let g = 0; g < groups; g++) {
    const groupBase = g * channelsPerGroup * source.strides[1]!;
    const a = { data: weights, offset: g * outPerGroup * rows, rowStride: rows, colStride: 1 };
    for (let start = 0; start < totalColumns; start += chunk) {
      const width = Math.min(chunk, totalColumns - start);
      const pack = patchPacker(source.data, columnBase, rowDelta, groupBase, start, width);
      const cOffset = g * outPerGroup * totalColumns + start;
      if (rows === 0) {
        for (let i = 0; i < outPerGroup; i++) result.fill(0, cOffset + i * totalColumns, cOffset + i * totalColumns + width);
      } else if (floating && outPerGroup * width * rows >= 4096) {
        const patches = { data: source.data, offset: groupBase, columnBase: columnBase.subarray(start, start + width), rowDelta };
        gemmPackedB(outPerGroup, width, rows, a, pack, result, cOffset, totalColumns, out.dtype, patches);
      } else {
        // Integers and tiny products: the patches as a plain [rows, width] matrix (one panel).
        const columns = scratch('conv.columns', out.dtype, rows * width);
        pack(0, rows, width, columns, 0);
        gemm(
          outPerGroup,
          width,
          rows,
          a,
          { data: columns, offset: 0, rowStride: width, colStride: 1 },
          result,
          cOffset,
          totalColumns,
          out.dtype,
        );
      }
    }
  }
  return wrapPermuted(result, out.shape, perm, out.dtype);
}

interface Source {
  readonly data: TypedArray;
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * The input with its padding and dilation applied: the input itself (any strides) when there is
 * neither, else a zero-filled row-major copy of the padded, dilated input. Negative padding crops.
 */
function paddedInput(lhs: CpuHandle, params: ParamsOf<Primitive.Conv>): Source {
  const spatial = lhs.shape.length - 2;
  let plain = true;
  for (let d = 0; d < spatial; d++) {
    const [lo, hi] = params.padding[d]!;
    if (lo !== 0 || hi !== 0 || params.lhsDilation[d] !== 1) plain = false;
  }
  if (plain) return { data: lhs.storage.data, offset: lhs.offset, strides: lhs.strides };
  const shape = [...lhs.shape];
  for (let d = 0; d < spatial; d++) {
    const size = lhs.shape[2 + d]!;
    const [lo, hi] = params.padding[d]!;
    const dilated = size === 0 ? 0 : (size - 1) * params.lhsDilation[d]! + 1;
    shape[2 + d] = Math.max(0, dilated + lo + hi);
  }
  const strides = contiguousStrides(shape);
  const data = scratch('conv.input', lhs.dtype, sizeOf(shape));
  data.fill(0);
  // Input index i lands at lo + i * dilation; only those inside [0, padded size) are copied.
  let srcOffset = lhs.offset;
  let dstOffset = 0;
  const copyShape = [...lhs.shape];
  const dstStrides = [...strides];
  for (let d = 0; d < spatial; d++) {
    const size = lhs.shape[2 + d]!;
    const lo = params.padding[d]![0];
    const dilation = params.lhsDilation[d]!;
    const padded = shape[2 + d]!;
    const first = lo >= 0 ? 0 : Math.ceil(-lo / dilation);
    const end = Math.min(size, Math.floor((padded - 1 - lo) / dilation) + 1);
    copyShape[2 + d] = Math.max(0, end - first);
    srcOffset += first * lhs.strides[2 + d]!;
    dstOffset += (lo + first * dilation) * strides[2 + d]!;
    dstStrides[2 + d] = dilation * strides[2 + d]!;
  }
  if (sizeOf(copyShape) > 0) copyBetween(lhs.storage.data, srcOffset, lhs.strides, data, dstOffset, dstStrides, copyShape);
  return { data, offset: 0, strides };
}

/** For every point of a row-major grid of `sizes`, the sum of coordinate * step. */
function gridOffsets(sizes: readonly number[], steps: readonly number[]): Int32Array {
  const offsets = new Int32Array(sizeOf(sizes));
  let count = 1;
  offsets[0] = 0;
  // Built dim by dim from the last: each pass repeats the offsets so far once per coordinate.
  for (let d = sizes.length - 1; d >= 0; d--) {
    const size = sizes[d]!;
    const step = steps[d]!;
    for (let i = size - 1; i >= 0; i--) {
      for (let j = 0; j < count; j++) offsets[i * count + j] = offsets[j]! + i * step;
    }
    count *= size;
  }
  return offsets;
}

/** The weights as a row-major [O, C/groups * kernelSize] matrix: the storage itself when it is one. */
function weightMatrix(rhs: CpuHandle, outChannels: number, rows: number): TypedArray {
  const size = outChannels * rows;
  if (isContiguous(rhs)) return rhs.storage.data.subarray(rhs.offset, rhs.offset + size);
  const data = scratch('conv.weights', rhs.dtype, size);
  copyBetween(rhs.storage.data, rhs.offset, rhs.strides, data, 0, contiguousStrides(rhs.shape), rhs.shape);
  return data;
}

/**
 * Packs columns [start, start + width) of the patch matrix (element (p, j) is
 * x[columnBase[j] + groupBase + rowDelta[p]]) in the gemm's panel layout.
 */
function patchPacker(x: TypedArray, columnBase: Int32Array, rowDelta: Int32Array, groupBase: number, start: number, width: number): PackB {
  return (p0, kc, panelWidth, out, at) => {
    for (let j0 = 0; j0 < width; j0 += panelWidth) {
      const valid = Math.min(panelWidth, width - j0);
      if (valid === 8 && panelWidth === 8) packPanel8(x, columnBase, rowDelta, groupBase + 0, start + j0, p0, kc, out, at + j0 * kc);
      else packPanel(x, columnBase, rowDelta, groupBase, start + j0, valid, p0, kc, panelWidth, out, at + j0 * kc);
    }
  };
}

/**
 * One full panel of 8 columns (the f32 micro-kernel's width), unrolled with the columns' bases in
 * locals: a variable-bound loop of 8 with a table read per element costs several times the copy.
 */
function packPanel8(
  x: TypedArray,
  columnBase: Int32Array,
  rowDelta: Int32Array,
  groupBase: number,
  first: number,
  p0: number,
  kc: number,
  out: TypedArray,
  at: number,
): void {
  const c0 = columnBase[first]! + groupBase;
  const c1 = columnBase[first + 1]! + groupBase;
  const c2 = columnBase[first + 2]! + groupBase;
  const c3 = columnBase[first + 3]! + groupBase;
  const c4 = columnBase[first + 4]! + groupBase;
  const c5 = columnBase[first + 5]! + groupBase;
  const c6 = columnBase[first + 6]! + groupBase;
  const c7 = columnBase[first + 7]! + groupBase;
  for (let p = p0, o = at, end = p0 + kc; p < end; p++, o += 8) {
    const d = rowDelta[p]!;
    out[o] = x[c0 + d]!;
    out[o + 1] = x[c1 + d]!;
    out[o + 2] = x[c2 + d]!;
    out[o + 3] = x[c3 + d]!;
    out[o + 4] = x[c4 + d]!;
    out[o + 5] = x[c5 + d]!;
    out[o + 6] = x[c6 + d]!;
    out[o + 7] = x[c7 + d]!;
  }
}

/** Any panel: `valid` columns read, the rest up to `panelWidth` zero-filled. */
function packPanel(
  x: TypedArray,
  columnBase: Int32Array,
  rowDelta: Int32Array,
  groupBase: number,
  first: number,
  valid: number,
  p0: number,
  kc: number,
  panelWidth: number,
  out: TypedArray,
  at: number,
): void {
  for (let p = p0, o = at, end = p0 + kc; p < end; p++, o += panelWidth) {
    const delta = groupBase + rowDelta[p]!;
    let q = 0;
    for (; q < valid; q++) out[o + q] = x[columnBase[first + q]! + delta]!;
    for (; q < panelWidth; q++) out[o + q] = 0;
  }
}
