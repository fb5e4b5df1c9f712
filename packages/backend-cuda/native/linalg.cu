// The fallback kernels for contractions (a shared-memory tiled batched matmul and a direct N-d
// convolution, used where cuBLASLt or cuDNN is missing or declines), window reductions, gather,
// scatter-add, and the Threefry random streams.
#include "device_common.cuh"
#include "threefry.cuh"

namespace flint_cuda {

namespace {

template <typename T>
struct Accumulator {
  using type = T;
};
// Integer products wrap modulo 2^32 (and uint8 results modulo 2^8), like the CPU backend's stores.
template <>
struct Accumulator<int32_t> {
  using type = uint32_t;
};
template <>
struct Accumulator<uint8_t> {
  using type = uint32_t;
};
// The half dtypes multiply and accumulate in float, rounding once on store.
template <>
struct Accumulator<Float16> {
  using type = float;
};
template <>
struct Accumulator<BFloat16> {
  using type = float;
};

constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 16;

/**
 * out[b] = a[b] x b[b] for row-major out [batch, m, n]. Each 256-thread block computes a 64x64
 * tile, 4x4 outputs per thread, staging 64x16 and 16x64 slices of the operands in shared memory.
 * The operands may have any strides (transposed, broadcast, sliced). Blocks loop over batches
 * (grid z) and row tiles (grid y) beyond the grid's 65535 limit on those dims.
 */
template <typename T>
__global__ void __launch_bounds__(256) matmulKernel(T* out, Matrix a, Matrix b, int64_t batch, int64_t m, int64_t n, int64_t k) {
  using Acc = typename Accumulator<T>::type;
  __shared__ T aTile[kTileK][kTileM + 1];
  __shared__ T bTile[kTileK][kTileN + 1];
  const T* aData = static_cast<const T*>(a.data);
  const T* bData = static_cast<const T*>(b.data);
  const int tid = threadIdx.x;
  const int tx = tid & 15;
  const int ty = tid >> 4;
  const int64_t colBase = static_cast<int64_t>(blockIdx.x) * kTileN;
  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
  for (int64_t rowBase = static_cast<int64_t>(blockIdx.y) * kTileM; rowBase < m; rowBase += static_cast<int64_t>(gridDim.y) * kTileM) {
    const int64_t aBase = a.offset + z * a.strides[0];
    const int64_t bBase = b.offset + z * b.strides[0];
    Acc acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
      for (int j = 0; j < 4; j++) acc[i][j] = Acc(0);
    for (int64_t k0 = 0; k0 < k; k0 += kTileK) {
#pragma unroll
      for (int r = 0; r < 4; r++) {
        const int index = tid + r * 256;
        const int row = index / kTileK;
        const int kk = index % kTileK;
        const int64_t gr = rowBase + row;
        const int64_t gk = k0 + kk;
        aTile[kk][row] = (gr < m && gk < k) ? aData[aBase + gr * a.strides[1] + gk * a.strides[2]] : T(0);
        const int kb = index / kTileN;
        const int col = index % kTileN;
        const int64_t gc = colBase + col;
        const int64_t gkb = k0 + kb;
        bTile[kb][col] = (gkb < k && gc < n) ? bData[bBase + gkb * b.strides[1] + gc * b.strides[2]] : T(0);
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kTileK; kk++) {
        Acc av[4];
        Acc bv[4];
#pragma unroll
        for (int i = 0; i < 4; i++) av[i] = static_cast<Acc>(aTile[kk][ty * 4 + i]);
#pragma unroll
        for (int j = 0; j < 4; j++) bv[j] = static_cast<Acc>(bTile[kk][tx * 4 + j]);
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
          for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int64_t row = rowBase + ty * 4 + i;
      if (row >= m) continue;
#pragma unroll
      for (int j = 0; j < 4; j++) {
        const int64_t col = colBase + tx * 4 + j;
        if (col < n) out[(z * m + row) * n + col] = static_cast<T>(acc[i][j]);
      }
    }
  }
  }
}

/** One thread per output element: sums over its group's channels and every kernel tap. */
template <typename T>
__global__ void convKernel(T* out, const T* x, const T* w, Convolution c) {
  using Acc = typename Accumulator<T>::type;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t perGroupIn = c.channels / c.groups;
  const int64_t perGroupOut = c.outChannels / c.groups;
  int64_t taps = 1;
  for (int d = 0; d < c.spatial; d++) taps *= c.kernelSize[d];
  for (int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; index < c.total; index += step) {
    int64_t rest = index;
    int32_t position[kMaxSpatial];
    for (int d = c.spatial - 1; d >= 0; d--) {
      position[d] = static_cast<int32_t>(rest % c.outSize[d]);
      rest /= c.outSize[d];
    }
    const int64_t o = rest % c.outChannels;
    const int64_t n = rest / c.outChannels;
    const int64_t group = o / perGroupOut;
    Acc acc = Acc(0);
    for (int64_t ci = 0; ci < perGroupIn; ci++) {
      const int64_t xBase = c.xOffset + n * c.xStrides[0] + (group * perGroupIn + ci) * c.xStrides[1];
      const int64_t wBase = c.wOffset + o * c.wStrides[0] + ci * c.wStrides[1];
      for (int64_t t = 0; t < taps; t++) {
        int64_t xAt = xBase;
        int64_t wAt = wBase;
        int64_t tapRest = t;
        bool inside = true;
        for (int d = c.spatial - 1; d >= 0; d--) {
          const int64_t tap = tapRest % c.kernelSize[d];
          tapRest /= c.kernelSize[d];
          // Coordinate in the dilated input, then in the input itself.
          int64_t p = static_cast<int64_t>(position[d]) * c.stride[d] - c.padLow[d] + tap * c.rhsDilation[d];
          if (p < 0) {
            inside = false;
            break;
          }
          if (c.lhsDilation[d] > 1) {
            if (p % c.lhsDilation[d] != 0) {
              inside = false;
              break;
            }
            p /= c.lhsDilation[d];
          }
          if (p >= c.inSize[d]) {
            inside = false;
            break;
          }
          xAt += p * c.xStrides[2 + d];
          wAt += tap * c.wStrides[2 + d];
        }
        if (inside) acc += static_cast<Acc>(x[xAt]) * static_cast<Acc>(w[wAt]);
      }
    }
    out[index] = static_cast<T>(acc);
  }
}

template <typename T, bool MAX>
__global__ void reduceWindowKernel(T* out, const T* in, Window win, T identity) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t taps = 1;
  for (int d = 0; d < win.rank; d++) taps *= win.window[d];
  for (int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; index < win.total; index += step) {
    int32_t position[kMaxRank];
    int64_t rest = index;
    for (int d = win.rank - 1; d >= 0; d--) {
      position[d] = static_cast<int32_t>(rest % win.outShape[d]);
      rest /= win.outShape[d];
    }
    using A = Compute<T>;
    A acc = static_cast<A>(identity);
    for (int64_t t = 0; t < taps; t++) {
      int64_t at = win.offset;
      int64_t tapRest = t;
      bool inside = true;
      for (int d = win.rank - 1; d >= 0; d--) {
        const int64_t tap = tapRest % win.window[d];
        tapRest /= win.window[d];
        const int64_t p = static_cast<int64_t>(position[d]) * win.stride[d] - win.padLow[d] + tap * win.dilation[d];
        if (p < 0 || p >= win.inShape[d]) {
          inside = false;
          break;
        }
        at += p * win.inStrides[d];
      }
      if (!inside) continue;  // padding holds the identity
      const A v = static_cast<A>(in[at]);
      acc = MAX ? maxPropagating(acc, v) : wrapAdd(acc, v);
    }
    out[index] = static_cast<T>(acc);
  }
}

template <typename T>
__global__ void gatherKernel(T* out, Matrix x, const int32_t* indices, int64_t indexOffset, int64_t indexStride, int64_t outer,
                             int64_t axisLength, int64_t inner, int64_t count) {
  const T* data = static_cast<const T*>(x.data);
  const int64_t total = outer * count * inner;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t % inner;
    const int64_t j = (t / inner) % count;
    const int64_t o = t / (inner * count);
    const int64_t index = indices[indexOffset + j * indexStride];
    out[t] = (index < 0 || index >= axisLength) ? T(0) : data[x.offset + o * x.strides[0] + index * x.strides[1] + i * x.strides[2]];
  }
}

