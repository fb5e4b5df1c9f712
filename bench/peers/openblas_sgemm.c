/*
 * Native ceiling for matmul: OpenBLAS's cblas_sgemm, on all cores OpenBLAS chooses.
 * usage: openblas_sgemm <case id> <n> <seed> <output file> <output name> <7 timing numbers>
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include "bench_timing.h"
#include "prng.h"

typedef struct {
  int n;
  float *a, *b, *c;
} gemm_context;

static void run(void *context, long count) {
  gemm_context *g = context;
  for (long i = 0; i < count; i++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

int main(int argc, char **argv) {
  if (argc < 13) {
    fprintf(stderr, "usage: %s id n seed output-file output-name warmup warmup-ms repeats min-samples budget-ms min-sample-ms max-case-ms\n", argv[0]);
    return 2;
  }
  double start = bench_now_ms();
  gemm_context g;
  g.n = atoi(argv[2]);
  unsigned seed = (unsigned)atoi(argv[3]);
  long size = (long)g.n * g.n;
  g.a = aligned_alloc(64, sizeof(float) * size);
  g.b = aligned_alloc(64, sizeof(float) * size);
  g.c = aligned_alloc(64, sizeof(float) * size);
  bench_fill_symmetric(g.a, size, seed + 1);
  bench_fill_symmetric(g.b, size, seed + 2);
  printf("@@flint-bench-info {\"system\":\"openblas\",\"version\":\"%s\",\"threads\":%d}\n", openblas_get_config(), openblas_get_num_threads());
  double check_start = bench_now_ms();
  run(&g, 1);
  double first_run_ms = bench_now_ms() - check_start;
  if (bench_write_output(argv[4], g.c, size) != 0) {
    printf("@@flint-bench-result {\"id\":\"%s\",\"status\":\"error\",\"reason\":\"cannot write %s\"}\n", argv[1], argv[4]);
    return 1;
  }
  bench_measure_and_report(argv[1], argv[5], "cblas_sgemm", run, &g, bench_parse_timing(argv + 6), start, first_run_ms);
  return 0;
}
