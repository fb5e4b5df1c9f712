// The composite ops' kernels (api's Backend.composites): softmax and log-softmax and their
// backward passes, layer normalization and batch normalization with their backward passes, and
// max pooling's backward pass. Each takes contiguous float32 or float64 operands (the TypeScript
// side packs views) and computes what the api's composite computes, in one or two launches
// instead of a dozen: statistics accumulate in the operand's type, sums in a fixed order (shuffle
// trees, then the warps' partials in order), so results do not vary from run to run.
#include "device_common.cuh"

namespace flint_cuda {

namespace {

constexpr int kWarpsPerBlock = kBlock / 32;

/** The warp's sum, folded down a tree into lane 0 and handed to every lane (so all use the same value). */
template <typename T>
__device__ __forceinline__ T warpSum(T v) {
  for (int delta = 16; delta > 0; delta >>= 1) v += __shfl_down_sync(0xffffffffu, v, delta);
  return __shfl_sync(0xffffffffu, v, 0);
}

/** The warp's maximum, NaN if any lane holds NaN (every lane gets it). */
template <typename T>
__device__ __forceinline__ T warpMax(T v) {
  for (int delta = 16; delta > 0; delta >>= 1) v = maxPropagating(v, __shfl_down_sync(0xffffffffu, v, delta));
  return __shfl_sync(0xffffffffu, v, 0);
}

/** The block's sum (every thread gets it); `partials` holds kWarpsPerBlock values, free again on return. */
template <typename T>
__device__ T blockSum(T v, T* partials) {
  v = warpSum(v);
  if ((threadIdx.x & 31) == 0) partials[threadIdx.x >> 5] = v;
  __syncthreads();
  T total = 0;
  for (int w = 0; w < kWarpsPerBlock; w++) total += partials[w];
  __syncthreads();
  return total;
}

/**
 * The api's shift for the softmax family: the slice's maximum, 0 when that is infinite (so that
 * x - shift is never inf - inf), NaN when the slice holds NaN.
 */
template <typename T>
__device__ __forceinline__ T softmaxShift(T peak) {
  return peak == static_cast<T>(INFINITY) || peak == static_cast<T>(-INFINITY) ? T(0) : peak;
}

// Slices along the softmax axis: x viewed as [outer, length, inner]. With inner == 1 a warp takes
// each row (lanes stride along it, reads coalesced); otherwise a thread takes each slice (threads
// of a warp read neighbouring slices, coalesced along inner).

template <typename T, bool LOG>
__global__ void softmaxRowsKernel(T* out, const T* x, int64_t rows, int64_t length) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); r < rows; r += warps) {
    const T* in = x + r * length;
    T* o = out + r * length;
    T peak = -INFINITY;
    for (int64_t i = lane; i < length; i += 32) peak = maxPropagating(peak, in[i]);
    const T shift = softmaxShift(warpMax(peak));
    T total = 0;
    for (int64_t i = lane; i < length; i += 32) total += exp(in[i] - shift);
    total = warpSum(total);
    if (LOG) {
      const T logTotal = log(total);
      for (int64_t i = lane; i < length; i += 32) o[i] = (in[i] - shift) - logTotal;
    } else {
      for (int64_t i = lane; i < length; i += 32) o[i] = exp(in[i] - shift) / total;
    }
  }
}

template <typename T, bool LOG>
__global__ void softmaxSlicesKernel(T* out, const T* x, int64_t outer, int64_t length, int64_t inner) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < outer * inner; s += step) {
    const int64_t base = (s / inner) * length * inner + s % inner;
    T peak = -INFINITY;
    for (int64_t i = 0; i < length; i++) peak = maxPropagating(peak, x[base + i * inner]);
    const T shift = softmaxShift(peak);
    T total = 0;
    for (int64_t i = 0; i < length; i++) total += exp(x[base + i * inner] - shift);
    if (LOG) {
      const T logTotal = log(total);
      for (int64_t i = 0; i < length; i++) out[base + i * inner] = (x[base + i * inner] - shift) - logTotal;
    } else {
      for (int64_t i = 0; i < length; i++) out[base + i * inner] = exp(x[base + i * inner] - shift) / total;
    }
  }
}

// Backward: softmax's dx = y * (g - sum(g * y)); log-softmax's dx = g - exp(y) * sum(g).

