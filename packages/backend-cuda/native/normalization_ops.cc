// The entry points of the composite ops' kernels (normalization.cu): softmax, layer norm and
// batch norm, forward and backward. Operands are contiguous float32 or float64 views (the
// TypeScript side packs others); shapes are checked against each other here. Batch norm runs
// through cuDNN when it is present and takes the configuration (dnn_batch_norm.cc), as PyTorch
// does on NCHW tensors, unless the engine argument asks for the own kernels.
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>

#include "boundary.h"
#include "ops.h"
#include "vendor.h"

namespace flint_cuda {

namespace {

constexpr unsigned kFloat32Or64 = (1u << kFloat32) | (1u << kFloat64);

/** A contiguous view, or a TypeError naming it. */
View contiguousArg(const Napi::CallbackInfo& info, size_t handleIndex, size_t layoutIndex, int dtype, const char* op, const char* what) {
  const View view = viewArg(info, handleIndex, layoutIndex, dtype, op, what);
  if (!view.contiguous()) throwRange(info.Env(), op, std::string(what) + " must be contiguous (pack it first)");
  return view;
}

/** An optional operand (null, or a contiguous view of `shape`): its data, or null. */
const void* optionalArg(const Napi::CallbackInfo& info, size_t handleIndex, size_t layoutIndex, int dtype, const char* op,
                        const char* what, int rank, const int64_t* shape) {
  if (info[handleIndex].IsNull()) {
    if (!info[layoutIndex].IsNull()) throwType(info.Env(), op, std::string(what) + " is null but its layout is not");
    return nullptr;
  }
  const View view = contiguousArg(info, handleIndex, layoutIndex, dtype, op, what);
  bool same = view.rank == rank;
  for (int d = 0; same && d < rank; d++) same = view.shape[d] == shape[d];
  if (!same) throwRange(info.Env(), op, std::string(what) + " does not have the shape it must have");
  return view.base + view.offset * itemSizeOf(dtype);
}

const void* dataOf(const View& v) { return v.base + v.offset * itemSizeOf(v.dtype); }

void requireSameShape(const Napi::Env& env, const char* op, const View& a, const View& b, const char* what) {
  bool same = a.rank == b.rank;
  for (int d = 0; same && d < a.rank; d++) same = a.shape[d] == b.shape[d];
  if (!same) throwRange(env, op, std::string(what) + " must have the input's shape");
}

double epsArg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (!info[index].IsNumber()) throwType(info.Env(), op, "eps must be a number");
  const double eps = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(eps) || eps < 0) throwRange(info.Env(), op, "eps must be finite and at least 0");
  return eps;
}

int64_t productOf(const int64_t* dims, int from, int to) {
  int64_t p = 1;
  for (int d = from; d < to; d++) p *= dims[d];
  return p;
}

/**
 * [N, C, ...]: the batch, the channels and the product of the rest. Statistics of the batch need
 * at least one element per channel (`statistics`); normalizing by given ones takes an empty batch.
 */
void channelGeometry(const Napi::Env& env, const char* op, const View& x, bool statistics, int64_t& batch, int64_t& channels,
                     int64_t& spatial) {
  if (x.rank < 2) throwRange(env, op, "the input must have rank 2 or more ([N, C, ...])");
  batch = x.shape[0];
  channels = x.shape[1];
  spatial = productOf(x.shape, 2, x.rank);
  if (statistics && channels > 0 && batch * spatial == 0) throwRange(env, op, "each channel needs at least one element");
}

/** Commits the outputs given (null for absent ones) into an array of handles and nulls. */
Napi::Value commitAll(const Napi::Env& env, std::initializer_list<Output*> outputs) {
  Napi::Array result = Napi::Array::New(env, outputs.size());
  uint32_t i = 0;
  for (Output* out : outputs) result.Set(i++, out != nullptr ? out->commit(env) : env.Null());
  return result;
}

void countRun() { state().counters.compositeKernel++; }

/** x viewed as [outer, length, inner] around `axis` (argument `axisIndex`, checked against x's rank). */
struct Slices {
  int64_t outer = 0, length = 0, inner = 0;
};

Slices slicesArg(const Napi::CallbackInfo& info, size_t axisIndex, const char* op, const View& x, const char* what) {
  if (x.rank < 1) throwRange(info.Env(), op, std::string("the ") + what + " must have rank 1 or more");
  const int axis = static_cast<int>(intArg(info, axisIndex, op, "axis", 0, x.rank - 1));
  return Slices{productOf(x.shape, 0, axis), x.shape[axis], productOf(x.shape, axis + 1, x.rank)};
}

