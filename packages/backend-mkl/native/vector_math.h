// glibc's vector math library (libmvec) for contiguous float32 runs of the transcendental unary
// ops. GCC only calls it by itself under -ffast-math, which would also drop NaN and infinity
// semantics, so the addon calls its AVX-512 (16 lanes) or AVX2 (8 lanes) entry points directly.
// They keep NaN, infinities and signed zeros, and agree with the scalar libm within 3 ulp
// (4,194,304 inputs in [-10, 10] and the special values); exp and tanh run 6 and 25 times faster
// than the scalar functions on one core. Builds without libmvec or without AVX2 (FLINT_MKL_PORTABLE)
// keep the scalar loops.
#pragma once

#include <cstdint>

#if defined(FLINT_HAS_LIBMVEC) && (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>
#define FLINT_VECTOR_MATH 1

namespace flint {

#if defined(__AVX512F__)
using MathVector = __m512;
constexpr int64_t kMathLanes = 16;
#define FLINT_MVEC(name) _ZGVeN16v_##name
inline MathVector loadLanes(const float* p, int64_t n) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}
inline void storeLanes(float* p, MathVector v, int64_t n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
inline MathVector loadVector(const float* p) { return _mm512_loadu_ps(p); }
inline void storeVector(float* p, MathVector v) { _mm512_storeu_ps(p, v); }
#else
using MathVector = __m256;
constexpr int64_t kMathLanes = 8;
#define FLINT_MVEC(name) _ZGVdN8v_##name
inline __m256i laneMask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline MathVector loadLanes(const float* p, int64_t n) { return _mm256_maskload_ps(p, laneMask(n)); }
inline void storeLanes(float* p, MathVector v, int64_t n) { _mm256_maskstore_ps(p, laneMask(n), v); }
inline MathVector loadVector(const float* p) { return _mm256_loadu_ps(p); }
inline void storeVector(float* p, MathVector v) { _mm256_storeu_ps(p, v); }
#endif

extern "C" {
MathVector FLINT_MVEC(expf)(MathVector);
MathVector FLINT_MVEC(expm1f)(MathVector);
MathVector FLINT_MVEC(logf)(MathVector);
MathVector FLINT_MVEC(log1pf)(MathVector);
MathVector FLINT_MVEC(sinf)(MathVector);
MathVector FLINT_MVEC(cosf)(MathVector);
MathVector FLINT_MVEC(tanf)(MathVector);
MathVector FLINT_MVEC(tanhf)(MathVector);
MathVector FLINT_MVEC(erff)(MathVector);
MathVector FLINT_MVEC(asinf)(MathVector);
MathVector FLINT_MVEC(acosf)(MathVector);
MathVector FLINT_MVEC(atanf)(MathVector);
}

/** `function` over the n contiguous floats at `in`, into `out`; the tail as a masked vector (its idle lanes read as 0). */
template <MathVector (*function)(MathVector)>
void vectorRun(const float* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + kMathLanes <= n; i += kMathLanes) storeVector(out + i, function(loadVector(in + i)));
  if (i < n) storeLanes(out + i, function(loadLanes(in + i, n - i)), n - i);
}

}  // namespace flint
#endif
