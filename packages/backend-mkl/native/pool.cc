// Pooling (ReduceWindow's sum and max over the spatial dims of [N, C, ...spatial]) and max
// pooling's backward pass, in plain loops over float32 planes. Each returns false, without
// touching the output, for a window it leaves to the portable kernels (negative padding, windows
// over the batch or channel dims, ranks other than 3 to 5).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "common.h"
#include "ops.h"

namespace flint {

namespace {

/**
 * A pooling over up to three spatial dims, each described by its sizes and window (dims a
 * lower-rank pool lacks are size 1 with a window of 1).
 */
struct PoolShape {
  int64_t in[3], out[3], window[3], stride[3], padLow[3], dilation[3];
};

/**
 * The taps of dim `d` that fall inside the input for output position `o`: [first, last) of the
 * window's taps (padding holds the identity, so those taps are skipped, as the portable kernel does).
 */
inline void tapRange(const PoolShape& p, int d, int64_t o, int64_t& first, int64_t& last) {
  // In closed form, not tap by tap: a window of 2^30 taps would take seconds per output.
  const int64_t origin = o * p.stride[d] - p.padLow[d];
  const int64_t dilation = p.dilation[d];
  first = std::min<int64_t>(p.window[d], origin >= 0 ? 0 : (-origin + dilation - 1) / dilation);
  const int64_t room = p.in[d] - 1 - origin;  // how far past the origin a tap may lie inside
  last = std::max<int64_t>(first, room < 0 ? 0 : std::min<int64_t>(p.window[d], room / dilation + 1));
}

/** Each output position's taps inside the input along one dim: [first, last) of the window's taps. */
struct TapRanges {
  std::vector<int64_t> first, last;
  TapRanges(const PoolShape& p, int d) : first(p.out[d]), last(p.out[d]) {
    for (int64_t o = 0; o < p.out[d]; o++) tapRange(p, d, o, first[o], last[o]);
  }
};

/** The taps of every output position along each of the three dims, and which fast paths apply. */
struct PoolPlan {
  TapRanges taps[3];
  /** No window reaches padding. */
  bool interior = true;
  /** 2x2 windows of stride 2 over planes (the usual max pool), none reaching padding. */
  bool square = false;
  /** Square, and the windows tile the plane: every element lies in exactly one window. */
  bool tiled = false;