/** Layer norm's rows: the last `normalized` dims of x (argument `dimsIndex`) are a row's `width` elements. */
struct Rows {
  int normalized = 0;
  const int64_t* tail = nullptr;
  int64_t width = 0, count = 0;
};

Rows rowsArg(const Napi::CallbackInfo& info, size_t dimsIndex, const char* op, const View& x) {
  Rows rows;
  rows.normalized = static_cast<int>(intArg(info, dimsIndex, op, "normalizedDims", 1, x.rank < 1 ? 1 : x.rank));
  if (rows.normalized > x.rank) throwRange(info.Env(), op, "normalizedDims exceeds the input's rank");
  rows.tail = x.shape + (x.rank - rows.normalized);
  rows.width = productOf(rows.tail, 0, rows.normalized);
  rows.count = rows.width == 0 ? 0 : x.size / rows.width;
  return rows;
}

enum Engine : int { kEngineAuto = 0, kEngineKernel = 1, kEngineVendor = 2 };

/**
 * [channels] of ones and of zeros, for cuDNN's scale and bias where the op has none (it needs
 * both); filled on the stream, released at the end of the call (stream order keeps them valid).
 */
class UnitParameters {
 public:
  UnitParameters(const Napi::Env& env, const char* op, int dtype, int64_t channels)
      : bytes_(static_cast<size_t>(channels) * static_cast<size_t>(itemSizeOf(dtype))),
        ones_(env, op, bytes_),
        zeros_(env, op, bytes_),
        dtype_(dtype),
        channels_(channels) {}
  const void* ones() {
    if (!onesFilled_) {
      const uint64_t pattern = dtype_ == kFloat64 ? 0x3ff0000000000000ull : 0x3f800000ull;
      launchFill(itemSizeOf(dtype_), ones_.data(), channels_, pattern, state().stream);
      onesFilled_ = true;
    }
    return ones_.data();
  }
  const void* zeros() {
    if (!zerosFilled_) {
      cudaMemsetAsync(zeros_.data(), 0, bytes_, state().stream);
      zerosFilled_ = true;
    }
    return zeros_.data();
  }

 private:
  size_t bytes_;
  Scratch ones_;
  Scratch zeros_;
  int dtype_;
  int64_t channels_;
  bool onesFilled_ = false;
  bool zerosFilled_ = false;
};

/**
 * Runs `viaCudnn(args, why)` when the engine lets batch norm go through cuDNN (asked for, or auto
 * with cuDNN present), with ones and zeros standing in for an absent scale or bias: true when
 * cuDNN ran it (counted), false when the own kernel must; throws when cuDNN was required and
 * declined.
 */
template <typename Run>
bool ranThroughCudnn(const Napi::Env& env, const char* op, int engine, BatchNormArgs args, Run viaCudnn) {
  if (engine == kEngineKernel || (engine == kEngineAuto && cudnn() == nullptr)) return false;
  UnitParameters units(env, op, args.dtype, args.channels);
  if (args.weight == nullptr) args.weight = units.ones();
  if (args.bias == nullptr) args.bias = units.zeros();
  std::string why;
  if (viaCudnn(args, why)) {
    state().counters.normCudnn++;
    return true;
  }
  if (engine == kEngineVendor) throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": cuDNN declined: " + why);
  return false;
}

}  // namespace

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "softmax";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  const Slices slices = slicesArg(info, 3, op, x, "input");
  const bool log = boolArg(info, 4, op, "log");
  Output out(env, op, dtype, x.size);
  if (!launching()) return out.commit(env);
  checkCuda(env, op, launchSoftmax(dtype, log, out.data(), dataOf(x), slices.outer, slices.length, slices.inner, state().stream));
  countRun();
  return out.commit(env);
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "softmaxBackward";
  const Napi::Env env = info.Env();
  checkArgs(info, 7, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View y = contiguousArg(info, 1, 2, dtype, op, "output");
  const View g = contiguousArg(info, 3, 4, dtype, op, "cotangent");
  requireSameShape(env, op, y, g, "the cotangent");
  const Slices slices = slicesArg(info, 5, op, y, "output");
  const bool log = boolArg(info, 6, op, "log");
  Output out(env, op, dtype, y.size);
  if (!launching()) return out.commit(env);
  checkCuda(env, op,
            launchSoftmaxBackward(dtype, log, out.data(), dataOf(y), dataOf(g), slices.outer, slices.length, slices.inner, state().stream));
  countRun();
  return out.commit(env);
}

