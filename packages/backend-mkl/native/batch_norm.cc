// Batch normalization (float32) as loops over the callers' plain layout: the training forward pass
// (the batch's per-channel mean and biased variance, and the output), the inference forward pass
// (given statistics) and the backward pass (the input's, weight's and bias's cotangents): the fused
// kernels eager dispatch and jit use for the api's batch norm composites (Backend.composites). The
// input [N, C, ...spatial] is read as [N, C, S] (S the spatial dims' product, 1 at rank 2), packed
// first when the view is not contiguous.
//
// These kernels ran oneDNN 2.6's batch_normalization primitives before. oneDNN's fast kernels take
// only channel-blocked layouts (on nchw it has a C++ loop, ncsp_bnorm, about 3 times slower than
// those with the reorders around them), so every call reordered its input (and cotangent) into nChw16c and the result back: the backward
// pass read or wrote each element about 11 times, where the loop below reads x and g once for the
// per-channel sums and once more for the input's cotangent, which it writes (5 times; a channel
// taken whole stays in the core's cache between the two). The loops measured faster on every
// shape tried, forward, backward and inference (docs/backend-mkl.md, "Batch norm", has the
// figures): through the api, forward + backward on [64, 32, 28, 28] took 3.7-3.8 ms with oneDNN
// and 1.4-1.9 ms as loops (PyTorch 2.2-2.4 ms), the forward pass 1.1-1.2 and 0.34-0.35 ms.
//
// NaN and infinities give what the composite gives (a NaN or an infinity in a channel's input
// makes its statistics and output NaN, a NaN or infinite cotangent its cotangents): the forward
// passes take the composite's steps (sums in double, each elementwise step in float32); the
// backward pass factors the composite's formula and computes a channel as the composite does
// where the two could differ beyond rounding (see Coefficients).
//
// The entry points return true: they never decline (the boolean is the fused kernels' calling
// convention, where a oneDNN primitive may be refused); bad arguments throw.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "common.h"
#include "normalization.h"
#include "ops.h"

namespace flint {

namespace {

/** The input as the loops read it: [N, C, S], S the spatial dims' product (1 at rank 2). */
struct Geometry {
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t spatial = 1;

