// Casts between every pair of dtypes on strided views, with the conversions JavaScript's typed
// array stores make (what the portable kernels compute): floats to integers truncate toward zero
// and wrap modulo 2^32 or 2^8, NaN and infinities become 0, anything non-zero (NaN included) is
// true as a bool.
#include <cmath>

#include "common.h"
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

template <typename From, typename To>
void castLoop(const View& x, To* out, int toDtype) {
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
      for (int64_t i = 0; i < n; i++) o[i] = convert<From, To>(a[i], toDtype);
    else
      for (int64_t i = 0; i < n; i++) o[i] = convert<From, To>(a[i * s], toDtype);
  });
}

template <typename From>
void castFrom(const View& x, const Output& out) {
  switch (out.dtype) {
    case kFloat32:
      return castLoop<From, float>(x, out.data<float>(), out.dtype);
    case kFloat64:
      return castLoop<From, double>(x, out.data<double>(), out.dtype);
    case kInt32:
      return castLoop<From, int32_t>(x, out.data<int32_t>(), out.dtype);
    default:
      return castLoop<From, uint8_t>(x, out.data<uint8_t>(), out.dtype);
  }
}

}  // namespace

// cast(fromDtype, data, layout, toDtype, out): out (contiguous) receives the view's elements converted.
Napi::Value Cast(const Napi::CallbackInfo& info) {
  checkArgs(info, 5, "cast");
  const int from = dtypeArg(info, 0, "cast", 0x1f);
  const View x = viewArg(info, 1, 2, from, "cast", "input");
  const int to = dtypeArg(info, 3, "cast", 0x1f);
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
    default:
      castFrom<uint8_t>(x, out);
      break;
  }
  return info.Env().Undefined();
}

}  // namespace flint
