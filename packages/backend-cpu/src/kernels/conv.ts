import { type Aval, allocTypedArray, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { type CpuHandle, contiguousData, wrap } from '../view.js';
import { gemm } from './gemm.js';
import { combinedWindowTable, windowTable } from './windows.js';

/**
 * N-d convolution by im2col: for each image and group, the input patches become a matrix
 * [C/groups * kernelSize, outSize] and one gemm with the group's weights [O/groups, C/groups *
 * kernelSize] gives the output. Padding, strides and both dilations live in one precomputed
 * table of input offsets shared by every channel.
 */
export function convKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): CpuHandle {
  const lhs = inputs[0]!;
  const rhs = inputs[1]!;
  const x = contiguousData(lhs);
  const w = contiguousData(rhs);
  const [batch, channels] = lhs.shape as [number, number];
  const outChannels = rhs.shape[0]!;
  const groups = params.groups;
  const channelsPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  const inSizes = lhs.shape.slice(2);
  const kernelSizes = rhs.shape.slice(2);
  const outSizes = out.shape.slice(2);
  const spatial = inSizes.length;
  const tables: Int32Array[] = [];
  for (let d = 0; d < spatial; d++) {
    tables.push(
      windowTable(
        inSizes[d]!,
        kernelSizes[d]!,
        outSizes[d]!,
        params.strides[d]!,
        params.padding[d]![0],
        params.rhsDilation[d]!,
        params.lhsDilation[d]!,
      ),
    );
  }
  const offsets = combinedWindowTable(tables, kernelSizes, outSizes, contiguousStrides(inSizes));
  const kernelSize = sizeOf(kernelSizes);
  const outSize = sizeOf(outSizes);
  const inSize = sizeOf(inSizes);
  const rows = channelsPerGroup * kernelSize;
  const result = allocTypedArray(out.dtype, sizeOf(out.shape));
  if (outSize === 0 || batch === 0 || outChannels === 0) return wrap(result, out.shape, out.dtype);
  const columns = allocTypedArray(out.dtype, rows * outSize);
  const tableSize = kernelSize * outSize;
  for (let image = 0; image < batch; image++) {
    for (let g = 0; g < groups; g++) {
      for (let c = 0; c < channelsPerGroup; c++) {
        const channelBase = (image * channels + g * channelsPerGroup + c) * inSize;
        const rowBase = c * tableSize;
        for (let t = 0; t < tableSize; t++) {
          const offset = offsets[t]!;
          columns[rowBase + t] = offset < 0 ? 0 : x[channelBase + offset]!;
        }
      }
      gemm(
        outPerGroup,
        outSize,
        rows,
        { data: w, offset: g * outPerGroup * rows, rowStride: rows, colStride: 1 },
        { data: columns, offset: 0, rowStride: outSize, colStride: 1 },
        result,
        (image * outChannels + g * outPerGroup) * outSize,
        out.dtype,
      );
    }
  }
  return wrap(result, out.shape, out.dtype);
}
