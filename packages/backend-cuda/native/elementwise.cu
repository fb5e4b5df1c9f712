// Elementwise kernels: unary and binary math, where, casts, strided copies, fills and iota. One
// kernel per dtype, with the op chosen by a switch that is uniform across the grid (elementwise
// work is bound by memory, and one kernel per (op, dtype) would multiply the build time).
//
// float32 floor division, modulo and powers are computed in double and rounded once, as the
// portable CPU backend does, so that floor(a / b) agrees where a float quotient would round up to
// an integer.
#include "device_common.cuh"

namespace flint_cuda {

namespace {

__device__ __forceinline__ float erfOf(float x) { return erff(x); }
__device__ __forceinline__ double erfOf(double x) { return erf(x); }

template <typename T>
__device__ T unaryFloat(int op, T x) {
  switch (op) {
    case kNeg:
      return -x;
    case kAbs:
      return fabs(x);
    case kSign:
      return x > T(0) ? T(1) : x < T(0) ? T(-1) : x;  // NaN and signed zeros pass through
    case kExp:
      return exp(x);
    case kLog:
      return log(x);
    case kLog1p:
      return log1p(x);
    case kExpm1:
      return expm1(x);
    case kSqrt:
      return sqrt(x);
    case kRsqrt:
      return T(1) / sqrt(x);
    case kSin:
      return sin(x);
    case kCos:
      return cos(x);
    case kTan:
      return tan(x);
    case kTanh:
      return tanh(x);
    case kLogistic:
      return T(1) / (T(1) + exp(-x));
    case kErf:
      return erfOf(x);
    case kFloor:
      return floor(x);
    case kCeil:
      return ceil(x);
    case kRound:
      return rint(x);  // half to even in the default rounding mode
    case kReciprocal:
      return T(1) / x;
    default:
      return x;
  }
}

__device__ int32_t unaryInt32(int op, int32_t x) {
  const uint32_t u = static_cast<uint32_t>(x);
  switch (op) {
    case kNeg:
      return static_cast<int32_t>(0u - u);
    case kAbs:
      return x < 0 ? static_cast<int32_t>(0u - u) : x;
    case kSign:
      return (x > 0) - (x < 0);
    default:  // floor, ceil and round are the identity on integers
      return x;
  }
}

__device__ uint8_t unaryUint8(int op, uint8_t x) {
  switch (op) {
    case kNeg:
      return static_cast<uint8_t>(0u - x);
    case kSign:
      return x > 0 ? 1 : 0;
    case kNot:
      return x == 0 ? 1 : 0;
    default:
      return x;
  }
}

template <typename T>
struct UnaryFunctor {
  T* out;
  const T* in;
  int op;
  __device__ void operator()(const int64_t* off) const;
};
template <>
__device__ void UnaryFunctor<float>::operator()(const int64_t* off) const {
  out[off[0]] = unaryFloat<float>(op, in[off[1]]);
}
template <>
__device__ void UnaryFunctor<double>::operator()(const int64_t* off) const {
  out[off[0]] = unaryFloat<double>(op, in[off[1]]);
}
template <>
__device__ void UnaryFunctor<int32_t>::operator()(const int64_t* off) const {
  out[off[0]] = unaryInt32(op, in[off[1]]);
}
template <>
__device__ void UnaryFunctor<uint8_t>::operator()(const int64_t* off) const {
  out[off[0]] = unaryUint8(op, in[off[1]]);
}

/** Python's % (sign of the divisor) for floats. */
__device__ __forceinline__ double floatMod(double a, double b) {
  const double r = fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

template <typename T>
__device__ T binaryFloat(int op, T a, T b) {
  switch (op) {
    case kAdd:
      return a + b;
    case kSub:
      return a - b;
    case kMul:
      return a * b;
    case kDiv:
      return a / b;
    case kPow:
      return static_cast<T>(pow(static_cast<double>(a), static_cast<double>(b)));
    case kMax:
      return maxPropagating(a, b);
    case kMin:
      return minPropagating(a, b);
    case kMod:
      return static_cast<T>(floatMod(a, b));
    case kFloorDivide:
      return static_cast<T>(floor(static_cast<double>(a) / static_cast<double>(b)));
    default:
      return a;
  }
}

__device__ int32_t int32Pow(int32_t a, int32_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  uint32_t result = 1;
  uint32_t base = static_cast<uint32_t>(a);
  uint32_t e = static_cast<uint32_t>(b);
  while (e > 0) {
    if (e & 1) result *= base;
    base *= base;
    e >>= 1;
  }
  return static_cast<int32_t>(result);
}

__device__ int32_t binaryInt32(int op, int32_t a, int32_t b) {
  const uint32_t ua = static_cast<uint32_t>(a);
  const uint32_t ub = static_cast<uint32_t>(b);
  switch (op) {
    case kAdd:
      return static_cast<int32_t>(ua + ub);
    case kSub:
      return static_cast<int32_t>(ua - ub);
    case kMul:
      return static_cast<int32_t>(ua * ub);
    case kDiv:
      // Division by zero gives 0; INT32_MIN / -1 wraps instead of trapping.
      if (b == 0) return 0;
      if (b == -1) return static_cast<int32_t>(0u - ua);
      return a / b;
    case kPow:
      return int32Pow(a, b);
    case kMax:
      return a > b ? a : b;
    case kMin:
      return a < b ? a : b;
    case kMod: {
      if (b == 0 || b == -1) return 0;
      const int32_t r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
    case kFloorDivide: {
      if (b == 0) return 0;
      if (b == -1) return static_cast<int32_t>(0u - ua);
      int32_t q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
      return q;
    }
    case kAnd:
      return a & b;
    case kOr:
      return a | b;
    default:
      return a;
  }
}

__device__ uint8_t binaryUint8(int op, uint8_t a, uint8_t b) {
  switch (op) {
    case kAdd:
      return static_cast<uint8_t>(a + b);
    case kSub:
      return static_cast<uint8_t>(a - b);
    case kMul:
      return static_cast<uint8_t>(a * b);
    case kDiv:
    case kFloorDivide:
      return b == 0 ? 0 : static_cast<uint8_t>(a / b);
    case kPow: {
      uint32_t result = 1;
      uint32_t base = a;
      uint32_t e = b;
      while (e > 0) {
        if (e & 1) result = (result * base) & 255u;
        base = (base * base) & 255u;
        e >>= 1;
      }
      return static_cast<uint8_t>(result);
    }
    case kMax:
      return a > b ? a : b;
    case kMin:
      return a < b ? a : b;
    case kMod:
      return b == 0 ? 0 : static_cast<uint8_t>(a % b);
    case kAnd:
      return a & b;
    case kOr:
      return a | b;
    default:
      return a;
  }
}

template <typename T>
__device__ __forceinline__ T binaryOf(int op, T a, T b);
template <>
__device__ __forceinline__ float binaryOf(int op, float a, float b) {
  return binaryFloat<float>(op, a, b);
}
template <>
__device__ __forceinline__ double binaryOf(int op, double a, double b) {
  return binaryFloat<double>(op, a, b);
}
template <>
__device__ __forceinline__ int32_t binaryOf(int op, int32_t a, int32_t b) {
  return binaryInt32(op, a, b);
}
template <>
__device__ __forceinline__ uint8_t binaryOf(int op, uint8_t a, uint8_t b) {
  return binaryUint8(op, a, b);
}

template <typename T>
struct BinaryFunctor {
  T* out;
  const T* a;
  const T* b;
  int op;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = binaryOf<T>(op, a[off[1]], b[off[2]]); }
};

template <typename T>
__device__ __forceinline__ bool compare(int op, T a, T b) {
  switch (op) {
    case kEqual:
      return a == b;
    case kNotEqual:
      return a != b;
    case kLess:
      return a < b;
    case kLessEqual:
      return a <= b;
    case kGreater:
      return a > b;
    case kGreaterEqual:
      return a >= b;
    case kAnd:
      return (a != T(0)) && (b != T(0));
    case kOr:
      return (a != T(0)) || (b != T(0));
    default:
      return false;
  }
}

template <typename T>
struct CompareFunctor {
  uint8_t* out;
  const T* a;
  const T* b;
  int op;
  __device__ void operator()(const int64_t* off) const { out[off[0]] = compare<T>(op, a[off[1]], b[off[2]]) ? 1 : 0; }
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

/** A double converted like a typed-array store: floats round, integers truncate and wrap, NaN gives 0. */
template <typename To>
__device__ __forceinline__ To fromDouble(double v);
template <>
__device__ __forceinline__ float fromDouble(double v) {
  return static_cast<float>(v);
}
template <>
__device__ __forceinline__ double fromDouble(double v) {
  return v;
}
__device__ __forceinline__ int64_t truncated(double v) {
  if (isNan(v)) return 0;
  const double t = trunc(v);
  if (t >= 9.2e18) return INT64_MAX;
  if (t <= -9.2e18) return INT64_MIN;
  return static_cast<int64_t>(t);
}
template <>
__device__ __forceinline__ int32_t fromDouble(double v) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(truncated(v))));
}
template <>
__device__ __forceinline__ uint8_t fromDouble(double v) {
  return static_cast<uint8_t>(static_cast<uint64_t>(truncated(v)));
}

template <typename From, typename To>
struct CastFunctor {
  To* out;
  const From* in;
  bool toBool;
  __device__ void operator()(const int64_t* off) const {
    const From v = in[off[1]];
    // NaN is truthy, as bool(float('nan')) is in Python.
    if (toBool) out[off[0]] = static_cast<To>(v != From(0) ? 1 : 0);
    else out[off[0]] = fromDouble<To>(static_cast<double>(v));
  }
};
// Integer-to-integer casts wrap through the bits instead of a double.
template <>
__device__ void CastFunctor<int32_t, uint8_t>::operator()(const int64_t* off) const {
  const int32_t v = in[off[1]];
  out[off[0]] = toBool ? (v != 0 ? 1 : 0) : static_cast<uint8_t>(static_cast<uint32_t>(v));
}

template <typename Word>
__global__ void fillKernel(Word* out, int64_t count, Word value) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step) out[i] = value;
}

template <typename T>
__global__ void iotaKernel(T* out, int64_t total, int64_t length, int64_t inner) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    out[i] = static_cast<T>((i / inner) % length);
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
