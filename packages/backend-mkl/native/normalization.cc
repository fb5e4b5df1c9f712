// Softmax, log-softmax and layer normalization, forward and backward, through oneDNN primitives
// (float32), cached per shape: the fused kernels eager dispatch uses for those composites (the
// api's Backend.composites; the backward ones serve backward passes nothing records). oneDNN's
// plain-layout jit kernels want the reduced axis innermost and dense, so other views are packed
// first (its reference kernels, which take any layout, ran a [32, 128, 128] softmax over the
// middle axis 70 times slower than the jit one over the last).
//
// A configuration oneDNN refuses to create a primitive for (a dnnl::error from its primitive
// descriptor or primitive) makes the entry point return false, leaving its outputs alone: the
// TypeScript kernel then declines and the api runs the composite. Bad arguments still throw.
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "common.h"
#include "dnnl_context.h"
#include "normalization.h"
#include "ops.h"

namespace flint {

using dnnl::memory;

thread_local bool refusingForTesting = false;

bool optionalView(const Napi::CallbackInfo& info, size_t dataIndex, size_t layoutIndex, const char* op, const char* what, View& view) {
  const bool absent = info[dataIndex].IsNull() || info[dataIndex].IsUndefined();
  const bool layoutAbsent = info[layoutIndex].IsNull() || info[layoutIndex].IsUndefined();
  if (absent != layoutAbsent) throwType(info.Env(), op, std::string(what) + " and its layout must both be given or both be null");
  if (absent) return false;
  view = viewArg(info, dataIndex, layoutIndex, kFloat32, op, what);
  return true;
}

float epsilonArg(const Napi::CallbackInfo& info, int index, const char* op) {
  if (!info[index].IsNumber()) throwType(info.Env(), op, "eps must be a number");
  const double eps = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(eps) || eps < 0) throwRange(info.Env(), op, "eps must be a finite number >= 0");
  return static_cast<float>(eps);
}

dnnl::normalization_flags normalizationFlags(bool scale, bool shift) {
  auto flags = static_cast<dnnl::normalization_flags>(0);
  if (scale) flags = flags | dnnl::normalization_flags::use_scale;
  if (shift) flags = flags | dnnl::normalization_flags::use_shift;
  return flags;
}

ParameterCotangents parameterCotangentArgs(const Napi::CallbackInfo& info, size_t weightIndex, int dtype, int64_t size, bool hasWeight,
                                           const char* op) {
  ParameterCotangents outputs;
  const bool weightAbsent = info[weightIndex].IsNull() || info[weightIndex].IsUndefined();
  if (weightAbsent == hasWeight) throwType(info.Env(), op, "weightOut must be given exactly when a weight is");
  outputs.hasWeight = hasWeight;
  if (hasWeight) outputs.weight = outputArg(info, weightIndex, dtype, size, op);
  outputs.hasBias = !(info[weightIndex + 1].IsNull() || info[weightIndex + 1].IsUndefined());
  if (outputs.hasBias) outputs.bias = outputArg(info, weightIndex + 1, dtype, size, op);
  return outputs;
}

void ParameterCotangents::zero() const {
  if (hasWeight) std::fill(weightData(), weightData() + weight.size, 0.0f);
  if (hasBias) std::fill(biasData(), biasData() + bias.size, 0.0f);
}

namespace {

struct SoftmaxEntry {
  dnnl::softmax_v2_forward primitive;
};

PrimitiveCache<SoftmaxEntry>& softmaxCache() {
  static PrimitiveCache<SoftmaxEntry> cache(256);
  return cache;
}

struct SoftmaxBackwardEntry {
  dnnl::softmax_v2_backward primitive;
};

PrimitiveCache<SoftmaxBackwardEntry>& softmaxBackwardCache() {
  static PrimitiveCache<SoftmaxBackwardEntry> cache(256);
  return cache;
}

struct LayerNormEntry {
  dnnl::layer_normalization_forward primitive;
};

PrimitiveCache<LayerNormEntry>& layerNormCache() {
  static PrimitiveCache<LayerNormEntry> cache(256);
  return cache;
}

/**
 * Whether `values` hold a NaN, read as bits: the compiler vectorizes this loop, where a float
 * self-comparison reduced into a bool ran element by element (as long as the softmax itself).
 */
bool anyNaN(const float* values, int64_t count) {
  uint32_t found = 0;
  for (int64_t i = 0; i < count; i++) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    found |= static_cast<uint32_t>((bits & 0x7fffffffu) > 0x7f800000u);
  }
  return found != 0;
}