__device__ __forceinline__ void atomicAddValue(float* at, float v) { atomicAdd(at, v); }
__device__ __forceinline__ void atomicAddValue(double* at, double v) { atomicAdd(at, v); }
__device__ __forceinline__ void atomicAddValue(int32_t* at, int32_t v) { atomicAdd(reinterpret_cast<int*>(at), static_cast<int>(v)); }
/** A byte added through a compare-and-swap of its aligned 32-bit word (allocations are 512-byte aligned and padded). */
__device__ __forceinline__ void atomicAddValue(uint8_t* at, uint8_t v) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(at);
  unsigned int* word = reinterpret_cast<unsigned int*>(address & ~static_cast<uintptr_t>(3));
  const unsigned int shift = static_cast<unsigned int>(address & 3) * 8;
  unsigned int old = *word;
  unsigned int assumed;
  do {
    assumed = old;
    const unsigned int sum = (((assumed >> shift) & 0xffu) + v) & 0xffu;
    old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (sum << shift));
  } while (assumed != old);
}

/** A 16-bit float added (in float, rounded once) through a compare-and-swap of its aligned 32-bit word. */
template <typename Half>
__device__ __forceinline__ void atomicAddHalf(Half* at, Half v) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(at);
  unsigned int* word = reinterpret_cast<unsigned int*>(address & ~static_cast<uintptr_t>(3));
  const unsigned int shift = static_cast<unsigned int>(address & 2) * 8;
  unsigned int old = *word;
  unsigned int assumed;
  do {
    assumed = old;
    Half current;
    current.bits = static_cast<unsigned short>((assumed >> shift) & 0xffffu);
    const Half sum(static_cast<float>(current) + static_cast<float>(v));
    old = atomicCAS(word, assumed, (assumed & ~(0xffffu << shift)) | (static_cast<unsigned int>(sum.bits) << shift));
  } while (assumed != old);
}
__device__ __forceinline__ void atomicAddValue(Float16* at, Float16 v) { atomicAddHalf(at, v); }
__device__ __forceinline__ void atomicAddValue(BFloat16* at, BFloat16 v) { atomicAddHalf(at, v); }

