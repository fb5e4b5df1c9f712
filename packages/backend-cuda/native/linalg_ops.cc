// The entry points for contractions, window reductions, gather/scatter and random streams.
#include "boundary.h"
#include "ops.h"
#include "vendor.h"

namespace flint_cuda {

namespace {

enum Engine : int { kEngineAuto = 0, kEngineKernel = 1, kEngineVendor = 2 };

Matrix matrixOf(const View& v) { return Matrix{v.base, v.offset, {v.strides[0], v.strides[1], v.strides[2]}}; }

/** Output size of one dim of a strided, padded, dilated window (packages/api/src/primitives/linalg.ts). */
int64_t windowOutputSize(int64_t size, int64_t window, int64_t stride, int64_t low, int64_t high, int64_t dilation,
                         int64_t inputDilation) {
  const int64_t dilatedInput = size == 0 ? 0 : (size - 1) * inputDilation + 1;
  const int64_t padded = dilatedInput + low + high;
  const int64_t dilatedWindow = (window - 1) * dilation + 1;
  return padded < dilatedWindow ? 0 : (padded - dilatedWindow) / stride + 1;
}

int64_t checkedProduct(const Napi::Env& env, const char* op, const int64_t* dims, int count) {
  int64_t total = 1;
  for (int i = 0; i < count; i++) {
    if (total != 0 && dims[i] > kMaxElements / total) throwRange(env, op, "the output would have 2^31 elements or more");
    total *= dims[i];
  }
  return total;
}

}  // namespace

namespace {

/** A product's operands as the matmul entry points take them: [batch, m, k] and [batch, k, n] views, checked. */
struct MatmulOperands {
  View a, b;
  int64_t batch, m, k, n;
};

MatmulOperands matmulOperandsArg(const Napi::CallbackInfo& info, const char* op, int dtype) {
  const View a = viewArg(info, 1, 2, dtype, op, "lhs", 3);
  const View b = viewArg(info, 3, 4, dtype, op, "rhs", 3);
  if (a.shape[0] != b.shape[0]) throwRange(info.Env(), op, "lhs and rhs must have the same batch size");
  if (a.shape[2] != b.shape[1]) throwRange(info.Env(), op, "lhs columns must equal rhs rows");
  return {a, b, a.shape[0], a.shape[1], a.shape[2], b.shape[2]};
}

}  // namespace

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "matmul";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const auto [a, b, batch, m, k, n] = matmulOperandsArg(info, op, dtype);
  const int engine = static_cast<int>(intArg(info, 5, op, "engine", 0, 2));
  const int64_t dims[3] = {batch, m, n};
  Output out(env, op, dtype, checkedProduct(env, op, dims, 3));
  if (!launching()) return out.commit(env);
  State& s = state();
  if (engine != kEngineKernel) {
    std::string why;
    if (matmulCublasLt(dtype, out.data(), a, b, batch, m, n, k, s.stream, why)) {
      s.counters.matmulCublasLt++;
      return out.commit(env);
    }
    if (engine == kEngineVendor) throw Napi::Error::New(env, "flint-cuda matmul: cuBLASLt declined: " + why);
  }
  checkCuda(env, op, launchMatmul(dtype, out.data(), matrixOf(a), matrixOf(b), batch, m, n, k, s.stream));
  s.counters.matmulKernel++;
  return out.commit(env);
}

