/* The benchmark's shared inputs; the same formulas as bench/common/prng.ts and bench_common.py. */
#ifndef FLINT_BENCH_PRNG_H
#define FLINT_BENCH_PRNG_H
#include <stdint.h>

static inline uint32_t bench_hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static inline uint32_t bench_random_bits(uint32_t seed, uint32_t index) {
  return bench_hash32(index * 0x9e3779b9U + seed * 0x85ebca6bU + 0x165667b1U);
}

/* Uniform in [-1, 1), a multiple of 2^-23: exact in float. */
static inline float bench_symmetric(uint32_t seed, uint32_t index) {
  return (float)((double)(bench_random_bits(seed, index) >> 8) / 8388608.0 - 1.0);
}

static inline void bench_fill_symmetric(float *out, long size, uint32_t seed) {
  for (long i = 0; i < size; i++) out[i] = bench_symmetric(seed, (uint32_t)i);
}
#endif