  explicit PoolPlan(const PoolShape& p) : taps{TapRanges(p, 0), TapRanges(p, 1), TapRanges(p, 2)} {
    for (int d = 0; d < 3; d++)
      for (int64_t o = 0; o < p.out[d]; o++) interior = interior && taps[d].first[o] == 0 && taps[d].last[o] == p.window[d];
    square = interior && p.in[0] == 1 && p.out[0] == 1 && p.window[0] == 1 && p.window[1] == 2 && p.window[2] == 2 && p.stride[1] == 2 &&
             p.stride[2] == 2 && p.dilation[1] == 1 && p.dilation[2] == 1;
    tiled = square && p.in[1] == 2 * p.out[1] && p.in[2] == 2 * p.out[2];
  }
};

/**
 * ReduceWindow's max (NaN propagates: a NaN tap replaces the running value; starting from -Inf,
 * the identity a window wholly in padding keeps) or sum (accumulated in double in window
 * row-major order and rounded once), over contiguous [planes, ...spatial] float32 data: the
 * portable kernel's definition, so both backends agree bit for bit. oneDNN's pooling does not
 * propagate NaN (inputs had to be scanned for it first) and, serial below kParallelWork as the
 * CNN's pools were, took about twice as long as these loops, which share planes out over threads.
 */
template <bool IsMax>
void poolPlanes(const float* x, float* out, int64_t planes, const PoolShape& p) {
  using Acc = std::conditional_t<IsMax, float, double>;
  const int64_t inPlane = p.in[0] * p.in[1] * p.in[2];
  const int64_t outPlane = p.out[0] * p.out[1] * p.out[2];
  const int64_t outWidth = p.out[2];
  const auto step = [](Acc acc, float v) -> Acc {
    if constexpr (IsMax) {
      // A select of bits: with a conditional the compiler branches in scalar loops, and random
      // activations mispredict half of those branches.
      const uint32_t take = 0u - static_cast<uint32_t>((v > acc) | (v != v));
      uint32_t a, b;
      std::memcpy(&a, &acc, 4);
      std::memcpy(&b, &v, 4);
      const uint32_t bits = (b & take) | (a & ~take);
      float result;
      std::memcpy(&result, &bits, 4);
      return result;
    } else {
      return acc + static_cast<double>(v);
    }
  };
  // The usual max pool (square) reads two input rows per output row.
  const PoolPlan plan(p);
  const TapRanges& depths = plan.taps[0];
  const TapRanges& rows = plan.taps[1];
  const TapRanges& columns = plan.taps[2];
  const bool square = plan.square, pairwise = plan.tiled;
  parallelRanges(planes, planes * inPlane, [&](int64_t firstPlane, int64_t lastPlane) {
    std::vector<float> pairs(pairwise ? static_cast<size_t>(inPlane / 2) : 0);
    for (int64_t plane = firstPlane; plane < lastPlane; plane++) {
      const float* in = x + plane * inPlane;
      float* target = out + plane * outPlane;
      if (IsMax && pairwise) {
        // Each window's row pairs reduce first, over the plane's whole flat range (a loop long
        // enough to vectorize); the step is associative (a later NaN wins, else the first
        // maximum), so pairing the taps (a, b), (c, d) keeps the serial order's result bits.
        float* pair = pairs.data();
        const int64_t count = inPlane / 2;
        for (int64_t j = 0; j < count; j++) pair[j] = step(in[2 * j], in[2 * j + 1]);
        for (int64_t oh = 0; oh < p.out[1]; oh++, target += outWidth) {
          const float* top = pair + 2 * oh * outWidth;
          const float* bottom = top + outWidth;
          for (int64_t ow = 0; ow < outWidth; ow++) target[ow] = step(top[ow], bottom[ow]);
        }
        continue;
      }
      if (square) {
        const int64_t inWidth = p.in[2];
        for (int64_t oh = 0; oh < p.out[1]; oh++, target += outWidth) {
          const float* top = in + 2 * oh * inWidth;
          const float* bottom = top + inWidth;
          for (int64_t ow = 0; ow < outWidth; ow++) {
            // A max may start from its first tap (step(-Inf, v) is v, bit for bit); a sum starts
            // from 0, as the portable kernel does (0 + -0 is +0).
            Acc value = IsMax ? static_cast<Acc>(top[2 * ow]) : step(Acc{0}, top[2 * ow]);
            value = step(value, top[2 * ow + 1]);
            value = step(value, bottom[2 * ow]);
            value = step(value, bottom[2 * ow + 1]);
            target[ow] = static_cast<float>(value);
          }
        }
        continue;
      }
      for (int64_t od = 0; od < p.out[0]; od++) {
        const int64_t d0 = depths.first[od], d1 = depths.last[od];
        for (int64_t oh = 0; oh < p.out[1]; oh++, target += outWidth) {
          const int64_t h0 = rows.first[oh], h1 = rows.last[oh];
          for (int64_t ow = 0; ow < outWidth; ow++) {
            const int64_t w0 = columns.first[ow], w1 = columns.last[ow];
            const int64_t column = ow * p.stride[2] - p.padLow[2];
            Acc value = IsMax ? static_cast<Acc>(-INFINITY) : Acc{0};
            for (int64_t kd = d0; kd < d1; kd++) {
              const int64_t depth = od * p.stride[0] - p.padLow[0] + kd * p.dilation[0];
              for (int64_t kh = h0; kh < h1; kh++) {
                const int64_t height = oh * p.stride[1] - p.padLow[1] + kh * p.dilation[1];
                const float* row = in + (depth * p.in[1] + height) * p.in[2] + column;
                for (int64_t kw = w0; kw < w1; kw++) value = step(value, row[kw * p.dilation[2]]);
              }
            }
            target[ow] = static_cast<float>(value);
          }
        }
      }
    }
  });
}

/**
 * Argmax's step over a window's taps in row-major order: whether `v` replaces the best so far (a
 * greater value, or the first NaN). Selects, not branches, where it is used: random activations
 * would mispredict half of the branches.
 */
inline bool replacesBest(float v, float best) { return v > best || (v != v && best == best); }

/**
 * Max pooling's backward pass over contiguous [planes, ...spatial] float32 data: each plane's
 * cotangent `dx` is zero but at each window's first maximum, which receives the window's
 * cotangent, summed in output order where windows overlap. The first maximum is argmax's over the
 * window in row-major order with padding read as -Inf (the rule the api's VJP follows): a NaN
 * counts as the maximum and the first NaN wins; a -Inf maximum means every tap inside is -Inf,
 * which ties with the padding, so the window's first tap wins, and its cotangent is dropped when
 * that tap is padding. Planes are shared out over threads; a plane's windows touch only that plane.
 */
void windowMaxBackwardPlanes(const float* x, const float* g, float* dx, int64_t planes, const PoolShape& p) {
  const int64_t inPlane = p.in[0] * p.in[1] * p.in[2];
  const int64_t outPlane = p.out[0] * p.out[1] * p.out[2];
  const PoolPlan plan(p);
  const TapRanges& depths = plan.taps[0];
  const TapRanges& rows = plan.taps[1];
  const TapRanges& columns = plan.taps[2];
  // The usual max pool (square): each window's four taps are written at once (the cotangent or
  // 0), and when the windows tile the plane nothing else is.
  const bool square = plan.square, tiled = plan.tiled;
  parallelRanges(planes, planes * (inPlane + outPlane), [&](int64_t firstPlane, int64_t lastPlane) {
    for (int64_t plane = firstPlane; plane < lastPlane; plane++) {
      const float* in = x + plane * inPlane;
      const float* grad = g + plane * outPlane;
      float* target = dx + plane * inPlane;
      if (!tiled) std::fill(target, target + inPlane, 0.0f);
      if (square) {
        const int64_t width = p.in[2], outWidth = p.out[2];
        for (int64_t oh = 0; oh < p.out[1]; oh++, grad += outWidth) {
          const float* top = in + 2 * oh * width;
          const float* bottom = top + width;
          float* topTarget = target + 2 * oh * width;
          float* bottomTarget = topTarget + width;
          for (int64_t ow = 0; ow < outWidth; ow++) {
            float best = top[2 * ow];
            int k = 0;
            const float taps[3] = {top[2 * ow + 1], bottom[2 * ow], bottom[2 * ow + 1]};
            for (int t = 0; t < 3; t++) {
              const bool take = replacesBest(taps[t], best);
              best = take ? taps[t] : best;
              k = take ? t + 1 : k;
            }
            const float cotangent = grad[ow] + 0.0f;  // -0 lands as +0, as it does added to the zeros elsewhere
            topTarget[2 * ow] = k == 0 ? cotangent : 0.0f;
            topTarget[2 * ow + 1] = k == 1 ? cotangent : 0.0f;
            bottomTarget[2 * ow] = k == 2 ? cotangent : 0.0f;
            bottomTarget[2 * ow + 1] = k == 3 ? cotangent : 0.0f;
          }
        }
        continue;
      }
      for (int64_t od = 0, o = 0; od < p.out[0]; od++) {
        const int64_t depth0 = od * p.stride[0] - p.padLow[0];
        for (int64_t oh = 0; oh < p.out[1]; oh++) {
          const int64_t height0 = oh * p.stride[1] - p.padLow[1];
          for (int64_t ow = 0; ow < p.out[2]; ow++, o++) {
            const int64_t width0 = ow * p.stride[2] - p.padLow[2];
            float best = -INFINITY;
            int64_t chosen = -1;
            for (int64_t kd = depths.first[od]; kd < depths.last[od]; kd++) {
              for (int64_t kh = rows.first[oh]; kh < rows.last[oh]; kh++) {
                const int64_t row = ((depth0 + kd * p.dilation[0]) * p.in[1] + height0 + kh * p.dilation[1]) * p.in[2] + width0;
                for (int64_t kw = columns.first[ow]; kw < columns.last[ow]; kw++) {
                  const int64_t at = row + kw * p.dilation[2];
                  const bool take = chosen < 0 || replacesBest(in[at], best);
                  best = take ? in[at] : best;
                  chosen = take ? at : chosen;
                }
              }
            }
            const bool paddingFirst = depths.first[od] > 0 || rows.first[oh] > 0 || columns.first[ow] > 0;
            if (chosen >= 0 && !(best == -INFINITY && paddingFirst)) target[chosen] += grad[o];
          }
        }
      }
    }
  });
}

/** Dims as an error message shows them: [2, 3, 4]. */
std::string formatDims(const int64_t* dims, int rank) {
  std::string text = "[";
  for (int d = 0; d < rank; d++) text += (d == 0 ? "" : ", ") + std::to_string(dims[d]);
  return text + "]";
}

/** A pool's geometry from ReduceWindow's params, with the output's dims. */
struct PoolCall {
  std::vector<int64_t> outDims;
  int64_t outSize = 1;
  /** Whether the loops take it: windows over the spatial dims only, no negative padding. */
  bool supported = false;
  PoolShape shape{};
};

/**
 * Reads params [...window, ...strides, ...padLow, ...padHigh, ...dilation] (every dim of `x`, as
 * ReduceWindow has them) at argument `index`, checks them, and lays the spatial dims out as
 * PoolShape's three (a lower-rank pool's missing dims are size 1 with a window of 1).
 */
PoolCall poolCall(const Napi::CallbackInfo& info, size_t index, const View& x, const char* op) {
  const Napi::Env env = info.Env();
  const int rank = x.rank;
  const std::vector<int64_t> params = paramsArg(info, index, op, "params", 5 * rank);
  PoolCall call;
  call.outDims.resize(rank);
  std::vector<int64_t> window(rank), strides(rank), padLow(rank), padHigh(rank), dilation(rank);
  call.supported = rank >= 3 && rank <= 5;
  for (int d = 0; d < rank; d++) {
    window[d] = params[d];
    strides[d] = params[rank + d];
    padLow[d] = params[2 * rank + d];
    padHigh[d] = params[3 * rank + d];
    dilation[d] = params[4 * rank + d];
    if (window[d] < 1 || strides[d] < 1 || dilation[d] < 1) throwRange(env, op, "windows, strides and dilations must be at least 1");
    call.outDims[d] = windowCount(x.shape[d], padLow[d], padHigh[d], window[d], strides[d], dilation[d]);
    if (call.outDims[d] != 0 && call.outSize > kMaxElements / call.outDims[d]) {
      throwRange(env, op, "the output would have 2^31 elements or more");
    }
    call.outSize *= call.outDims[d];
    call.supported = call.supported && padLow[d] >= 0 && padHigh[d] >= 0;
    if (d < 2) call.supported = call.supported && window[d] == 1 && strides[d] == 1 && padLow[d] == 0 && padHigh[d] == 0;
  }
  if (!call.supported) return call;
  const int spatial = rank - 2;
  for (int s = 0; s < 3; s++) {
    const int d = s - (3 - spatial) + 2;
    const bool present = s >= 3 - spatial;
    call.shape.in[s] = present ? x.shape[d] : 1;
    call.shape.out[s] = present ? call.outDims[d] : 1;
    call.shape.window[s] = present ? window[d] : 1;
    call.shape.stride[s] = present ? strides[d] : 1;
    call.shape.padLow[s] = present ? padLow[d] : 0;
    call.shape.dilation[s] = present ? dilation[d] : 1;
  }
  return call;
}

}  // namespace

// pool(op, dtype, x, xLayout, out, params): op 0 sum, 1 max; params [...window, ...strides,
// ...padLow, ...padHigh, ...dilation] over every dim (ReduceWindow's). Pools over the spatial
// dims of [N, C, ...spatial]; returns false when it leaves the case to the caller.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  checkArgs(info, 6, "pool");
  const Napi::Env env = info.Env();
  const bool isMax = intArg(info, 0, "pool", "op", 0, 1) == 1;
  const int dtype = dtypeArg(info, 1, "pool", 1u << kFloat32);
  const View x = viewArg(info, 2, 3, dtype, "pool", "input");
  const PoolCall call = poolCall(info, 5, x, "pool");
  const Output out = outputArg(info, 4, dtype, call.outSize, "pool");
  if (out.size == 0) return Napi::Boolean::New(env, true);
  if (!call.supported) return Napi::Boolean::New(env, false);
  std::vector<char> xStorage;
  const float* xData = static_cast<const float*>(contiguousOrCopy(x, xStorage));
  const int64_t planes = x.shape[0] * x.shape[1];
  if (isMax) poolPlanes<true>(xData, out.data<float>(), planes, call.shape);
  else poolPlanes<false>(xData, out.data<float>(), planes, call.shape);
  return Napi::Boolean::New(env, true);
}

