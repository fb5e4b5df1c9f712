// Binary ops on int32, uint8 and bool strided views: wrapping arithmetic (as typed-array stores
// wrap in the portable kernels), max/min, comparisons (writing bool) and bitwise and/or. Integer
// division, modulo, floor division and powers stay with the portable kernels.
#include "common.h"
#include "ops.h"

namespace flint {

namespace {

template <typename T, typename U, typename F>
void integerLoop(const View& a, const View& b, U* out, F f) {
  int64_t outStrides[kMaxRank];
  int64_t stride = 1;
  for (int d = a.rank - 1; d >= 0; d--) {
    outStrides[d] = stride;
    stride *= a.shape[d];
  }
  const int64_t* strides[3] = {a.strides, b.strides, outStrides};
  const StridedLoop<3> loop(a.rank, a.shape, strides);
  const T* left = a.data<T>();
  const T* right = b.data<T>();
  const int64_t start[3] = {a.offset, b.offset, 0};
  loop.forEachRun(start, [&](const int64_t* at, const int64_t* step, int64_t n) {
    const T* p = left + at[0];
    const T* q = right + at[1];
    U* o = out + at[2];
    const int64_t sp = step[0], sq = step[1];
    if (sp == 1 && sq == 1)
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i], q[i]);
    else if (sp == 1 && sq == 0) {
      const T v = q[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i], v);
    } else if (sp == 0 && sq == 1) {
      // A broadcast left operand, as in max pooling's index arithmetic (window origins plus
      // offsets): a loop of its own vectorizes where the strided one cannot.
      const T v = p[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(v, q[i]);
    } else
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i * sp], q[i * sq]);
  });
}

template <typename T>
bool integerOp(int op, const View& a, const View& b, void* out) {
  T* o = static_cast<T*>(out);
  uint8_t* flags = static_cast<uint8_t*>(out);
  // Unsigned arithmetic wraps without undefined behaviour; the cast back is modular.
  using W = uint32_t;
  switch (op) {
    case kAdd:
      integerLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) + static_cast<W>(y)); });
      return true;
    case kSub:
      integerLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) - static_cast<W>(y)); });
      return true;
    case kMul:
      integerLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) * static_cast<W>(y)); });
      return true;
    case kMax:
      integerLoop<T>(a, b, o, [](T x, T y) { return x > y ? x : y; });
      return true;
    case kMin:
      integerLoop<T>(a, b, o, [](T x, T y) { return x < y ? x : y; });
      return true;
    case kEqual:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x == y; });
      return true;
    case kNotEqual:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x != y; });
      return true;
    case kLess:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x < y; });
      return true;
    case kLessEqual:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x <= y; });
      return true;
    case kGreater:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x > y; });
      return true;
    case kGreaterEqual:
      integerLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x >= y; });
      return true;
    case kAnd:
      integerLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(x & y); });
      return true;
    case kOr:
      integerLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(x | y); });
      return true;
    default:
      return false;
  }
}

bool isComparison(int op) { return op >= kEqual && op <= kGreaterEqual; }

}  // namespace

// integerBinary(op, dtype, a, aLayout, b, bLayout, out): int32/uint8/bool operands of one shape.
// Returns false, leaving `out` alone, for an op it does not compute (bool takes only max, min,
// comparisons, and, or: arithmetic on bool is not closed).
Napi::Value IntegerBinary(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "integerBinary");
  const int op = static_cast<int>(intArg(info, 0, "integerBinary", "op", 0, kBinaryOpCount - 1));
  const int dtype = dtypeArg(info, 1, "integerBinary", (1u << kInt32) | (1u << kUint8) | (1u << kBool));
  const View a = viewArg(info, 2, 3, dtype, "integerBinary", "lhs");
  const View b = viewArg(info, 4, 5, dtype, "integerBinary", "rhs");
  bool same = a.rank == b.rank;
  for (int d = 0; same && d < a.rank; d++) same = a.shape[d] == b.shape[d];
  if (!same) throwRange(info.Env(), "integerBinary", "lhs and rhs must have the same shape");
  const Output out = outputArg(info, 6, isComparison(op) ? kBool : dtype, a.size, "integerBinary");
  const Napi::Env env = info.Env();
  if (dtype == kBool && (op == kAdd || op == kSub || op == kMul)) return Napi::Boolean::New(env, false);
  if (op != kAdd && op != kSub && op != kMul && op != kMax && op != kMin && op != kAnd && op != kOr && !isComparison(op))
    return Napi::Boolean::New(env, false);
  if (a.size == 0) return Napi::Boolean::New(env, true);
  const bool done = dtype == kInt32 ? integerOp<int32_t>(op, a, b, out.base) : integerOp<uint8_t>(op, a, b, out.base);
  return Napi::Boolean::New(env, done);
}

}  // namespace flint