template <typename T, bool LOG>
__global__ void softmaxBackwardRowsKernel(T* out, const T* y, const T* g, int64_t rows, int64_t length) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); r < rows; r += warps) {
    const int64_t base = r * length;
    T total = 0;
    for (int64_t i = lane; i < length; i += 32) total += LOG ? g[base + i] : g[base + i] * y[base + i];
    total = warpSum(total);
    for (int64_t i = lane; i < length; i += 32) {
      out[base + i] = LOG ? g[base + i] - exp(y[base + i]) * total : y[base + i] * (g[base + i] - total);
    }
  }
}

template <typename T, bool LOG>
__global__ void softmaxBackwardSlicesKernel(T* out, const T* y, const T* g, int64_t outer, int64_t length, int64_t inner) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < outer * inner; s += step) {
    const int64_t base = (s / inner) * length * inner + s % inner;
    T total = 0;
    for (int64_t i = 0; i < length; i++) {
      const int64_t at = base + i * inner;
      total += LOG ? g[at] : g[at] * y[at];
    }
    for (int64_t i = 0; i < length; i++) {
      const int64_t at = base + i * inner;
      out[at] = LOG ? g[at] - exp(y[at]) * total : y[at] * (g[at] - total);
    }
  }
}

// Layer normalization: a warp per row of `width` elements. The statistics are the api's: the mean,
// then the mean of the squared deviations, and 1 / sqrt(variance + eps).

template <typename T>
__device__ __forceinline__ void rowStatistics(const T* row, int64_t width, T eps, T& mean, T& scale) {
  const int lane = threadIdx.x & 31;
  T total = 0;
  for (int64_t i = lane; i < width; i += 32) total += row[i];
  mean = warpSum(total) / static_cast<T>(width);
  T squares = 0;
  for (int64_t i = lane; i < width; i += 32) {
    const T d = row[i] - mean;
    squares += d * d;
  }
  scale = T(1) / sqrt(warpSum(squares) / static_cast<T>(width) + eps);
}

template <typename T>
__global__ void layerNormKernel(T* out, const T* x, const T* weight, const T* bias, int64_t rows, int64_t width, T eps) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); r < rows; r += warps) {
    const T* row = x + r * width;
    T mean;
    T scale;
    rowStatistics(row, width, eps, mean, scale);
    for (int64_t i = lane; i < width; i += 32) {
      T v = (row[i] - mean) * scale;
      if (weight != nullptr) v = v * weight[i];
      if (bias != nullptr) v = v + bias[i];
      out[r * width + i] = v;
    }
  }
}

/**
 * The input's cotangent of layer norm, and each row's mean and scale in `statistics` ([rows, 2])
 * for the weight's and bias's sums: with h = g * weight, dx = scale * (h - mean(h) - xhat *
 * mean(h * xhat)).
 */
template <typename T>
__global__ void layerNormBackwardKernel(T* dx, T* statistics, const T* x, const T* weight, const T* g, int64_t rows,
                                        int64_t width, T eps) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); r < rows; r += warps) {
    const T* row = x + r * width;
    const T* gr = g + r * width;
    T mean;
    T scale;
    rowStatistics(row, width, eps, mean, scale);
    T sumH = 0;
    T sumHX = 0;
    for (int64_t i = lane; i < width; i += 32) {
      const T h = weight != nullptr ? gr[i] * weight[i] : gr[i];
      sumH += h;
      sumHX += h * ((row[i] - mean) * scale);
    }
    const T meanH = warpSum(sumH) / static_cast<T>(width);
    const T meanHX = warpSum(sumHX) / static_cast<T>(width);
    for (int64_t i = lane; i < width; i += 32) {
      const T h = weight != nullptr ? gr[i] * weight[i] : gr[i];
      const T xhat = (row[i] - mean) * scale;
      dx[r * width + i] = scale * (h - meanH - xhat * meanHX);
    }
    if (lane == 0) {
      statistics[2 * r] = mean;
      statistics[2 * r + 1] = scale;
    }
  }
}

// The weight's and bias's cotangents of layer norm: sums over rows per column, in two passes
// (chunks of rows into `partial` [chunks, 2, width], then the chunks in order), so that a few
// columns over many rows still fill the device. Chunks of 64 rows, more where that would make more
// than 65535 of them (the grid's y limit).
constexpr int64_t kRowsPerChunk = 64;
constexpr int64_t kMaxChunks = 65535;

