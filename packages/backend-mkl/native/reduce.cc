// Sum, max, min and product over a set of axes of a float32/float64 strided view, or a
// float16/bfloat16 one (each element decoded, half.h; each result rounded to float32, then to the
// half dtype, as the portable kernels store it). Accumulation is in double (as the portable
// backend does), so float32 sums keep their accuracy over long rows.
// Two walks: when the reduced elements of one output are adjacent in memory, each output folds
// its own elements; when the outputs are the adjacent ones (reducing a leading axis), a row of
// accumulators takes one input row at a time, so both read memory in order.
#include <cmath>
#include <limits>

#include "common.h"
#include "half.h"
#include "ops.h"

namespace flint {

namespace {

double identityOf(int op) {
  switch (op) {
    case kReduceSum:
      return 0;
    case kReduceProd:
      return 1;
    case kReduceMax:
      return -std::numeric_limits<double>::infinity();
    default:
      return std::numeric_limits<double>::infinity();
  }
}

/** An element as a double, decoded as Codec says. */
template <typename Codec>
double valueAt(const typename Codec::Stored* p, int64_t i) {
  return static_cast<double>(Codec::load(p[i]));
}

/** Folds n elements p[0], p[s], ... into acc; NaN propagates through max and min. */
template <typename Codec>
double foldRun(int op, const typename Codec::Stored* p, int64_t s, int64_t n, double acc) {
  switch (op) {
    case kReduceSum: {
      double sum = 0;
      if (s == 1) {
#pragma omp simd reduction(+ : sum)
        for (int64_t i = 0; i < n; i++) sum += valueAt<Codec>(p, i);
      } else {
        for (int64_t i = 0; i < n; i++) sum += valueAt<Codec>(p, i * s);
      }
      return acc + sum;
    }
    case kReduceProd: {
      double product = 1;
      for (int64_t i = 0; i < n; i++) product *= valueAt<Codec>(p, i * s);
      return acc * product;
    }
    case kReduceMax: {
      double best = acc;
      bool nan = false;
      if (s == 1) {
#pragma omp simd reduction(max : best) reduction(| : nan)
        for (int64_t i = 0; i < n; i++) {
          const double v = valueAt<Codec>(p, i);
          best = v > best ? v : best;
          nan = nan | (v != v);
        }
      } else {
        for (int64_t i = 0; i < n; i++) {
          const double v = valueAt<Codec>(p, i * s);
          best = v > best ? v : best;
          nan = nan | (v != v);
        }
      }
      return nan || acc != acc ? std::numeric_limits<double>::quiet_NaN() : best;
    }
    default: {
      double best = acc;
      bool nan = false;
      if (s == 1) {
#pragma omp simd reduction(min : best) reduction(| : nan)
        for (int64_t i = 0; i < n; i++) {
          const double v = valueAt<Codec>(p, i);
          best = v < best ? v : best;
          nan = nan | (v != v);
        }
      } else {
        for (int64_t i = 0; i < n; i++) {
          const double v = valueAt<Codec>(p, i * s);
          best = v < best ? v : best;
          nan = nan | (v != v);
        }
      }
      return nan || acc != acc ? std::numeric_limits<double>::quiet_NaN() : best;
    }
  }
}

/** acc[i] = op(acc[i], p[i * s]) for i < n. */
template <typename Codec>
void foldColumns(int op, const typename Codec::Stored* p, int64_t s, int64_t n, double* acc) {
  switch (op) {
    case kReduceSum:
      for (int64_t i = 0; i < n; i++) acc[i] += valueAt<Codec>(p, i * s);
      return;
    case kReduceProd:
      for (int64_t i = 0; i < n; i++) acc[i] *= valueAt<Codec>(p, i * s);
      return;
    case kReduceMax:
      for (int64_t i = 0; i < n; i++) {
        const double v = valueAt<Codec>(p, i * s);
        acc[i] = v > acc[i] || v != v ? v : acc[i];
      }
      return;
    default:
      for (int64_t i = 0; i < n; i++) {
        const double v = valueAt<Codec>(p, i * s);
        acc[i] = v < acc[i] || v != v ? v : acc[i];
      }
      return;
  }
}

/** The reduced dims, sorted by decreasing stride and merged where they chain. */
struct ReducedDims {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t total = 1;
};

ReducedDims reducedDims(const View& x, const bool* reduced) {
  int order[kMaxRank];
  int count = 0;
  for (int d = 0; d < x.rank; d++)
    if (reduced[d] && x.shape[d] != 1) order[count++] = d;
  std::sort(order, order + count, [&](int p, int q) { return std::llabs(x.strides[p]) > std::llabs(x.strides[q]); });
  ReducedDims r;
  for (int i = 0; i < count; i++) {
    const int d = order[i];
    r.total *= x.shape[d];
    if (r.rank > 0 && r.strides[r.rank - 1] == x.strides[d] * x.shape[d]) {
      r.shape[r.rank - 1] *= x.shape[d];
      r.strides[r.rank - 1] = x.strides[d];
    } else {
      r.shape[r.rank] = x.shape[d];
      r.strides[r.rank] = x.strides[d];
      r.rank++;
    }
  }
  return r;
}

/** Calls body(offset, innerStride, innerCount) for every run of the reduced index space. */
template <typename Body>
void forEachReducedRun(const ReducedDims& r, Body body) {
  if (r.total == 0) return;  // reducing a zero-size axis leaves the identity
  if (r.rank == 0) {
    body(0, 1, 1);
    return;
  }
  const int64_t inner = r.shape[r.rank - 1];
  const int64_t innerStride = r.strides[r.rank - 1];
  const int64_t rows = r.total / inner;
  int64_t counter[kMaxRank] = {};
  int64_t offset = 0;
  for (int64_t row = 0; row < rows; row++) {
    body(offset, innerStride, inner);
    for (int d = r.rank - 2; d >= 0; d--) {
      offset += r.strides[d];
      if (++counter[d] < r.shape[d]) break;
      offset -= r.strides[d] * r.shape[d];
      counter[d] = 0;
    }
  }
}

template <typename Codec>
void reduce(int op, const View& x, const bool* reduced, typename Codec::Stored* out) {
  using Stored = typename Codec::Stored;
  // A result as stored: rounded to the element type (float32 first for a half dtype).
  const auto stored = [](double acc) { return Codec::store(static_cast<ComputeType<Codec>>(acc)); };
  const ReducedDims r = reducedDims(x, reduced);
  int keptRank = 0;
  int64_t keptShape[kMaxRank];
  int64_t keptStrides[kMaxRank];
  for (int d = 0; d < x.rank; d++) {
    if (reduced[d]) continue;
    keptShape[keptRank] = x.shape[d];
    keptStrides[keptRank] = x.strides[d];
    keptRank++;
  }
  int64_t outStrides[kMaxRank];
  contiguousStrides(keptRank, keptShape, outStrides);
  const int64_t* strides[2] = {keptStrides, outStrides};
  const StridedLoop<2> outputs(keptRank, keptShape, strides);
  const double identity = identityOf(op);
  const Stored* in = x.data<Stored>();
  const int64_t start[2] = {x.offset, 0};
  const int64_t smallestReducedStride = r.rank == 0 ? 0 : std::llabs(r.strides[r.rank - 1]);
  // Threads from 64K input elements each, as for the moves (common.h): a bias gradient (the sum
  // of a [128, 512] activation over its rows) ran faster on one thread than waking a second.
  const int64_t grain = std::max<int64_t>(1, kLoopGrain / std::max<int64_t>(1, r.total));
  outputs.forEachRun(
      start,
      [&](const int64_t* at, const int64_t* step, int64_t n) {
        const int64_t outputStride = step[0];
        if (n > 1 && r.rank > 0 && std::llabs(outputStride) < smallestReducedStride) {
          // This runs on an OpenMP thread, where an exception would end the process: without
          // memory for the accumulators, the per-output walk below needs none.
          std::vector<double> acc;
          try {
            acc.assign(static_cast<size_t>(n), identity);
          } catch (...) {
            acc.clear();
          }
          if (!acc.empty()) {
            forEachReducedRun(r, [&](int64_t offset, int64_t innerStride, int64_t count) {
              for (int64_t j = 0; j < count; j++) foldColumns<Codec>(op, in + at[0] + offset + j * innerStride, outputStride, n, acc.data());
            });
            for (int64_t i = 0; i < n; i++) out[at[1] + i] = stored(acc[static_cast<size_t>(i)]);
            return;
          }
        }
        for (int64_t i = 0; i < n; i++) {
          const Stored* base = in + at[0] + i * outputStride;
          double acc = identity;
          forEachReducedRun(r, [&](int64_t offset, int64_t innerStride, int64_t count) {
            acc = foldRun<Codec>(op, base + offset, innerStride, count, acc);
          });
          out[at[1] + i] = stored(acc);
        }
      },
      grain);
}

}  // namespace

// reduce(op, dtype, data, layout, axes: Int32Array, out): axes sorted and distinct.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  checkArgs(info, 6, "reduce");
  const int op = static_cast<int>(intArg(info, 0, "reduce", "op", 0, kReduceOpCount - 1));
  const int dtype = dtypeArg(info, 1, "reduce", (1u << kFloat32) | (1u << kFloat64) | (1u << kFloat16) | (1u << kBFloat16));
  const View x = viewArg(info, 2, 3, dtype, "reduce", "input");
  const std::vector<int64_t> axes = paramsArg(info, 4, "reduce", "axes", -1);
  bool reduced[kMaxRank] = {};
  int64_t previous = -1;
  for (const int64_t axis : axes) {
    if (axis <= previous || axis >= x.rank) throwRange(info.Env(), "reduce", "axes must be sorted, distinct and below the rank");
    reduced[axis] = true;
    previous = axis;
  }
  int64_t outSize = 1;
  for (int d = 0; d < x.rank; d++)
    if (!reduced[d]) outSize *= x.shape[d];
  const Output out = outputArg(info, 5, dtype, outSize, "reduce");
  if (outSize == 0) return info.Env().Undefined();
  withFloatCodec(dtype, [&](auto codec) {
    using Codec = decltype(codec);
    reduce<Codec>(op, x, reduced, out.data<typename Codec::Stored>());
  });
  return info.Env().Undefined();
}

}  // namespace flint
