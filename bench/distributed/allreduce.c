/* The reference figure for Flint's all-reduce: MPI_Allreduce (sum) of a float32 buffer over
 * MPI_COMM_WORLD, timed as Flint's is (warm-up, then one barrier-aligned call per sample), and
 * printed as one JSON line by rank 0.
 *
 *   allreduce <megabytes> <iterations> <warmup> [blocking|polled|yield]
 *
 * `polled` waits as Flint's addon does (MPI_Iallreduce, then MPI_Test: 2000 spins, then sleeps
 * doubling from 10 us to 2 ms), `yield` the same with sched_yield instead of the sleeps: they
 * separate the cost of that waiting from the cost of MPI itself. */
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Open MPI's non-blocking collectives advance only inside MPI calls, so how often a waiting rank
 * calls MPI_Test bounds how fast a large, many-round reduction can go. */
static void wait_polled(MPI_Request *request, int yield) {
  int done = 0;
  long polls = 0;
  long pause_us = 10;
  for (;;) {
    MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (++polls < 2000) continue;
    if (yield) {
      sched_yield();
      continue;
    }
    struct timespec pause = {0, pause_us * 1000};
    nanosleep(&pause, NULL);
    if (pause_us < 2000) pause_us *= 2;
  }
}

static int compare(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const double megabytes = argc > 1 ? atof(argv[1]) : 64.0;
  const int iterations = argc > 2 ? atoi(argv[2]) : 10;
  const int warmup = argc > 3 ? atoi(argv[3]) : 2;
  const char *wait = argc > 4 ? argv[4] : "blocking";
  const int polled = strcmp(wait, "polled") == 0, yield = strcmp(wait, "yield") == 0;
  const size_t count = (size_t)(megabytes * 1024.0 * 1024.0 / sizeof(float));
  float *data = malloc(count * sizeof(float));
  double *seconds = malloc((size_t)iterations * sizeof(double));
  if (data == NULL || seconds == NULL) MPI_Abort(MPI_COMM_WORLD, 2);
  for (int i = 0; i < warmup + iterations; i++) {
    /* Each sample reduces the same values (refilled outside the timing), so every sum is checkable. */
    for (size_t j = 0; j < count; j++) data[j] = (float)(rank + 1);
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    if (polled || yield) {
      MPI_Request request;
      MPI_Iallreduce(MPI_IN_PLACE, data, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
      wait_polled(&request, yield);
    } else {
      MPI_Allreduce(MPI_IN_PLACE, data, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    const double elapsed = MPI_Wtime() - start;
    double slowest = 0;
    /* A collective ends when its slowest rank does. */
    MPI_Reduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (i >= warmup) seconds[i - warmup] = slowest;
  }
  const float expected = (float)size * (size + 1) / 2;
  const int correct = data[0] == expected && data[count / 2] == expected && data[count - 1] == expected;
  if (rank == 0) {
    qsort(seconds, (size_t)iterations, sizeof(double), compare);
    printf("{\"system\":\"c-mpi-%s\",\"ranks\":%d,\"bytes\":%zu,\"iterations\":%d,\"correct\":%s,\"seconds\":[", wait, size,
           count * sizeof(float), iterations, correct ? "true" : "false");
    for (int i = 0; i < iterations; i++) printf("%s%.9f", i == 0 ? "" : ",", seconds[i]);
    printf("]}\n");
  }
  free(seconds);
  free(data);
  MPI_Finalize();
  return correct ? 0 : 1;
}