int64_t rowsPerChunk(int64_t rows) {
  const int64_t spread = (rows + kMaxChunks - 1) / kMaxChunks;
  return spread > kRowsPerChunk ? spread : kRowsPerChunk;
}

template <typename T>
__global__ void layerNormParamPartialKernel(T* partial, const T* x, const T* g, const T* statistics, int64_t rows, int64_t width,
                                            int64_t perChunk) {
  const int64_t column = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  if (column >= width) return;
  T sumGX = 0;
  T sumG = 0;
  const int64_t end = (chunk + 1) * perChunk < rows ? (chunk + 1) * perChunk : rows;
  for (int64_t r = chunk * perChunk; r < end; r++) {
    const T gv = g[r * width + column];
    sumGX += gv * ((x[r * width + column] - statistics[2 * r]) * statistics[2 * r + 1]);
    sumG += gv;
  }
  partial[(chunk * 2) * width + column] = sumGX;
  partial[(chunk * 2 + 1) * width + column] = sumG;
}

template <typename T>
__global__ void layerNormParamTotalKernel(T* dWeight, T* dBias, const T* partial, int64_t chunks, int64_t width) {
  const int64_t column = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (column >= width) return;
  T sumGX = 0;
  T sumG = 0;
  for (int64_t c = 0; c < chunks; c++) {
    sumGX += partial[(c * 2) * width + column];
    sumG += partial[(c * 2 + 1) * width + column];
  }
  if (dWeight != nullptr) dWeight[column] = sumGX;
  if (dBias != nullptr) dBias[column] = sumG;
}

// Batch normalization over x [batch, channels, spatial]: a block per channel walks its batch *
// spatial elements (element i at (i / spatial) * channels * spatial + c * spatial + i % spatial).

__device__ __forceinline__ int64_t channelOffset(int64_t i, int64_t c, int64_t channels, int64_t spatial) {
  return (i / spatial) * channels * spatial + c * spatial + i % spatial;
}

template <typename T>
__global__ void batchNormKernel(T* out, T* meanOut, T* varianceOut, const T* x, const T* weight, const T* bias, int64_t batch,
                                int64_t channels, int64_t spatial, T eps) {
  __shared__ T partials[kWarpsPerBlock];
  const int64_t count = batch * spatial;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    T total = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) total += x[channelOffset(i, c, channels, spatial)];
    const T mean = blockSum(total, partials) / static_cast<T>(count);
    T squares = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const T d = x[channelOffset(i, c, channels, spatial)] - mean;
      squares += d * d;
    }
    const T variance = blockSum(squares, partials) / static_cast<T>(count);
    const T scale = T(1) / sqrt(variance + eps);
    const T w = weight != nullptr ? weight[c] : T(1);
    const T b = bias != nullptr ? bias[c] : T(0);
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = channelOffset(i, c, channels, spatial);
      T v = (x[at] - mean) * scale;
      if (weight != nullptr) v = v * w;
      if (bias != nullptr) v = v + b;
      out[at] = v;
    }
    if (threadIdx.x == 0) {
      meanOut[c] = mean;
      varianceOut[c] = variance;
    }
  }
}

template <typename T>
__global__ void batchNormInferenceKernel(T* out, const T* x, const T* mean, const T* variance, const T* weight, const T* bias,
                                         int64_t total, int64_t channels, int64_t spatial, T eps) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t c = (i / spatial) % channels;
    T v = (x[i] - mean[c]) * (T(1) / sqrt(variance[c] + eps));
    if (weight != nullptr) v = v * weight[c];
    if (bias != nullptr) v = v + bias[c];
    out[i] = v;
  }
}

