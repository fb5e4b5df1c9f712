// Batch normalization through oneDNN primitives (float32), cached per shape: the training forward
// pass (the batch's per-channel mean and biased variance, and the output), the inference forward
// pass (given statistics) and the backward pass (the input's, weight's and bias's cotangents in
// one primitive): the fused kernels eager dispatch and jit use for the api's batch norm
// composites (Backend.composites). The input [N, C, ...spatial] is described to oneDNN as
// [N, C, S, 1] (S the spatial dims' product, 1 at rank 2), packed first when the view is not
// contiguous.
//
// Layout: oneDNN 2.6's batch norm on the plain layout (nchw) is its `ncsp_bnorm`, a C++ loop,
// and a 3-D description [N, C, S] even gets its reference kernel; its jit kernels take the
// channel-blocked layouts (nChw16c, nChw8c) and nhwc. bench/onednn-batch-norm.cc, one thread:
// the training forward and backward passes on [64, 32, 28, 28] took 4.1-5.0 and 4.6-5.1 ms on
// nchw, 1.4-1.6 and 2.3-2.6 ms reordered into nChw16c, run there (0.40 and 0.44-0.49 ms of that)
// and reordered back, 3.1-3.4 and 4.8-4.9 ms the same way through nhwc; on [128, 256] 0.22-0.29
// and 0.14 ms on nchw against 0.025 and 0.038 ms through nChw16c. So the primitives run on the
// first blocked layout whose implementation is a jit kernel (nChw8c first for at most 8 channels:
// less padding, and [64, 3, 32, 32] took 0.37-0.38 and 0.37-0.39 ms that way, 0.47-0.50 and
// 0.76-0.87 ms through nChw16c), in place in a cached staging buffer, or on the plain layout where
// none is (a CPU without AVX2).
//
// NaN and infinities: oneDNN's results are the composite's (a NaN or an infinity in a channel's
// input makes its statistics and output NaN, a NaN or infinite cotangent its cotangents) except
// where its float32 sums overflow on finite inputs near the float32 range's edge, and for an
// infinite weight in the backward pass; those channels are recomputed as the composite computes
// them (compositeForward, compositeBackward), found by their statistics, cotangent sums or weight
// not being finite.
//
// As in normalization.cc, a configuration oneDNN refuses to create a primitive for makes the
// entry point return false, leaving its outputs alone; bad arguments throw.
#include <cmath>
#include <limits>

#include "common.h"
#include "dnnl_context.h"
#include "normalization.h"
#include "ops.h"

namespace flint {

using dnnl::memory;

namespace {

struct BatchNormForwardEntry {
  dnnl::batch_normalization_forward primitive;
  Staged src, dst;
};

PrimitiveCache<BatchNormForwardEntry>& forwardCache() {
  static PrimitiveCache<BatchNormForwardEntry> cache(256);
  return cache;
}

struct BatchNormBackwardEntry {
  dnnl::batch_normalization_backward primitive;
  Staged src, diffDst, diffSrc;
};

PrimitiveCache<BatchNormBackwardEntry>& backwardCache() {
  static PrimitiveCache<BatchNormBackwardEntry> cache(256);
  return cache;
}

/** The input as oneDNN's batch norm reads it: [N, C, S, 1], S the spatial dims' product (1 at rank 2). */
struct Geometry {
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t spatial = 1;