/**
 * oneDNN's softmax ignores a NaN when it takes the row's maximum, so a NaN input gave NaN in its
 * own place and zeros elsewhere; the composite (and PyTorch) give a row of NaN. Rows of `out`
 * holding a NaN whose input row holds one too are filled with NaN. The scan over the output costs
 * one read of it (a tenth of the softmax's time); rows without NaN are left as they are.
 */
void propagateNaN(const float* in, float* out, int64_t rows, int64_t length) {
  parallelRanges(rows, rows * length, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; r++) {
      float* o = out + r * length;
      if (anyNaN(o, length) && anyNaN(in + r * length, length)) std::fill(o, o + length, std::numeric_limits<float>::quiet_NaN());
    }
  });
}

/** `view` with dim `axis` moved last: rows of the reduced axis, in the order softmax writes them. */
View axisLast(const View& view, int axis) {
  View moved = view;
  int next = 0;
  for (int d = 0; d < view.rank; d++) {
    if (d == axis) continue;
    moved.shape[next] = view.shape[d];
    moved.strides[next] = view.strides[d];
    next++;
  }
  moved.shape[next] = view.shape[axis];
  moved.strides[next] = view.strides[axis];
  return moved;
}

dnnl::softmax_v2_forward::primitive_desc softmaxForwardDesc(int64_t rows, int64_t length, bool log);

/**
 * The whole (rows, length) softmax of contiguous float32 rows through a cached oneDNN primitive;
 * false, leaving `out` alone, when oneDNN refuses the configuration. The caller holds the lock.
 */
bool runSoftmax(const float* in, float* out, int64_t rows, int64_t length, bool log) {
  const bool serial = static_cast<double>(rows) * static_cast<double>(length) < kParallelWork;
  const SerialScope scope(serial);
  std::string key;
  appendKey(key, {rows, length, log ? 1 : 0, serial ? 1 : 0, refusingForTesting ? 1 : 0});
  SoftmaxEntry* entry =
      findOrMake(softmaxCache(), key, [&] { return dnnl::softmax_v2_forward(softmaxForwardDesc(rows, length, log)); });
  if (entry == nullptr) return false;
  const memory::desc rowsDesc({rows, length}, memory::data_type::f32, memory::format_tag::ab);
  const memory src(rowsDesc, cpuEngine(), const_cast<float*>(in));
  const memory dst(rowsDesc, cpuEngine(), out);
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  cpuStream().wait();
  propagateNaN(in, out, rows, length);
  return true;
}

struct LayerNormBackwardEntry {
  dnnl::layer_normalization_backward primitive;
};

PrimitiveCache<LayerNormBackwardEntry>& layerNormBackwardCache() {
  static PrimitiveCache<LayerNormBackwardEntry> cache(256);
  return cache;
}

/**
 * The mean and biased variance of each of `rows` contiguous rows, accumulated in double (two
 * passes: the variance of values far from zero keeps its digits), as oneDNN's backward pass
 * takes them. Rows split over the threads; `omp simd` lets the sums vectorize.
 */
void rowMoments(const float* x, int64_t rows, int64_t length, float* mean, float* variance) {
  parallelRanges(rows, rows * length, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; r++) {
      const float* row = x + r * length;
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < length; i++) sum += row[i];
      const double average = sum / static_cast<double>(length);
      double squares = 0;
#pragma omp simd reduction(+ : squares)
      for (int64_t i = 0; i < length; i++) {
        const double centered = row[i] - average;
        squares += centered * centered;
      }
      mean[r] = static_cast<float>(average);
      variance[r] = static_cast<float>(squares / static_cast<double>(length));
    }
  });
}