template <typename T>
__global__ void scatterAddKernel(T* out, Matrix updates, const int32_t* indices, int64_t indexOffset, int64_t indexStride,
                                 int64_t outer, int64_t axisLength, int64_t inner, int64_t count) {
  const T* data = static_cast<const T*>(updates.data);
  const int64_t total = outer * count * inner;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t % inner;
    const int64_t j = (t / inner) % count;
    const int64_t o = t / (inner * count);
    const int64_t index = indices[indexOffset + j * indexStride];
    if (index < 0 || index >= axisLength) continue;
    atomicAddValue(out + (o * axisLength + index) * inner + i,
                   data[updates.offset + o * updates.strides[0] + j * updates.strides[1] + i * updates.strides[2]]);
  }
}

// The identity of max on the host side: -Inf for floats, the dtype's minimum for integers.
float lowestOf(float) { return -INFINITY; }
double lowestOf(double) { return -INFINITY; }
int32_t lowestOf(int32_t) { return INT32_MIN; }
uint8_t lowestOf(uint8_t) { return 0; }
Float16 lowestOf(Float16) {
  Float16 value;
  value.bits = 0xfc00;  // -Infinity
  return value;
}
BFloat16 lowestOf(BFloat16) {
  BFloat16 value;
  value.bits = 0xff80;  // -Infinity
  return value;
}

__global__ void randomBitsKernel(int32_t* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride) {
  const uint32_t k0 = static_cast<uint32_t>(key[keyOffset]);
  const uint32_t k1 = static_cast<uint32_t>(key[keyOffset + keyStride]);
  const int64_t blocks = (count + 1) / 2;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < blocks; j += step) {
    uint32_t y0;
    uint32_t y1;
    flint_random::threefry(k0, k1, static_cast<uint32_t>(j), 0u, y0, y1);
    out[2 * j] = static_cast<int32_t>(y0);
    if (2 * j + 1 < count) out[2 * j + 1] = static_cast<int32_t>(y1);
  }
}

__global__ void randomUniformFloatKernel(float* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride) {
  const uint32_t k0 = static_cast<uint32_t>(key[keyOffset]);
  const uint32_t k1 = static_cast<uint32_t>(key[keyOffset + keyStride]);
  const int64_t blocks = (count + 1) / 2;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < blocks; j += step) {
    uint32_t y0;
    uint32_t y1;
    flint_random::threefry(k0, k1, static_cast<uint32_t>(j), 0u, y0, y1);
    out[2 * j] = flint_random::uniformFloat(y0);
    if (2 * j + 1 < count) out[2 * j + 1] = flint_random::uniformFloat(y1);
  }
}

/**
 * float32 samples rounded to a half dtype toward zero, so that they stay below 1 (the CPU
 * backend's rule: round to nearest, then step back one pattern where that rounded up).
 */
template <typename Half>
__global__ void randomUniformHalfKernel(Half* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride) {
  const uint32_t k0 = static_cast<uint32_t>(key[keyOffset]);
  const uint32_t k1 = static_cast<uint32_t>(key[keyOffset + keyStride]);
  const int64_t blocks = (count + 1) / 2;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < blocks; j += step) {
    uint32_t y[2];
    flint_random::threefry(k0, k1, static_cast<uint32_t>(j), 0u, y[0], y[1]);
    for (int h = 0; h < 2 && 2 * j + h < count; h++) {
      const float u = flint_random::uniformFloat(y[h]);
      Half rounded(u);
      if (static_cast<float>(rounded) > u) rounded.bits = static_cast<unsigned short>(rounded.bits - 1);
      out[2 * j + h] = rounded;
    }
  }
}

