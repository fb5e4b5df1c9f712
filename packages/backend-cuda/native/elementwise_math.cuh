// The scalar semantics of Flint's elementwise primitives on the GPU, shared by the addon's
// kernels (elementwise.cu includes this file) and by jit's fused kernels (src/jit/ reads this
// file and hands it to NVRTC), so that a fused chain computes exactly what the primitives do one
// by one. It must compile under NVRTC: no standard headers, only built-in types and the CUDA
// math functions NVRTC provides.
//
// Semantics follow packages/api/src/primitives/primitive.ts and the portable CPU backend:
// integer arithmetic wraps (two's complement), integer division by zero gives 0, Max/Min
// propagate NaN, Round is half to even, float32 floor division, modulo and powers are computed
// in double and rounded once.
#pragma once

namespace flint_math {

// Op codes (native/shared.h's UnaryOp and BinaryOp; elementwise.cu checks they agree).
enum : int {
  kNeg, kAbs, kSign, kExp, kLog, kLog1p, kExpm1, kSqrt, kRsqrt, kSin, kCos, kTan, kTanh, kLogistic, kErf,
  kFloor, kCeil, kRound, kReciprocal, kNot
};
enum : int {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFloorDivide, kEqual, kNotEqual, kLess, kLessEqual, kGreater,
  kGreaterEqual, kAnd, kOr
};

template <typename T>
__device__ __forceinline__ bool isNan(T v) {
  return v != v;
}

template <typename T>
__device__ __forceinline__ T maxPropagating(T a, T b) {
  if (isNan(a)) return a;
  if (isNan(b)) return b;
  return b > a ? b : a;
}

template <typename T>
__device__ __forceinline__ T minPropagating(T a, T b) {
  if (isNan(a)) return a;
  if (isNan(b)) return b;
  return b < a ? b : a;
}

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

__device__ __forceinline__ int unaryInt32(int op, int x) {
  const unsigned int u = static_cast<unsigned int>(x);
  switch (op) {
    case kNeg:
      return static_cast<int>(0u - u);
    case kAbs:
      return x < 0 ? static_cast<int>(0u - u) : x;
    case kSign:
      return (x > 0) - (x < 0);
    default:  // floor, ceil and round are the identity on integers
      return x;
  }
}

__device__ __forceinline__ unsigned char unaryUint8(int op, unsigned char x) {
  switch (op) {
    case kNeg:
      return static_cast<unsigned char>(0u - x);
    case kSign:
      return x > 0 ? 1 : 0;
    case kNot:
      return x == 0 ? 1 : 0;
    default:
      return x;
  }
}

__device__ __forceinline__ float unaryOf(int op, float x) { return unaryFloat<float>(op, x); }
__device__ __forceinline__ double unaryOf(int op, double x) { return unaryFloat<double>(op, x); }
__device__ __forceinline__ int unaryOf(int op, int x) { return unaryInt32(op, x); }
__device__ __forceinline__ unsigned char unaryOf(int op, unsigned char x) { return unaryUint8(op, x); }

/** Python's % (the sign of the divisor) for floats. */
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

__device__ __forceinline__ int int32Pow(int a, int b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  unsigned int result = 1;
  unsigned int base = static_cast<unsigned int>(a);
  unsigned int e = static_cast<unsigned int>(b);
  while (e > 0) {
    if (e & 1) result *= base;
    base *= base;
    e >>= 1;
  }
  return static_cast<int>(result);
}

__device__ __forceinline__ int binaryInt32(int op, int a, int b) {
  const unsigned int ua = static_cast<unsigned int>(a);
  const unsigned int ub = static_cast<unsigned int>(b);
  switch (op) {
    case kAdd:
      return static_cast<int>(ua + ub);
    case kSub:
      return static_cast<int>(ua - ub);
    case kMul:
      return static_cast<int>(ua * ub);
    case kDiv:
      // Division by zero gives 0; the most negative value divided by -1 wraps instead of trapping.
      if (b == 0) return 0;
      if (b == -1) return static_cast<int>(0u - ua);
      return a / b;
    case kPow:
      return int32Pow(a, b);
    case kMax:
      return a > b ? a : b;
    case kMin:
      return a < b ? a : b;
    case kMod: {
      if (b == 0 || b == -1) return 0;
      const int r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
    case kFloorDivide: {
      if (b == 0) return 0;
      if (b == -1) return static_cast<int>(0u - ua);
      int q = a / b;
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

__device__ __forceinline__ unsigned char binaryUint8(int op, unsigned char a, unsigned char b) {
  switch (op) {
    case kAdd:
      return static_cast<unsigned char>(a + b);
    case kSub:
      return static_cast<unsigned char>(a - b);
    case kMul:
      return static_cast<unsigned char>(a * b);
    case kDiv:
    case kFloorDivide:
      return b == 0 ? 0 : static_cast<unsigned char>(a / b);
    case kPow: {
      unsigned int result = 1;
      unsigned int base = a;
      unsigned int e = b;
      while (e > 0) {
        if (e & 1) result = (result * base) & 255u;
        base = (base * base) & 255u;
        e >>= 1;
      }
      return static_cast<unsigned char>(result);
    }
    case kMax:
      return a > b ? a : b;
    case kMin:
      return a < b ? a : b;
    case kMod:
      return b == 0 ? 0 : static_cast<unsigned char>(a % b);
    case kAnd:
      return a & b;
    case kOr:
      return a | b;
    default:
      return a;
  }
}

__device__ __forceinline__ float binaryOf(int op, float a, float b) { return binaryFloat<float>(op, a, b); }
__device__ __forceinline__ double binaryOf(int op, double a, double b) { return binaryFloat<double>(op, a, b); }
__device__ __forceinline__ int binaryOf(int op, int a, int b) { return binaryInt32(op, a, b); }
__device__ __forceinline__ unsigned char binaryOf(int op, unsigned char a, unsigned char b) { return binaryUint8(op, a, b); }

/** Comparisons (and And/Or on non-bool inputs) write bool as 0/1. */
template <typename T>
__device__ __forceinline__ unsigned char compare(int op, T a, T b) {
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
      return 0;
  }
}

/** A double truncated toward zero as a 64-bit integer (NaN gives 0; out of range saturates). */
__device__ __forceinline__ long long truncated(double v) {
  if (isNan(v)) return 0;
  const double t = trunc(v);
  if (t >= 9.2e18) return 9223372036854775807LL;
  if (t <= -9.2e18) return -9223372036854775807LL - 1;
  return static_cast<long long>(t);
}

/** Casts convert like a typed-array store: floats round, integers truncate and wrap, NaN gives 0. */
template <typename To>
__device__ __forceinline__ To castTo(double v);
template <>
__device__ __forceinline__ float castTo<float>(double v) {
  return static_cast<float>(v);
}
template <>
__device__ __forceinline__ double castTo<double>(double v) {
  return v;
}
template <>
__device__ __forceinline__ int castTo<int>(double v) {
  return static_cast<int>(static_cast<unsigned int>(static_cast<unsigned long long>(truncated(v))));
}
template <>
__device__ __forceinline__ unsigned char castTo<unsigned char>(double v) {
  return static_cast<unsigned char>(static_cast<unsigned long long>(truncated(v)));
}

/** Cast of any value to any dtype's C type; `toBool` makes it `!= 0` (NaN is true, as in Python). */
template <typename To, typename From>
__device__ __forceinline__ To cast(From v, bool toBool) {
  if (toBool) return static_cast<To>(v != From(0) ? 1 : 0);
  return castTo<To>(static_cast<double>(v));
}
template <>
__device__ __forceinline__ unsigned char cast<unsigned char, int>(int v, bool toBool) {
  // Integer-to-integer casts wrap through the bits.
  return toBool ? (v != 0 ? 1 : 0) : static_cast<unsigned char>(static_cast<unsigned int>(v));
}

}  // namespace flint_math