template <typename T>
__global__ void batchNormBackwardKernel(T* dx, T* dWeight, T* dBias, const T* x, const T* mean, const T* variance, const T* weight,
                                        const T* g, int64_t batch, int64_t channels, int64_t spatial, T eps) {
  __shared__ T partials[kWarpsPerBlock];
  const int64_t count = batch * spatial;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const T m = mean[c];
    const T scale = T(1) / sqrt(variance[c] + eps);
    T sumG = 0;
    T sumGX = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = channelOffset(i, c, channels, spatial);
      sumG += g[at];
      sumGX += g[at] * ((x[at] - m) * scale);
    }
    sumG = blockSum(sumG, partials);
    sumGX = blockSum(sumGX, partials);
    const T w = weight != nullptr ? weight[c] : T(1);
    // h = g * w, so mean(h) = w * sum(g) / count and mean(h * xhat) = w * sum(g * xhat) / count.
    const T meanH = w * sumG / static_cast<T>(count);
    const T meanHX = w * sumGX / static_cast<T>(count);
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = channelOffset(i, c, channels, spatial);
      const T xhat = (x[at] - m) * scale;
      dx[at] = scale * (g[at] * w - meanH - xhat * meanHX);
    }
    if (threadIdx.x == 0) {
      if (dWeight != nullptr) dWeight[c] = sumGX;
      if (dBias != nullptr) dBias[c] = sumG;
    }
  }
}

// Max pooling's backward pass, without atomics (so sums over overlapping windows have one
// order): each window's first maximum first, then each input element gathers the cotangents of
// the windows whose maximum it is.

/** Row-major coordinates of `index` over `rank` dims of `shape`. */
__device__ __forceinline__ void coordinatesOf(int64_t index, int rank, const int32_t* shape, int32_t* coordinates) {
  for (int d = rank - 1; d >= 0; d--) {
    coordinates[d] = static_cast<int32_t>(index % shape[d]);
    index /= shape[d];
  }
}

/**
 * The row-major input index of each window's first maximum, as argmax over the window's taps in
 * row-major order with padding read as -Infinity (the first NaN wins; a window of -Infinity goes
 * to its first tap), or -1 when that tap is padding.
 */
template <typename T>
__global__ void windowArgmaxKernel(int64_t* winners, const T* x, Window w) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < w.total; o += step) {
    int32_t origin[kMaxRank];
    coordinatesOf(o, w.rank, w.outShape, origin);
    int64_t taps = 1;
    for (int d = 0; d < w.rank; d++) taps *= w.window[d];
    T best = 0;
    int64_t winner = -1;
    for (int64_t t = 0; t < taps; t++) {
      int32_t tap[kMaxRank];
      coordinatesOf(t, w.rank, w.window, tap);
      bool inside = true;
      int64_t offset = w.offset;
      int64_t index = 0;
      for (int d = 0; d < w.rank; d++) {
        const int64_t p = static_cast<int64_t>(origin[d]) * w.stride[d] - w.padLow[d] + static_cast<int64_t>(tap[d]) * w.dilation[d];
        inside = inside && p >= 0 && p < w.inShape[d];
        offset += p * w.inStrides[d];
        index = index * w.inShape[d] + p;
      }
      const T v = inside ? x[offset] : static_cast<T>(-INFINITY);
      if (t == 0 || (!isNan(best) && (isNan(v) || v > best))) {
        best = v;
        winner = inside ? index : -1;
      }
    }
    winners[o] = winner;
  }
}

/** dx[i] = the sum, over windows in row-major order, of g where the window's winner is i. */
template <typename T>
__global__ void windowGatherKernel(T* dx, const T* g, const int64_t* winners, Window w, int64_t inputs) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < inputs; i += step) {
    int32_t p[kMaxRank];
    coordinatesOf(i, w.rank, w.inShape, p);
    // Per dim, the windows o with o * stride - padLow + k * dilation == p for some tap k.
    int64_t taps = 1;
    for (int d = 0; d < w.rank; d++) taps *= w.window[d];
    T total = 0;
    for (int64_t t = 0; t < taps; t++) {
      int32_t tap[kMaxRank];
      coordinatesOf(t, w.rank, w.window, tap);
      int64_t o = 0;
      bool hit = true;
      for (int d = 0; d < w.rank && hit; d++) {
        const int64_t shifted = static_cast<int64_t>(p[d]) + w.padLow[d] - static_cast<int64_t>(tap[d]) * w.dilation[d];
        hit = shifted >= 0 && shifted % w.stride[d] == 0 && shifted / w.stride[d] < w.outShape[d];
        o = o * w.outShape[d] + (hit ? shifted / w.stride[d] : 0);
      }
      if (hit && winners[o] == i) total += g[o];
    }
    dx[i] = total;
  }
}

