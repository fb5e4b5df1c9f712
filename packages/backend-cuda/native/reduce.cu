// Reductions over sets of axes, arg-reductions, inclusive scans and the stable argsort.
//
// A reduction picks its geometry from its shape: a thread per output when each output folds a
// few elements, a warp per output otherwise, and for a few long rows a first pass that folds
// chunks of each row in parallel blocks followed by a pass over the chunks' partial results.
// Outputs that lie side by side in memory while their elements do not (columns: a bias's
// gradient, the sum over the rows of a [rows, n] cotangent) take the column kernels instead.
#include "device_common.cuh"

namespace flint_cuda {

namespace {

constexpr int kWarpsPerBlock = kBlock / 32;

template <typename T, int OP>
__device__ __forceinline__ T combine(T a, T b) {
  if (OP == kReduceSum) return wrapAdd(a, b);
  if (OP == kReduceProd) return wrapMul(a, b);
  if (OP == kReduceMax) return maxPropagating(a, b);
  return minPropagating(a, b);
}

template <typename T>
__device__ __forceinline__ T shuffleDown(T v, int delta) {
  return __shfl_down_sync(0xffffffffu, v, delta);
}
template <>
__device__ __forceinline__ uint8_t shuffleDown(uint8_t v, int delta) {
  return static_cast<uint8_t>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), delta));
}

template <typename T, int OP>
__device__ __forceinline__ T warpCombine(T v) {
  for (int delta = 16; delta > 0; delta >>= 1) v = combine<T, OP>(v, shuffleDown(v, delta));
  return v;
}

__device__ __forceinline__ int64_t keptOffset(const Reduction& r, int64_t o) {
  return r.offset + offsetOf(o, r.keptRank, r.keptShape, r.keptStrides);
}

// The kernels read In, accumulate in A (float for the half dtypes) and write Out.

/** One thread folds each output's elements in order. */
template <typename In, typename Out, typename A, int OP>
__global__ void reduceThreadKernel(Out* out, const In* in, Reduction r, A identity) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < r.outer; o += step) {
    const int64_t base = keptOffset(r, o);
    A acc = identity;
    for (int64_t j = 0; j < r.inner; j++)
      acc = combine<A, OP>(acc, static_cast<A>(in[base + offsetOf(j, r.reducedRank, r.reducedShape, r.reducedStrides)]));
    out[o] = static_cast<Out>(acc);
  }
}

/** A warp per output: lanes stride through the elements, then combine by shuffles. */
template <typename In, typename Out, typename A, int OP>
__global__ void reduceWarpKernel(Out* out, const In* in, Reduction r, A identity) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); o < r.outer; o += warps) {
    const int64_t base = keptOffset(r, o);
    A acc = identity;
    for (int64_t j = lane; j < r.inner; j += 32) {
      acc = combine<A, OP>(acc, static_cast<A>(in[base + offsetOf(j, r.reducedRank, r.reducedShape, r.reducedStrides)]));
    }
    acc = warpCombine<A, OP>(acc);
    if (lane == 0) out[o] = static_cast<Out>(acc);
  }
}

/** First pass of a long-row reduction: block (c, o) folds chunk c of row o into partial[o * chunks + c]. */
template <typename In, typename A, int OP>
__global__ void reduceChunkKernel(A* partial, const In* in, Reduction r, A identity, int64_t chunkLength) {
  __shared__ A warpResults[kWarpsPerBlock];
  const int64_t chunks = gridDim.x;
  const int64_t o = blockIdx.y;
  const int64_t first = blockIdx.x * chunkLength;
  const int64_t last = min(first + chunkLength, r.inner);
  const int64_t base = keptOffset(r, o);
  A acc = identity;
  for (int64_t j = first + threadIdx.x; j < last; j += blockDim.x) {
    acc = combine<A, OP>(acc, static_cast<A>(in[base + offsetOf(j, r.reducedRank, r.reducedShape, r.reducedStrides)]));
  }
  acc = warpCombine<A, OP>(acc);
  if ((threadIdx.x & 31) == 0) warpResults[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x < 32) {
    acc = threadIdx.x < kWarpsPerBlock ? warpResults[threadIdx.x] : identity;
    acc = warpCombine<A, OP>(acc);
    if (threadIdx.x == 0) partial[o * chunks + blockIdx.x] = acc;
  }
}

