// Elementwise unary and binary ops on float32/float64 strided views, and on float16/bfloat16 ones
// through their float32 ops (half.h: each element decoded, computed, rounded once on store). oneDNN's eltwise primitives
// approximate exp/tanh/logistic with clamped polynomials that lose NaN and infinities, so these
// are plain loops over the C library's functions: contiguous runs are written so that -O3 with
// the host's instruction set vectorizes the arithmetic ones, and long loops run on every core.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common.h"
#include "float_ops.h"
#include "half.h"
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
#endif

template <typename T>
T signOf(T v) {
  return v > 0 ? T(1) : v < 0 ? T(-1) : v;  // keeps NaN and signed zeros
}

/**
 * Unary op `op` on elements stored as Codec says (Plain<float>, Plain<double>, or a half dtype's
 * bits computed in float32).
 */
template <typename Codec>
void unaryOp(int op, const View& x, typename Codec::Stored* out) {
  using Stored = typename Codec::Stored;
  using T = ComputeType<Codec>;
  // f on each element, through the codec (which compiles away for float32 and float64).
  const auto loop = [&](int64_t grain, auto f) {
    unaryLoop<Stored>(x, out, grain, [f](Stored v) { return Codec::store(f(Codec::load(v))); });
  };
  // A transcendental function: libmvec's vector form on float32 runs where the build has it.
#ifdef FLINT_VECTOR_MATH
#define FLINT_MATH_LOOP(name, scalar)                                                        \
  if constexpr (std::is_same_v<Codec, Plain<T>>) return mathLoop<T, FLINT_MVEC(name)>(x, out, scalar); \
  else return loop(kCostlyGrain, scalar)
#else
#define FLINT_MATH_LOOP(name, scalar) return loop(kCostlyGrain, scalar)
#endif
  switch (op) {
    case kNeg:
      return loop(kCheapGrain, [](T v) { return -v; });
    case kAbs:
      return loop(kCheapGrain, [](T v) { return std::fabs(v); });
    case kSign:
      return loop(kCheapGrain, [](T v) { return signOf(v); });
    case kExp:
      FLINT_MATH_LOOP(expf, [](T v) { return std::exp(v); });
    case kLog:
      FLINT_MATH_LOOP(logf, [](T v) { return std::log(v); });
    case kLog1p:
      FLINT_MATH_LOOP(log1pf, [](T v) { return std::log1p(v); });
    case kExpm1:
      FLINT_MATH_LOOP(expm1f, [](T v) { return std::expm1(v); });
    case kSqrt:
      return loop(kCheapGrain, [](T v) { return std::sqrt(v); });
    case kRsqrt:
      return loop(kCheapGrain, [](T v) { return T(1) / std::sqrt(v); });
    case kSin:
      FLINT_MATH_LOOP(sinf, [](T v) { return std::sin(v); });
    case kCos:
      FLINT_MATH_LOOP(cosf, [](T v) { return std::cos(v); });
    case kTan:
      FLINT_MATH_LOOP(tanf, [](T v) { return std::tan(v); });
    case kAsin:
      FLINT_MATH_LOOP(asinf, [](T v) { return std::asin(v); });
    case kAcos:
      FLINT_MATH_LOOP(acosf, [](T v) { return std::acos(v); });
    case kAtan:
      FLINT_MATH_LOOP(atanf, [](T v) { return std::atan(v); });
    case kTanh:
      FLINT_MATH_LOOP(tanhf, [](T v) { return std::tanh(v); });
    case kLogistic:
      return loop(kCostlyGrain, [](T v) { return logistic(v); });
    case kErf:
      FLINT_MATH_LOOP(erff, [](T v) { return std::erf(v); });
    case kFloor:
      return loop(kCheapGrain, [](T v) { return std::floor(v); });
    case kCeil:
      return loop(kCheapGrain, [](T v) { return std::ceil(v); });
    case kRound:
      // The default rounding mode is to nearest, ties to even: NumPy's and PyTorch's round.
      return loop(kCheapGrain, [](T v) { return std::nearbyint(v); });
    case kReciprocal:
      return loop(kCheapGrain, [](T v) { return T(1) / v; });
    case kRelu:
      // NaN and -0 pass through, as torch.relu.
      return loop(kCheapGrain, [](T v) { return v < T(0) ? T(0) : v; });
    default:
      return;
  }
#undef FLINT_MATH_LOOP
}

