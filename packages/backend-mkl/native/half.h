// float16 and bfloat16 as the api encodes them (packages/api/src/core/half.ts), so that the native
// half kernels store the bits the portable kernels store: decoding is exact; encoding a float32
// rounds to nearest, ties to even, overflows to ±Infinity (float16 from 65520 up) and keeps a NaN
// a quiet NaN with its sign and top payload bits. The half kernels compute in float32, as the
// portable ones (and PyTorch's CPU kernels) do, and round each result once when they store it.
#pragma once

#include <cstdint>
#include <cstring>

#include "common.h"

namespace flint {

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline float bfloat16ToFloat(uint16_t h) { return bitsFloat(static_cast<uint32_t>(h) << 16); }

inline uint16_t floatToBfloat16(float value) {
  const uint32_t x = floatBits(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline float float16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;  // 2^-24: zero or subnormal, exact
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t floatToFloat16(float value) {
  const uint32_t x = floatBits(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(abs == 0x7f800000u ? sign | 0x7c00u : sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // 65520 and up: Infinity
  if (abs >= 0x38800000u) {
    // Normal: rebias the exponent and round the 13 dropped bits (a carry bumps the exponent).
    const uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded >> 13) - 0x1c000u));
  }
  if (abs <= 0x33000000u) return static_cast<uint16_t>(sign);  // 2^-25 and below: zero
  const uint32_t exponent = abs >> 23;
  const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;  // 14..24
  uint32_t result = mantissa >> shift;
  const uint32_t remainder = mantissa & ((1u << shift) - 1);
  const uint32_t halfway = 1u << (shift - 1);
  if (remainder > halfway || (remainder == halfway && (result & 1u) == 1u)) result++;
  return static_cast<uint16_t>(sign | result);
}

/**
 * How a kernel's elements are stored: `Stored`, read into the compute type by `load` and written
 * back by `store`. Plain types store themselves; the half dtypes their 16-bit patterns.
 */
template <typename T>
struct Plain {
  using Stored = T;
  static T load(T v) { return v; }
  static T store(T v) { return v; }
};

struct BFloat16 {
  using Stored = uint16_t;
  static float load(uint16_t v) { return bfloat16ToFloat(v); }
  static uint16_t store(float v) { return floatToBfloat16(v); }
};

struct Float16 {
  using Stored = uint16_t;
  static float load(uint16_t v) { return float16ToFloat(v); }
  static uint16_t store(float v) { return floatToFloat16(v); }
};

/** The type a Codec's elements are computed in: float32, float64, or float32 for the half dtypes. */
template <typename Codec>
using ComputeType = decltype(Codec::load(typename Codec::Stored{}));

/**
 * Calls `f` with the Codec of a float dtype code (kFloat32, kFloat64, kFloat16, kBFloat16; the
 * caller has checked it): the one switch the elementwise ops and reductions share.
 */
template <typename F>
void withFloatCodec(int dtype, F f) {
  switch (dtype) {
    case kFloat32:
      return f(Plain<float>{});
    case kFloat64:
      return f(Plain<double>{});
    case kFloat16:
      return f(Float16{});
    default:
      return f(BFloat16{});
  }
}

}  // namespace flint