/**
 * The second pass's view of first-pass partial results: `outer` outputs of `inner` partial
 * results each, output o's j-th at o * outputStride + j * partialStride.
 */
Reduction partialResults(int64_t outer, int64_t inner, int64_t outputStride, int64_t partialStride) {
  Reduction r{};
  r.keptRank = 1;
  r.keptShape[0] = static_cast<int32_t>(outer);
  r.keptStrides[0] = outputStride;
  r.reducedRank = 1;
  r.reducedShape[0] = static_cast<int32_t>(inner);
  r.reducedStrides[0] = partialStride;
  r.outer = outer;
  r.inner = inner;
  return r;
}

/**
 * Columns: each block takes 32 neighbouring outputs (one per lane, so that every load reads 32
 * consecutive values where a warp per output would read 32 rows of one column, a sector per
 * value) and a span of `span` elements of each, split over the block's kColumnRows rows of
 * threads; the rows' results are folded in order through shared memory. Block (x, y) writes
 * out[y * outer + o]: the outputs themselves when gridDim.y is 1, else one partial result per
 * span, which a second launch of this kernel folds in a fixed order (deterministic).
 */
constexpr int kColumnRows = kBlock / 32;

template <typename In, typename Out, typename A, int OP>
__global__ void reduceColumnsKernel(Out* out, const In* in, Reduction r, A identity, int64_t span) {
  __shared__ A rows[kColumnRows][33];
  const int64_t o = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t first = static_cast<int64_t>(blockIdx.y) * span;
  const int64_t last = min(first + span, r.inner);
  A acc = identity;
  if (o < r.outer) {
    const int64_t base = keptOffset(r, o);
    for (int64_t j = first + threadIdx.y; j < last; j += kColumnRows) {
      acc = combine<A, OP>(acc, static_cast<A>(in[base + offsetOf(j, r.reducedRank, r.reducedShape, r.reducedStrides)]));
    }
  }
  rows[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && o < r.outer) {
    for (int k = 1; k < kColumnRows; k++) acc = combine<A, OP>(acc, rows[k][threadIdx.x]);
    out[static_cast<int64_t>(blockIdx.y) * r.outer + o] = static_cast<Out>(acc);
  }
}

/**
 * Whether neighbouring outputs are neighbours in memory and each output's elements are not, with
 * outputs for every lane of a block's row (fewer, on long rows, are spread wider by the chunks).
 */
bool isColumns(const Reduction& r) {
  return r.keptRank >= 1 && r.reducedRank >= 1 && r.keptStrides[r.keptRank - 1] == 1 && r.reducedStrides[r.reducedRank - 1] != 1 &&
         r.outer >= 32 && r.inner > 32;
}

/** Spans per column: enough blocks to fill the device (about 1024), each span at least 512 elements. */
int64_t columnSpans(const Reduction& r) {
  const int64_t blocksAcross = (r.outer + 31) / 32;
  int64_t spans = (r.inner + 511) / 512;
  const int64_t wanted = (1024 + blocksAcross - 1) / blocksAcross;
  if (spans > wanted) spans = wanted;
  return spans < 1 ? 1 : spans > 65535 ? 65535 : spans;
}

template <typename T, typename A, int OP>
cudaError_t reduceColumns(T* out, const T* in, const Reduction& r, A identity, void* scratch, cudaStream_t stream) {
  const int64_t spans = columnSpans(r);
  const int64_t span = (r.inner + spans - 1) / spans;
  const dim3 block(32, kColumnRows);
  const unsigned across = static_cast<unsigned>((r.outer + 31) / 32);
  if (spans == 1) {
    reduceColumnsKernel<T, T, A, OP><<<dim3(across, 1), block, 0, stream>>>(out, in, r, identity, span);
    return cudaGetLastError();
  }
  A* partial = static_cast<A*>(scratch);
  reduceColumnsKernel<T, A, A, OP><<<dim3(across, static_cast<unsigned>(spans)), block, 0, stream>>>(partial, in, r, identity, span);
  const cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess) return error;
  // The partial results are [spans, outer]: columns again, folded in a fixed order (deterministic).
  const Reduction second = partialResults(r.outer, spans, 1, r.outer);
  reduceColumnsKernel<A, T, A, OP><<<dim3(across, 1), block, 0, stream>>>(out, partial, second, identity, spans);
  return cudaGetLastError();
}

