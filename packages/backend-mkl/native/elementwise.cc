// Elementwise unary and binary ops on float32/float64 strided views. oneDNN's eltwise primitives
// approximate exp/tanh/logistic with clamped polynomials that lose NaN and infinities, so these
// are plain loops over the C library's functions: contiguous runs are written so that -O3 with
// the host's instruction set vectorizes the arithmetic ones, and long loops run on every core.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common.h"
#include "ops.h"
#include "vector_math.h"

namespace flint {

namespace {

// Cheap ops split as every loop does (kLoopGrain, common.h); transcendental functions cost far
// more per element than a load, so they go parallel sooner.
constexpr int64_t kCheapGrain = kLoopGrain;
constexpr int64_t kCostlyGrain = 4096;

/** unaryLoop's default for contiguous runs: `f` on each element, which -O3 vectorizes where `f` allows. */
struct PerElement {};

/** Elements of a strided run gathered at a time for a run function (a multiple of the vector width). */
constexpr int64_t kGatherBlock = 256;

/**
 * `f` over the view into `out`; with a `run(in, out, n)` function every run goes through it,
 * strided runs gathered into a contiguous block first.
 */
template <typename T, typename U, typename F, typename Run = PerElement>
void unaryLoop(const View& x, U* out, int64_t grain, F f, Run run = Run{}) {
  int64_t outStrides[kMaxRank];
  contiguousStrides(x.rank, x.shape, outStrides);
  const int64_t* strides[2] = {x.strides, outStrides};
  const StridedLoop<2> loop(x.rank, x.shape, strides);
  const T* in = x.data<T>();
  const int64_t start[2] = {x.offset, 0};
  loop.forEachRun(
      start,
      [&](const int64_t* at, const int64_t* step, int64_t n) {
        const T* a = in + at[0];
        U* o = out + at[1];
        const int64_t s = step[0];
        if constexpr (std::is_same_v<Run, PerElement>) {
          if (s == 1)
            for (int64_t i = 0; i < n; i++) o[i] = f(a[i]);
          else
            for (int64_t i = 0; i < n; i++) o[i] = f(a[i * s]);
        } else if (s == 1) {
          run(a, o, n);
        } else {
          // Gathered into a contiguous block first, so that every layout takes the same function
          // and gives the same bits (the output is contiguous).
          T gathered[kGatherBlock];
          for (int64_t first = 0; first < n; first += kGatherBlock) {
            const int64_t count = std::min<int64_t>(kGatherBlock, n - first);
            for (int64_t i = 0; i < count; i++) gathered[i] = a[(first + i) * s];
            run(gathered, o + first, count);
          }
        }
      },
      grain);
}

/**
 * A transcendental op: float32 contiguous runs through libmvec's `vector` where the build has it
 * (vector_math.h), everything else through `scalar`.
 */
#ifdef FLINT_VECTOR_MATH
template <typename T, MathVector (*vector)(MathVector), typename F>
void mathLoop(const View& x, T* out, F scalar) {
  if constexpr (std::is_same_v<T, float>) {
    return unaryLoop<T>(x, out, kCostlyGrain, scalar, [](const float* a, float* o, int64_t n) { vectorRun<vector>(a, o, n); });
  } else {
    return unaryLoop<T>(x, out, kCostlyGrain, scalar);
  }
}
#define FLINT_MATH_LOOP(name, scalar) mathLoop<T, FLINT_MVEC(name)>(x, out, scalar)
#else
#define FLINT_MATH_LOOP(name, scalar) unaryLoop<T>(x, out, kCostlyGrain, scalar)
#endif

template <typename T>
T signOf(T v) {
  return v > 0 ? T(1) : v < 0 ? T(-1) : v;  // keeps NaN and signed zeros
}

template <typename T>
void unaryOp(int op, const View& x, T* out) {
  switch (op) {
    case kNeg:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return -v; });
    case kAbs:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return std::fabs(v); });
    case kSign:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return signOf(v); });
    case kExp:
      return FLINT_MATH_LOOP(expf, [](T v) { return std::exp(v); });
    case kLog:
      return FLINT_MATH_LOOP(logf, [](T v) { return std::log(v); });
    case kLog1p:
      return FLINT_MATH_LOOP(log1pf, [](T v) { return std::log1p(v); });
    case kExpm1:
      return FLINT_MATH_LOOP(expm1f, [](T v) { return std::expm1(v); });
    case kSqrt:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return std::sqrt(v); });
    case kRsqrt:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return T(1) / std::sqrt(v); });
    case kSin:
      return FLINT_MATH_LOOP(sinf, [](T v) { return std::sin(v); });
    case kCos:
      return FLINT_MATH_LOOP(cosf, [](T v) { return std::cos(v); });
    case kTan:
      return FLINT_MATH_LOOP(tanf, [](T v) { return std::tan(v); });
    case kTanh:
      return FLINT_MATH_LOOP(tanhf, [](T v) { return std::tanh(v); });
    case kLogistic:
      return unaryLoop<T>(x, out, kCostlyGrain, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case kErf:
      return FLINT_MATH_LOOP(erff, [](T v) { return std::erf(v); });
    case kFloor:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return std::floor(v); });
    case kCeil:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return std::ceil(v); });
    case kRound:
      // The default rounding mode is to nearest, ties to even: NumPy's and PyTorch's round.
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return std::nearbyint(v); });
    case kReciprocal:
      return unaryLoop<T>(x, out, kCheapGrain, [](T v) { return T(1) / v; });
    default:
      return;
  }
}