  /** Elements per channel, over which the statistics are taken. */
  int64_t perChannel() const { return batch * spatial; }
  int64_t size() const { return batch * channels * spatial; }
};

Geometry geometryOf(Napi::Env env, const char* op, const View& x) {
  if (x.rank < 2) throwRange(env, op, "input must be [N, C] or [N, C, ...]");
  Geometry geometry;
  geometry.batch = x.shape[0];
  geometry.channels = x.shape[1];
  for (int d = 2; d < x.rank; d++) geometry.spatial *= x.shape[d];
  return geometry;
}

/** Throws unless `view` is a vector of one element per channel. */
void checkChannels(Napi::Env env, const char* op, const char* what, const View& view, int64_t channels) {
  if (view.rank != 1 || view.shape[0] != channels) {
    throwRange(env, op, std::string(what) + " must have shape [" + std::to_string(channels) + "], the input's channels");
  }
}

/** A float32 view's elements as a contiguous array (its own memory when it already is one). */
float* floatsOf(const View& view, std::vector<char>& storage) {
  return static_cast<float*>(const_cast<void*>(contiguousOrCopy(view, storage)));
}

/**
 * A per-channel argument (statistics, weight, bias; array and layout at `index`, `index + 1`),
 * checked to be [C], as contiguous floats; null where `optional` and absent (both null).
 */
float* channelArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t channels, bool optional,
                  std::vector<char>& storage) {
  View view;
  if (optional) {
    if (!optionalView(info, index, index + 1, op, what, view)) return nullptr;
  } else {
    view = viewArg(info, index, index + 1, kFloat32, op, what);
  }
  checkChannels(info.Env(), op, what, view, channels);
  return floatsOf(view, storage);
}

// -------------------------------------------------------------------------------------------------
// Loops over the plain layout [N, C, S]: channel c of sample n is the plane of S contiguous elements
// at (n * C + c) * S. Sums are taken in double (as the composite's reductions), elementwise steps
// in float32.

/** Where plane (n, c) starts in a contiguous [N, C, S] array. */
int64_t planeAt(const Geometry& geometry, int64_t n, int64_t c) { return (n * geometry.channels + c) * geometry.spatial; }

/**
 * Tasks for a pass over `elements` elements: one per kLoopGrain elements, at most one per thread,
 * and one below two grains (entering an OpenMP region costs more than a small loop). These passes
 * read or write two to five streams per element, no less work than the cheap loops kLoopGrain was
 * measured on: [16, 32, 16, 16] (131,072 elements, two grains) took 0.047-0.051 ms forward and
 * 0.059-0.062 ms backward on one thread, 0.025-0.027 and 0.030-0.031 ms on two; [128, 256]
 * (32,768) took the same either way, 0.017 and 0.022 ms; [256, 256] gained 0.005 ms forward.
 */
int64_t tasksFor(int64_t elements) {
  if (elements < 2 * kLoopGrain) return 1;
  return std::min<int64_t>(threadCount(), elements / kLoopGrain);
}

/** Calls body(t) for each of `tasks` tasks (tasksFor), each on a thread of its own. */
template <typename Body>
void forEachTask(int64_t tasks, Body body) {
  // parallelRanges runs min(threads, work / grain, total) pieces of its total: with a total of
  // `tasks`, a work of two per task and a grain of one, one task a piece (none on more than one).
  const int64_t grain = 1;
  parallelRanges(
      tasks, 2 * grain * tasks,
      [&](int64_t first, int64_t last) {
        for (int64_t t = first; t < last; t++) body(t);
      },
      grain);
}

/** Task t's share [first, last) of `total` items cut into `tasks` consecutive pieces. */
std::pair<int64_t, int64_t> shareOf(int64_t total, int64_t tasks, int64_t t) { return {total * t / tasks, total * (t + 1) / tasks}; }

/**
 * Below this many elements per plane, a sum over one plane runs too few iterations to pay for its
 * setup (double accumulators, the remainder, the horizontal sum), so the passes that sum read whole
 * samples as rows of C * S elements instead, vectorized along the row with an accumulator per
 * position ([128, 256] is rows of 256 channels, S = 1). Forward and backward took, on planes and
 * along rows: [64, 256, 4, 4] 0.19 and 0.37 ms, 0.09 and 0.13 ms; [64, 128, 5, 5] 0.125 and 0.15
 * ms, 0.065 and 0.10 ms; [64, 128, 6, 6] 0.12 and 0.16 ms, 0.08 and 0.14-0.15 ms; [64, 128, 7, 7]
 * about the same either way (0.11-0.12 and 0.17-0.19 ms); [64, 64, 12, 12] 0.13 and 0.18 ms,
 * 0.21 and 0.27 ms.
 */
constexpr int64_t kSumRowsBelow = 48;

/**
 * The same for the passes that only write (the normalization, the input's cotangent): a loop over
 * a plane has no reductions to set up, and along rows it reads its per-channel values repeated
 * along the row, so planes win from fewer elements on. Inference took, on planes and along rows:
 * [64, 512, 2, 2] 0.065 and 0.025 ms, [64, 512, 3, 3] 0.062 and 0.049 ms, [64, 256, 4, 4] 0.031
 * and 0.042 ms, [64, 128, 7, 7] 0.028 and 0.10 ms.
 */
constexpr int64_t kWriteRowsBelow = 16;

/** A double sum that tasks add up in order. */
struct Total {
  double value = 0;
  void merge(const Total& other) { value += other.value; }
};

/**
 * Per-channel sums over channels [first, C) with the samples split over `tasks` (for channels too
 * few to give each thread whole ones): add(sums, at, c) adds plane (n, c), starting at `at`, into
 * a task's sums for channel c. The tasks' sums are merged in task order, so results do not depend
 * on which thread finished first.
 */
template <typename Sums, typename Add>
std::vector<Sums> sumSharedChannels(const Geometry& geometry, int64_t first, int64_t tasks, Add add) {
  const int64_t shared = geometry.channels - first;
  std::vector<Sums> partial(static_cast<size_t>(tasks * shared));
  forEachTask(tasks, [&](int64_t t) {
    const auto [n0, n1] = shareOf(geometry.batch, tasks, t);
    for (int64_t n = n0; n < n1; n++) {
      for (int64_t c = first; c < geometry.channels; c++) add(partial[t * shared + c - first], planeAt(geometry, n, c), c);
    }
  });
  std::vector<Sums> sums(static_cast<size_t>(shared));
  for (int64_t t = 0; t < tasks; t++) {
    for (int64_t i = 0; i < shared; i++) sums[i].merge(partial[t * shared + i]);
  }
  return sums;
}

/** Calls visit(at, c) for each plane of channels [first, C), the samples split over `tasks`. */
template <typename Visit>
void forEachSharedPlane(const Geometry& geometry, int64_t first, int64_t tasks, Visit visit) {
  forEachTask(tasks, [&](int64_t t) {
    const auto [n0, n1] = shareOf(geometry.batch, tasks, t);
    for (int64_t n = n0; n < n1; n++) {
      for (int64_t c = first; c < geometry.channels; c++) visit(planeAt(geometry, n, c), c);
    }
  });
}

/**
 * Runs whole(c) for channels each task takes whole (C / tasks of them per task, each in one go
 * while its planes are in the core's cache) and returns the first channel left over, which the
 * caller splits over the tasks by samples (all of them when C < tasks, none when tasks is 1).
 */
template <typename Whole>
int64_t forEachWholeChannel(const Geometry& geometry, int64_t tasks, Whole whole) {
  const int64_t perTask = geometry.channels / tasks;
  if (perTask > 0) {
    forEachTask(tasks, [&](int64_t t) {
      for (int64_t c = t * perTask; c < (t + 1) * perTask; c++) whole(c);
    });
  }
  return perTask * tasks;
}

/** Per-position sums of row-shaped samples (see kSumRowsBelow), one row of accumulators per task. */
struct RowSums {
  int64_t length;
  std::vector<double> values;
  RowSums(int64_t tasks, int64_t length) : length(length), values(static_cast<size_t>(tasks * length)) {}
  double* task(int64_t t) { return values.data() + t * length; }
  /** Channel c's sum over the tasks and its S positions (the tasks in order). */
  double channel(int64_t tasks, int64_t spatial, int64_t c) const {
    double sum = 0;
    for (int64_t t = 0; t < tasks; t++) {
      for (int64_t i = 0; i < spatial; i++) sum += values[t * length + c * spatial + i];
    }
    return sum;
  }
};

/** A per-channel vector repeated along a row of C * S positions (each channel's value S times). */
std::vector<float> alongRow(const Geometry& geometry, const std::vector<float>& perChannel) {
  if (geometry.spatial == 1) return perChannel;
  std::vector<float> row(static_cast<size_t>(geometry.channels * geometry.spatial));
  for (int64_t c = 0, at = 0; c < geometry.channels; c++) {
    for (int64_t i = 0; i < geometry.spatial; i++) row[at++] = perChannel[c];
  }
  return row;
}

/** Calls visit(at) for each row (sample) of the input, the rows split over `tasks`. */
template <typename Visit>
void forEachRow(const Geometry& geometry, int64_t tasks, Visit visit) {
  const int64_t length = geometry.channels * geometry.spatial;
  forEachTask(tasks, [&](int64_t t) {
    const auto [n0, n1] = shareOf(geometry.batch, tasks, t);
    for (int64_t n = n0; n < n1; n++) visit(n * length);
  });
}

/** Calls visit(at, c) for each plane (one sample's channel c, starting at `at`), the planes split over `tasks`. */
template <typename Visit>
void forEachPlane(const Geometry& geometry, int64_t tasks, Visit visit) {
  const int64_t planes = geometry.batch * geometry.channels;
  forEachTask(tasks, [&](int64_t t) {
    const auto [p0, p1] = shareOf(planes, tasks, t);
    for (int64_t p = p0; p < p1; p++) visit(p * geometry.spatial, p % geometry.channels);
  });
}

// ------------------------------------------------------------------------------ normalization ---

/** r = 1 / sqrt(variance + eps), in float32 as the composite's rsqrt(variance + eps). */
float reciprocalDeviation(float variance, float epsilon) { return 1.0f / std::sqrt(variance + epsilon); }

/** What the normalization reads per channel: y = (x - mean) * r * weight + bias. */
struct Normalize {
  const float* x;
  float* y;
  const float* weight;  // null when absent
  const float* bias;    // null when absent
};

/** y = (x - mean) * r [* w] [+ b] over a run of one channel, each step rounded to float32 as the composite's ops. */
template <bool kWeight, bool kBias>
void normalizeRun(const float* x, float* y, int64_t count, float mean, float r, float w, float b) {
#pragma omp simd
  for (int64_t i = 0; i < count; i++) {
    float value = (x[i] - mean) * r;
    if constexpr (kWeight) value *= w;
    if constexpr (kBias) value += b;
    y[i] = value;
  }
}

/** normalizeRun for channel c, starting at `at`, with the weight and bias the call has. */
void normalizePlane(const Normalize& pass, int64_t at, int64_t count, int64_t c, float mean, float r) {
  const float w = pass.weight != nullptr ? pass.weight[c] : 1.0f;
  const float b = pass.bias != nullptr ? pass.bias[c] : 0.0f;
  const float* x = pass.x + at;
  float* y = pass.y + at;
  if (pass.weight != nullptr && pass.bias != nullptr) normalizeRun<true, true>(x, y, count, mean, r, w, b);
  else if (pass.weight != nullptr) normalizeRun<true, false>(x, y, count, mean, r, w, b);
  else if (pass.bias != nullptr) normalizeRun<false, true>(x, y, count, mean, r, w, b);
  else normalizeRun<false, false>(x, y, count, mean, r, w, b);
}

/** The normalization along rows: per-position means, rs, weights and biases (alongRow). */
template <bool kWeight, bool kBias>
void normalizeRow(const float* x, float* y, int64_t length, const float* mean, const float* r, const float* w, const float* b) {
#pragma omp simd
  for (int64_t i = 0; i < length; i++) {
    float value = (x[i] - mean[i]) * r[i];
    if constexpr (kWeight) value *= w[i];
    if constexpr (kBias) value += b[i];
    y[i] = value;
  }
}

/** Normalizes every element with per-channel `means` and `rs`, the planes (or rows) split over `tasks`. */
void normalizeAll(const Geometry& geometry, const Normalize& pass, const std::vector<float>& means, const std::vector<float>& rs,
                  int64_t tasks) {
  const int64_t spatial = geometry.spatial;
  if (spatial >= kWriteRowsBelow) {
    forEachPlane(geometry, tasks, [&](int64_t at, int64_t c) { normalizePlane(pass, at, spatial, c, means[c], rs[c]); });
    return;
  }
  const int64_t length = geometry.channels * spatial;
  const std::vector<float> mean = alongRow(geometry, means), r = alongRow(geometry, rs);
  std::vector<float> w, b;
  if (pass.weight != nullptr) w = alongRow(geometry, std::vector<float>(pass.weight, pass.weight + geometry.channels));
  if (pass.bias != nullptr) b = alongRow(geometry, std::vector<float>(pass.bias, pass.bias + geometry.channels));
  forEachRow(geometry, tasks, [&](int64_t at) {
    const float* x = pass.x + at;
    float* y = pass.y + at;
    if (pass.weight != nullptr && pass.bias != nullptr) normalizeRow<true, true>(x, y, length, mean.data(), r.data(), w.data(), b.data());
    else if (pass.weight != nullptr) normalizeRow<true, false>(x, y, length, mean.data(), r.data(), w.data(), b.data());
    else if (pass.bias != nullptr) normalizeRow<false, true>(x, y, length, mean.data(), r.data(), w.data(), b.data());
    else normalizeRow<false, false>(x, y, length, mean.data(), r.data(), w.data(), b.data());
  });
}

// --------------------------------------------------------------------------- training forward ---

/** The sum of a run of `count` elements, in double. */
double sumRun(const float* x, int64_t count) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < count; i++) sum += x[i];
  return sum;
}

