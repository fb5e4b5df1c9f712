// Threefry-2x32 with 20 rounds (Salmon et al., SC 2011), exactly as the portable CPU backend
// computes it (packages/backend-cpu/src/kernels/random.ts, which documents the stream layout).
// Host and device code: src/native/host-semantics.test.ts compiles it for the host and compares
// its words with the CPU backend's, bit for bit.
#pragma once

#ifndef FLINT_HOST_DEVICE
#define FLINT_HOST_DEVICE __host__ __device__ __forceinline__
#endif

namespace flint_random {

FLINT_HOST_DEVICE unsigned int rotateLeft(unsigned int x, int r) { return (x << r) | (x >> (32 - r)); }

/** Encrypts the counter (c0, c1) under the key (k0, k1) into (y0, y1). */
FLINT_HOST_DEVICE void threefry(unsigned int k0, unsigned int k1, unsigned int c0, unsigned int c1, unsigned int& y0,
                                unsigned int& y1) {
  const int rotations[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  const unsigned int ks[3] = {k0, k1, 0x1bd11bdau ^ k0 ^ k1};
  unsigned int x0 = c0 + k0;
  unsigned int x1 = c1 + k1;
#pragma unroll
  for (int round = 0; round < 20; round++) {
    x0 += x1;
    x1 = rotateLeft(x1, rotations[round & 7]);
    x1 ^= x0;
    if ((round & 3) == 3) {
      const unsigned int s = static_cast<unsigned int>((round + 1) >> 2);
      x0 += ks[s % 3];
      x1 += ks[(s + 1) % 3] + s;
    }
  }
  y0 = x0;
  y1 = x1;
}

/** A float32 uniform in [0, 1) from one word: its top 24 bits times 2^-24. */
FLINT_HOST_DEVICE float uniformFloat(unsigned int word) { return static_cast<float>(word >> 8) * 5.9604644775390625e-8f; }

/** A float64 uniform in [0, 1) from two words: 27 high bits and 26 low bits, times 2^-53. */
FLINT_HOST_DEVICE double uniformDouble(unsigned int high, unsigned int low) {
  return (static_cast<double>(high >> 5) * 67108864.0 + static_cast<double>(low >> 6)) * 1.1102230246251565e-16;
}

}  // namespace flint_random