/** The softmax's forward primitive descriptor for (rows, length) rows: the primitive, or the backward pass's hint. */
dnnl::softmax_v2_forward::primitive_desc softmaxForwardDesc(int64_t rows, int64_t length, bool log) {
  const memory::desc rowsDesc({rows, length}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::softmax_v2_forward::desc desc(dnnl::prop_kind::forward_training,
                                            log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate, rowsDesc,
                                            rowsDesc, 1);
  return dnnl::softmax_v2_forward::primitive_desc(desc, cpuEngine());
}

/**
 * The softmax's (or log-softmax's) input cotangent from its output `y` and the output's
 * cotangent `g`, contiguous (rows, length) rows, through a cached oneDNN primitive; false, leaving
 * `out` alone, when oneDNN refuses the configuration. The caller holds the lock.
 */
bool runSoftmaxBackward(const float* y, const float* g, float* out, int64_t rows, int64_t length, bool log) {
  const bool serial = static_cast<double>(rows) * static_cast<double>(length) < kParallelWork;
  const SerialScope scope(serial);
  std::string key;
  appendKey(key, {rows, length, log ? 1 : 0, serial ? 1 : 0, refusingForTesting ? 1 : 0});
  const memory::desc rowsDesc({rows, length}, memory::data_type::f32, memory::format_tag::ab);
  SoftmaxBackwardEntry* entry = findOrMake(softmaxBackwardCache(), key, [&] {
    const dnnl::softmax_v2_backward::desc desc(log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate, rowsDesc,
                                               rowsDesc, rowsDesc, 1);
    return dnnl::softmax_v2_backward(
        dnnl::softmax_v2_backward::primitive_desc(desc, cpuEngine(), softmaxForwardDesc(rows, length, log)));
  });
  if (entry == nullptr) return false;
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_DST, memory(rowsDesc, cpuEngine(), const_cast<float*>(y))},
                                         {DNNL_ARG_DIFF_DST, memory(rowsDesc, cpuEngine(), const_cast<float*>(g))},
                                         {DNNL_ARG_DIFF_SRC, memory(rowsDesc, cpuEngine(), out)}});
  cpuStream().wait();
  return true;
}

/**
 * Moves contiguous rows (the view's dims with `axis` last) into `out` in the view's own dim
 * order: read in that order, the rows' axis has stride 1 and the other dims the row-major
 * strides of the rows.
 */
void rowsToOutput(const float* rows, const View& shapeOf, int axis, char* out) {
  View staged;
  staged.base = reinterpret_cast<char*>(const_cast<float*>(rows));
  staged.length = shapeOf.size;
  staged.dtype = kFloat32;
  staged.rank = shapeOf.rank;
  int64_t stride = shapeOf.shape[axis];
  for (int d = shapeOf.rank - 1; d >= 0; d--) {
    staged.shape[d] = shapeOf.shape[d];
    if (d == axis) {
      staged.strides[d] = 1;
      continue;
    }
    staged.strides[d] = stride;
    stride *= shapeOf.shape[d];
  }
  staged.size = shapeOf.size;
  copyToContiguous(staged, out);
}

/** The number of elements in the view's last `dims` dims. */
int64_t trailingSize(const View& view, int dims) {
  int64_t size = 1;
  for (int d = view.rank - dims; d < view.rank; d++) size *= view.shape[d];
  return size;
}

/**
 * Runs `kernel(rows, target, rowCount, length)` on the rows of the same-shaped float32 `inputs`
 * along `axis` (each read with the axis last: in place where it lies so, else packed), then puts
 * the result into `out` (contiguous, the inputs' shape): directly when nothing follows the axis,
 * else from a staging buffer, moved back into the inputs' order. Holds oneDNN's lock while the
 * kernel runs. Returns what the kernel returned (false: oneDNN refused; `out` is left alone).
 */
template <size_t Count, typename Kernel>
bool alongAxis(const std::array<const View*, Count>& inputs, int axis, const Output& out, Kernel kernel) {
  const View& shape = *inputs[0];
  const int64_t length = shape.shape[axis];
  // With elements after the axis, the kernel's rows are computed apart and moved into place.
  const bool moved = trailingSize(shape, shape.rank - axis - 1) != 1;
  std::array<std::vector<char>, Count> packed;
  std::array<const float*, Count> rows{};
  for (size_t i = 0; i < Count; i++) rows[i] = static_cast<const float*>(contiguousOrCopy(axisLast(*inputs[i], axis), packed[i]));
  std::vector<float> staging(moved ? static_cast<size_t>(shape.size) : 0);
  float* target = moved ? staging.data() : out.data<float>();
  {
    const std::lock_guard<std::mutex> lock(dnnlMutex());
    if (!kernel(rows, target, shape.size / length, length)) return false;
  }
  if (moved) rowsToOutput(staging.data(), shape, axis, out.base);
  return true;
}

}  // namespace