/** The sum of (x - mean)^2 over a run, each square in float32 (the composite's), summed in double. */
double squaresRun(const float* x, int64_t count, float mean) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < count; i++) {
    const float centered = x[i] - mean;
    sum += centered * centered;
  }
  return sum;
}

/** The mean of a sum over `count` elements, rounded to float32 (the composite's mean). */
float meanOf(double sum, int64_t count) { return static_cast<float>(sum / static_cast<double>(count)); }

/**
 * Per-position sums of term(x, i) over the rows (samples) of x, one row of accumulators per task
 * (each task sums its share of the rows), for the passes that sum along rows (kSumRowsBelow).
 */
template <typename Term>
RowSums sumAlongRows(const Geometry& geometry, int64_t tasks, const float* x, Term term) {
  const int64_t length = geometry.channels * geometry.spatial;
  RowSums sums(tasks, length);
  forEachTask(tasks, [&](int64_t t) {
    double* sum = sums.task(t);
    const auto [n0, n1] = shareOf(geometry.batch, tasks, t);
    for (int64_t n = n0; n < n1; n++) {
      const float* row = x + n * length;
#pragma omp simd
      for (int64_t i = 0; i < length; i++) sum[i] += term(row, i);
    }
  });
  return sums;
}

/** The training forward pass summing along rows (S < kSumRowsBelow): the means, the variances, then the output. */
void forwardRows(const Geometry& geometry, float epsilon, const Normalize& pass, float* means, float* variances, int64_t tasks) {
  const int64_t spatial = geometry.spatial, count = geometry.perChannel();
  const RowSums sums = sumAlongRows(geometry, tasks, pass.x, [](const float* x, int64_t i) { return x[i]; });
  std::vector<float> meanVector(static_cast<size_t>(geometry.channels)), rs(static_cast<size_t>(geometry.channels));
  for (int64_t c = 0; c < geometry.channels; c++) meanVector[c] = meanOf(sums.channel(tasks, spatial, c), count);
  const std::vector<float> mean = alongRow(geometry, meanVector);
  const RowSums squares = sumAlongRows(geometry, tasks, pass.x, [&](const float* x, int64_t i) {
    const float centered = x[i] - mean[i];
    return centered * centered;
  });
  for (int64_t c = 0; c < geometry.channels; c++) {
    means[c] = meanVector[c];
    variances[c] = meanOf(squares.channel(tasks, spatial, c), count);
    rs[c] = reciprocalDeviation(variances[c], epsilon);
  }
  normalizeAll(geometry, pass, meanVector, rs, tasks);
}

