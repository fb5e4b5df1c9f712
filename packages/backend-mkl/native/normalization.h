// What the normalization kernels share: the cache lookup that turns oneDNN's refusal of a
// configuration into a decline and the test hook that simulates one (softmax and layer norm in
// normalization.cc), and the checks of their optional and epsilon arguments (batch norm's loops in
// batch_norm.cc too).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "common.h"
#include "dnnl_context.h"

namespace flint {

/**
 * Set by `refuseNormalizationPrimitives` (a test hook): the calling thread's softmax and layer
 * norm primitives are then refused as oneDNN refuses a configuration it does not take,
 * so that tests reach the decline path (with oneDNN 2.6 no float32 shape of these ops does). Part
 * of the cache keys, so that other threads' primitives and refusals are not mixed with these.
 */
extern thread_local bool refusingForTesting;

/**
 * The cached entry for `key`, its primitive made by `make()` on a miss; null when oneDNN refuses the configuration (a dnnl::error while making it). The refusal is cached too (an
 * entry whose primitive is empty), so later calls of the configuration decline without asking
 * oneDNN again. The caller holds the lock.
 */
template <typename Entry, typename Make>
Entry* findOrMake(PrimitiveCache<Entry>& cache, const std::string& key, Make make) {
  Entry* entry = cache.find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<Entry>();
    try {
      if (refusingForTesting) throw dnnl::error(dnnl_unimplemented, "refused for testing (refuseNormalizationPrimitives)");
      made->primitive = make();
    } catch (const dnnl::error&) {
      // A configuration this oneDNN build does not take: the entry stays empty.
    }
    entry = cache.insert(key, std::move(made));
  }
  return entry->primitive ? entry : nullptr;
}

/** An optional view argument: null (both the array and its layout) or a float32 view. */
bool optionalView(const Napi::CallbackInfo& info, size_t dataIndex, size_t layoutIndex, const char* op, const char* what, View& view);

/** Argument `index` as a normalization's epsilon: a finite number >= 0, rounded to float32 as oneDNN takes it. */
float epsilonArg(const Napi::CallbackInfo& info, int index, const char* op);

/** An epsilon's float32 bits, for a primitive cache key. */
inline int64_t epsilonKey(float epsilon) {
  uint32_t bits = 0;
  std::memcpy(&bits, &epsilon, sizeof bits);
  return bits;
}

/** oneDNN's flags for a normalization with or without a weight (scale) and a bias (shift). */
dnnl::normalization_flags normalizationFlags(bool scale, bool shift);

/**
 * The weight's and the bias's cotangent outputs of a normalization's backward pass, arguments
 * `weightIndex` and `weightIndex + 1`: the weight's given exactly when the pass has a weight, the
 * bias's optional (null), `size` elements each.
 */
struct ParameterCotangents {
  Output weight;
  Output bias;
  bool hasWeight = false;
  bool hasBias = false;

  float* weightData() const { return hasWeight ? weight.data<float>() : nullptr; }
  float* biasData() const { return hasBias ? bias.data<float>() : nullptr; }
  /** Writes zeros into both: the sums over no elements. */
  void zero() const;
};
ParameterCotangents parameterCotangentArgs(const Napi::CallbackInfo& info, size_t weightIndex, int dtype, int64_t size, bool hasWeight,
                                           const char* op);

}  // namespace flint