constexpr int64_t kChunkLength = 16384;

bool useChunks(const Reduction& r) { return r.outer <= 65535 && r.outer < 512 && r.inner >= 4 * kChunkLength; }

int64_t chunkCount(const Reduction& r) {
  const int64_t chunks = (r.inner + kChunkLength - 1) / kChunkLength;
  return chunks > 4096 ? 4096 : chunks;
}

template <typename T, typename A, int OP>
cudaError_t reduceWith(T* out, const T* in, const Reduction& r, A identity, void* scratch, cudaStream_t stream) {
  if (r.outer == 0) return cudaSuccess;
  if (isColumns(r)) return reduceColumns<T, A, OP>(out, in, r, identity, scratch, stream);
  if (useChunks(r)) {
    const int64_t chunks = chunkCount(r);
    const int64_t chunkLength = (r.inner + chunks - 1) / chunks;
    A* partial = static_cast<A*>(scratch);
    reduceChunkKernel<T, A, OP><<<dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(r.outer)), kBlock, 0, stream>>>(
        partial, in, r, identity, chunkLength);
    const Reduction second = partialResults(r.outer, chunks, chunks, 1);
    reduceWarpKernel<A, T, A, OP><<<blocksFor(r.outer * 32), kBlock, 0, stream>>>(out, partial, second, identity);
  } else if (r.inner <= 32) {
    reduceThreadKernel<T, T, A, OP><<<blocksFor(r.outer), kBlock, 0, stream>>>(out, in, r, identity);
  } else {
    reduceWarpKernel<T, T, A, OP><<<blocksFor(r.outer * 32), kBlock, 0, stream>>>(out, in, r, identity);
  }
  return cudaGetLastError();
}

template <typename T>
T identityOf(int op, int dtype);
template <>
float identityOf(int op, int) {
  return op == kReduceSum ? 0.0f : op == kReduceProd ? 1.0f : op == kReduceMax ? -INFINITY : INFINITY;
}
template <>
double identityOf(int op, int) {
  return op == kReduceSum ? 0.0 : op == kReduceProd ? 1.0 : op == kReduceMax ? -INFINITY : INFINITY;
}
template <>
int32_t identityOf(int op, int) {
  return op == kReduceSum ? 0 : op == kReduceProd ? 1 : op == kReduceMax ? INT32_MIN : INT32_MAX;
}
template <>
uint8_t identityOf(int op, int dtype) {
  // An empty min of bools is true, not 255.
  return op == kReduceSum ? 0 : op == kReduceProd ? 1 : op == kReduceMax ? 0 : (dtype == kBool ? 1 : 255);
}

/** Whether (b, bi) beats (a, ai): NaN is the extreme (max for argmax, min for argmin); ties keep the first. */
template <typename T, bool MAX>
__device__ __forceinline__ bool beats(T a, int32_t ai, T b, int32_t bi) {
  const bool aNan = isNan(a);
  const bool bNan = isNan(b);
  if (aNan || bNan) return aNan && bNan ? bi < ai : bNan;
  if (b == a) return bi < ai;
  return MAX ? b > a : b < a;
}

template <typename In, bool MAX>
__global__ void argReduceKernel(int32_t* out, const In* in, Reduction r) {
  using T = Compute<In>;
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const int64_t stride = r.reducedStrides[0];
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); o < r.outer; o += warps) {
    const int64_t base = keptOffset(r, o);
    T best = T(0);
    int32_t bestIndex = INT32_MAX;
    for (int64_t j = lane; j < r.inner; j += 32) {
      const T v = static_cast<T>(in[base + j * stride]);
      if (bestIndex == INT32_MAX || beats<T, MAX>(best, bestIndex, v, static_cast<int32_t>(j))) {
        best = v;
        bestIndex = static_cast<int32_t>(j);
      }
    }
    for (int delta = 16; delta > 0; delta >>= 1) {
      const T v = shuffleDown(best, delta);
      const int32_t vi = __shfl_down_sync(0xffffffffu, bestIndex, delta);
      if (vi != INT32_MAX && (bestIndex == INT32_MAX || beats<T, MAX>(best, bestIndex, v, vi))) {
        best = v;
        bestIndex = vi;
      }
    }
    if (lane == 0) out[o] = bestIndex == INT32_MAX ? 0 : bestIndex;
  }
}

