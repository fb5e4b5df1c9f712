// Casts between every pair of dtypes on strided views, with the conversions JavaScript's typed
// array stores make (what the portable kernels compute): floats to integers truncate toward zero
// and wrap modulo 2^32 or 2^8, NaN and infinities become 0, anything non-zero (NaN included) is
// true as a bool. float16 and bfloat16 convert through float32 (half.h), as the portable kernels
// do: a double or an int32 is rounded to float32 first, then to the half dtype.
#include <cmath>

#include "common.h"
#include "half.h"
#include "ops.h"

namespace flint {

namespace {

/** ECMAScript's ToInt32/ToUint8 of a double: truncate, then wrap modulo 2^bits. */
template <typename U>
U wrapInteger(double v) {
  if (!std::isfinite(v)) return U(0);
  const double t = std::trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<U>(static_cast<uint32_t>(static_cast<int32_t>(t)));
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<U>(static_cast<uint32_t>(m));
}

template <typename From, typename To>
To convert(From v, int toDtype) {
  if (toDtype == kBool) return static_cast<To>(v != From(0) || v != v ? 1 : 0);
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) return wrapInteger<To>(static_cast<double>(v));
  else return static_cast<To>(v);
}

/** `f` of each element of the view into `out` (contiguous). */
template <typename From, typename To, typename F>
void castLoop(const View& x, To* out, F f) {
  int64_t outStrides[kMaxRank];
  contiguousStrides(x.rank, x.shape, outStrides);
  const int64_t* strides[2] = {x.strides, outStrides};
  const StridedLoop<2> loop(x.rank, x.shape, strides);
  const From* in = x.data<From>();
  const int64_t start[2] = {x.offset, 0};
  loop.forEachRun(start, [&](const int64_t* at, const int64_t* step, int64_t n) {
    const From* a = in + at[0];
    To* o = out + at[1];
    const int64_t s = step[0];
    if (s == 1)
      for (int64_t i = 0; i < n; i++) o[i] = f(a[i]);
    else
      for (int64_t i = 0; i < n; i++) o[i] = f(a[i * s]);
  });
}

/** The view's elements, each read by `load` (a plain value or a decoded half), converted to `out`'s dtype. */
template <typename From, typename Load>
void castTo(const View& x, const Output& out, Load load) {
  const int to = out.dtype;
  switch (to) {
    case kFloat32:
      return castLoop<From>(x, out.data<float>(), [&](From v) { return convert<decltype(load(v)), float>(load(v), to); });
    case kFloat64:
      return castLoop<From>(x, out.data<double>(), [&](From v) { return convert<decltype(load(v)), double>(load(v), to); });
    case kInt32:
      return castLoop<From>(x, out.data<int32_t>(), [&](From v) { return convert<decltype(load(v)), int32_t>(load(v), to); });
    case kFloat16:
      return castLoop<From>(x, out.data<uint16_t>(), [&](From v) { return Float16::store(static_cast<float>(load(v))); });
    case kBFloat16:
      return castLoop<From>(x, out.data<uint16_t>(), [&](From v) { return BFloat16::store(static_cast<float>(load(v))); });
    default:
      return castLoop<From>(x, out.data<uint8_t>(), [&](From v) { return convert<decltype(load(v)), uint8_t>(load(v), to); });
  }
}

template <typename From>
void castFrom(const View& x, const Output& out) {
  castTo<From>(x, out, [](From v) { return v; });
}

}  // namespace

// cast(fromDtype, data, layout, toDtype, out): out (contiguous) receives the view's elements converted; any
// two dtypes.
Napi::Value Cast(const Napi::CallbackInfo& info) {
  checkArgs(info, 5, "cast");
  const int from = dtypeArg(info, 0, "cast", 0x7f);
  const View x = viewArg(info, 1, 2, from, "cast", "input");
  const int to = dtypeArg(info, 3, "cast", 0x7f);
  const Output out = outputArg(info, 4, to, x.size, "cast");
  if (x.size == 0) return info.Env().Undefined();
  switch (from) {
    case kFloat32:
      castFrom<float>(x, out);
      break;
    case kFloat64:
      castFrom<double>(x, out);
      break;
    case kInt32:
      castFrom<int32_t>(x, out);
      break;
    case kFloat16:
      castTo<uint16_t>(x, out, [](uint16_t v) { return Float16::load(v); });
      break;
    case kBFloat16:
      castTo<uint16_t>(x, out, [](uint16_t v) { return BFloat16::load(v); });
      break;
    default:
      castFrom<uint8_t>(x, out);
      break;
  }
  return info.Env().Undefined();
}

}  // namespace flint
