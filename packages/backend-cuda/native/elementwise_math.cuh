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
  kFloor, kCeil, kRound, kReciprocal, kNot, kRelu, kAsin, kAcos, kAtan
};
enum : int {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFloorDivide, kEqual, kNotEqual, kLess, kLessEqual, kGreater,
  kGreaterEqual, kAnd, kOr, kReluGrad, kAtan2
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
// The inverse trigonometric functions by their float and double names, so that every compiler
// (NVRTC, and the host's for the emulation) computes float32 in float, as the other backends do.
__device__ __forceinline__ float asinOf(float x) { return asinf(x); }
__device__ __forceinline__ double asinOf(double x) { return asin(x); }
__device__ __forceinline__ float acosOf(float x) { return acosf(x); }
__device__ __forceinline__ double acosOf(double x) { return acos(x); }
__device__ __forceinline__ float atanOf(float x) { return atanf(x); }
__device__ __forceinline__ double atanOf(double x) { return atan(x); }
// C's atan2: the signs of zeros and infinities pick the quadrant (atan2(0, -0) = pi).
__device__ __forceinline__ float atan2Of(float y, float x) { return atan2f(y, x); }
__device__ __forceinline__ double atan2Of(double y, double x) { return atan2(y, x); }

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
    case kAsin:
      return asinOf(x);
    case kAcos:
      return acosOf(x);
    case kAtan:
      return atanOf(x);
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
    case kRelu:
      return x < T(0) ? T(0) : x;  // NaN and -0 pass through, as torch.relu
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
    case kRelu:
      return x < 0 ? 0 : x;
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
    default:  // relu, floor, ceil and round are the identity on unsigned integers
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
    case kAtan2:
      return atan2Of(a, b);
    case kMax:
      return maxPropagating(a, b);
    case kMin:
      return minPropagating(a, b);
    case kMod:
      return static_cast<T>(floatMod(a, b));
    case kFloorDivide:
      return static_cast<T>(floor(static_cast<double>(a) / static_cast<double>(b)));
    case kReluGrad:
      return a <= T(0) ? T(0) : b;  // NaN in a lets b through, as torch's threshold_backward
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
    case kReluGrad:
      return a <= 0 ? 0 : b;
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
    case kReluGrad:
      return a == 0 ? 0 : b;
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


// ---- float16 and bfloat16 -------------------------------------------------------------------
// Stored as 16-bit patterns; every op computes in float and rounds once on store (round to
// nearest even, overflow to Infinity, NaN kept quiet with its top payload bits), bit for bit as
// packages/api/src/core/half.ts encodes, so the GPU, the CPU backend and JavaScript agree.

__device__ __forceinline__ unsigned int bitsOfFloat(float f) {
  union {
    float f;
    unsigned int u;
  } v;
  v.f = f;
  return v.u;
}

__device__ __forceinline__ float floatOfBits(unsigned int u) {
  union {
    float f;
    unsigned int u;
  } v;
  v.u = u;
  return v.f;
}

__device__ __forceinline__ unsigned short float16FromFloat(float value) {
  const unsigned int x = bitsOfFloat(value);
  const unsigned int sign = (x >> 16) & 0x8000u;
  const unsigned int abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<unsigned short>(abs == 0x7f800000u ? (sign | 0x7c00u) : (sign | 0x7e00u | ((abs >> 13) & 0x3ffu)));
  if (abs >= 0x477ff000u) return static_cast<unsigned short>(sign | 0x7c00u);  // 65520 and above round to Infinity
  if (abs >= 0x38800000u) {
    const unsigned int rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return static_cast<unsigned short>(sign | ((rounded >> 13) - 0x1c000u));
  }
  if (abs <= 0x33000000u) return static_cast<unsigned short>(sign);  // 2^-25 and below: zero
  const unsigned int exponent = abs >> 23;
  const unsigned int mantissa = (abs & 0x7fffffu) | 0x800000u;
  const unsigned int shift = 126u - exponent;  // 14..24
  unsigned int result = mantissa >> shift;
  const unsigned int remainder = mantissa & ((1u << shift) - 1u);
  const unsigned int halfway = 1u << (shift - 1u);
  if (remainder > halfway || (remainder == halfway && (result & 1u) == 1u)) result++;
  return static_cast<unsigned short>(sign | result);
}

__device__ __forceinline__ float float16ToFloat(unsigned short h) {
  const unsigned int sign = (static_cast<unsigned int>(h) & 0x8000u) << 16;
  const unsigned int exponent = (h >> 10) & 0x1fu;
  const unsigned int mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;  // 2^-24, exact
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1fu) return floatOfBits(sign | 0x7f800000u | (mantissa << 13));
  return floatOfBits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

__device__ __forceinline__ unsigned short bfloat16FromFloat(float value) {
  const unsigned int x = bitsOfFloat(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<unsigned short>(((x >> 16) | 0x40u) & 0xffffu);
  return static_cast<unsigned short>(((x + 0x7fffu + ((x >> 16) & 1u)) >> 16) & 0xffffu);
}

__device__ __forceinline__ float bfloat16ToFloat(unsigned short h) { return floatOfBits(static_cast<unsigned int>(h) << 16); }

/** A float16 element (the layout of CUDA's __half): converts to float, and from numbers by rounding. */
struct Float16 {
  unsigned short bits;
  Float16() = default;
  __device__ explicit Float16(float v) : bits(float16FromFloat(v)) {}
  __device__ explicit Float16(double v) : bits(float16FromFloat(static_cast<float>(v))) {}
  __device__ explicit Float16(int v) : bits(float16FromFloat(static_cast<float>(v))) {}
  __device__ explicit Float16(long long v) : bits(float16FromFloat(static_cast<float>(v))) {}
  __device__ operator float() const { return float16ToFloat(bits); }
};

/** A bfloat16 element (the layout of CUDA's __nv_bfloat16). */
struct BFloat16 {
  unsigned short bits;
  BFloat16() = default;
  __device__ explicit BFloat16(float v) : bits(bfloat16FromFloat(v)) {}
  __device__ explicit BFloat16(double v) : bits(bfloat16FromFloat(static_cast<float>(v))) {}
  __device__ explicit BFloat16(int v) : bits(bfloat16FromFloat(static_cast<float>(v))) {}
  __device__ explicit BFloat16(long long v) : bits(bfloat16FromFloat(static_cast<float>(v))) {}
  __device__ operator float() const { return bfloat16ToFloat(bits); }
};

/** The type a dtype computes in: float for the half dtypes, itself otherwise. */
template <typename T>
struct Compute {
  using type = T;
};
template <>
struct Compute<Float16> {
  using type = float;
};
template <>
struct Compute<BFloat16> {
  using type = float;
};

__device__ __forceinline__ Float16 unaryOf(int op, Float16 x) { return Float16(unaryFloat<float>(op, static_cast<float>(x))); }
__device__ __forceinline__ BFloat16 unaryOf(int op, BFloat16 x) { return BFloat16(unaryFloat<float>(op, static_cast<float>(x))); }
__device__ __forceinline__ Float16 binaryOf(int op, Float16 a, Float16 b) {
  return Float16(binaryFloat<float>(op, static_cast<float>(a), static_cast<float>(b)));
}
__device__ __forceinline__ BFloat16 binaryOf(int op, BFloat16 a, BFloat16 b) {
  return BFloat16(binaryFloat<float>(op, static_cast<float>(a), static_cast<float>(b)));
}

/** Comparisons (and And/Or on non-bool inputs) write bool as 0/1. */
template <typename T>
__device__ __forceinline__ unsigned char compareValues(int op, T a, T b) {
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

template <typename T>
__device__ __forceinline__ unsigned char compare(int op, T a, T b) {
  using C = typename Compute<T>::type;
  return compareValues<C>(op, static_cast<C>(a), static_cast<C>(b));
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
// A double becomes float first, then the half dtype (as core/half.ts encodes numbers).
template <>
__device__ __forceinline__ Float16 castTo<Float16>(double v) {
  return Float16(static_cast<float>(v));
}
template <>
__device__ __forceinline__ BFloat16 castTo<BFloat16>(double v) {
  return BFloat16(static_cast<float>(v));
}

/** Cast of any value to any dtype's C type; `toBool` makes it `!= 0` (NaN is true, as in Python). */
template <typename To, typename From>
__device__ __forceinline__ To cast(From v, bool toBool) {
  using C = typename Compute<From>::type;
  const C value = static_cast<C>(v);
  if (toBool) return static_cast<To>(value != C(0) ? 1 : 0);
  return castTo<To>(static_cast<double>(value));
}
template <>
__device__ __forceinline__ unsigned char cast<unsigned char, int>(int v, bool toBool) {
  // Integer-to-integer casts wrap through the bits.
  return toBool ? (v != 0 ? 1 : 0) : static_cast<unsigned char>(static_cast<unsigned int>(v));
}

}  // namespace flint_math