  /** Elements per channel, over which the statistics are taken. */
  int64_t perChannel() const { return batch * spatial; }
  int64_t size() const { return batch * channels * spatial; }
  memory::desc data(memory::format_tag layout) const {
    return memory::desc({batch, channels, spatial, 1}, memory::data_type::f32, layout);
  }
  /** The callers' arrays: contiguous [N, C, ...]. */
  memory::desc plain() const { return data(memory::format_tag::nchw); }
  memory::desc vector() const { return memory::desc({channels}, memory::data_type::f32, memory::format_tag::a); }
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

/**
 * `describe(layout)`'s primitive descriptor on the first channel-blocked layout oneDNN runs with a
 * jit kernel, else on the plain layout (see the top of this file). A blocked layout oneDNN refuses
 * is skipped; a refusal of the plain one propagates (the entry point then declines).
 */
template <typename Describe>
auto fastestDesc(const Geometry& geometry, Describe describe) -> decltype(describe(geometry.plain())) {
  const bool few = geometry.channels <= 8;
  for (const memory::format_tag layout : {few ? memory::format_tag::nChw8c : memory::format_tag::nChw16c,
                                          few ? memory::format_tag::nChw16c : memory::format_tag::nChw8c}) {
    try {
      auto desc = describe(geometry.data(layout));
      if (std::string(desc.impl_info_str()).find("jit") != std::string::npos) return desc;
    } catch (const dnnl::error&) {
      // Not this layout.
    }
  }
  return describe(geometry.plain());
}

/**
 * Element reads and writes per input element (the reorders into the blocked layout and back, the
 * statistics, the normalization): batch norm's work, which decides, as for the other primitives,
 * whether it runs on one thread (below kParallelWork). Counted by elements alone, the CNN shapes
 * ran serial: forward and backward on [64, 32, 28, 28] took 4.6-5.3 ms on one thread and 2.9-3.2
 * ms on two, [64, 64, 14, 14] 2.1-2.7 against 1.1 ms, [32, 32, 16, 16] (262,144 elements, the
 * threshold now) 0.47-0.52 against 0.34-0.42 ms; [128, 256] (32,768) gained nothing.
 */
constexpr double kAccessesPerElement = 8;

/** Whether a call on `geometry` creates and runs its primitive on one thread (see kParallelWork). */
bool runsSerial(const Geometry& geometry) { return static_cast<double>(geometry.size()) * kAccessesPerElement < kParallelWork; }

/** A primitive cache key: the pass (0 training, 1 inference, 2 backward), the geometry, flags and epsilon. */
std::string batchNormKey(int pass, const Geometry& geometry, bool hasWeight, bool hasBias, bool serial, float epsilon) {
  std::string key;
  appendKey(key, {pass, geometry.batch, geometry.channels, geometry.spatial, hasWeight ? 1 : 0,
                  hasBias ? 1 : 0, serial ? 1 : 0, epsilonKey(epsilon), refusingForTesting ? 1 : 0});
  return key;
}

/** The forward primitive descriptor on `data`: the training or inference primitive, or the backward pass's hint. */
dnnl::batch_normalization_forward::primitive_desc forwardDesc(dnnl::prop_kind kind, const memory::desc& data, float epsilon,
                                                              dnnl::normalization_flags flags) {
  return dnnl::batch_normalization_forward::primitive_desc(dnnl::batch_normalization_forward::desc(kind, data, epsilon, flags),
                                                           cpuEngine());
}

/** A float32 view's elements as a contiguous array (its own memory when it already is one). */
float* floatsOf(const View& view, std::vector<char>& storage) {
  return static_cast<float*>(const_cast<void*>(contiguousOrCopy(view, storage)));
}

/**
 * The forward pass on contiguous arrays: training (`mean` and `variance` written) or inference
 * (read), `scale` and `shift` null when absent. Returns false, leaving the outputs alone, when
 * oneDNN refuses the configuration. Takes oneDNN's lock.
 */
bool runForward(bool training, const Geometry& geometry, float epsilon, const float* in, float* out, float* mean, float* variance,
                const float* scale, const float* shift) {
  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = runsSerial(geometry);
  const SerialScope scope(serial);
  const std::string key = batchNormKey(training ? 0 : 1, geometry, scale != nullptr, shift != nullptr, serial, epsilon);
  BatchNormForwardEntry* entry = findOrMake(forwardCache(), key, [&](BatchNormForwardEntry& made) {
    const dnnl::prop_kind kind = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    const dnnl::normalization_flags flags = normalizationFlags(
        scale != nullptr, shift != nullptr,
        training ? static_cast<dnnl::normalization_flags>(0) : dnnl::normalization_flags::use_global_stats);
    const auto desc = fastestDesc(geometry, [&](const memory::desc& data) { return forwardDesc(kind, data, epsilon, flags); });
    made.src.prepare(geometry.plain(), desc.src_desc(), false);
    made.dst.prepare(geometry.plain(), desc.dst_desc(), true);
    // oneDNN's batch norm runs in place: the output overwrites the staged input.
    if (made.dst.reorders) made.dst.staging = made.src.staging;
    return dnnl::batch_normalization_forward(desc);
  });
  if (entry == nullptr) return false;
  const memory::desc vector = geometry.vector();
  std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC, entry->src.input(const_cast<float*>(in))},
                                            {DNNL_ARG_DST, entry->dst.output(out)},
                                            {DNNL_ARG_MEAN, memory(vector, cpuEngine(), mean)},
                                            {DNNL_ARG_VARIANCE, memory(vector, cpuEngine(), variance)}};
  if (scale != nullptr) arguments.emplace(DNNL_ARG_SCALE, memory(vector, cpuEngine(), const_cast<float*>(scale)));
  if (shift != nullptr) arguments.emplace(DNNL_ARG_SHIFT, memory(vector, cpuEngine(), const_cast<float*>(shift)));
  entry->primitive.execute(cpuStream(), arguments);
  entry->dst.finish(out);
  cpuStream().wait();
  return true;
}

/** The backward pass's primitive descriptor on `data`, hinted by the training forward pass on it. */
dnnl::batch_normalization_backward::primitive_desc backwardDesc(const memory::desc& data, float epsilon, dnnl::normalization_flags flags) {
  const dnnl::batch_normalization_backward::desc desc(dnnl::prop_kind::backward, data, data, epsilon, flags);
  return dnnl::batch_normalization_backward::primitive_desc(desc, cpuEngine(),
                                                            forwardDesc(dnnl::prop_kind::forward_training, data, epsilon, flags));
}

/** Calls visit(k) for the index k of each element of channel `c` in a contiguous [N, C, S] array. */
template <typename Visit>
void forEachInChannel(const Geometry& geometry, int64_t c, Visit visit) {
  for (int64_t n = 0; n < geometry.batch; n++) {
    const int64_t base = (n * geometry.channels + c) * geometry.spatial;
    for (int64_t i = 0; i < geometry.spatial; i++) visit(base + i);
  }
}

bool finite(float value) { return std::isfinite(value); }

/**
 * Channel `c` of the training forward pass as the composite computes it: the mean and the biased
 * variance summed in double (the composite's reductions), each elementwise step in float32. For
 * channels whose oneDNN statistics are not finite: oneDNN sums in float32, so finite inputs near
 * the float32 range's edge (two of 3e38) gave an infinite mean and a NaN output where the
 * composite's mean is finite and its output the bias.
 */
void compositeForward(const Geometry& geometry, int64_t c, float epsilon, const float* in, const float* scale, const float* shift,
                      float* out, float* mean, float* variance) {
  const double count = static_cast<double>(geometry.perChannel());
  double sum = 0;
  forEachInChannel(geometry, c, [&](int64_t k) { sum += in[k]; });
  const float m = static_cast<float>(sum / count);
  double squares = 0;
  forEachInChannel(geometry, c, [&](int64_t k) {
    const float centered = in[k] - m;
    squares += centered * centered;
  });
  const float v = static_cast<float>(squares / count);
  const float r = 1.0f / std::sqrt(v + epsilon);
  forEachInChannel(geometry, c, [&](int64_t k) {
    float y = (in[k] - m) * r;
    if (scale != nullptr) y *= scale[c];
    if (shift != nullptr) y += shift[c];
    out[k] = y;
  });
  mean[c] = m;
  variance[c] = v;
}

/**
 * Channel `c` of the backward pass as the composite computes it (the formula of the api's
 * CompositeKernels.batchNormBackward, sums in double): for channels where oneDNN's float32 sums
 * overflowed, and for an infinite weight, where oneDNN's `weight * r * (g - ...)` is infinite and
 * the composite's `g * weight - mean(g * weight)` NaN.
 */
void compositeBackward(const Geometry& geometry, int64_t c, float epsilon, const float* in, const float* mean, const float* variance,
                       const float* scale, const float* g, float* out, float* weightOut, float* biasOut) {
  const double count = static_cast<double>(geometry.perChannel());
  const float r = 1.0f / std::sqrt(variance[c] + epsilon);
  const float w = scale[c];
  double hSum = 0, projection = 0, gSum = 0, gProjection = 0;
  forEachInChannel(geometry, c, [&](int64_t k) {
    const float normalized = (in[k] - mean[c]) * r;
    const float h = g[k] * w;
    hSum += h;
    projection += h * normalized;
    gSum += g[k];
    gProjection += g[k] * normalized;
  });
  const float hMean = static_cast<float>(hSum / count);
  const float projectionMean = static_cast<float>(projection / count);
  forEachInChannel(geometry, c, [&](int64_t k) {
    const float normalized = (in[k] - mean[c]) * r;
    out[k] = r * (g[k] * w - hMean - normalized * projectionMean);
  });
  weightOut[c] = static_cast<float>(gProjection);
  biasOut[c] = static_cast<float>(gSum);
}

/**
 * The backward pass on contiguous arrays: the input's cotangent into `out`, the weight's into
 * `weightOut` unless it is null, the bias's into `biasOut` unless it is null; `weight` null when
 * absent. The primitive always computes the weight's and bias's cotangents (oneDNN sums them on
 * its way to the input's anyway; ones stand in for an absent weight, scratch vectors for absent
 * outputs): a channel whose sums or weight are not finite is then recomputed as the composite
 * computes it (compositeBackward). Returns false, leaving the outputs alone, when oneDNN refuses
 * the configuration. Takes oneDNN's lock.
 */
bool runBackward(const Geometry& geometry, float epsilon, const float* in, const float* mean, const float* variance, const float* weight,
                 const float* g, float* out, float* weightOut, float* biasOut) {
  const size_t channels = static_cast<size_t>(geometry.channels);
  std::vector<float> ones(weight == nullptr ? channels : 0, 1.0f);
  std::vector<float> shift(channels);  // read by no formula, but oneDNN wants it bound
  std::vector<float> weightScratch(weightOut == nullptr ? channels : 0);
  std::vector<float> biasScratch(biasOut == nullptr ? channels : 0);
  const float* scale = weight != nullptr ? weight : ones.data();
  float* weightSums = weightOut != nullptr ? weightOut : weightScratch.data();
  float* biasSums = biasOut != nullptr ? biasOut : biasScratch.data();
  {
    const std::lock_guard<std::mutex> lock(dnnlMutex());
    const bool serial = runsSerial(geometry);
    const SerialScope scope(serial);
    const std::string key = batchNormKey(2, geometry, true, true, serial, epsilon);
    BatchNormBackwardEntry* entry = findOrMake(backwardCache(), key, [&](BatchNormBackwardEntry& made) {
      const dnnl::normalization_flags flags = normalizationFlags(true, true);
      const auto desc = fastestDesc(geometry, [&](const memory::desc& data) { return backwardDesc(data, epsilon, flags); });
      made.src.prepare(geometry.plain(), desc.src_desc(), false);
      made.diffDst.prepare(geometry.plain(), desc.diff_dst_desc(), false);
      made.diffSrc.prepare(geometry.plain(), desc.diff_src_desc(), true);
      // In place, as the forward pass: the input's cotangent overwrites the staged g.
      if (made.diffSrc.reorders) made.diffSrc.staging = made.diffDst.staging;
      return dnnl::batch_normalization_backward(desc);
    });
    if (entry == nullptr) return false;
    const memory::desc vector = geometry.vector();
    entry->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, entry->src.input(const_cast<float*>(in))},
                                           {DNNL_ARG_MEAN, memory(vector, cpuEngine(), const_cast<float*>(mean))},
                                           {DNNL_ARG_VARIANCE, memory(vector, cpuEngine(), const_cast<float*>(variance))},
                                           {DNNL_ARG_DIFF_DST, entry->diffDst.input(const_cast<float*>(g))},
                                           {DNNL_ARG_SCALE, memory(vector, cpuEngine(), const_cast<float*>(scale))},
                                           {DNNL_ARG_SHIFT, memory(vector, cpuEngine(), shift.data())},
                                           {DNNL_ARG_DIFF_SRC, entry->diffSrc.output(out)},
                                           {DNNL_ARG_DIFF_SCALE, memory(vector, cpuEngine(), weightSums)},
                                           {DNNL_ARG_DIFF_SHIFT, memory(vector, cpuEngine(), biasSums)}});
    entry->diffSrc.finish(out);
    cpuStream().wait();
  }
  for (int64_t c = 0; c < geometry.channels; c++) {
    if (!finite(scale[c]) || !finite(weightSums[c]) || !finite(biasSums[c])) {
      compositeBackward(geometry, c, epsilon, in, mean, variance, scale, g, out, weightSums, biasSums);
    }
  }
  return true;
}

}  // namespace