template <typename T>
struct ScanAccumulator {
  using type = T;
};
// float32 sums and products accumulate in double, as the CPU backend does.
template <>
struct ScanAccumulator<float> {
  using type = double;
};
// The half dtypes run the float32 scan (the CPU backend widens them to float32): double too.
template <>
struct ScanAccumulator<Float16> {
  using type = double;
};
template <>
struct ScanAccumulator<BFloat16> {
  using type = double;
};

template <typename T, int OP>
__global__ void cumulativeKernel(T* out, const T* in, Lines l, bool reverse) {
  using Acc = typename ScanAccumulator<T>::type;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < l.lines; line += step) {
    int64_t inAt = l.inOffset + offsetOf(line, l.rank, l.shape, l.inStrides);
    int64_t outAt = offsetOf(line, l.rank, l.shape, l.outStrides);
    int64_t inStep = l.inStride;
    int64_t outStep = l.outStride;
    if (reverse) {
      inAt += (l.length - 1) * l.inStride;
      outAt += (l.length - 1) * l.outStride;
      inStep = -inStep;
      outStep = -outStep;
    }
    Acc acc = Acc(0);
    T running = T(0);
    for (int64_t j = 0; j < l.length; j++, inAt += inStep, outAt += outStep) {
      const T v = in[inAt];
      if (OP == kScanSum || OP == kScanProd) {
        if (j == 0) acc = static_cast<Acc>(v);
        else acc = OP == kScanSum ? wrapAdd<Acc>(acc, static_cast<Acc>(v)) : wrapMul<Acc>(acc, static_cast<Acc>(v));
        out[outAt] = static_cast<T>(acc);
      } else {
        if (j == 0) running = v;
        else running = OP == kScanMax ? maxPropagating(running, v) : minPropagating(running, v);
        out[outAt] = running;
      }
    }
  }
}

template <typename T>
__device__ __forceinline__ bool before(T a, T b, bool descending) {
  if (descending) return (isNan(a) && !isNan(b)) || a > b;
  return !isNan(a) && (isNan(b) || a < b);
}

__global__ void argsortInitKernel(int32_t* indices, int64_t total, int64_t length) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    indices[i] = static_cast<int32_t>(i % length);
  }
}

/**
 * One pass of a bottom-up stable merge sort of every line: runs of `width` are merged pairwise,
 * each element finding its place by a binary search in the other run (left elements go before
 * equal right ones, which keeps the sort stable).
 */
template <typename T>
__global__ void mergePassKernel(T* dstKeys, int32_t* dstIndices, const T* keys, const int32_t* indices, int64_t total,
                                int64_t length, int64_t width, bool descending) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t base = (t / length) * length;
    const int64_t i = t - base;
    const int64_t start = (i / (2 * width)) * (2 * width);
    const int64_t mid = min(start + width, length);
    const int64_t end = min(start + 2 * width, length);
    const T key = keys[t];
    int64_t position;
    if (i < mid) {
      int64_t low = mid;
      int64_t high = end;
      while (low < high) {
        const int64_t m = (low + high) >> 1;
        if (before(keys[base + m], key, descending)) low = m + 1;
        else high = m;
      }
      position = i + (low - mid);
    } else {
      int64_t low = start;
      int64_t high = mid;
      while (low < high) {
        const int64_t m = (low + high) >> 1;
        if (!before(key, keys[base + m], descending)) low = m + 1;
        else high = m;
      }
      position = start + (i - mid) + (low - start);
    }
    dstKeys[base + position] = key;
    dstIndices[base + position] = indices[t];
  }
}

}  // namespace