/**
 * The training forward pass on planes: channels a task takes whole in one go (the mean, the
 * variance and the output while the channel's planes are in cache), the rest with their samples
 * split over the tasks (each sum merged over the tasks before the next pass).
 */
void forwardPlanes(const Geometry& geometry, float epsilon, const Normalize& pass, float* means, float* variances, int64_t tasks) {
  const int64_t spatial = geometry.spatial, count = geometry.perChannel();
  const int64_t first = forEachWholeChannel(geometry, tasks, [&](int64_t c) {
    double sum = 0;
    for (int64_t n = 0; n < geometry.batch; n++) sum += sumRun(pass.x + planeAt(geometry, n, c), spatial);
    const float mean = meanOf(sum, count);
    double squares = 0;
    for (int64_t n = 0; n < geometry.batch; n++) squares += squaresRun(pass.x + planeAt(geometry, n, c), spatial, mean);
    means[c] = mean;
    variances[c] = meanOf(squares, count);
    const float r = reciprocalDeviation(variances[c], epsilon);
    for (int64_t n = 0; n < geometry.batch; n++) normalizePlane(pass, planeAt(geometry, n, c), spatial, c, mean, r);
  });
  if (first == geometry.channels) return;
  const std::vector<Total> sums = sumSharedChannels<Total>(
      geometry, first, tasks, [&](Total& total, int64_t at, int64_t) { total.value += sumRun(pass.x + at, spatial); });
  for (int64_t c = first; c < geometry.channels; c++) means[c] = meanOf(sums[c - first].value, count);
  const std::vector<Total> squares = sumSharedChannels<Total>(
      geometry, first, tasks, [&](Total& total, int64_t at, int64_t c) { total.value += squaresRun(pass.x + at, spatial, means[c]); });
  std::vector<float> rs(static_cast<size_t>(geometry.channels));
  for (int64_t c = first; c < geometry.channels; c++) {
    variances[c] = meanOf(squares[c - first].value, count);
    rs[c] = reciprocalDeviation(variances[c], epsilon);
  }
  forEachSharedPlane(geometry, first, tasks, [&](int64_t at, int64_t c) { normalizePlane(pass, at, spatial, c, means[c], rs[c]); });
}