// matmulBias(dtype, lhs, layout, rhs, layout, bias, layout) -> id | null: matmul with a bias of
// rhs's columns added to every row in cuBLASLt's epilogue (jit's contraction fusions); null,
// having launched nothing, when cuBLASLt does not take it (the caller then runs the matmul and the
// addition apart).
Napi::Value MatmulBias(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "matmulBias";
  const Napi::Env env = info.Env();
  checkArgs(info, 7, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const auto [a, b, batch, m, k, n] = matmulOperandsArg(info, op, dtype);
  const View bias = viewArg(info, 5, 6, dtype, op, "bias", 1);
  if (bias.shape[0] != n) throwRange(env, op, "the bias must have one element per rhs column");
  if (!bias.contiguous()) throwRange(env, op, "the bias must be contiguous");
  const int64_t dims[3] = {batch, m, n};
  Output out(env, op, dtype, checkedProduct(env, op, dims, 3));
  if (!launching()) return out.commit(env);
  State& s = state();
  std::string why;
  const void* biasPointer = bias.base + bias.offset * itemSizeOf(dtype);
  if (!matmulCublasLt(dtype, out.data(), a, b, batch, m, n, k, s.stream, why, biasPointer)) return env.Null();
  s.counters.matmulCublasLt++;
  s.counters.matmulBiasEpilogue++;
  return out.commit(env);
}

Napi::Value Conv(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "conv";
  const Napi::Env env = info.Env();
  checkArgs(info, 7, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const View x = viewArg(info, 1, 2, dtype, op, "lhs");
  const View w = viewArg(info, 3, 4, dtype, op, "rhs");
  const int engine = static_cast<int>(intArg(info, 6, op, "engine", 0, 2));
  if (x.rank < 2 || x.rank > kMaxSpatial + 2) throwRange(env, op, "lhs must have rank 2 to 10 ([N, C, ...spatial])");
  if (w.rank != x.rank) throwRange(env, op, "rhs must have the rank of lhs");
  ConvParams p;
  p.spatial = x.rank - 2;
  const std::vector<int64_t> params = paramsArg(info, 5, op, "params", 1 + 5 * p.spatial);
  p.groups = params[0];
  const int64_t channels = x.shape[1];
  const int64_t outChannels = w.shape[0];
  if (p.groups < 1 || channels % p.groups != 0 || outChannels % p.groups != 0 || w.shape[1] * p.groups != channels) {
    throwRange(env, op, "groups must divide the channels, with rhs [O, C / groups, ...]");
  }
  int64_t outShape[kMaxSpatial + 2] = {x.shape[0], outChannels};
  for (int d = 0; d < p.spatial; d++) {
    p.strides[d] = params[1 + d];
    p.padLow[d] = params[1 + p.spatial + d];
    p.padHigh[d] = params[1 + 2 * p.spatial + d];
    p.lhsDilation[d] = params[1 + 3 * p.spatial + d];
    p.rhsDilation[d] = params[1 + 4 * p.spatial + d];
    if (p.strides[d] < 1 || p.lhsDilation[d] < 1 || p.rhsDilation[d] < 1) throwRange(env, op, "strides and dilations must be positive");
    p.outSize[d] = windowOutputSize(x.shape[2 + d], w.shape[2 + d], p.strides[d], p.padLow[d], p.padHigh[d], p.rhsDilation[d],
                                    p.lhsDilation[d]);
    outShape[2 + d] = p.outSize[d];
  }
  Output out(env, op, dtype, checkedProduct(env, op, outShape, x.rank));
  if (!launching()) return out.commit(env);
  State& s = state();
  if (engine != kEngineKernel) {
    std::string why;
    if (convCudnn(dtype, out.data(), x, w, p, s.stream, why)) {
      s.counters.convCudnn++;
      return out.commit(env);
    }
    if (engine == kEngineVendor) throw Napi::Error::New(env, "flint-cuda conv: cuDNN declined: " + why);
  }
  Convolution c{};
  c.spatial = p.spatial;
  c.groups = static_cast<int32_t>(p.groups);
  c.batch = x.shape[0];
  c.channels = channels;
  c.outChannels = outChannels;
  c.total = checkedProduct(env, op, outShape, x.rank);
  c.xOffset = x.offset;
  c.wOffset = w.offset;
  for (int d = 0; d < x.rank; d++) {
    c.xStrides[d] = x.strides[d];
    c.wStrides[d] = w.strides[d];
  }
  for (int d = 0; d < p.spatial; d++) {
    c.inSize[d] = static_cast<int32_t>(x.shape[2 + d]);
    c.kernelSize[d] = static_cast<int32_t>(w.shape[2 + d]);
    c.outSize[d] = static_cast<int32_t>(p.outSize[d]);
    c.stride[d] = static_cast<int32_t>(p.strides[d]);
    c.padLow[d] = static_cast<int32_t>(p.padLow[d]);
    c.lhsDilation[d] = static_cast<int32_t>(p.lhsDilation[d]);
    c.rhsDilation[d] = static_cast<int32_t>(p.rhsDilation[d]);
  }
  checkCuda(env, op, launchConv(dtype, out.data(), x.base, w.base, c, s.stream));
  s.counters.convKernel++;
  return out.commit(env);
}

namespace {

/**
 * The forward convolution behind a backward pass (arguments 1-5: the two operands' (handle,
 * layout) pairs and the geometry [groups, then stride, pad, dilation, size per spatial dim], `size` being the
 * filter's (backward filter) or the input's (backward data) spatial dims): checked, with the
 * operands, as ConvGeometry. The first operand is x (filter pass) or w (data pass).
 */
struct BackwardArgs {
  View operand;
  View dy;
  ConvGeometry geometry;
};

BackwardArgs backwardArgs(const Napi::CallbackInfo& info, const char* op, int dtype, bool filterPass) {
  const Napi::Env env = info.Env();
  const char* operandName = filterPass ? "x" : "w";
  BackwardArgs a{viewArg(info, 1, 2, dtype, op, operandName), viewArg(info, 3, 4, dtype, op, "dy"), {}};
  const View& v = a.operand;
  const View& dy = a.dy;
  if (v.rank < 4 || v.rank > 5) throwRange(env, op, std::string(operandName) + " must have rank 4 or 5 ([N, C, ...spatial])");
  if (dy.rank != v.rank) throwRange(env, op, std::string("dy must have the rank of ") + operandName);
  if (!v.contiguous() || !dy.contiguous()) throwRange(env, op, std::string(operandName) + " and dy must be contiguous");
  ConvGeometry& g = a.geometry;
  g.spatial = v.rank - 2;
  const std::vector<int64_t> params = paramsArg(info, 5, op, "geometry", 1 + 4 * g.spatial);
  g.groups = params[0];
  if (filterPass) {
    if (dy.shape[0] != v.shape[0]) throwRange(env, op, "x and dy must have the same batch (dim 0)");
    if (g.groups < 1 || v.shape[1] % g.groups != 0 || dy.shape[1] % g.groups != 0) {
      throwRange(env, op, "groups must be positive and divide x's channels and dy's (dim 1)");
    }
    g.xDims[0] = v.shape[0];
    g.xDims[1] = v.shape[1];
    g.wDims[0] = dy.shape[1];
    g.wDims[1] = v.shape[1] / g.groups;
  } else {
    if (dy.shape[1] != v.shape[0]) throwRange(env, op, "dy must have one channel per filter (w's dim 0)");
    if (g.groups < 1 || v.shape[0] % g.groups != 0 || v.shape[1] > kMaxElements / g.groups) {
      throwRange(env, op, "groups must be positive and divide the filters (w's dim 0)");
    }
    g.xDims[0] = dy.shape[0];
    g.xDims[1] = v.shape[1] * g.groups;
    g.wDims[0] = v.shape[0];
    g.wDims[1] = v.shape[1];
  }
  g.yDims[0] = dy.shape[0];
  g.yDims[1] = dy.shape[1];
  for (int d = 0; d < g.spatial; d++) {
    g.stride[d] = params[1 + d];
    g.pad[d] = params[1 + g.spatial + d];
    g.dilation[d] = params[1 + 2 * g.spatial + d];
    const int64_t size = params[1 + 3 * g.spatial + d];
    if (g.stride[d] < 1 || g.dilation[d] < 1) throwRange(env, op, "strides and dilations must be positive");
    if (g.pad[d] < 0) throwRange(env, op, "padding must not be negative");
    if (size < 1) throwRange(env, op, "the spatial sizes must be positive");
    g.xDims[2 + d] = filterPass ? v.shape[2 + d] : size;
    g.wDims[2 + d] = filterPass ? size : v.shape[2 + d];
    g.yDims[2 + d] = dy.shape[2 + d];
    const int64_t span = g.xDims[2 + d] + 2 * g.pad[d] - ((g.wDims[2 + d] - 1) * g.dilation[d] + 1);
    if (span < 0 || span / g.stride[d] + 1 != dy.shape[2 + d]) {
      throwRange(env, op, "dy's spatial dim " + std::to_string(d) + " is " + std::to_string(dy.shape[2 + d]) + ", but the forward convolution (input " +
                              std::to_string(g.xDims[2 + d]) + ", filter " + std::to_string(g.wDims[2 + d]) + ", pad " + std::to_string(g.pad[d]) +
                              ", stride " + std::to_string(g.stride[d]) + ", dilation " + std::to_string(g.dilation[d]) + ") gives " +
                              std::to_string(span < 0 ? 0 : span / g.stride[d] + 1));
    }
  }
  return a;
}

}  // namespace

// convBackwardFilter(dtype, x, layout, dy, layout, geometry) -> id | null: the filter gradient dw
// [K, C / groups, ...] of the forward convolution of x [N, C, ...] whose output gradient is dy
// [N, K, ...], through cuDNN (contiguous operands, symmetric padding); null, having launched nothing,
// when cuDNN does not take it. Convolution gradients reach it from the TypeScript side
// (the api's strided-backend/conv-gradients.ts), which recognizes them among the convolutions
// autodiff emits.
Napi::Value ConvBackwardFilter(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "convBackwardFilter";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const BackwardArgs a = backwardArgs(info, op, dtype, true);
  Output out(env, op, dtype, checkedProduct(env, op, a.geometry.wDims, a.operand.rank));
  if (!launching()) return out.commit(env);
  std::string why;
  if (!convBackwardFilterCudnn(dtype, out.data(), a.operand, a.dy, a.geometry, state().stream, why)) return env.Null();
  state().counters.convCudnnBackwardFilter++;
  return out.commit(env);
}

// convBackwardData(dtype, w, layout, dy, layout, geometry) -> id | null: the input gradient dx
// [N, C, ...] of the forward convolution with filter w [K, C / groups, ...] whose output gradient
// is dy [N, K, ...], through cuDNN; null when cuDNN does not take it (as convBackwardFilter).
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "convBackwardData";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const BackwardArgs a = backwardArgs(info, op, dtype, false);
  Output out(env, op, dtype, checkedProduct(env, op, a.geometry.xDims, a.operand.rank));
  if (!launching()) return out.commit(env);
  std::string why;
  if (!convBackwardDataCudnn(dtype, out.data(), a.operand, a.dy, a.geometry, state().stream, why)) return env.Null();
  state().counters.convCudnnBackwardData++;
  return out.commit(env);
}

namespace {

/**
 * The window geometry of argument `index` (window, strides, low and high padding, dilation per
 * dim of `x`), checked, as the kernels' Window and as cuDNN's PoolParams.
 */
void windowArg(const Napi::CallbackInfo& info, size_t index, const char* op, const View& x, Window& win, PoolParams& pool) {
  const Napi::Env env = info.Env();
  const int rank = x.rank;
  const std::vector<int64_t> params = paramsArg(info, index, op, "params", 5 * rank);
  win = Window{};
  win.rank = rank;
  win.offset = x.offset;
  int64_t outShape[kMaxRank];
  for (int d = 0; d < rank; d++) {
    const int64_t window = params[d];
    const int64_t stride = params[rank + d];
    const int64_t low = params[2 * rank + d];
    const int64_t high = params[3 * rank + d];
    const int64_t dilation = params[4 * rank + d];
    if (window < 1 || stride < 1 || dilation < 1) throwRange(env, op, "windows, strides and dilations must be positive");
    outShape[d] = windowOutputSize(x.shape[d], window, stride, low, high, dilation, 1);
    pool.window[d] = window;
    pool.strides[d] = stride;
    pool.padLow[d] = low;
    pool.padHigh[d] = high;
    pool.dilation[d] = dilation;
    pool.outShape[d] = outShape[d];
    win.inShape[d] = static_cast<int32_t>(x.shape[d]);
    win.outShape[d] = static_cast<int32_t>(outShape[d]);
    win.inStrides[d] = x.strides[d];
    win.window[d] = static_cast<int32_t>(window);
    win.stride[d] = static_cast<int32_t>(stride);
    win.padLow[d] = static_cast<int32_t>(low);
    win.dilation[d] = static_cast<int32_t>(dilation);
  }
  win.total = checkedProduct(env, op, outShape, rank);
}

}  // namespace

Napi::Value ReduceWindow(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "reduceWindow";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kWindowOpCount - 1));
  const int dtype = dtypeArg(info, 1, op, kAllDTypes);
  const View x = viewArg(info, 2, 3, dtype, op, "input");
  PoolParams pool;
  Window win;
  windowArg(info, 4, op, x, win, pool);
  const int engine = static_cast<int>(intArg(info, 5, op, "engine", 0, 2));
  Output out(env, op, dtype, win.total);
  if (!launching()) return out.commit(env);
  State& s = state();
  if (engine != kEngineKernel) {
    std::string why = "cuDNN pools only max windows";
    if (code == kWindowMax && maxPoolCudnn(dtype, out.data(), x, pool, s.stream, why)) {
      s.counters.poolCudnn++;
      return out.commit(env);
    }
    if (engine == kEngineVendor) throw Napi::Error::New(env, "flint-cuda reduceWindow: cuDNN declined: " + why);
  }
  checkCuda(env, op, launchReduceWindow(code, dtype, out.data(), x.base, win, s.stream));
  s.counters.poolKernel++;
  return out.commit(env);
}