// layerNorm(dtype, x, layout, weight | null, layout | null, bias | null, layout | null, normalizedDims, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "layerNorm";
  const Napi::Env env = info.Env();
  checkArgs(info, 9, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  const Rows rows = rowsArg(info, 7, op, x);
  const void* weight = optionalArg(info, 3, 4, dtype, op, "weight", rows.normalized, rows.tail);
  const void* bias = optionalArg(info, 5, 6, dtype, op, "bias", rows.normalized, rows.tail);
  const double eps = epsArg(info, 8, op);
  Output out(env, op, dtype, x.size);
  if (!launching()) return out.commit(env);
  checkCuda(env, op, launchLayerNorm(dtype, out.data(), dataOf(x), weight, bias, rows.count, rows.width, eps, state().stream));
  countRun();
  return out.commit(env);
}

// layerNormBackward(dtype, x, layout, weight | null, layout | null, g, layout, normalizedDims, eps, withBias) -> [dx, dw | null, db | null]
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "layerNormBackward";
  const Napi::Env env = info.Env();
  checkArgs(info, 10, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  const View g = contiguousArg(info, 5, 6, dtype, op, "cotangent");
  requireSameShape(env, op, x, g, "the cotangent");
  const Rows layout = rowsArg(info, 7, op, x);
  const void* weight = optionalArg(info, 3, 4, dtype, op, "weight", layout.normalized, layout.tail);
  const double eps = epsArg(info, 8, op);
  const bool withBias = boolArg(info, 9, op, "withBias");
  const int64_t width = layout.width;
  const int64_t rows = layout.count;
  Output dx(env, op, dtype, x.size);
  std::unique_ptr<Output> dWeight = weight != nullptr ? std::make_unique<Output>(env, op, dtype, width) : nullptr;
  std::unique_ptr<Output> dBias = withBias ? std::make_unique<Output>(env, op, dtype, width) : nullptr;
  if (launching()) {
    Scratch scratch(env, op, layerNormBackwardScratchBytes(dtype, rows, width));
    checkCuda(env, op,
              launchLayerNormBackward(dtype, dx.data(), dWeight ? dWeight->data() : nullptr, dBias ? dBias->data() : nullptr,
                                      dataOf(x), weight, dataOf(g), rows, width, eps, scratch.data(), state().stream));
    // A width of zero leaves the parameters' cotangents (of no elements) and rows of zero leave sums of nothing.
    if (rows == 0 && width > 0) {
      if (dWeight) checkCuda(env, op, cudaMemsetAsync(dWeight->data(), 0, static_cast<size_t>(width * itemSizeOf(dtype)), state().stream));
      if (dBias) checkCuda(env, op, cudaMemsetAsync(dBias->data(), 0, static_cast<size_t>(width * itemSizeOf(dtype)), state().stream));
    }
    countRun();
  }
  return commitAll(env, {&dx, dWeight.get(), dBias.get()});
}

// batchNorm(dtype, x, layout, weight | null, layout | null, bias | null, layout | null, eps, engine) -> [out, mean, variance]
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "batchNorm";
  const Napi::Env env = info.Env();
  checkArgs(info, 9, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t spatial = 0;
  channelGeometry(env, op, x, true, batch, channels, spatial);
  const void* weight = optionalArg(info, 3, 4, dtype, op, "weight", 1, &channels);
  const void* bias = optionalArg(info, 5, 6, dtype, op, "bias", 1, &channels);
  const double eps = epsArg(info, 7, op);
  const int engine = static_cast<int>(intArg(info, 8, op, "engine", 0, 2));
  Output out(env, op, dtype, x.size);
  Output mean(env, op, dtype, channels);
  Output variance(env, op, dtype, channels);
  if (!launching()) return commitAll(env, {&out, &mean, &variance});
  State& s = state();
  const BatchNormArgs args{dtype, batch, channels, spatial, eps, dataOf(x), weight, bias};
  if (ranThroughCudnn(env, op, engine, args, [&](const BatchNormArgs& a, std::string& why) {
        return batchNormCudnn(a, out.data(), mean.data(), variance.data(), s.stream, why);
      }))
    return commitAll(env, {&out, &mean, &variance});
  checkCuda(env, op,
            launchBatchNorm(dtype, out.data(), mean.data(), variance.data(), dataOf(x), weight, bias, batch, channels, spatial, eps,
                            s.stream));
  countRun();
  return commitAll(env, {&out, &mean, &variance});
}