/**
 * The training forward pass: each channel's mean, then its biased variance from the squares of
 * x - mean (two passes, as the composite: a channel's float32 squares overflow where the
 * composite's do), then the output.
 */
void forwardLoop(const Geometry& geometry, float epsilon, const Normalize& pass, float* means, float* variances) {
  const int64_t tasks = tasksFor(geometry.size());
  if (geometry.spatial < kSumRowsBelow) forwardRows(geometry, epsilon, pass, means, variances, tasks);
  else forwardPlanes(geometry, epsilon, pass, means, variances, tasks);
}

/** The inference forward pass: one elementwise pass with the given statistics. */
void inferenceLoop(const Geometry& geometry, float epsilon, const Normalize& pass, const float* means, const float* variances) {
  const int64_t tasks = tasksFor(geometry.size());
  std::vector<float> mean(means, means + geometry.channels), rs(static_cast<size_t>(geometry.channels));
  for (int64_t c = 0; c < geometry.channels; c++) rs[c] = reciprocalDeviation(variances[c], epsilon);
  normalizeAll(geometry, pass, mean, rs, tasks);
}

// ---------------------------------------------------------------------------------- backward ---

/** What the backward pass reads and writes (contiguous arrays; the weight and the outputs for it and the bias null when absent). */
struct Backward {
  Geometry geometry;
  float epsilon;
  const float *x, *g, *mean, *variance, *weight;
  float *dx, *dw, *db;
};

/**
 * A channel's sums for the backward pass: sum(g) and sum(g * (x - mean)) in double, and the largest
 * |g| and |x - mean| (x - mean in float32, as the composite takes it), which bound the composite's
 * float32 intermediates (see Coefficients).
 */
struct GradientSums {
  double g = 0;
  double gx = 0;
  float largestG = 0;
  float largestCentered = 0;

  void merge(const GradientSums& other) {
    g += other.g;
    gx += other.gx;
    largestG = std::max(largestG, other.largestG);
    largestCentered = std::max(largestCentered, other.largestCentered);
  }
};

/** The larger of a and b, as a value (a select the compiler vectorizes; std::max returns a reference). */
inline float larger(float a, float b) { return a < b ? b : a; }

/** Adds a run of `count` elements of one channel (x, its cotangent g) into `sums`. */
void addGradientRun(const float* x, const float* g, int64_t count, float mean, GradientSums& sums) {
  double sumG = 0, sumGX = 0;
  float largestG = 0, largestCentered = 0;
#pragma omp simd reduction(+ : sumG, sumGX) reduction(max : largestG, largestCentered)
  for (int64_t i = 0; i < count; i++) {
    const float centered = x[i] - mean;
    sumG += g[i];
    sumGX += static_cast<double>(g[i]) * centered;
    largestG = larger(largestG, std::fabs(g[i]));
    largestCentered = larger(largestCentered, std::fabs(centered));
  }
  sums.merge({sumG, sumGX, largestG, largestCentered});
}

/**
 * A channel's backward pass from its sums. The composite's r * (h - mean(h) - xhat * mean(h *
 * xhat)), with h = g * w and xhat = (x - mean) * r, is w * r * ((g - mean(g)) - (x - mean) * r^2 *
 * mean(g * (x - mean))): dx = scale * ((g - meanG) - slope * (x - mean)). The weight's cotangent
 * sum(g * xhat) is r * sum(g * (x - mean)), the bias's sum(g).
 *
 * That factoring agrees with the composite's float32 steps within rounding while those steps stay
 * finite. `ordinary` is false where they might not: a NaN or infinity in the channel's inputs,
 * statistics or weight (the sums, taken in double, are then not finite), or magnitudes near the
 * float32 range's edge (g * w or xhat * mean(h * xhat) past it, as with a cotangent of 3e38 and a
 * weight of 2). Such a channel is computed as the composite computes it (compositeChannel), whose
 * NaN and infinities the tests pin.
 */
struct Coefficients {
  float mean, scale, meanG, slope;
  bool ordinary;
};

/** Magnitudes the composite's float32 intermediates may reach in a channel deemed ordinary: an eighth of the range. */
constexpr double kSafeMagnitude = std::numeric_limits<float>::max() / 8.0;

/**
 * Channel c's coefficients from its sums; for an ordinary channel also its weight's and bias's
 * cotangents, written (the caller computes the others' as the composite does).
 */