// softmax(dtype, x, xLayout, axis, log, out): out (contiguous, x's shape) = softmax of the view
// along `axis`, or log-softmax when log is 1. float32 only. A slice holding NaN gives NaN; a
// slice all -Infinity gives NaN; -Infinity entries give 0 (log: -Infinity). Returns true, or
// false, leaving `out` alone, when oneDNN refuses the configuration.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const char* op = "softmax";
  checkArgs(info, 6, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  if (x.rank < 1) throwRange(env, op, "input must have rank 1 or more");
  const int axis = static_cast<int>(intArg(info, 3, op, "axis", 0, x.rank - 1));
  const bool log = intArg(info, 4, op, "log", 0, 1) == 1;
  const Output out = outputArg(info, 5, dtype, x.size, op);
  if (x.size == 0) return Napi::Boolean::New(env, true);
  const bool ran = alongAxis<1>({&x}, axis, out, [&](const std::array<const float*, 1>& rows, float* target, int64_t count, int64_t length) {
    return runSoftmax(rows[0], target, count, length, log);
  });
  return Napi::Boolean::New(env, ran);
}

// softmaxBackward(dtype, y, yLayout, g, gLayout, axis, log, out): out (contiguous, y's shape) =
// the input cotangent of softmax along `axis`, y * (g - sum(g * y)), from its output y and the
// output's cotangent g (views of one shape); of log-softmax when log is 1, g - exp(y) * sum(g).
// float32 only. Returns true, or false, leaving `out` alone, when oneDNN refuses the configuration.
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const char* op = "softmaxBackward";
  checkArgs(info, 8, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View y = viewArg(info, 1, 2, dtype, op, "output");
  const View g = viewArg(info, 3, 4, dtype, op, "cotangent");
  if (y.rank < 1) throwRange(env, op, "output must have rank 1 or more");
  if (!g.sameShape(y)) throwRange(env, op, "the cotangent must have the output's shape");
  const int axis = static_cast<int>(intArg(info, 5, op, "axis", 0, y.rank - 1));
  const bool log = intArg(info, 6, op, "log", 0, 1) == 1;
  const Output out = outputArg(info, 7, dtype, y.size, op);
  if (y.size == 0) return Napi::Boolean::New(env, true);
  const bool ran = alongAxis<2>({&y, &g}, axis, out, [&](const std::array<const float*, 2>& rows, float* target, int64_t count, int64_t length) {
    return runSoftmaxBackward(rows[0], rows[1], target, count, length, log);
  });
  return Napi::Boolean::New(env, ran);
}

namespace {

/** Throws unless `view` has the shape of the input's last `normalizedDims` dims. */
void checkNormalizedShape(Napi::Env env, const char* op, const char* what, const View& view, const View& x, int normalizedDims) {
  bool matches = view.rank == normalizedDims;
  for (int d = 0; matches && d < normalizedDims; d++) matches = view.shape[d] == x.shape[x.rank - normalizedDims + d];
  if (!matches) throwRange(env, op, std::string(what) + " must have the shape of the input's last " + std::to_string(normalizedDims) + " dims");
}

/** A primitive cache key for rows of `length` elements normalized with `epsilon` (its float32 bits) and the given flags. */
std::string layerNormKey(int64_t rows, int64_t length, bool hasWeight, bool hasBias, bool serial, float epsilon) {
  std::string key;
  appendKey(key, {rows, length, hasWeight ? 1 : 0, hasBias ? 1 : 0, serial ? 1 : 0, epsilonKey(epsilon), refusingForTesting ? 1 : 0});
  return key;
}

}  // namespace