__global__ void randomUniformDoubleKernel(double* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride) {
  const uint32_t k0 = static_cast<uint32_t>(key[keyOffset]);
  const uint32_t k1 = static_cast<uint32_t>(key[keyOffset + keyStride]);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step) {
    uint32_t high;
    uint32_t low;
    flint_random::threefry(k0, k1, static_cast<uint32_t>(i), 0u, high, low);
    out[i] = flint_random::uniformDouble(high, low);
  }
}

}  // namespace

cudaError_t launchMatmul(int dtype, void* out, const Matrix& a, const Matrix& b, int64_t batch, int64_t m, int64_t n, int64_t k,
                         cudaStream_t stream) {
  if (batch == 0 || m == 0 || n == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    if (k == 0) return cudaMemsetAsync(o, 0, static_cast<size_t>(batch * m * n) * sizeof(T), stream);
    const int64_t rowTiles = (m + kTileM - 1) / kTileM;
    const dim3 grid(static_cast<unsigned>((n + kTileN - 1) / kTileN), static_cast<unsigned>(rowTiles < 65535 ? rowTiles : 65535),
                    static_cast<unsigned>(batch < 65535 ? batch : 65535));
    matmulKernel<T><<<grid, 256, 0, stream>>>(o, a, b, batch, m, n, k);
    return cudaGetLastError();
  });
}

cudaError_t launchConv(int dtype, void* out, const void* x, const void* w, const Convolution& conv, cudaStream_t stream) {
  if (conv.total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    convKernel<T><<<blocksFor(conv.total), kBlock, 0, stream>>>(static_cast<T*>(out), static_cast<const T*>(x),
                                                                 static_cast<const T*>(w), conv);
    return cudaGetLastError();
  });
}

cudaError_t launchReduceWindow(int op, int dtype, void* out, const void* in, const Window& window, cudaStream_t stream) {
  if (window.total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    if (op == kWindowMax) {
      reduceWindowKernel<T, true><<<blocksFor(window.total), kBlock, 0, stream>>>(o, x, window, lowestOf(zero));
    } else {
      reduceWindowKernel<T, false><<<blocksFor(window.total), kBlock, 0, stream>>>(o, x, window, T(0));
    }
    return cudaGetLastError();
  });
}

cudaError_t launchGather(int dtype, void* out, const Matrix& x, const int32_t* indices, int64_t indexOffset, int64_t indexStride,
                         int64_t outer, int64_t axisLength, int64_t inner, int64_t count, cudaStream_t stream) {
  const int64_t total = outer * count * inner;
  if (total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    gatherKernel<T><<<blocksFor(total), kBlock, 0, stream>>>(static_cast<T*>(out), x, indices, indexOffset, indexStride, outer,
                                                              axisLength, inner, count);
    return cudaGetLastError();
  });
}

cudaError_t launchScatterAdd(int dtype, void* out, const Matrix& updates, const int32_t* indices, int64_t indexOffset,
                             int64_t indexStride, int64_t outer, int64_t axisLength, int64_t inner, int64_t count,
                             cudaStream_t stream) {
  const int64_t total = outer * count * inner;
  if (total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    scatterAddKernel<T><<<blocksFor(total), kBlock, 0, stream>>>(static_cast<T*>(out), updates, indices, indexOffset, indexStride,
                                                                  outer, axisLength, inner, count);
    return cudaGetLastError();
  });
}

cudaError_t launchRandomBits(int32_t* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride,
                             cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  randomBitsKernel<<<blocksFor((count + 1) / 2), kBlock, 0, stream>>>(out, count, key, keyOffset, keyStride);
  return cudaGetLastError();
}

cudaError_t launchRandomUniform(int dtype, void* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride,
                                cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  if (dtype == kFloat64) {
    randomUniformDoubleKernel<<<blocksFor(count), kBlock, 0, stream>>>(static_cast<double*>(out), count, key, keyOffset, keyStride);
  } else if (dtype == kFloat32) {
    randomUniformFloatKernel<<<blocksFor((count + 1) / 2), kBlock, 0, stream>>>(static_cast<float*>(out), count, key, keyOffset,
                                                                                keyStride);
  } else if (dtype == kFloat16) {
    randomUniformHalfKernel<Float16><<<blocksFor((count + 1) / 2), kBlock, 0, stream>>>(static_cast<Float16*>(out), count, key,
                                                                                         keyOffset, keyStride);
  } else if (dtype == kBFloat16) {
    randomUniformHalfKernel<BFloat16><<<blocksFor((count + 1) / 2), kBlock, 0, stream>>>(static_cast<BFloat16*>(out), count, key,
                                                                                           keyOffset, keyStride);
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace flint_cuda