Coefficients settleChannel(const Backward& pass, int64_t c, const GradientSums& sums) {
  const double count = static_cast<double>(pass.geometry.perChannel());
  const float r = reciprocalDeviation(pass.variance[c], pass.epsilon);
  const float w = pass.weight != nullptr ? pass.weight[c] : 1.0f;
  const double scale = static_cast<double>(r) * w;
  const double slope = static_cast<double>(r) * r * (sums.gx / count);
  // With X = max(1, largest |xhat|) and G the largest |g|, the composite's float32 steps stay
  // below G * max(1, |w|) * X^2: |xhat| <= X, |h| <= G |w|, |h * xhat| and |xhat * mean(h * xhat)|
  // <= G |w| X^2.
  const double xhat = std::max(1.0, static_cast<double>(sums.largestCentered) * r);
  const double bound = static_cast<double>(sums.largestG) * std::max(1.0, std::fabs(static_cast<double>(w))) * xhat * xhat;
  const bool ordinary = std::isfinite(pass.mean[c]) && std::isfinite(r) && std::isfinite(w) && std::isfinite(sums.g) &&
                        std::isfinite(sums.gx) && bound < kSafeMagnitude && std::fabs(scale) < kSafeMagnitude &&
                        std::fabs(slope) < kSafeMagnitude;
  if (ordinary) {
    if (pass.dw != nullptr) pass.dw[c] = static_cast<float>(r * sums.gx);
    if (pass.db != nullptr) pass.db[c] = static_cast<float>(sums.g);
  }
  return {pass.mean[c], static_cast<float>(scale), static_cast<float>(sums.g / count), static_cast<float>(slope), ordinary};
}

/** dx = scale * ((g - meanG) - slope * (x - mean)) over a run of one channel. */
void gradientRun(const float* x, const float* g, float* dx, int64_t count, const Coefficients& k) {
#pragma omp simd
  for (int64_t i = 0; i < count; i++) dx[i] = k.scale * ((g[i] - k.meanG) - k.slope * (x[i] - k.mean));
}

/** Calls visit(k) for the index k of each element of channel `c` in a contiguous [N, C, S] array. */
template <typename Visit>
void forEachInChannel(const Geometry& geometry, int64_t c, Visit visit) {
  for (int64_t n = 0; n < geometry.batch; n++) {
    const int64_t base = planeAt(geometry, n, c);
    for (int64_t i = 0; i < geometry.spatial; i++) visit(base + i);
  }
}

/**
 * Channel c of the backward pass as the composite computes it (the formula of the api's
 * CompositeKernels.batchNormBackward: sums in double, each elementwise step in float32), for the
 * channels Coefficients does not take as ordinary. An infinite weight, for one, makes every h
 * infinite (or NaN) and h - mean(h) NaN, where the factored formula gives infinities.
 */
void compositeChannel(const Backward& pass, int64_t c) {
  const Geometry& geometry = pass.geometry;
  const double count = static_cast<double>(geometry.perChannel());
  const float r = reciprocalDeviation(pass.variance[c], pass.epsilon);
  const float mean = pass.mean[c];
  const float w = pass.weight != nullptr ? pass.weight[c] : 1.0f;
  const float* x = pass.x;
  const float* g = pass.g;
  double hSum = 0, projection = 0, gSum = 0, gProjection = 0;
  forEachInChannel(geometry, c, [&](int64_t k) {
    const float normalized = (x[k] - mean) * r;
    const float h = g[k] * w;
    hSum += h;
    projection += h * normalized;
    gSum += g[k];
    gProjection += g[k] * normalized;
  });
  const float hMean = static_cast<float>(hSum / count);
  const float projectionMean = static_cast<float>(projection / count);
  forEachInChannel(geometry, c, [&](int64_t k) {
    const float normalized = (x[k] - mean) * r;
    pass.dx[k] = r * (g[k] * w - hMean - normalized * projectionMean);
  });
  if (pass.dw != nullptr) pass.dw[c] = static_cast<float>(gProjection);
  if (pass.db != nullptr) pass.db[c] = static_cast<float>(gSum);
}

/**
 * The input's cotangent over every element from per-channel coefficients (of the ordinary channels:
 * the caller computes the others as the composite does), the planes, or rows below
 * kWriteRowsBelow, split over `tasks`.
 */
void gradientAll(const Backward& pass, const std::vector<Coefficients>& coefficients, int64_t tasks) {
  const Geometry& geometry = pass.geometry;
  const int64_t spatial = geometry.spatial;
  if (spatial >= kWriteRowsBelow) {
    forEachPlane(geometry, tasks, [&](int64_t at, int64_t c) {
      const Coefficients& k = coefficients[c];
      if (k.ordinary) gradientRun(pass.x + at, pass.g + at, pass.dx + at, spatial, k);
    });
    return;
  }
  const int64_t length = geometry.channels * spatial;
  /** One of the coefficients, repeated along a row. */
  const auto row = [&](float Coefficients::*member) {
    std::vector<float> perChannel;
    for (const Coefficients& k : coefficients) perChannel.push_back(k.*member);
    return alongRow(geometry, perChannel);
  };
  const std::vector<float> mean = row(&Coefficients::mean), scale = row(&Coefficients::scale), meanG = row(&Coefficients::meanG),
                           slope = row(&Coefficients::slope);
  forEachRow(geometry, tasks, [&](int64_t at) {
    const float* x = pass.x + at;
    const float* g = pass.g + at;
    float* dx = pass.dx + at;
#pragma omp simd
    for (int64_t i = 0; i < length; i++) dx[i] = scale[i] * ((g[i] - meanG[i]) - slope[i] * (x[i] - mean[i]));
  });
}