// windowMaxBackward(dtype, x, layout, g, layout, params) -> dx: max pooling's backward pass.
Napi::Value WindowMaxBackward(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "windowMaxBackward";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, (1u << kFloat32) | (1u << kFloat64));
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  const View g = viewArg(info, 3, 4, dtype, op, "cotangent");
  PoolParams pool;
  Window win;
  windowArg(info, 5, op, x, win, pool);
  if (!g.contiguous() || g.rank != x.rank) throwRange(env, op, "the cotangent must be contiguous and of the input's rank");
  for (int d = 0; d < x.rank; d++) {
    if (g.shape[d] != win.outShape[d]) throwRange(env, op, "the cotangent must have the pooled output's shape");
  }
  Output dx(env, op, dtype, x.size);
  if (!launching()) return dx.commit(env);
  Scratch winners(env, op, static_cast<size_t>(win.total) * sizeof(int64_t));
  checkCuda(env, op,
            launchWindowMaxBackward(dtype, dx.data(), x.base, g.base + g.offset * itemSizeOf(dtype), win, x.size, winners.data(),
                                    state().stream));
  state().counters.compositeKernel++;
  return dx.commit(env);
}

Napi::Value Gather(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "gather";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const View x = viewArg(info, 1, 2, dtype, op, "input", 3);
  const View indices = viewArg(info, 3, 4, kInt32, op, "indices", 1);
  const int64_t dims[3] = {x.shape[0], indices.shape[0], x.shape[2]};
  Output out(env, op, dtype, checkedProduct(env, op, dims, 3));
  if (launching()) {
    checkCuda(env, op,
              launchGather(dtype, out.data(), matrixOf(x), reinterpret_cast<const int32_t*>(indices.base), indices.offset,
                           indices.strides[0], x.shape[0], x.shape[1], x.shape[2], indices.shape[0], state().stream));
  }
  return out.commit(env);
}

Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "scatterAdd";
  const Napi::Env env = info.Env();
  checkArgs(info, 7, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const View target = viewArg(info, 1, 2, dtype, op, "target", 3);
  const View indices = viewArg(info, 3, 4, kInt32, op, "indices", 1);
  const View updates = viewArg(info, 5, 6, dtype, op, "updates", 3);
  if (updates.shape[0] != target.shape[0] || updates.shape[1] != indices.shape[0] || updates.shape[2] != target.shape[2]) {
    throwRange(env, op, "updates must have the shape [outer, indices, inner] of the target and indices");
  }
  Output out(env, op, dtype, target.size);
  if (launching()) {
    State& s = state();
    int64_t outStrides[3];
    contiguousStrides(3, target.shape, outStrides);
    const int64_t* strides[2] = {outStrides, target.strides};
    const int64_t offsets[2] = {0, target.offset};
    checkCuda(env, op, launchCopy(itemSizeOf(dtype), out.data(), target.base, makeWalk(3, target.shape, 2, strides, offsets), s.stream));
    checkCuda(env, op,
              launchScatterAdd(dtype, out.data(), matrixOf(updates), reinterpret_cast<const int32_t*>(indices.base), indices.offset,
                               indices.strides[0], target.shape[0], target.shape[1], target.shape[2], indices.shape[0], s.stream));
  }
  return out.commit(env);
}