// windowMaxBackward(dtype, x, xLayout, g, gLayout, out, params): the cotangent of x (out, x's
// size, contiguous) of a max pool with params as pool's, given the cotangent g of its output (the
// pool's output shape). Returns false when it leaves the case to the caller.
Napi::Value WindowMaxBackward(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "windowMaxBackward");
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, "windowMaxBackward", 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, "windowMaxBackward", "input");
  const View g = viewArg(info, 3, 4, dtype, "windowMaxBackward", "cotangent");
  const PoolCall call = poolCall(info, 6, x, "windowMaxBackward");
  bool matches = g.rank == x.rank;
  for (int d = 0; matches && d < x.rank; d++) matches = g.shape[d] == call.outDims[d];
  if (!matches) {
    throwRange(env, "windowMaxBackward", "the cotangent's shape " + formatDims(g.shape, g.rank) + " is not the pool's output shape " +
                                             formatDims(call.outDims.data(), x.rank));
  }
  const Output out = outputArg(info, 5, dtype, x.size, "windowMaxBackward");
  if (out.size == 0) return Napi::Boolean::New(env, true);
  if (!call.supported) return Napi::Boolean::New(env, false);
  std::vector<char> xStorage, gStorage;
  const float* xData = static_cast<const float*>(contiguousOrCopy(x, xStorage));
  const float* gData = static_cast<const float*>(contiguousOrCopy(g, gStorage));
  windowMaxBackwardPlanes(xData, gData, out.data<float>(), x.shape[0] * x.shape[1], call.shape);
  return Napi::Boolean::New(env, true);
}

}  // namespace flint