/** The backward pass summing along rows (S < kSumRowsBelow): per-position sums per task, folded into channels. */
void backwardRows(const Backward& pass, int64_t tasks) {
  const Geometry& geometry = pass.geometry;
  const int64_t spatial = geometry.spatial, length = geometry.channels * spatial;
  const std::vector<float> mean = alongRow(geometry, std::vector<float>(pass.mean, pass.mean + geometry.channels));
  RowSums sumG(tasks, length), sumGX(tasks, length);
  std::vector<float> largestG(static_cast<size_t>(tasks * length)), largestCentered(static_cast<size_t>(tasks * length));
  forEachTask(tasks, [&](int64_t t) {
    double* sg = sumG.task(t);
    double* sgx = sumGX.task(t);
    float* lg = largestG.data() + t * length;
    float* lc = largestCentered.data() + t * length;
    const auto [n0, n1] = shareOf(geometry.batch, tasks, t);
    for (int64_t n = n0; n < n1; n++) {
      const float* x = pass.x + n * length;
      const float* g = pass.g + n * length;
#pragma omp simd
      for (int64_t i = 0; i < length; i++) {
        const float centered = x[i] - mean[i];
        sg[i] += g[i];
        sgx[i] += static_cast<double>(g[i]) * centered;
        lg[i] = larger(lg[i], std::fabs(g[i]));
        lc[i] = larger(lc[i], std::fabs(centered));
      }
    }
  });
  std::vector<Coefficients> coefficients(static_cast<size_t>(geometry.channels));
  for (int64_t c = 0; c < geometry.channels; c++) {
    GradientSums sums{sumG.channel(tasks, spatial, c), sumGX.channel(tasks, spatial, c), 0, 0};
    for (int64_t t = 0; t < tasks; t++) {
      for (int64_t i = 0; i < spatial; i++) {
        sums.largestG = larger(sums.largestG, largestG[t * length + c * spatial + i]);
        sums.largestCentered = larger(sums.largestCentered, largestCentered[t * length + c * spatial + i]);
      }
    }
    coefficients[c] = settleChannel(pass, c, sums);
  }
  gradientAll(pass, coefficients, tasks);
  for (int64_t c = 0; c < geometry.channels; c++) {
    if (!coefficients[c].ordinary) compositeChannel(pass, c);
  }
}

/**
 * The backward pass on planes: channels a task takes whole in one go (the sums, then the
 * cotangent while the channel's planes are in cache), the rest with their samples split over the
 * tasks (the sums, merged, then the cotangent).
 */
void backwardPlanes(const Backward& pass, int64_t tasks) {
  const Geometry& geometry = pass.geometry;
  const int64_t spatial = geometry.spatial;
  const int64_t first = forEachWholeChannel(geometry, tasks, [&](int64_t c) {
    GradientSums sums;
    for (int64_t n = 0; n < geometry.batch; n++) {
      const int64_t at = planeAt(geometry, n, c);
      addGradientRun(pass.x + at, pass.g + at, spatial, pass.mean[c], sums);
    }
    const Coefficients k = settleChannel(pass, c, sums);
    if (!k.ordinary) {
      compositeChannel(pass, c);
      return;
    }
    for (int64_t n = 0; n < geometry.batch; n++) {
      const int64_t at = planeAt(geometry, n, c);
      gradientRun(pass.x + at, pass.g + at, pass.dx + at, spatial, k);
    }
  });
  if (first == geometry.channels) return;
  const std::vector<GradientSums> sums = sumSharedChannels<GradientSums>(
      geometry, first, tasks,
      [&](GradientSums& total, int64_t at, int64_t c) { addGradientRun(pass.x + at, pass.g + at, spatial, pass.mean[c], total); });
  std::vector<Coefficients> coefficients;
  for (int64_t c = first; c < geometry.channels; c++) coefficients.push_back(settleChannel(pass, c, sums[c - first]));
  forEachSharedPlane(geometry, first, tasks, [&](int64_t at, int64_t c) {
    const Coefficients& k = coefficients[c - first];
    if (k.ordinary) gradientRun(pass.x + at, pass.g + at, pass.dx + at, spatial, k);
  });
  for (int64_t c = first; c < geometry.channels; c++) {
    if (!coefficients[c - first].ordinary) compositeChannel(pass, c);
  }
}

/** The backward pass (see Coefficients): the sums per channel, then the input's cotangent. */
void backwardLoop(const Backward& pass) {
  const int64_t tasks = tasksFor(pass.geometry.size());
  if (pass.geometry.spatial < kSumRowsBelow) backwardRows(pass, tasks);
  else backwardPlanes(pass, tasks);
}

}  // namespace