template <typename T>
__global__ void scaleKernel(T* data, int64_t count, T factor) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step) data[i] = data[i] * factor;
}

template <typename F>
cudaError_t dispatchFloat(int dtype, F f) {
  switch (dtype) {
    case kFloat32:
      return f(float{});
    case kFloat64:
      return f(double{});
    default:
      return cudaErrorInvalidValue;
  }
}

unsigned warpBlocksFor(int64_t rows) { return blocksFor(rows * 32); }

}  // namespace

cudaError_t launchSoftmax(int dtype, bool log, void* out, const void* x, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream) {
  if (outer * length * inner == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    const T* in = static_cast<const T*>(x);
    if (inner == 1) {
      if (log) softmaxRowsKernel<T, true><<<warpBlocksFor(outer), kBlock, 0, stream>>>(o, in, outer, length);
      else softmaxRowsKernel<T, false><<<warpBlocksFor(outer), kBlock, 0, stream>>>(o, in, outer, length);
    } else {
      if (log) softmaxSlicesKernel<T, true><<<blocksFor(outer * inner), kBlock, 0, stream>>>(o, in, outer, length, inner);
      else softmaxSlicesKernel<T, false><<<blocksFor(outer * inner), kBlock, 0, stream>>>(o, in, outer, length, inner);
    }
    return cudaGetLastError();
  });
}

cudaError_t launchSoftmaxBackward(int dtype, bool log, void* out, const void* y, const void* g, int64_t outer, int64_t length,
                                  int64_t inner, cudaStream_t stream) {
  if (outer * length * inner == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    const T* yy = static_cast<const T*>(y);
    const T* gg = static_cast<const T*>(g);
    if (inner == 1) {
      if (log) softmaxBackwardRowsKernel<T, true><<<warpBlocksFor(outer), kBlock, 0, stream>>>(o, yy, gg, outer, length);
      else softmaxBackwardRowsKernel<T, false><<<warpBlocksFor(outer), kBlock, 0, stream>>>(o, yy, gg, outer, length);
    } else {
      if (log) softmaxBackwardSlicesKernel<T, true><<<blocksFor(outer * inner), kBlock, 0, stream>>>(o, yy, gg, outer, length, inner);
      else softmaxBackwardSlicesKernel<T, false><<<blocksFor(outer * inner), kBlock, 0, stream>>>(o, yy, gg, outer, length, inner);
    }
    return cudaGetLastError();
  });
}

cudaError_t launchLayerNorm(int dtype, void* out, const void* x, const void* weight, const void* bias, int64_t rows, int64_t width,
                            double eps, cudaStream_t stream) {
  if (rows * width == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    layerNormKernel<T><<<warpBlocksFor(rows), kBlock, 0, stream>>>(static_cast<T*>(out), static_cast<const T*>(x),
                                                                   static_cast<const T*>(weight), static_cast<const T*>(bias), rows,
                                                                   width, static_cast<T>(eps));
    return cudaGetLastError();
  });
}

size_t layerNormBackwardScratchBytes(int dtype, int64_t rows, int64_t width) {
  const int64_t chunks = (rows + rowsPerChunk(rows) - 1) / rowsPerChunk(rows);
  return static_cast<size_t>(itemSizeOf(dtype)) * static_cast<size_t>(2 * rows + 2 * chunks * width);
}

cudaError_t launchLayerNormBackward(int dtype, void* dx, void* dWeight, void* dBias, const void* x, const void* weight, const void* g,
                                    int64_t rows, int64_t width, double eps, void* scratch, cudaStream_t stream) {
  if (rows * width == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* statistics = static_cast<T*>(scratch);
    T* partial = statistics + 2 * rows;
    const T* xx = static_cast<const T*>(x);
    const T* gg = static_cast<const T*>(g);
    layerNormBackwardKernel<T><<<warpBlocksFor(rows), kBlock, 0, stream>>>(static_cast<T*>(dx), statistics, xx,
                                                                           static_cast<const T*>(weight), gg, rows, width,
                                                                           static_cast<T>(eps));
    cudaError_t error = cudaGetLastError();
    if (error != cudaSuccess || (dWeight == nullptr && dBias == nullptr)) return error;
    const int64_t perChunk = rowsPerChunk(rows);
    const int64_t chunks = (rows + perChunk - 1) / perChunk;
    const unsigned columnBlocks = static_cast<unsigned>((width + kBlock - 1) / kBlock);
    layerNormParamPartialKernel<T><<<dim3(columnBlocks, static_cast<unsigned>(chunks)), kBlock, 0, stream>>>(
        partial, xx, gg, statistics, rows, width, perChunk);
    error = cudaGetLastError();
    if (error != cudaSuccess) return error;
    layerNormParamTotalKernel<T><<<columnBlocks, kBlock, 0, stream>>>(static_cast<T*>(dWeight), static_cast<T*>(dBias), partial,
                                                                      chunks, width);
    return cudaGetLastError();
  });
}

