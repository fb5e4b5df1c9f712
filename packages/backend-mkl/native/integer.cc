// Binary ops on int32, uint8 and bool strided views: wrapping arithmetic (as typed-array stores
// wrap in the portable kernels), max/min, comparisons (writing bool) and bitwise and/or. Integer
// division, modulo, floor division and powers stay with the portable kernels.
#include "common.h"
#include "ops.h"

namespace flint {

namespace {

template <typename T>
bool integerOp(int op, const View& a, const View& b, void* out) {
  T* o = static_cast<T*>(out);
  uint8_t* flags = static_cast<uint8_t*>(out);
  // Unsigned arithmetic wraps without undefined behaviour; the cast back is modular.
  using W = uint32_t;
  switch (op) {
    case kAdd:
      binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) + static_cast<W>(y)); });
      return true;
    case kSub:
      binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) - static_cast<W>(y)); });
      return true;
    case kMul:
      binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(static_cast<W>(x) * static_cast<W>(y)); });
      return true;
    case kMax:
      binaryLoop<T>(a, b, o, [](T x, T y) { return x > y ? x : y; });
      return true;
    case kMin:
      binaryLoop<T>(a, b, o, [](T x, T y) { return x < y ? x : y; });
      return true;
    case kEqual:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x == y; });
      return true;
    case kNotEqual:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x != y; });
      return true;
    case kLess:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x < y; });
      return true;
    case kLessEqual:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x <= y; });
      return true;
    case kGreater:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x > y; });
      return true;
    case kGreaterEqual:
      binaryLoop<T>(a, b, flags, [](T x, T y) -> uint8_t { return x >= y; });
      return true;
    case kAnd:
      binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(x & y); });
      return true;
    case kOr:
      binaryLoop<T>(a, b, o, [](T x, T y) { return static_cast<T>(x | y); });
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
  if (!a.sameShape(b)) throwRange(info.Env(), "integerBinary", "lhs and rhs must have the same shape");
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
