// Elementwise kernels: unary and binary math, where, casts, strided copies, fills and iota. One
// kernel per dtype, with the op chosen by a switch that is uniform across the grid (elementwise
// work is bound by memory, and one kernel per (op, dtype) would multiply the build time). The
// scalar semantics live in elementwise_math.cuh, which jit's fused kernels share.
#include "device_common.cuh"
#include "elementwise_math.cuh"

namespace flint_cuda {

static_assert(flint_math::kAtan == kAtan && flint_math::kReciprocal == kReciprocal, "unary op codes must agree");
static_assert(flint_math::kAtan2 == kAtan2 && flint_math::kGreaterEqual == kGreaterEqual, "binary op codes must agree");

namespace {

template <typename T>
struct UnaryFunctor {
  T* out;
  const T* in;
  int op;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = flint_math::unaryOf(op, in[off[1]]); }
};

template <typename T>
struct BinaryFunctor {
  T* out;
  const T* a;
  const T* b;
  int op;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = flint_math::binaryOf(op, a[off[1]], b[off[2]]); }
};

template <typename T>
struct CompareFunctor {
  uint8_t* out;
  const T* a;
  const T* b;
  int op;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = flint_math::compare<T>(op, a[off[1]], b[off[2]]); }
};

template <typename Word>
struct WhereFunctor {
  Word* out;
  const uint8_t* condition;
  const Word* x;
  const Word* y;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = condition[off[1]] != 0 ? x[off[2]] : y[off[3]]; }
};

template <typename Word>
struct CopyFunctor {
  Word* out;
  const Word* in;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = in[off[1]]; }
};

template <typename From, typename To>
struct CastFunctor {
  To* out;
  const From* in;
  bool toBool;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = flint_math::cast<To, From>(in[off[1]], toBool); }
};

template <typename Word>
__global__ void fillKernel(Word* out, int64_t count, Word value) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step) out[i] = value;
}

template <typename T>
__global__ void iotaKernel(T* out, int64_t total, int64_t length, int64_t inner) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    out[i] = static_cast<T>(static_cast<long long>((i / inner) % length));
  }
}

template <typename Word>
cudaError_t whereFor(void* out, const void* condition, const void* x, const void* y, const Walk& walk, cudaStream_t stream) {
  return runWalk<4>(walk,
                    WhereFunctor<Word>{static_cast<Word*>(out), static_cast<const uint8_t*>(condition),
                                       static_cast<const Word*>(x), static_cast<const Word*>(y)},
                    stream);
}

template <typename From>
cudaError_t castFrom(int to, void* out, const From* in, const Walk& walk, cudaStream_t stream) {
  switch (to) {
    case kFloat32:
      return runWalk<2>(walk, CastFunctor<From, float>{static_cast<float*>(out), in, false}, stream);
    case kFloat64:
      return runWalk<2>(walk, CastFunctor<From, double>{static_cast<double*>(out), in, false}, stream);
    case kInt32:
      return runWalk<2>(walk, CastFunctor<From, int32_t>{static_cast<int32_t*>(out), in, false}, stream);
    case kUint8:
      return runWalk<2>(walk, CastFunctor<From, uint8_t>{static_cast<uint8_t*>(out), in, false}, stream);
    case kBool:
      return runWalk<2>(walk, CastFunctor<From, uint8_t>{static_cast<uint8_t*>(out), in, true}, stream);
    case kFloat16:
      return runWalk<2>(walk, CastFunctor<From, Float16>{static_cast<Float16*>(out), in, false}, stream);
    case kBFloat16:
      return runWalk<2>(walk, CastFunctor<From, BFloat16>{static_cast<BFloat16*>(out), in, false}, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t launchUnary(int op, int dtype, void* out, const void* in, const Walk& walk, cudaStream_t stream) {
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    return runWalk<2>(walk, UnaryFunctor<T>{static_cast<T*>(out), static_cast<const T*>(in), op}, stream);
  });
}

cudaError_t launchBinary(int op, int dtype, void* out, const void* a, const void* b, const Walk& walk, cudaStream_t stream) {
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* left = static_cast<const T*>(a);
    const T* right = static_cast<const T*>(b);
    // And/Or on bool are bitwise on 0/1 bytes; comparisons write bool.
    if (isComparison(op) && !((op == kAnd || op == kOr) && dtype != kFloat32 && dtype != kFloat64)) {
      return runWalk<3>(walk, CompareFunctor<T>{static_cast<uint8_t*>(out), left, right, op}, stream);
    }
    return runWalk<3>(walk, BinaryFunctor<T>{static_cast<T*>(out), left, right, op}, stream);
  });
}