// batchNorm(dtype, x, xLayout, weight, weightLayout, bias, biasLayout, eps, out, meanOut,
// varianceOut): batch normalization with the batch's statistics over the channel axis 1 of x
// ([N, C, ...]): meanOut and varianceOut (C elements each) receive each channel's mean and
// biased variance over every other dim, out (contiguous, x's shape) (x - mean) / sqrt(variance +
// eps) * weight + bias. weight and bias are null or [C] views. With no element per channel the
// statistics are NaN. float32 only. Returns true.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  const char* op = "batchNorm";
  checkArgs(info, 11, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  std::vector<char> weightStorage, biasStorage;
  const float* scale = channelArg(info, 3, op, "weight", geometry.channels, true, weightStorage);
  const float* shift = channelArg(info, 5, op, "bias", geometry.channels, true, biasStorage);
  const float epsilon = epsilonArg(info, 7, op);
  const Output out = outputArg(info, 8, dtype, x.size, op);
  const Output meanOut = outputArg(info, 9, dtype, geometry.channels, op);
  const Output varianceOut = outputArg(info, 10, dtype, geometry.channels, op);
  if (geometry.perChannel() == 0) {
    // Means over no elements, as the composite's 0 / 0.
    std::fill(meanOut.data<float>(), meanOut.data<float>() + meanOut.size, std::numeric_limits<float>::quiet_NaN());
    std::fill(varianceOut.data<float>(), varianceOut.data<float>() + varianceOut.size, std::numeric_limits<float>::quiet_NaN());
    return Napi::Boolean::New(env, true);
  }
  if (x.size == 0) return Napi::Boolean::New(env, true);
  std::vector<char> xStorage;
  float* in = floatsOf(x, xStorage);
  float* means = meanOut.data<float>();
  float* variances = varianceOut.data<float>();
  forwardLoop(geometry, epsilon, Normalize{in, out.data<float>(), scale, shift}, means, variances);
  return Napi::Boolean::New(env, true);
}

// batchNormInference(dtype, x, xLayout, mean, meanLayout, variance, varianceLayout, weight,
// weightLayout, bias, biasLayout, eps, out): out (contiguous, x's shape) = (x - mean) /
// sqrt(variance + eps) * weight + bias along the channel axis 1 of x ([N, C, ...]), with the
// given statistics ([C] views); weight and bias are null or [C] views. float32 only. Returns
// true.
Napi::Value BatchNormInference(const Napi::CallbackInfo& info) {
  const char* op = "batchNormInference";
  checkArgs(info, 13, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  std::vector<char> meanStorage, varianceStorage, weightStorage, biasStorage;
  const float* means = channelArg(info, 3, op, "mean", geometry.channels, false, meanStorage);
  const float* variances = channelArg(info, 5, op, "variance", geometry.channels, false, varianceStorage);
  const float* scale = channelArg(info, 7, op, "weight", geometry.channels, true, weightStorage);
  const float* shift = channelArg(info, 9, op, "bias", geometry.channels, true, biasStorage);
  const float epsilon = epsilonArg(info, 11, op);
  const Output out = outputArg(info, 12, dtype, x.size, op);
  if (x.size == 0) return Napi::Boolean::New(env, true);
  std::vector<char> xStorage;
  float* in = floatsOf(x, xStorage);
  inferenceLoop(geometry, epsilon, Normalize{in, out.data<float>(), scale, shift}, means, variances);
  return Napi::Boolean::New(env, true);
}

// batchNormBackward(dtype, x, xLayout, mean, meanLayout, variance, varianceLayout, weight,
// weightLayout, g, gLayout, eps, out, weightOut, biasOut): the cotangents of batchNorm(x, weight,
// bias, eps)'s output from its cotangent g (x's shape), given the statistics that forward pass
// returned ([C] views): the input's into out (contiguous, x's shape); the weight's, sum(g * xhat)
// per channel, into weightOut when a weight is given (null otherwise); the bias's, sum(g), into
// biasOut unless it is null (C elements each). With no element per channel those are 0. float32
// only. Returns true.
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "batchNormBackward";
  checkArgs(info, 15, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  std::vector<char> meanStorage, varianceStorage, weightStorage;
  const float* means = channelArg(info, 3, op, "mean", geometry.channels, false, meanStorage);
  const float* variances = channelArg(info, 5, op, "variance", geometry.channels, false, varianceStorage);
  const float* scale = channelArg(info, 7, op, "weight", geometry.channels, true, weightStorage);
  const View g = viewArg(info, 9, 10, dtype, op, "cotangent");
  if (!g.sameShape(x)) throwRange(env, op, "the cotangent must have the input's shape");
  const float epsilon = epsilonArg(info, 11, op);
  const Output out = outputArg(info, 12, dtype, x.size, op);
  const ParameterCotangents parameters = parameterCotangentArgs(info, 13, dtype, geometry.channels, scale != nullptr, op);
  if (x.size == 0) {
    parameters.zero();  // sums over no elements
    return Napi::Boolean::New(env, true);
  }
  std::vector<char> xStorage, gStorage;
  float* in = floatsOf(x, xStorage);
  float* cotangent = floatsOf(g, gStorage);
  backwardLoop(Backward{geometry, epsilon, in, cotangent, means, variances, scale, out.data<float>(), parameters.weightData(),
                        parameters.biasData()});
  return Napi::Boolean::New(env, true);
}

}  // namespace flint
