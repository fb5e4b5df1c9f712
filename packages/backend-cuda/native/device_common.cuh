// Device-side helpers shared by the .cu files: launch geometry, strided-walk indexing, and the
// per-dtype value helpers (NaN tests, identities) that every kernel family needs.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "elementwise_math.cuh"
#include "shared.h"

namespace flint_cuda {

constexpr int kBlock = 256;

/** Blocks of kBlock threads covering `total` threads (the kernels also loop, so any count works). */
inline unsigned blocksFor(int64_t total) {
  int64_t blocks = (total + kBlock - 1) / kBlock;
  if (blocks < 1) blocks = 1;
  if (blocks > 1048576) blocks = 1048576;
  return static_cast<unsigned>(blocks);
}

/** The element offsets of index i of a walk for its first K operands. */
template <int K>
__device__ __forceinline__ void walkOffsets(const Walk& w, int64_t i, int64_t* off) {
  if (w.rank == 1) {
    // Contiguous, strided and broadcast (stride 0) operands of one coalesced dim: no division.
#pragma unroll
    for (int k = 0; k < K; k++) off[k] = w.offsets[k] + i * w.strides[k][0];
    return;
  }
#pragma unroll
  for (int k = 0; k < K; k++) off[k] = w.offsets[k];
  // Sizes are below 2^31 (checked at the boundary), so 32-bit division suffices.
  uint32_t rest = static_cast<uint32_t>(i);
  for (int d = w.rank - 1; d >= 0; d--) {
    const uint32_t dim = static_cast<uint32_t>(w.shape[d]);
    const uint32_t c = rest % dim;
    rest /= dim;
#pragma unroll
    for (int k = 0; k < K; k++) off[k] += static_cast<int64_t>(c) * w.strides[k][d];
  }
}

/** Runs f(offsets) for every index of the walk, grid-stride. */
template <int K, typename F>
__global__ void walkKernel(Walk w, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < w.total; i += step) {
    int64_t off[K];
    walkOffsets<K>(w, i, off);
    f(off);
  }
}

template <int K, typename F>
cudaError_t runWalk(const Walk& w, F f, cudaStream_t stream) {
  if (w.total == 0) return cudaSuccess;
  walkKernel<K, F><<<blocksFor(w.total), kBlock, 0, stream>>>(w, f);
  return cudaGetLastError();
}

// One definition of each (the elementwise ones), so that calls on the half types, which live in
// flint_math, are not ambiguous through argument-dependent lookup.
using flint_math::isNan;
using flint_math::maxPropagating;
using flint_math::minPropagating;
using Float16 = flint_math::Float16;
using BFloat16 = flint_math::BFloat16;
template <typename T>
using Compute = typename flint_math::Compute<T>::type;

/** The coordinate-to-offset sum of index `i` over a shape/strides pair of `rank` dims. */
__device__ __forceinline__ int64_t offsetOf(int64_t i, int rank, const int32_t* shape, const int64_t* strides) {
  int64_t off = 0;
  uint32_t rest = static_cast<uint32_t>(i);
  for (int d = rank - 1; d >= 0; d--) {
    const uint32_t dim = static_cast<uint32_t>(shape[d]);
    off += static_cast<int64_t>(rest % dim) * strides[d];
    rest /= dim;
  }
  return off;
}

template <typename T>
struct Limits;
template <>
struct Limits<float> {
  __device__ static float lowest() { return -INFINITY; }
  __device__ static float highest() { return INFINITY; }
};
template <>
struct Limits<double> {
  __device__ static double lowest() { return -INFINITY; }
  __device__ static double highest() { return INFINITY; }
};
template <>
struct Limits<int32_t> {
  __device__ static int32_t lowest() { return INT32_MIN; }
  __device__ static int32_t highest() { return INT32_MAX; }
};
template <>
struct Limits<uint8_t> {
  __device__ static uint8_t lowest() { return 0; }
  __device__ static uint8_t highest() { return 255; }
};

/** Wrapping integer arithmetic (C's unsigned rules; JavaScript's typed-array stores agree). */
template <typename T>
__device__ __forceinline__ T wrapAdd(T a, T b) {
  return a + b;
}
template <>
__device__ __forceinline__ int32_t wrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
template <>
__device__ __forceinline__ uint8_t wrapAdd(uint8_t a, uint8_t b) {
  return static_cast<uint8_t>(a + b);
}
template <typename T>
__device__ __forceinline__ T wrapMul(T a, T b) {
  return a * b;
}
template <>
__device__ __forceinline__ int32_t wrapMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
template <>
__device__ __forceinline__ uint8_t wrapMul(uint8_t a, uint8_t b) {
  return static_cast<uint8_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

/** Calls f(T{}) with T the C++ type of a numeric dtype (bool stored as uint8). */
template <typename F>
cudaError_t dispatchNumeric(int dtype, F f) {
  switch (dtype) {
    case kFloat32:
      return f(float{});
    case kFloat64:
      return f(double{});
    case kInt32:
      return f(int32_t{});
    case kUint8:
    case kBool:
      return f(uint8_t{});
    case kFloat16:
      return f(Float16{});
    case kBFloat16:
      return f(BFloat16{});
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace flint_cuda