// layerNorm(dtype, x, xLayout, normalizedDims, weight, weightLayout, bias, biasLayout, eps, out):
// out (contiguous, x's shape) = (x - mean) / sqrt(variance + eps) * weight + bias, the mean and
// the biased variance taken over the last `normalizedDims` dims. weight and bias are null or
// views of exactly those dims' shape. float32 only. Returns true, or false, leaving `out` alone,
// when oneDNN refuses the configuration.
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const char* op = "layerNorm";
  checkArgs(info, 10, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  if (x.rank < 1) throwRange(env, op, "input must have rank 1 or more");
  const int normalizedDims = static_cast<int>(intArg(info, 3, op, "normalizedDims", 1, x.rank));
  View weight, bias;
  const bool hasWeight = optionalView(info, 4, 5, op, "weight", weight);
  const bool hasBias = optionalView(info, 6, 7, op, "bias", bias);
  if (hasWeight) checkNormalizedShape(env, op, "weight", weight, x, normalizedDims);
  if (hasBias) checkNormalizedShape(env, op, "bias", bias, x, normalizedDims);
  const float epsilon = epsilonArg(info, 8, op);
  const Output out = outputArg(info, 9, dtype, x.size, op);
  if (x.size == 0) return Napi::Boolean::New(env, true);
  const int64_t length = trailingSize(x, normalizedDims);
  const int64_t rows = x.size / length;
  std::vector<char> xStorage, weightStorage, biasStorage;
  const float* in = static_cast<const float*>(contiguousOrCopy(x, xStorage));
  const float* scale = hasWeight ? static_cast<const float*>(contiguousOrCopy(weight, weightStorage)) : nullptr;
  const float* shift = hasBias ? static_cast<const float*>(contiguousOrCopy(bias, biasStorage)) : nullptr;

  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = static_cast<double>(x.size) < kParallelWork;
  const SerialScope scope(serial);
  const std::string key = layerNormKey(rows, length, hasWeight, hasBias, serial, epsilon);
  const memory::desc rowsDesc({rows, length}, memory::data_type::f32, memory::format_tag::ab);
  LayerNormEntry* entry = findOrMake(layerNormCache(), key, [&] {
    const dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, rowsDesc, epsilon,
                                                       normalizationFlags(hasWeight, hasBias));
    return dnnl::layer_normalization_forward(dnnl::layer_normalization_forward::primitive_desc(desc, cpuEngine()));
  });
  if (entry == nullptr) return Napi::Boolean::New(env, false);
  const memory::desc vectorDesc({length}, memory::data_type::f32, memory::format_tag::a);
  std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC, memory(rowsDesc, cpuEngine(), const_cast<float*>(in))},
                                            {DNNL_ARG_DST, memory(rowsDesc, cpuEngine(), out.base)}};
  if (hasWeight) arguments.emplace(DNNL_ARG_SCALE, memory(vectorDesc, cpuEngine(), const_cast<float*>(scale)));
  if (hasBias) arguments.emplace(DNNL_ARG_SHIFT, memory(vectorDesc, cpuEngine(), const_cast<float*>(shift)));
  entry->primitive.execute(cpuStream(), arguments);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