template <typename T>
T maxPropagatingNaN(T a, T b) {
  const T larger = a > b ? a : b;
  return a != a ? a : larger;  // b NaN already wins the comparison above
}

template <typename T>
T minPropagatingNaN(T a, T b) {
  const T smaller = a < b ? a : b;
  return a != a ? a : smaller;
}

/** Python's % for floats: the remainder takes the divisor's sign. */
template <typename T>
T floatMod(T a, T b) {
  const T r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

template <typename T>
void binaryOp(int op, const View& a, const View& b, void* out) {
  T* o = static_cast<T*>(out);
  uint8_t* flags = static_cast<uint8_t*>(out);
  switch (op) {
    case kAdd:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return x + y; });
    case kSub:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return x - y; });
    case kMul:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return x * y; });
    case kDiv:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return x / y; });
    case kPow:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return std::pow(x, y); });
    case kMax:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return maxPropagatingNaN(x, y); });
    case kMin:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return minPropagatingNaN(x, y); });
    case kMod:
      return binaryLoop<T>(a, b, o, [](T x, T y) { return floatMod(x, y); });
    case kFloorDivide:
      // In double: a float32 quotient can round up to the next integer before the floor.
      return binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(std::floor(double(x) / double(y))); });
    case kEqual:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x == y; });
    case kNotEqual:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x != y; });
    case kLess:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x < y; });
    case kLessEqual:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x <= y; });
    case kGreater:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x > y; });
    case kGreaterEqual:
      return binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x >= y; });
    default:
      return;
  }
}

bool isComparison(int op) { return op >= kEqual && op <= kGreaterEqual; }

}  // namespace

constexpr unsigned kFloatDTypes = (1u << kFloat32) | (1u << kFloat64);

// unary(op, dtype, data, layout, out)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  checkArgs(info, 5, "unary");
  const int op = static_cast<int>(intArg(info, 0, "unary", "op", 0, kUnaryOpCount - 1));
  const int dtype = dtypeArg(info, 1, "unary", kFloatDTypes);
  const View x = viewArg(info, 2, 3, dtype, "unary", "input");
  const Output out = outputArg(info, 4, dtype, x.size, "unary");
  if (x.size == 0) return info.Env().Undefined();
  if (dtype == kFloat32) unaryOp<float>(op, x, out.data<float>());
  else unaryOp<double>(op, x, out.data<double>());
  return info.Env().Undefined();
}

// binary(op, dtype, a, aLayout, b, bLayout, out): a and b of one shape; comparisons write bool.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "binary");
  const int op = static_cast<int>(intArg(info, 0, "binary", "op", 0, kGreaterEqual));
  const int dtype = dtypeArg(info, 1, "binary", kFloatDTypes);
  const View a = viewArg(info, 2, 3, dtype, "binary", "lhs");
  const View b = viewArg(info, 4, 5, dtype, "binary", "rhs");
  if (!a.sameShape(b)) throwRange(info.Env(), "binary", "lhs and rhs must have the same shape");
  const Output out = outputArg(info, 6, isComparison(op) ? kBool : dtype, a.size, "binary");
  if (a.size == 0) return info.Env().Undefined();
  if (dtype == kFloat32) binaryOp<float>(op, a, b, out.base);
  else binaryOp<double>(op, a, b, out.base);
  return info.Env().Undefined();
}

}  // namespace flint
