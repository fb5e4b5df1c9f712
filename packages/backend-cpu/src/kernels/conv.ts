import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { scratch } from '../scratch.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap, wrapPermuted } from '../view.js';
import { gemm } from './gemm.js';
import { combinedWindowTable, windowTable } from './windows.js';

/** Upper bound on im2col buffer elements (1 MiB of float32, about an L2 cache). */
const COLUMN_BUDGET = 1 << 18;

/**
 * N-d convolution by im2col. For each group and chunk of (image, output position) columns, the
 * input patches become a matrix [C/groups * kernelSize, columns] and one gemm with the group's
 * weights [O/groups, C/groups * kernelSize] writes the output, laid out [O, N, ...outSpatial] so
 * that every chunk is a block of columns; the result is returned as the [N, O, ...] view of it.
 * Padding, strides and both dilations live in one precomputed table of input offsets.
 */
export function convKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): CpuHandle {
  const lhs = inputs[0]!;
  const rhs = inputs[1]!;
  const [batch, channels] = lhs.shape as [number, number];
  const outChannels = rhs.shape[0]!;
  const groups = params.groups;
  const channelsPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  const inSizes = lhs.shape.slice(2);
  const kernelSizes = rhs.shape.slice(2);
  const outSizes = out.shape.slice(2);
  const kernelSize = sizeOf(kernelSizes);
  const outSize = sizeOf(outSizes);
  const inSize = sizeOf(inSizes);
  const rows = channelsPerGroup * kernelSize;
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  const perm = out.shape.map((_, i) => (i === 0 ? 1 : i === 1 ? 0 : i));
  if (result.length === 0) return wrap(result, out.shape, out.dtype);
  const x = contiguousData(lhs);
  const w = contiguousData(rhs);
  const tables = inSizes.map((size, d) =>
    windowTable(
      size,
      kernelSizes[d]!,
      outSizes[d]!,
      params.strides[d]!,
      params.padding[d]![0],
      params.rhsDilation[d]!,
      params.lhsDilation[d]!,
    ),
  );
  const offsets = combinedWindowTable(tables, kernelSizes, outSizes, contiguousStrides(inSizes));
  const totalColumns = batch * outSize;
  let pointwise = kernelSize === 1 && outSize === inSize;
  for (let i = 0; pointwise && i < outSize; i++) pointwise = offsets[i] === i;
  if (pointwise) {
    // A 1 x 1 kernel whose every output reads the input point at the same place (no padding,
    // striding or dilation in effect): each image is already its [C/groups, outSize] column
    // matrix, so im2col is skipped.
    for (let g = 0; g < groups; g++) {
      for (let image = 0; image < batch; image++) {
        gemm(
          outPerGroup,
          outSize,
          rows,
          { data: w, offset: g * outPerGroup * rows, rowStride: rows, colStride: 1 },
          { data: x, offset: (image * channels + g * channelsPerGroup) * inSize, rowStride: inSize, colStride: 1 },
          result,
          g * outPerGroup * totalColumns + image * outSize,
          totalColumns,
          out.dtype,
        );
      }
    }
    return wrapPermuted(result, out.shape, perm, out.dtype);
  }
  // Columns are (image, output position) pairs, numbered image * outSize + position; they are
  // processed in chunks small enough for the im2col buffer to stay in cache.
  const chunk = Math.max(1, Math.min(totalColumns, Math.floor(COLUMN_BUDGET / Math.max(1, rows))));
  const columns = scratch('conv.columns', out.dtype, rows * chunk);
  for (let g = 0; g < groups; g++) {
    for (let start = 0; start < totalColumns; start += chunk) {
      const width = Math.min(chunk, totalColumns - start);
      for (let c = 0; c < channelsPerGroup; c++) {
        for (let kernel = 0; kernel < kernelSize; kernel++) {
          const table = kernel * outSize;
          let to = (c * kernelSize + kernel) * width;
          let column = start;
          const end = start + width;
          while (column < end) {
            const image = Math.floor(column / outSize);
            const first = column - image * outSize;
            const last = Math.min(outSize, first + end - column);
            const base = (image * channels + g * channelsPerGroup + c) * inSize;
            for (let o = first; o < last; o++) {
              const offset = offsets[table + o]!;
              columns[to++] = offset < 0 ? 0 : x[base + offset]!;
            }
            column += last - first;
          }
        }
      }
      gemm(
        outPerGroup,
        width,
        rows,
        { data: w, offset: g * outPerGroup * rows, rowStride: rows, colStride: 1 },
        { data: columns, offset: 0, rowStride: width, colStride: 1 },
        result,
        g * outPerGroup * totalColumns + start,
        totalColumns,
        out.dtype,
      );
    }
  }
  return wrapPermuted(result, out.shape, perm, out.dtype);
}