/** Blocks for a kernel that takes a channel per block: one per channel, at most 65535 (they loop). */
static unsigned channelBlocks(int64_t channels) { return static_cast<unsigned>(channels < 65535 ? channels : 65535); }

cudaError_t launchBatchNorm(int dtype, void* out, void* mean, void* variance, const void* x, const void* weight, const void* bias,
                            int64_t batch, int64_t channels, int64_t spatial, double eps, cudaStream_t stream) {
  if (channels == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    batchNormKernel<T><<<channelBlocks(channels), kBlock, 0, stream>>>(
        static_cast<T*>(out), static_cast<T*>(mean), static_cast<T*>(variance), static_cast<const T*>(x), static_cast<const T*>(weight),
        static_cast<const T*>(bias), batch, channels, spatial, static_cast<T>(eps));
    return cudaGetLastError();
  });
}

cudaError_t launchBatchNormInference(int dtype, void* out, const void* x, const void* mean, const void* variance, const void* weight,
                                     const void* bias, int64_t batch, int64_t channels, int64_t spatial, double eps,
                                     cudaStream_t stream) {
  const int64_t total = batch * channels * spatial;
  if (total == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    batchNormInferenceKernel<T><<<blocksFor(total), kBlock, 0, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(x), static_cast<const T*>(mean), static_cast<const T*>(variance),
        static_cast<const T*>(weight), static_cast<const T*>(bias), total, channels, spatial, static_cast<T>(eps));
    return cudaGetLastError();
  });
}

cudaError_t launchBatchNormBackward(int dtype, void* dx, void* dWeight, void* dBias, const void* x, const void* mean,
                                    const void* variance, const void* weight, const void* g, int64_t batch, int64_t channels,
                                    int64_t spatial, double eps, cudaStream_t stream) {
  if (channels == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    batchNormBackwardKernel<T><<<channelBlocks(channels), kBlock, 0, stream>>>(
        static_cast<T*>(dx), static_cast<T*>(dWeight), static_cast<T*>(dBias), static_cast<const T*>(x), static_cast<const T*>(mean),
        static_cast<const T*>(variance), static_cast<const T*>(weight), static_cast<const T*>(g), batch, channels, spatial,
        static_cast<T>(eps));
    return cudaGetLastError();
  });
}

cudaError_t launchScale(int dtype, void* data, int64_t count, double factor, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    scaleKernel<T><<<blocksFor(count), kBlock, 0, stream>>>(static_cast<T*>(data), count, static_cast<T>(factor));
    return cudaGetLastError();
  });
}

cudaError_t launchWindowMaxBackward(int dtype, void* dx, const void* x, const void* g, const Window& window, int64_t inputs,
                                    void* winners, cudaStream_t stream) {
  if (inputs == 0) return cudaSuccess;
  return dispatchFloat(dtype, [&](auto zero) {
    using T = decltype(zero);
    int64_t* w = static_cast<int64_t*>(winners);
    if (window.total > 0) {
      windowArgmaxKernel<T><<<blocksFor(window.total), kBlock, 0, stream>>>(w, static_cast<const T*>(x), window);
      const cudaError_t error = cudaGetLastError();
      if (error != cudaSuccess) return error;
    }
    windowGatherKernel<T><<<blocksFor(inputs), kBlock, 0, stream>>>(static_cast<T*>(dx), static_cast<const T*>(g), w, window, inputs);
    return cudaGetLastError();
  });
}

}  // namespace flint_cuda