// batchNorm(dtype, x, xLayout, weight, weightLayout, bias, biasLayout, eps, out, meanOut,
// varianceOut): batch normalization with the batch's statistics over the channel axis 1 of x
// ([N, C, ...]): meanOut and varianceOut (C elements each) receive each channel's mean and
// biased variance over every other dim, out (contiguous, x's shape) (x - mean) / sqrt(variance +
// eps) * weight + bias. weight and bias are null or [C] views. With no element per channel the
// statistics are NaN. float32 only. Returns true, or false, leaving the outputs alone, when oneDNN
// refuses the configuration.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  const char* op = "batchNorm";
  checkArgs(info, 11, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  View weight, bias;
  const bool hasWeight = optionalView(info, 3, 4, op, "weight", weight);
  const bool hasBias = optionalView(info, 5, 6, op, "bias", bias);
  if (hasWeight) checkChannels(env, op, "weight", weight, geometry.channels);
  if (hasBias) checkChannels(env, op, "bias", bias, geometry.channels);
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
  std::vector<char> xStorage, weightStorage, biasStorage;
  float* in = floatsOf(x, xStorage);
  float* scale = hasWeight ? floatsOf(weight, weightStorage) : nullptr;
  float* shift = hasBias ? floatsOf(bias, biasStorage) : nullptr;
  float* means = meanOut.data<float>();
  float* variances = varianceOut.data<float>();
  if (!runForward(true, geometry, epsilon, in, out.data<float>(), means, variances, scale, shift)) return Napi::Boolean::New(env, false);
  for (int64_t c = 0; c < geometry.channels; c++) {
    if (!finite(means[c]) || !finite(variances[c])) compositeForward(geometry, c, epsilon, in, scale, shift, out.data<float>(), means, variances);
  }
  return Napi::Boolean::New(env, true);
}