// layerNormBackward(dtype, x, xLayout, normalizedDims, weight, weightLayout, g, gLayout, eps, out,
// weightOut, biasOut): the cotangents of layerNorm(x, weight, bias) from the output's cotangent g
// (x's shape): the input's into out (contiguous, x's shape); the weight's into weightOut when a
// weight is given (null otherwise), the bias's into biasOut unless it is null (each holding the
// normalized dims' element count). float32 only. Returns true, or false, leaving the outputs
// alone, when oneDNN refuses the configuration.
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "layerNormBackward";
  checkArgs(info, 12, op);
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  if (x.rank < 1) throwRange(env, op, "input must have rank 1 or more");
  const int normalizedDims = static_cast<int>(intArg(info, 3, op, "normalizedDims", 1, x.rank));
  View weight;
  const bool hasWeight = optionalView(info, 4, 5, op, "weight", weight);
  if (hasWeight) checkNormalizedShape(env, op, "weight", weight, x, normalizedDims);
  const View g = viewArg(info, 6, 7, dtype, op, "cotangent");
  if (!g.sameShape(x)) throwRange(env, op, "the cotangent must have the input's shape");
  const float epsilon = epsilonArg(info, 8, op);
  const Output out = outputArg(info, 9, dtype, x.size, op);
  const int64_t length = trailingSize(x, normalizedDims);
  const ParameterCotangents parameters = parameterCotangentArgs(info, 10, dtype, length, hasWeight, op);
  const bool withBias = parameters.hasBias;
  if (x.size == 0) {
    parameters.zero();  // sums over no rows
    return Napi::Boolean::New(env, true);
  }
  const int64_t rows = x.size / length;
  std::vector<char> xStorage, weightStorage, gStorage;
  const float* in = static_cast<const float*>(contiguousOrCopy(x, xStorage));
  const float* scale = hasWeight ? static_cast<const float*>(contiguousOrCopy(weight, weightStorage)) : nullptr;
  const float* cotangent = static_cast<const float*>(contiguousOrCopy(g, gStorage));
  std::vector<float> mean(static_cast<size_t>(rows)), variance(static_cast<size_t>(rows));
  std::vector<float> shift(withBias ? static_cast<size_t>(length) : 0);  // read by no formula, but oneDNN wants it bound
  rowMoments(in, rows, length, mean.data(), variance.data());

  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = static_cast<double>(x.size) < kParallelWork;
  const SerialScope scope(serial);
  const std::string key = layerNormKey(rows, length, hasWeight, withBias, serial, epsilon);
  const memory::desc rowsDesc({rows, length}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc statisticsDesc({rows}, memory::data_type::f32, memory::format_tag::a);
  const memory::desc vectorDesc({length}, memory::data_type::f32, memory::format_tag::a);
  LayerNormBackwardEntry* entry = findOrMake(layerNormBackwardCache(), key, [&] {
    const dnnl::normalization_flags flags = normalizationFlags(hasWeight, withBias);
    const dnnl::layer_normalization_forward::primitive_desc hint(
        dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_training, rowsDesc, statisticsDesc, epsilon, flags),
        cpuEngine());
    const dnnl::layer_normalization_backward::desc desc(dnnl::prop_kind::backward, rowsDesc, rowsDesc, statisticsDesc, epsilon, flags);
    return dnnl::layer_normalization_backward(dnnl::layer_normalization_backward::primitive_desc(desc, cpuEngine(), hint));
  });
  if (entry == nullptr) return Napi::Boolean::New(env, false);
  std::unordered_map<int, memory> arguments{
      {DNNL_ARG_SRC, memory(rowsDesc, cpuEngine(), const_cast<float*>(in))},
      {DNNL_ARG_MEAN, memory(statisticsDesc, cpuEngine(), mean.data())},
      {DNNL_ARG_VARIANCE, memory(statisticsDesc, cpuEngine(), variance.data())},
      {DNNL_ARG_DIFF_DST, memory(rowsDesc, cpuEngine(), const_cast<float*>(cotangent))},
      {DNNL_ARG_DIFF_SRC, memory(rowsDesc, cpuEngine(), out.base)}};
  if (hasWeight) {
    arguments.emplace(DNNL_ARG_SCALE, memory(vectorDesc, cpuEngine(), const_cast<float*>(scale)));
    arguments.emplace(DNNL_ARG_DIFF_SCALE, memory(vectorDesc, cpuEngine(), parameters.weight.base));
  }
  if (withBias) {
    arguments.emplace(DNNL_ARG_SHIFT, memory(vectorDesc, cpuEngine(), shift.data()));
    arguments.emplace(DNNL_ARG_DIFF_SHIFT, memory(vectorDesc, cpuEngine(), parameters.bias.base));
  }
  entry->primitive.execute(cpuStream(), arguments);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

// refuseNormalizationPrimitives(on): a test hook. While on, the calling thread's softmax, softmax
// backward, layer norm and layer norm backward find oneDNN refusing their primitives, as it
// refuses a configuration it does not take, and return false (see refusingForTesting in
// normalization.h). Batch norm's loops (batch_norm.cc) create no primitive.
Napi::Value RefuseNormalizationPrimitives(const Napi::CallbackInfo& info) {
  checkArgs(info, 1, "refuseNormalizationPrimitives");
  if (!info[0].IsBoolean()) throwType(info.Env(), "refuseNormalizationPrimitives", "on must be a boolean");
  refusingForTesting = info[0].As<Napi::Boolean>().Value();
  return info.Env().Undefined();
}

}  // namespace flint
