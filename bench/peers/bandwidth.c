/*
 * The machine's memory-bandwidth ceiling: STREAM-style copy and triad over arrays far larger than
 * the caches, one thread per core, best of several runs. Bytes count reads and writes once each
 * (STREAM's convention, as the elementwise suite counts them). Prints one JSON line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench_timing.h"

#define ELEMENTS (24L * 1024 * 1024)

static double *a, *b, *c;

typedef struct {
  long begin, end;
  int op;
} slice;

static void *work(void *argument) {
  slice *s = argument;
  if (s->op == 0) {
    for (long i = s->begin; i < s->end; i++) a[i] = 1.0, b[i] = 2.0, c[i] = 0.5;
  } else if (s->op == 1) {
    for (long i = s->begin; i < s->end; i++) c[i] = a[i];
  } else {
    const double scalar = 3.0;
    for (long i = s->begin; i < s->end; i++) a[i] = b[i] + scalar * c[i];
  }
  return NULL;
}

static double run(int op, int threads) {
  pthread_t ids[256];
  slice slices[256];
  double t0 = bench_now_ms();
  for (int t = 0; t < threads; t++) {
    slices[t] = (slice){ELEMENTS * t / threads, ELEMENTS * (t + 1) / threads, op};
    pthread_create(&ids[t], NULL, work, &slices[t]);
  }
  for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  return (bench_now_ms() - t0) / 1e3;
}

int main(void) {
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  if (cores > 256) cores = 256;
  a = aligned_alloc(64, sizeof(double) * ELEMENTS);
  b = aligned_alloc(64, sizeof(double) * ELEMENTS);
  c = aligned_alloc(64, sizeof(double) * ELEMENTS);
  run(0, cores); /* first touch, from the threads that will use each page */
  double copy = 0, triad = 0;
  for (int r = 0; r < 6; r++) {
    double s = run(1, cores);
    double gbs = 2.0 * sizeof(double) * ELEMENTS / s / 1e9;
    if (gbs > copy) copy = gbs;
    s = run(2, cores);
    gbs = 3.0 * sizeof(double) * ELEMENTS / s / 1e9;
    if (gbs > triad) triad = gbs;
  }
  printf("{\"copyGBs\":%.1f,\"triadGBs\":%.1f,\"threads\":%d,\"check\":%.1f}\n", copy, triad, cores, a[ELEMENTS / 2] + c[ELEMENTS / 3]);
  return 0;
}