// batchNormInference(dtype, x, xLayout, mean, meanLayout, variance, varianceLayout, weight,
// weightLayout, bias, biasLayout, eps, out): out (contiguous, x's shape) = (x - mean) /
// sqrt(variance + eps) * weight + bias along the channel axis 1 of x ([N, C, ...]), with the
// given statistics ([C] views); weight and bias are null or [C] views. float32 only. Returns
// true, or false, leaving `out` alone, when oneDNN refuses the configuration.
Napi::Value BatchNormInference(const Napi::CallbackInfo& info) {
  const char* op = "batchNormInference";
  checkArgs(info, 13, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  const View mean = viewArg(info, 3, 4, dtype, op, "mean");
  const View variance = viewArg(info, 5, 6, dtype, op, "variance");
  checkChannels(env, op, "mean", mean, geometry.channels);
  checkChannels(env, op, "variance", variance, geometry.channels);
  View weight, bias;
  const bool hasWeight = optionalView(info, 7, 8, op, "weight", weight);
  const bool hasBias = optionalView(info, 9, 10, op, "bias", bias);
  if (hasWeight) checkChannels(env, op, "weight", weight, geometry.channels);
  if (hasBias) checkChannels(env, op, "bias", bias, geometry.channels);
  const float epsilon = epsilonArg(info, 11, op);
  const Output out = outputArg(info, 12, dtype, x.size, op);
  if (x.size == 0) return Napi::Boolean::New(env, true);
  std::vector<char> xStorage, meanStorage, varianceStorage, weightStorage, biasStorage;
  float* in = floatsOf(x, xStorage);
  float* means = floatsOf(mean, meanStorage);
  float* variances = floatsOf(variance, varianceStorage);
  float* scale = hasWeight ? floatsOf(weight, weightStorage) : nullptr;
  float* shift = hasBias ? floatsOf(bias, biasStorage) : nullptr;
  const bool ran = runForward(false, geometry, epsilon, in, out.data<float>(), means, variances, scale, shift);
  return Napi::Boolean::New(env, ran);
}

// batchNormBackward(dtype, x, xLayout, mean, meanLayout, variance, varianceLayout, weight,
// weightLayout, g, gLayout, eps, out, weightOut, biasOut): the cotangents of batchNorm(x, weight,
// bias, eps)'s output from its cotangent g (x's shape), given the statistics that forward pass
// returned ([C] views): the input's into out (contiguous, x's shape); the weight's, sum(g * xhat)
// per channel, into weightOut when a weight is given (null otherwise); the bias's, sum(g), into
// biasOut unless it is null (C elements each). With no element per channel those are 0. float32
// only. Returns true, or false, leaving the outputs alone, when oneDNN refuses the configuration.
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "batchNormBackward";
  checkArgs(info, 15, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const Geometry geometry = geometryOf(env, op, x);
  const View mean = viewArg(info, 3, 4, dtype, op, "mean");
  const View variance = viewArg(info, 5, 6, dtype, op, "variance");
  checkChannels(env, op, "mean", mean, geometry.channels);
  checkChannels(env, op, "variance", variance, geometry.channels);
  View weight;
  const bool hasWeight = optionalView(info, 7, 8, op, "weight", weight);
  if (hasWeight) checkChannels(env, op, "weight", weight, geometry.channels);
  const View g = viewArg(info, 9, 10, dtype, op, "cotangent");
  if (!g.sameShape(x)) throwRange(env, op, "the cotangent must have the input's shape");
  const float epsilon = epsilonArg(info, 11, op);
  const Output out = outputArg(info, 12, dtype, x.size, op);
  const bool weightAbsent = info[13].IsNull() || info[13].IsUndefined();
  if (weightAbsent == hasWeight) throwType(env, op, "weightOut must be given exactly when a weight is");
  const Output weightOut = hasWeight ? outputArg(info, 13, dtype, geometry.channels, op) : Output{};
  const bool withBias = !(info[14].IsNull() || info[14].IsUndefined());
  const Output biasOut = withBias ? outputArg(info, 14, dtype, geometry.channels, op) : Output{};
  if (x.size == 0) {
    // Sums over no elements: the weight's and bias's cotangents are zero.
    if (hasWeight) std::fill(weightOut.data<float>(), weightOut.data<float>() + weightOut.size, 0.0f);
    if (withBias) std::fill(biasOut.data<float>(), biasOut.data<float>() + biasOut.size, 0.0f);
    return Napi::Boolean::New(env, true);
  }
  std::vector<char> xStorage, meanStorage, varianceStorage, weightStorage, gStorage;
  float* in = floatsOf(x, xStorage);
  float* means = floatsOf(mean, meanStorage);
  float* variances = floatsOf(variance, varianceStorage);
  float* scale = hasWeight ? floatsOf(weight, weightStorage) : nullptr;
  float* cotangent = floatsOf(g, gStorage);
  const bool ran = runBackward(geometry, epsilon, in, means, variances, scale, cotangent, out.data<float>(),
                               hasWeight ? weightOut.data<float>() : nullptr, withBias ? biasOut.data<float>() : nullptr);
  return Napi::Boolean::New(env, ran);
}

}  // namespace flint
