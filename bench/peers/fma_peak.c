/*
 * The machine's float32 compute ceiling: independent chains of fused multiply-adds in the widest
 * vector registers the CPU offers (AVX-512, else AVX2, else plain C the compiler vectorizes), on
 * one thread per core and on one core. Prints one JSON line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench_timing.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CHAINS 12

typedef double (*kernel_fn)(long iterations, float seed);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double kernel_avx512(long iterations, float seed) {
  __m512 acc[CHAINS];
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_set1_ps(seed + k);
  for (long i = 0; i < iterations; i++) {
    acc[0] = _mm512_fmadd_ps(acc[0], m, c);
    acc[1] = _mm512_fmadd_ps(acc[1], m, c);
    acc[2] = _mm512_fmadd_ps(acc[2], m, c);
    acc[3] = _mm512_fmadd_ps(acc[3], m, c);
    acc[4] = _mm512_fmadd_ps(acc[4], m, c);
    acc[5] = _mm512_fmadd_ps(acc[5], m, c);
    acc[6] = _mm512_fmadd_ps(acc[6], m, c);
    acc[7] = _mm512_fmadd_ps(acc[7], m, c);
    acc[8] = _mm512_fmadd_ps(acc[8], m, c);
    acc[9] = _mm512_fmadd_ps(acc[9], m, c);
    acc[10] = _mm512_fmadd_ps(acc[10], m, c);
    acc[11] = _mm512_fmadd_ps(acc[11], m, c);
  }
  __m512 sum = acc[0];
  for (int k = 1; k < CHAINS; k++) sum = _mm512_add_ps(sum, acc[k]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static double kernel_avx2(long iterations, float seed) {
  __m256 acc[CHAINS];
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_set1_ps(seed + k);
  for (long i = 0; i < iterations; i++) {
    acc[0] = _mm256_fmadd_ps(acc[0], m, c);
    acc[1] = _mm256_fmadd_ps(acc[1], m, c);
    acc[2] = _mm256_fmadd_ps(acc[2], m, c);
    acc[3] = _mm256_fmadd_ps(acc[3], m, c);
    acc[4] = _mm256_fmadd_ps(acc[4], m, c);
    acc[5] = _mm256_fmadd_ps(acc[5], m, c);
    acc[6] = _mm256_fmadd_ps(acc[6], m, c);
    acc[7] = _mm256_fmadd_ps(acc[7], m, c);
    acc[8] = _mm256_fmadd_ps(acc[8], m, c);
    acc[9] = _mm256_fmadd_ps(acc[9], m, c);
    acc[10] = _mm256_fmadd_ps(acc[10], m, c);
    acc[11] = _mm256_fmadd_ps(acc[11], m, c);
  }
  __m256 sum = acc[0];
  for (int k = 1; k < CHAINS; k++) sum = _mm256_add_ps(sum, acc[k]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  double total = 0;
  for (int k = 0; k < 8; k++) total += lanes[k];
  return total;
}
#endif

#define GENERIC_WIDTH 16
static double kernel_generic(long iterations, float seed) {
  float acc[CHAINS][GENERIC_WIDTH];
  for (int k = 0; k < CHAINS; k++)
    for (int l = 0; l < GENERIC_WIDTH; l++) acc[k][l] = seed + k + l;
  for (long i = 0; i < iterations; i++)
    for (int k = 0; k < CHAINS; k++)
      for (int l = 0; l < GENERIC_WIDTH; l++) acc[k][l] = acc[k][l] * 0.999999f + 1e-7f;
  double total = 0;
  for (int k = 0; k < CHAINS; k++)
    for (int l = 0; l < GENERIC_WIDTH; l++) total += acc[k][l];
  return total;
}

typedef struct {
  kernel_fn kernel;
  long iterations;
  double result;
} worker;

static void *work(void *argument) {
  worker *w = argument;
  w->result = w->kernel(w->iterations, 1.0f);
  return NULL;
}

/* Best GFLOP/s over a few runs on `threads` threads. */
static double measure(kernel_fn kernel, int lanes, int threads, long iterations) {
  double best = 0;
  worker workers[256];
  pthread_t ids[256];
  for (int run = 0; run < 5; run++) {
    double t0 = bench_now_ms();
    for (int t = 0; t < threads; t++) {
      workers[t] = (worker){kernel, iterations, 0};
      pthread_create(&ids[t], NULL, work, &workers[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double seconds = (bench_now_ms() - t0) / 1e3;
    double gflops = 2.0 * CHAINS * lanes * (double)iterations * threads / seconds / 1e9;
    if (gflops > best) best = gflops;
  }
  return best;
}

int main(void) {
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  if (cores > 256) cores = 256;
  kernel_fn kernel = kernel_generic;
  int lanes = GENERIC_WIDTH;
  const char *isa = "generic";
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    kernel = kernel_avx512;
    lanes = 16;
    isa = "avx512";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernel = kernel_avx2;
    lanes = 8;
    isa = "avx2";
  }
#endif
  /* About 0.1 s per run at a few GHz. */
  long iterations = 30000000L / (lanes / 8 > 0 ? lanes / 8 : 1);
  double one = measure(kernel, lanes, 1, iterations);
  double all = measure(kernel, lanes, cores, iterations);
#if defined(__x86_64__)
  /* On some CPUs (AMD Zen 4) 512-bit FMAs issue at half the rate of 256-bit ones: take the faster. */
  if (kernel == kernel_avx512 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    double one2 = measure(kernel_avx2, 8, 1, iterations * 2), all2 = measure(kernel_avx2, 8, cores, iterations * 2);
    if (all2 > all) {
      all = all2;
      one = one2 > one ? one2 : one;
      isa = "avx2";
    }
  }
#endif
  printf("{\"fmaPeakGflops\":%.1f,\"fmaPeakGflopsOneCore\":%.1f,\"isa\":\"%s\",\"threads\":%d}\n", all, one, isa, cores);
  return 0;
}