size_t reduceScratchBytes(int dtype, const Reduction& r) {
  // Partial results are accumulators: float for the half dtypes.
  const size_t accumulatorSize = (dtype == kFloat16 || dtype == kBFloat16) ? 4 : static_cast<size_t>(itemSizeOf(dtype));
  if (isColumns(r)) {
    const int64_t spans = columnSpans(r);
    return spans == 1 ? 0 : static_cast<size_t>(r.outer * spans) * accumulatorSize;
  }
  if (!useChunks(r)) return 0;
  return static_cast<size_t>(r.outer * chunkCount(r)) * accumulatorSize;
}

cudaError_t launchReduce(int op, int dtype, void* out, const void* in, const Reduction& r, void* scratch, cudaStream_t stream) {
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    using A = Compute<T>;
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    const A identity = identityOf<A>(op, dtype);
    switch (op) {
      case kReduceSum:
        return reduceWith<T, A, kReduceSum>(o, x, r, identity, scratch, stream);
      case kReduceProd:
        return reduceWith<T, A, kReduceProd>(o, x, r, identity, scratch, stream);
      case kReduceMax:
        return reduceWith<T, A, kReduceMax>(o, x, r, identity, scratch, stream);
      case kReduceMin:
        return reduceWith<T, A, kReduceMin>(o, x, r, identity, scratch, stream);
      default:
        return cudaErrorInvalidValue;
    }
  });
}

cudaError_t launchArgReduce(int op, int dtype, int32_t* out, const void* in, const Reduction& r, cudaStream_t stream) {
  if (r.outer == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* x = static_cast<const T*>(in);
    if (op == kArgmax) argReduceKernel<T, true><<<blocksFor(r.outer * 32), kBlock, 0, stream>>>(out, x, r);
    else argReduceKernel<T, false><<<blocksFor(r.outer * 32), kBlock, 0, stream>>>(out, x, r);
    return cudaGetLastError();
  });
}

cudaError_t launchCumulative(int op, bool reverse, int dtype, void* out, const void* in, const Lines& l, cudaStream_t stream) {
  if (l.lines == 0 || l.length == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    const unsigned blocks = blocksFor(l.lines);
    switch (op) {
      case kScanSum:
        cumulativeKernel<T, kScanSum><<<blocks, kBlock, 0, stream>>>(o, x, l, reverse);
        break;
      case kScanProd:
        cumulativeKernel<T, kScanProd><<<blocks, kBlock, 0, stream>>>(o, x, l, reverse);
        break;
      case kScanMax:
        cumulativeKernel<T, kScanMax><<<blocks, kBlock, 0, stream>>>(o, x, l, reverse);
        break;
      case kScanMin:
        cumulativeKernel<T, kScanMin><<<blocks, kBlock, 0, stream>>>(o, x, l, reverse);
        break;
      default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
  });
}

cudaError_t launchArgsort(bool descending, int dtype, int32_t* out, void* keys, void* keyScratch, int32_t* indexScratch,
                          int64_t lines, int64_t length, cudaStream_t stream) {
  const int64_t total = lines * length;
  if (total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* srcKeys = static_cast<T*>(keys);
    T* dstKeys = static_cast<T*>(keyScratch);
    int32_t* srcIndices = out;
    int32_t* dstIndices = indexScratch;
    argsortInitKernel<<<blocksFor(total), kBlock, 0, stream>>>(srcIndices, total, length);
    for (int64_t width = 1; width < length; width *= 2) {
      mergePassKernel<T><<<blocksFor(total), kBlock, 0, stream>>>(dstKeys, dstIndices, srcKeys, srcIndices, total, length,
                                                                   width, descending);
      T* keysSwap = srcKeys;
      srcKeys = dstKeys;
      dstKeys = keysSwap;
      int32_t* indicesSwap = srcIndices;
      srcIndices = dstIndices;
      dstIndices = indicesSwap;
    }
    cudaError_t error = cudaGetLastError();
    if (error == cudaSuccess && srcIndices != out) {
      error = cudaMemcpyAsync(out, srcIndices, static_cast<size_t>(total) * sizeof(int32_t), cudaMemcpyDeviceToDevice, stream);
    }
    return error;
  });
}

}  // namespace flint_cuda
