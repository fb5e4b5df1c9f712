// Scalar float functions that the elementwise kernels (elementwise.cc) and jit's fused kernels
// (fused.cc) share, so that both compute what the portable kernels compute.
#pragma once

#include <cmath>

namespace flint {

/**
 * Math.max's: NaN propagates, and +0 is larger than -0 (of two zeros, a + b is -0 only when both
 * are: IEEE addition's rule for signed zeros).
 */
template <typename T>
T maxPropagatingNaN(T a, T b) {
  const T larger = a > b ? a : a == b && a == T(0) ? a + b : b;
  return a != a ? a : larger;  // b NaN already wins the comparison above
}

/** Math.min's: NaN propagates, and -0 is smaller than +0 (-(-a - b) is +0 only when both zeros are). */
template <typename T>
T minPropagatingNaN(T a, T b) {
  const T smaller = a < b ? a : a == b && a == T(0) ? -(-a - b) : b;
  return a != a ? a : smaller;
}

/**
 * The logistic function without overflow: exp(-|v|) never overflows, so a result below float32's
 * normal range (logistic(-89) is 2.2e-39) is not lost to 1 / (1 + inf).
 */
template <typename T>
T logistic(T v) {
  const T e = std::exp(-std::fabs(v));
  return v >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}

}  // namespace flint