// batchNormInference(dtype, x, layout, mean, layout, variance, layout, weight | null, layout | null, bias | null, layout | null, eps,
//                    engine)
Napi::Value BatchNormInference(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "batchNormInference";
  const Napi::Env env = info.Env();
  checkArgs(info, 13, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t spatial = 0;
  channelGeometry(env, op, x, false, batch, channels, spatial);
  const void* mean = optionalArg(info, 3, 4, dtype, op, "mean", 1, &channels);
  const void* variance = optionalArg(info, 5, 6, dtype, op, "variance", 1, &channels);
  if (mean == nullptr || variance == nullptr) throwType(env, op, "mean and variance are required");
  const void* weight = optionalArg(info, 7, 8, dtype, op, "weight", 1, &channels);
  const void* bias = optionalArg(info, 9, 10, dtype, op, "bias", 1, &channels);
  const double eps = epsArg(info, 11, op);
  const int engine = static_cast<int>(intArg(info, 12, op, "engine", 0, 2));
  Output out(env, op, dtype, x.size);
  if (!launching()) return out.commit(env);
  State& s = state();
  const BatchNormArgs args{dtype, batch, channels, spatial, eps, dataOf(x), weight, bias};
  if (ranThroughCudnn(env, op, engine, args, [&](const BatchNormArgs& a, std::string& why) {
        return batchNormInferenceCudnn(a, mean, variance, out.data(), s.stream, why);
      }))
    return out.commit(env);
  checkCuda(env, op,
            launchBatchNormInference(dtype, out.data(), dataOf(x), mean, variance, weight, bias, batch, channels, spatial, eps, s.stream));
  countRun();
  return out.commit(env);
}

// batchNormBackward(dtype, x, layout, mean, layout, variance, layout, weight | null, layout | null, g, layout, eps, withBias,
//                   engine) -> [dx, dw | null, db | null]
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "batchNormBackward";
  const Napi::Env env = info.Env();
  checkArgs(info, 14, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloat32Or64);
  const View x = contiguousArg(info, 1, 2, dtype, op, "input");
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t spatial = 0;
  channelGeometry(env, op, x, true, batch, channels, spatial);
  const void* mean = optionalArg(info, 3, 4, dtype, op, "mean", 1, &channels);
  const void* variance = optionalArg(info, 5, 6, dtype, op, "variance", 1, &channels);
  if (mean == nullptr || variance == nullptr) throwType(env, op, "mean and variance are required");
  const void* weight = optionalArg(info, 7, 8, dtype, op, "weight", 1, &channels);
  const View g = contiguousArg(info, 9, 10, dtype, op, "cotangent");
  requireSameShape(env, op, x, g, "the cotangent");
  const double eps = epsArg(info, 11, op);
  const bool withBias = boolArg(info, 12, op, "withBias");
  const int engine = static_cast<int>(intArg(info, 13, op, "engine", 0, 2));
  Output dx(env, op, dtype, x.size);
  std::unique_ptr<Output> dWeight = weight != nullptr ? std::make_unique<Output>(env, op, dtype, channels) : nullptr;
  std::unique_ptr<Output> dBias = withBias ? std::make_unique<Output>(env, op, dtype, channels) : nullptr;
  if (!launching()) return commitAll(env, {&dx, dWeight.get(), dBias.get()});
  State& s = state();
  const BatchNormArgs args{dtype, batch, channels, spatial, eps, dataOf(x), weight, nullptr};
  if (ranThroughCudnn(env, op, engine, args, [&](const BatchNormArgs& a, std::string& why) {
        // cuDNN writes both parameter cotangents: unwanted ones go to scratch.
        Scratch unwanted(env, op, static_cast<size_t>(2 * channels * itemSizeOf(dtype)));
        char* spare = static_cast<char*>(unwanted.data());
        return batchNormBackwardCudnn(a, dataOf(g), dx.data(), dWeight ? dWeight->data() : spare,
                                      dBias ? dBias->data() : spare + channels * itemSizeOf(dtype), s.stream, why);
      }))
    return commitAll(env, {&dx, dWeight.get(), dBias.get()});
  checkCuda(env, op,
            launchBatchNormBackward(dtype, dx.data(), dWeight ? dWeight->data() : nullptr, dBias ? dBias->data() : nullptr, dataOf(x),
                                    mean, variance, weight, dataOf(g), batch, channels, spatial, eps, s.stream));
  countRun();
  return commitAll(env, {&dx, dWeight.get(), dBias.get()});
}

}  // namespace flint_cuda