cudaError_t launchWhere(int dtype, void* out, const void* condition, const void* x, const void* y, const Walk& walk,
                        cudaStream_t stream) {
  switch (itemSizeOf(dtype)) {
    case 8:
      return whereFor<uint64_t>(out, condition, x, y, walk, stream);
    case 4:
      return whereFor<uint32_t>(out, condition, x, y, walk, stream);
    case 2:
      return whereFor<uint16_t>(out, condition, x, y, walk, stream);
    default:
      return whereFor<uint8_t>(out, condition, x, y, walk, stream);
  }
}

cudaError_t launchCast(int from, int to, void* out, const void* in, const Walk& walk, cudaStream_t stream) {
  switch (from) {
    case kFloat32:
      return castFrom<float>(to, out, static_cast<const float*>(in), walk, stream);
    case kFloat64:
      return castFrom<double>(to, out, static_cast<const double*>(in), walk, stream);
    case kInt32:
      return castFrom<int32_t>(to, out, static_cast<const int32_t*>(in), walk, stream);
    case kUint8:
    case kBool:
      return castFrom<uint8_t>(to, out, static_cast<const uint8_t*>(in), walk, stream);
    case kFloat16:
      return castFrom<Float16>(to, out, static_cast<const Float16*>(in), walk, stream);
    case kBFloat16:
      return castFrom<BFloat16>(to, out, static_cast<const BFloat16*>(in), walk, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t launchCopy(int itemSize, void* out, const void* in, const Walk& walk, cudaStream_t stream) {
  switch (itemSize) {
    case 8:
      return runWalk<2>(walk, CopyFunctor<uint64_t>{static_cast<uint64_t*>(out), static_cast<const uint64_t*>(in)}, stream);
    case 4:
      return runWalk<2>(walk, CopyFunctor<uint32_t>{static_cast<uint32_t*>(out), static_cast<const uint32_t*>(in)}, stream);
    case 2:
      return runWalk<2>(walk, CopyFunctor<uint16_t>{static_cast<uint16_t*>(out), static_cast<const uint16_t*>(in)}, stream);
    case 1:
      return runWalk<2>(walk, CopyFunctor<uint8_t>{static_cast<uint8_t*>(out), static_cast<const uint8_t*>(in)}, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t launchFill(int itemSize, void* out, int64_t count, uint64_t pattern, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  switch (itemSize) {
    case 8:
      fillKernel<uint64_t><<<blocksFor(count), kBlock, 0, stream>>>(static_cast<uint64_t*>(out), count, pattern);
      break;
    case 4:
      fillKernel<uint32_t><<<blocksFor(count), kBlock, 0, stream>>>(static_cast<uint32_t*>(out), count,
                                                                     static_cast<uint32_t>(pattern));
      break;
    case 2:
      fillKernel<uint16_t><<<blocksFor(count), kBlock, 0, stream>>>(static_cast<uint16_t*>(out), count,
                                                                     static_cast<uint16_t>(pattern));
      break;
    case 1:
      return cudaMemsetAsync(out, static_cast<int>(pattern & 255u), static_cast<size_t>(count), stream);
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t launchIota(int dtype, void* out, int64_t total, int64_t length, int64_t inner, cudaStream_t stream) {
  if (total == 0) return cudaSuccess;
  return dispatchNumeric(dtype, [&](auto zero) {
    using T = decltype(zero);
    iotaKernel<T><<<blocksFor(total), kBlock, 0, stream>>>(static_cast<T*>(out), total, length, inner);
    return cudaGetLastError();
  });
}

}  // namespace flint_cuda