/** Python's % for floats: the remainder takes the divisor's sign. */
template <typename T>
T floatMod(T a, T b) {
  const T r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

/** Binary op `op` on elements stored as Codec says (see unaryOp); comparisons write bool. */
template <typename Codec>
void binaryOp(int op, const View& a, const View& b, void* out) {
  using Stored = typename Codec::Stored;
  using T = ComputeType<Codec>;
  const auto arithmetic = [&](auto f) {
    binaryLoop<Stored>(a, b, static_cast<Stored*>(out), [f](Stored x, Stored y) { return Codec::store(f(Codec::load(x), Codec::load(y))); });
  };
  const auto compare = [&](auto f) {
    binaryLoop<Stored>(a, b, static_cast<uint8_t*>(out), [f](Stored x, Stored y) -> uint8_t { return f(Codec::load(x), Codec::load(y)); });
  };
  switch (op) {
    case kAdd:
      return arithmetic([](T x, T y) { return x + y; });
    case kSub:
      return arithmetic([](T x, T y) { return x - y; });
    case kMul:
      return arithmetic([](T x, T y) { return x * y; });
    case kDiv:
      return arithmetic([](T x, T y) { return x / y; });
    case kPow:
      return arithmetic([](T x, T y) { return std::pow(x, y); });
    case kAtan2:
      return arithmetic([](T x, T y) { return std::atan2(x, y); });
    case kMax:
      return arithmetic([](T x, T y) { return maxPropagatingNaN(x, y); });
    case kMin:
      return arithmetic([](T x, T y) { return minPropagatingNaN(x, y); });
    case kMod:
      return arithmetic([](T x, T y) { return floatMod(x, y); });
    case kFloorDivide:
      // In double: a float32 quotient can round up to the next integer before the floor.
      return arithmetic([](T x, T y) { return static_cast<T>(std::floor(double(x) / double(y))); });
    case kEqual:
      return compare([](T x, T y) -> uint8_t { return x == y; });
    case kNotEqual:
      return compare([](T x, T y) -> uint8_t { return x != y; });
    case kLess:
      return compare([](T x, T y) -> uint8_t { return x < y; });
    case kLessEqual:
      return compare([](T x, T y) -> uint8_t { return x <= y; });
    case kGreater:
      return compare([](T x, T y) -> uint8_t { return x > y; });
    case kGreaterEqual:
      return compare([](T x, T y) -> uint8_t { return x >= y; });
    case kReluGrad:
      // NaN in x lets y through, as torch's threshold_backward.
      return arithmetic([](T x, T y) { return x <= T(0) ? T(0) : y; });
    default:
      return;
  }
}

bool isComparison(int op) { return op >= kEqual && op <= kGreaterEqual; }

}  // namespace

constexpr unsigned kFloatDTypes = (1u << kFloat32) | (1u << kFloat64) | (1u << kFloat16) | (1u << kBFloat16);

// unary(op, dtype, data, layout, out): float32, float64, float16 or bfloat16 (Uint16Array bits)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  checkArgs(info, 5, "unary");
  const int op = static_cast<int>(intArg(info, 0, "unary", "op", 0, kUnaryOpCount - 1));
  const int dtype = dtypeArg(info, 1, "unary", kFloatDTypes);
  const View x = viewArg(info, 2, 3, dtype, "unary", "input");
  const Output out = outputArg(info, 4, dtype, x.size, "unary");
  if (x.size == 0) return info.Env().Undefined();
  withFloatCodec(dtype, [&](auto codec) {
    using Codec = decltype(codec);
    unaryOp<Codec>(op, x, out.data<typename Codec::Stored>());
  });
  return info.Env().Undefined();
}

// binary(op, dtype, a, aLayout, b, bLayout, out): a and b of one shape; comparisons write bool.
// And and Or take the integer entry (integer.cc).
Napi::Value Binary(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "binary");
  const int op = static_cast<int>(intArg(info, 0, "binary", "op", 0, kBinaryOpCount - 1));
  if (op == kAnd || op == kOr) throwRange(info.Env(), "binary", "and/or are not float ops (the integer entry takes them)");
  const int dtype = dtypeArg(info, 1, "binary", kFloatDTypes);
  const View a = viewArg(info, 2, 3, dtype, "binary", "lhs");
  const View b = viewArg(info, 4, 5, dtype, "binary", "rhs");
  if (!a.sameShape(b)) throwRange(info.Env(), "binary", "lhs and rhs must have the same shape");
  const Output out = outputArg(info, 6, isComparison(op) ? kBool : dtype, a.size, "binary");
  if (a.size == 0) return info.Env().Undefined();
  withFloatCodec(dtype, [&](auto codec) { binaryOp<decltype(codec)>(op, a, b, out.base); });
  return info.Env().Undefined();
}

}  // namespace flint
