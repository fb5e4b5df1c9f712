/*
 * Sampling for the native peers, with the same rules as bench/common/timing.ts: warm-up (the
 * correctness run counts as the first), batching of fast iterations, a time budget, a hard cap.
 */
#ifndef FLINT_BENCH_TIMING_H
#define FLINT_BENCH_TIMING_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  int warmup;
  double warmup_ms;
  int repeats, min_samples;
  double budget_ms, min_sample_ms, max_case_ms;
} bench_timing;

typedef void (*bench_batch_fn)(void *context, long count);

static inline double bench_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static inline double bench_cpu_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static inline bench_timing bench_parse_timing(char **argv) {
  bench_timing t;
  t.warmup = atoi(argv[0]);
  t.warmup_ms = atof(argv[1]);
  t.repeats = atoi(argv[2]);
  t.min_samples = atoi(argv[3]);
  t.budget_ms = atof(argv[4]);
  t.min_sample_ms = atof(argv[5]);
  t.max_case_ms = atof(argv[6]);
  return t;
}

/* Times fn and prints the case's result line (the protocol of bench/common/protocol.ts). */
static inline void bench_measure_and_report(const char *id, const char *output, const char *note, bench_batch_fn fn, void *context,
                                            bench_timing t, double case_start, double first_run_ms) {
  double last = first_run_ms;
  for (int w = 1; w < t.warmup && bench_now_ms() - case_start < t.max_case_ms / 3; w++) {
    double t0 = bench_now_ms();
    fn(context, 1);
    last = bench_now_ms() - t0;
  }
  long inner = 1;
  if (!(last >= t.min_sample_ms)) {
    long count = 1;
    for (;;) {
      double t0 = bench_now_ms();
      fn(context, count);
      double ms = bench_now_ms() - t0;
      if (ms >= t.min_sample_ms / 4 || count >= (1L << 20)) {
        inner = (long)ceil(count * t.min_sample_ms / (ms > 1e-3 ? ms : 1e-3));
        if (inner < 1) inner = 1;
        break;
      }
      count *= 4;
    }
  }
  double warm_start = bench_now_ms();
  while (bench_now_ms() - warm_start < t.warmup_ms && bench_now_ms() - case_start < t.budget_ms / 2) fn(context, inner);
  double samples[4096];
  int n = 0;
  double cpu = 0, wall = 0;
  while (n < t.repeats && n < 4096) {
    double elapsed = bench_now_ms() - case_start;
    if (n >= t.min_samples && elapsed > t.budget_ms) break;
    if (n > 0 && elapsed + samples[n - 1] * inner > t.max_case_ms) break;
    double c0 = bench_cpu_ms(), t0 = bench_now_ms();
    fn(context, inner);
    double ms = bench_now_ms() - t0;
    cpu += bench_cpu_ms() - c0;
    wall += ms;
    samples[n++] = ms / inner;
  }
  printf("@@flint-bench-result {\"id\":\"%s\",\"status\":\"ok\",\"output\":\"%s\",\"inner\":%ld,\"coresUsed\":%.3f,\"note\":\"%s\",\"samplesMs\":[", id,
         output, inner, wall > 0 ? cpu / wall : 0.0, note);
  for (int i = 0; i < n; i++) printf("%s%.6g", i ? "," : "", samples[i]);
  printf("]}\n");
  fflush(stdout);
}

static inline int bench_write_output(const char *path, const float *data, long size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t written = fwrite(data, sizeof(float), (size_t)size, f);
  fclose(f);
  return written == (size_t)size ? 0 : -1;
}
#endif