Napi::Value RandomBits(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "randomBits";
  const Napi::Env env = info.Env();
  checkArgs(info, 3, op);
  requireReady(env, op);
  const View key = viewArg(info, 0, 1, kInt32, op, "key", 1);
  if (key.shape[0] != 2) throwRange(env, op, "key must have 2 elements");
  const int64_t count = intArg(info, 2, op, "count", 0, kMaxElements);
  Output out(env, op, kInt32, count);
  if (launching()) {
    checkCuda(env, op,
              launchRandomBits(out.as<int32_t>(), count, reinterpret_cast<const int32_t*>(key.base), key.offset, key.strides[0],
                               state().stream));
  }
  return out.commit(env);
}

Napi::Value RandomUniform(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "randomUniform";
  const Napi::Env env = info.Env();
  checkArgs(info, 4, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kFloats);
  const View key = viewArg(info, 1, 2, kInt32, op, "key", 1);
  if (key.shape[0] != 2) throwRange(env, op, "key must have 2 elements");
  const int64_t count = intArg(info, 3, op, "count", 0, kMaxElements);
  Output out(env, op, dtype, count);
  if (launching()) {
    checkCuda(env, op,
              launchRandomUniform(dtype, out.data(), count, reinterpret_cast<const int32_t*>(key.base), key.offset, key.strides[0],
                                  state().stream));
  }
  return out.commit(env);
}

}  // namespace flint_cuda
