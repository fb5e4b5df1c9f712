/*
 * Native ceiling for matmul: oneDNN's matmul primitive (f32, row-major), C API 2.x or 3.x.
 * usage: onednn_matmul <case id> <n> <seed> <output file> <output name> <7 timing numbers>
 */
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include "bench_timing.h"
#include "prng.h"

#define CHECK(call)                                                              \
  do {                                                                           \
    dnnl_status_t status_ = (call);                                              \
    if (status_ != dnnl_success) {                                               \
      printf("@@flint-bench-result {\"id\":\"%s\",\"status\":\"error\",\"reason\":\"%s failed: %d\"}\n", case_id, #call, (int)status_); \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

static const char *case_id = "";

typedef struct {
  dnnl_primitive_t primitive;
  dnnl_stream_t stream;
  dnnl_exec_arg_t args[3];
} matmul_context;

static void run(void *context, long count) {
  matmul_context *m = context;
  for (long i = 0; i < count; i++) dnnl_primitive_execute(m->primitive, m->stream, 3, m->args);
  dnnl_stream_wait(m->stream);
}

int main(int argc, char **argv) {
  if (argc < 13) {
    fprintf(stderr, "usage: %s id n seed output-file output-name warmup warmup-ms repeats min-samples budget-ms min-sample-ms max-case-ms\n", argv[0]);
    return 2;
  }
  double start = bench_now_ms();
  case_id = argv[1];
  int n = atoi(argv[2]);
  unsigned seed = (unsigned)atoi(argv[3]);
  long size = (long)n * n;
  float *a = aligned_alloc(64, sizeof(float) * size), *b = aligned_alloc(64, sizeof(float) * size), *c = aligned_alloc(64, sizeof(float) * size);
  bench_fill_symmetric(a, size, seed + 1);
  bench_fill_symmetric(b, size, seed + 2);

  dnnl_engine_t engine;
  CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
  matmul_context m;
  CHECK(dnnl_stream_create(&m.stream, engine, dnnl_stream_default_flags));
  dnnl_dims_t dims = {n, n};
  dnnl_memory_t a_mem, b_mem, c_mem;
  dnnl_primitive_desc_t pd;
#if DNNL_VERSION_MAJOR >= 3
  dnnl_memory_desc_t a_md, b_md, c_md;
  CHECK(dnnl_memory_desc_create_with_tag(&a_md, 2, dims, dnnl_f32, dnnl_ab));
  CHECK(dnnl_memory_desc_create_with_tag(&b_md, 2, dims, dnnl_f32, dnnl_ab));
  CHECK(dnnl_memory_desc_create_with_tag(&c_md, 2, dims, dnnl_f32, dnnl_ab));
  CHECK(dnnl_matmul_primitive_desc_create(&pd, engine, a_md, b_md, NULL, c_md, NULL));
  CHECK(dnnl_memory_create(&a_mem, a_md, engine, a));
  CHECK(dnnl_memory_create(&b_mem, b_md, engine, b));
  CHECK(dnnl_memory_create(&c_mem, c_md, engine, c));
#else
  dnnl_memory_desc_t a_md, b_md, c_md;
  CHECK(dnnl_memory_desc_init_by_tag(&a_md, 2, dims, dnnl_f32, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 2, dims, dnnl_f32, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&c_md, 2, dims, dnnl_f32, dnnl_ab));
  dnnl_matmul_desc_t desc;
  CHECK(dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &c_md));
  CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL));
  CHECK(dnnl_memory_create(&a_mem, &a_md, engine, a));
  CHECK(dnnl_memory_create(&b_mem, &b_md, engine, b));
  CHECK(dnnl_memory_create(&c_mem, &c_md, engine, c));
#endif
  CHECK(dnnl_primitive_create(&m.primitive, pd));
  m.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, a_mem};
  m.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, b_mem};
  m.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, c_mem};
  const dnnl_version_t *version = dnnl_version();
  const char *impl = "";
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  printf("@@flint-bench-info {\"system\":\"onednn\",\"version\":\"%d.%d.%d\",\"notes\":[\"impl %s\"]}\n", version->major, version->minor, version->patch, impl);
  double check_start = bench_now_ms();
  run(&m, 1);
  double first_run_ms = bench_now_ms() - check_start;
  if (bench_write_output(argv[4], c, size) != 0) {
    printf("@@flint-bench-result {\"id\":\"%s\",\"status\":\"error\",\"reason\":\"cannot write %s\"}\n", argv[1], argv[4]);
    return 1;
  }
  bench_measure_and_report(argv[1], argv[5], "dnnl matmul", run, &m, bench_parse_timing(argv + 6), start, first_run_ms);
  return 0;
}
