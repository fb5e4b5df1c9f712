// Convolution (forward, and the backward filter and data passes that convolution gradients map
// to) and max pooling through cuDNN's descriptor API (loaded at run time; see libraries.h), for
// the configurations cuDNN takes: float32/float64 and float16/bfloat16, 2 or 3 spatial dims,
// contiguous operands, symmetric padding, no input dilation in the forward. The half types run in
// cuDNN's "pseudo half" configurations (half data, float compute, on the tensor cores), as
// PyTorch's half convolutions do. Everything else runs the addon's own kernels.
#include <string>
#include <unordered_map>

#include "libraries.h"
#include "vendor.h"

namespace flint_cuda {

namespace {

constexpr size_t kMaxWorkspaceBytes = size_t{512} << 20;

struct DnnContext {
  cudnnHandle_t handle = nullptr;
  bool failed = false;
};

DnnContext& context() {
  static DnnContext instance;
  return instance;
}

struct Descriptors {
  const Cudnn* api;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ~Descriptors() {
    if (conv) api->DestroyConvolutionDescriptor(conv);
    if (w) api->DestroyFilterDescriptor(w);
    if (y) api->DestroyTensorDescriptor(y);
    if (x) api->DestroyTensorDescriptor(x);
  }
};

bool fitsInt(int64_t value) { return value >= 0 && value <= INT32_MAX; }

bool takenByCudnn(int dtype) { return dtype == kFloat32 || dtype == kFloat64 || dtype == kFloat16 || dtype == kBFloat16; }

bool isHalf(int dtype) { return dtype == kFloat16 || dtype == kBFloat16; }

/** cudnnDataType_t of a dtype cuDNN takes. */
int cudnnType(int dtype) {
  switch (dtype) {
    case kFloat64:
      return kCudnnDataDouble;
    case kFloat16:
      return kCudnnDataHalf;
    case kBFloat16:
      return kCudnnDataBfloat16;
    default:
      return kCudnnDataFloat;
  }
}

struct PoolDescriptors {
  const Cudnn* api;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;
  ~PoolDescriptors() {
    if (pool) api->DestroyPoolingDescriptor(pool);
    if (y) api->DestroyTensorDescriptor(y);
    if (x) api->DestroyTensorDescriptor(x);
  }
};

}  // namespace

cudnnHandle_t boundCudnnHandle(const Cudnn* api, cudaStream_t stream, std::string& why) {
  DnnContext& dnn = context();
  if (dnn.failed) {
    why = "cudnnCreate failed earlier";
    return nullptr;
  }
  if (dnn.handle == nullptr && api->Create(&dnn.handle) != kCudnnSuccess) {
    dnn.failed = true;
    vendorFailure(why, "cudnnCreate failed");
    return nullptr;
  }
  if (api->SetStream(dnn.handle, stream) != kCudnnSuccess) {
    vendorFailure(why, "cudnnSetStream failed");
    return nullptr;
  }
  return dnn.handle;
}

namespace {

/**
 * A convolution as cuDNN describes it, whichever direction runs: input x [N, C, ...], filter w
 * [K, C / groups, ...] and output y [N, K, ...] (all contiguous), and the forward's geometry.
 */
struct CudnnConvolution {
  int dtype = kFloat32;
  int spatial = 2;
  int groups = 1;
  int xDims[kMaxSpatial + 2] = {};
  int wDims[kMaxSpatial + 2] = {};
  int yDims[kMaxSpatial + 2] = {};
  int pad[kMaxSpatial] = {};
  int stride[kMaxSpatial] = {};
  int dilation[kMaxSpatial] = {};
};

/** Row-major strides of `dims`, false when one does not fit in int. */
bool rowMajor(int rank, const int* dims, int* strides) {
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (!fitsInt(stride)) return false;
    strides[d] = static_cast<int>(stride);
    stride *= dims[d];
  }
  return fitsInt(stride);
}

/** Whether cuDNN can take the dtype and rank at all; `why` says why not. */
bool cudnnTakesConvolution(int dtype, int spatial, std::string& why) {
  if (!takenByCudnn(dtype)) {
    why = std::string("cuDNN is not used for ") + dtypeName(dtype);
    return false;
  }
  if (spatial != 2 && spatial != 3) {
    why = "cuDNN takes 2 or 3 spatial dims";
    return false;
  }
  return true;
}

/**
 * Creates the descriptors of `c`. The half types accumulate in float (PSEUDO_HALF_CONFIG,
 * PSEUDO_BFLOAT16_CONFIG) on the tensor cores; float32 keeps FMA math unless TF32 is allowed.
 */
bool describe(const Cudnn* api, const CudnnConvolution& c, Descriptors& desc, std::string& why) {
  const int rank = c.spatial + 2;
  int xStrides[kMaxSpatial + 2], yStrides[kMaxSpatial + 2];
  if (!rowMajor(rank, c.xDims, xStrides) || !rowMajor(rank, c.yDims, yStrides)) {
    why = "cuDNN needs tensors whose strides fit in int";
    return false;
  }
  const int type = cudnnType(c.dtype);
  const int computeType = isHalf(c.dtype) ? kCudnnDataFloat : type;
  const int mathType = isHalf(c.dtype) ? kCudnnTensorOpMath : c.dtype == kFloat32 && !state().allowTf32 ? kCudnnFmaMath : kCudnnDefaultMath;
  const bool described =
      api->CreateTensorDescriptor(&desc.x) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.x, type, rank, c.xDims, xStrides) == kCudnnSuccess &&
      api->CreateTensorDescriptor(&desc.y) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.y, type, rank, c.yDims, yStrides) == kCudnnSuccess &&
      api->CreateFilterDescriptor(&desc.w) == kCudnnSuccess &&
      api->SetFilterNdDescriptor(desc.w, type, kCudnnTensorNchw, rank, c.wDims) == kCudnnSuccess &&
      api->CreateConvolutionDescriptor(&desc.conv) == kCudnnSuccess &&
      api->SetConvolutionNdDescriptor(desc.conv, c.spatial, c.pad, c.stride, c.dilation, kCudnnCrossCorrelation, computeType) == kCudnnSuccess &&
      api->SetConvolutionGroupCount(desc.conv, c.groups) == kCudnnSuccess && api->SetConvolutionMathType(desc.conv, mathType) == kCudnnSuccess;
  if (!described) return vendorFailure(why, "cuDNN refused the convolution descriptors");
  return true;
}

/** An algorithm with the math type it was ranked under and the workspace it wants. */
struct Algorithm {
  int algo = 0;
  int mathType = 0;
  size_t memory = 0;
};

constexpr cudnnStatus_t kNotRun = -1;

/**
 * Runs `a` through `run(algo, workspace, bytes)`: cuDNN picks the kernels by the algorithm and
 * the descriptor's math type together (since 7.4), so each runs with the math type it was ranked
 * under, as PyTorch does. kNotRun when it could not be set up (math type, workspace).
 */
template <typename Run>
cudnnStatus_t runAlgorithm(const Cudnn* api, Descriptors& desc, const Algorithm& a, Run run) {
  if (api->SetConvolutionMathType(desc.conv, a.mathType) != kCudnnSuccess) return kNotRun;
  size_t workspaceBlock = 0;
  void* workspace = nullptr;
  if (a.memory > 0) {
    cudaError_t error = cudaSuccess;
    workspace = state().allocator.allocate(a.memory, workspaceBlock, error);
    if (workspace == nullptr) return kNotRun;
  }
  const cudnnStatus_t status = run(a.algo, workspace, a.memory);
  // Stream order keeps the workspace valid for the queued convolution.
  state().allocator.release(workspace, workspaceBlock);
  return status;
}

/**
 * The algorithm that ran for each problem (direction, dtype, dims, geometry, TF32 setting), so
 * that cuDNN's heuristics are asked once per problem: cuDNN 9 answers the legacy query by building
 * an operation graph each call, tens of microseconds, per convolution of every training step.
 * PyTorch keeps such a cache too. Bounded: emptied when full.
 */
std::unordered_map<std::string, Algorithm>& chosenAlgorithms() {
  static std::unordered_map<std::string, Algorithm> chosen;
  return chosen;
}

constexpr size_t kMaxChosenAlgorithms = 4096;

std::string problemKey(const char* call, const CudnnConvolution& c) {
  std::string key = call;
  const auto add = [&key](int64_t value) { key += ',' + std::to_string(value); };
  add(c.dtype);
  add(c.spatial);
  add(c.groups);
  add(state().allowTf32 ? 1 : 0);
  for (int d = 0; d < c.spatial + 2; d++) {
    add(c.xDims[d]);
    add(c.wDims[d]);
    add(c.yDims[d]);
  }
  for (int d = 0; d < c.spatial; d++) {
    add(c.pad[d]);
    add(c.stride[d]);
    add(c.dilation[d]);
  }
  return key;
}

constexpr int kCandidates = 8;

/**
 * Runs convolution `c` (described in `desc`) through `call`: the algorithm that ran for this
 * problem before, else the first of cuDNN's ranked candidates (`query(candidates, &returned)`)
 * that suits and succeeds, remembered. Candidates ranked unsupported, not deterministic (some
 * backward algorithms accumulate with atomics, and results should repeat exactly), wanting more
 * than 512 MiB of workspace, or (float32 without TF32) not in FMA math are passed over; that is a
 * decline, while a call cuDNN refuses is a failure (vendorFailure).
 */
template <typename Query, typename Run>
bool runConvolution(const Cudnn* api, const CudnnConvolution& c, Descriptors& desc, const char* call, const char* queryName, Query query,
                    Run run, std::string& why) {
  auto& chosen = chosenAlgorithms();
  const std::string key = problemKey(call, c);
  const auto known = chosen.find(key);
  if (known != chosen.end()) {
    if (runAlgorithm(api, desc, known->second, run) == kCudnnSuccess) return true;
    chosen.erase(known);  // ask cuDNN again below
  }
  cudnnConvolutionFwdAlgoPerf_t candidates[kCandidates];
  int returned = 0;
  state().counters.dnnAlgorithmQueries++;
  if (query(candidates, &returned) != kCudnnSuccess) return vendorFailure(why, std::string(queryName) + " failed");
  std::string failed;
  for (int i = 0; i < returned; i++) {
    const cudnnConvolutionFwdAlgoPerf_t& candidate = candidates[i];
    if (candidate.status != kCudnnSuccess || candidate.memory > kMaxWorkspaceBytes) continue;
    if (candidate.determinism == kCudnnNonDeterministic) continue;
    // float32 without TF32: FMA math only (the default math type lets Ampere and later use TF32).
    if (c.dtype == kFloat32 && !state().allowTf32 && candidate.mathType != kCudnnFmaMath) continue;
    const Algorithm algorithm{candidate.algo, candidate.mathType, candidate.memory};
    const cudnnStatus_t status = runAlgorithm(api, desc, algorithm, run);
    if (status == kNotRun) continue;
    if (status == kCudnnSuccess) {
      if (chosen.size() >= kMaxChosenAlgorithms) chosen.clear();
      chosen.emplace(key, algorithm);
      return true;
    }
    failed += (failed.empty() ? "" : ", ") + std::string("algorithm ") + std::to_string(candidate.algo) + ": " + api->GetErrorString(status);
  }
  if (!failed.empty()) return vendorFailure(why, std::string(call) + " failed (" + failed + ")");
  why = "no cuDNN algorithm suits (workspace, determinism or math type)";
  return false;
}


/** cuDNN and its handle for `call`, or null with `why` set (the library, or these functions, missing). */
const Cudnn* cudnnFor(bool (*has)(const Cudnn&), cudaStream_t stream, cudnnHandle_t& handle, std::string& why) {
  const Cudnn* api = cudnn();
  if (api == nullptr) {
    why = "cuDNN " + cudnnStatus().reason;
    return nullptr;
  }
  if (!has(*api)) {
    why = "the loaded cuDNN lacks the backward convolutions";
    return nullptr;
  }
  handle = boundCudnnHandle(api, stream, why);
  return handle == nullptr ? nullptr : api;
}

}  // namespace

bool convCudnn(int dtype, void* out, const View& x, const View& w, const ConvParams& p, cudaStream_t stream, std::string& why) {
  if (!cudnnTakesConvolution(dtype, p.spatial, why)) return false;
  if (x.size == 0 || w.size == 0) {
    why = "empty convolution";
    return false;
  }
  if (!x.contiguous() || !w.contiguous()) {
    why = "operands must be contiguous";
    return false;
  }
  CudnnConvolution c;
  c.dtype = dtype;
  c.spatial = p.spatial;
  c.groups = static_cast<int>(p.groups);
  for (int d = 0; d < p.spatial; d++) {
    if (p.lhsDilation[d] != 1 || p.padLow[d] != p.padHigh[d] || p.padLow[d] < 0 || !fitsInt(p.padLow[d]) || !fitsInt(p.strides[d]) ||
        !fitsInt(p.rhsDilation[d]) || p.outSize[d] == 0) {
      why = "cuDNN needs symmetric non-negative padding and no input dilation";
      return false;
    }
    c.pad[d] = static_cast<int>(p.padLow[d]);
    c.stride[d] = static_cast<int>(p.strides[d]);
    c.dilation[d] = static_cast<int>(p.rhsDilation[d]);
  }
  for (int d = 0; d < x.rank; d++) {
    c.xDims[d] = static_cast<int>(x.shape[d]);
    c.wDims[d] = static_cast<int>(w.shape[d]);
  }
  c.yDims[0] = c.xDims[0];
  c.yDims[1] = c.wDims[0];
  for (int d = 0; d < p.spatial; d++) c.yDims[2 + d] = static_cast<int>(p.outSize[d]);
  cudnnHandle_t handle = nullptr;
  const Cudnn* api = cudnnFor([](const Cudnn&) { return true; }, stream, handle, why);
  if (api == nullptr) return false;
  Descriptors desc{api};
  if (!describe(api, c, desc, why)) return false;
  const CudnnScaling scaling;
  const int itemSize = itemSizeOf(dtype);
  const auto query = [&](cudnnConvolutionFwdAlgoPerf_t* candidates, int* returned) {
    return api->GetConvolutionForwardAlgorithm_v7(handle, desc.x, desc.w, desc.conv, desc.y, kCandidates, returned, candidates);
  };
  const auto run = [&](int algo, void* workspace, size_t bytes) {
    return api->ConvolutionForward(handle, scaling.one(dtype), desc.x, x.base + x.offset * itemSize, desc.w, w.base + w.offset * itemSize,
                                   desc.conv, algo, workspace, bytes, scaling.zero(dtype), desc.y, out);
  };
  return runConvolution(api, c, desc, "cudnnConvolutionForward", "cudnnGetConvolutionForwardAlgorithm_v7", query, run, why);
}

namespace {

/** Fills `c` from a backward convolution's operands and forward geometry; false with `why` when cuDNN cannot take it. */
bool backwardConvolution(int dtype, const ConvGeometry& g, CudnnConvolution& c, std::string& why) {
  if (!cudnnTakesConvolution(dtype, g.spatial, why)) return false;
  c.dtype = dtype;
  c.spatial = g.spatial;
  if (!fitsInt(g.groups)) {
    why = "cuDNN needs a group count that fits in int";
    return false;
  }
  c.groups = static_cast<int>(g.groups);
  const int rank = g.spatial + 2;
  for (int d = 0; d < rank; d++) {
    if (!fitsInt(g.xDims[d]) || !fitsInt(g.wDims[d]) || !fitsInt(g.yDims[d]) || g.xDims[d] == 0 || g.wDims[d] == 0 || g.yDims[d] == 0) {
      why = "cuDNN needs non-empty dims that fit in int";
      return false;
    }
    c.xDims[d] = static_cast<int>(g.xDims[d]);
    c.wDims[d] = static_cast<int>(g.wDims[d]);
    c.yDims[d] = static_cast<int>(g.yDims[d]);
  }
  for (int d = 0; d < g.spatial; d++) {
    if (!fitsInt(g.pad[d]) || !fitsInt(g.stride[d]) || !fitsInt(g.dilation[d])) {
      why = "cuDNN needs geometry that fits in int";
      return false;
    }
    c.pad[d] = static_cast<int>(g.pad[d]);
    c.stride[d] = static_cast<int>(g.stride[d]);
    c.dilation[d] = static_cast<int>(g.dilation[d]);
  }
  return true;
}

}  // namespace

namespace {

/**
 * What both backward passes do before their call: `c` from the geometry, cuDNN and its handle
 * when the loaded library has the pass's functions (`has`), the descriptors; then `pass(api,
 * handle, c, desc)` queries and runs.
 */
template <typename Pass>
bool backwardPass(int dtype, const ConvGeometry& g, bool (*has)(const Cudnn&), cudaStream_t stream, std::string& why, Pass pass) {
  CudnnConvolution c;
  if (!backwardConvolution(dtype, g, c, why)) return false;
  cudnnHandle_t handle = nullptr;
  const Cudnn* api = cudnnFor(has, stream, handle, why);
  if (api == nullptr) return false;
  Descriptors desc{api};
  if (!describe(api, c, desc, why)) return false;
  return pass(api, handle, c, desc);
}

}  // namespace

bool convBackwardFilterCudnn(int dtype, void* dw, const View& x, const View& dy, const ConvGeometry& g, cudaStream_t stream,
                             std::string& why) {
  const auto has = [](const Cudnn& a) { return a.GetConvolutionBackwardFilterAlgorithm_v7 != nullptr && a.ConvolutionBackwardFilter != nullptr; };
  return backwardPass(dtype, g, has, stream, why, [&](const Cudnn* api, cudnnHandle_t handle, const CudnnConvolution& c, Descriptors& desc) {
    const CudnnScaling scaling;
    const int itemSize = itemSizeOf(dtype);
    const auto query = [&](cudnnConvolutionBwdFilterAlgoPerf_t* candidates, int* returned) {
      return api->GetConvolutionBackwardFilterAlgorithm_v7(handle, desc.x, desc.y, desc.conv, desc.w, kCandidates, returned, candidates);
    };
    const auto run = [&](int algo, void* workspace, size_t bytes) {
      return api->ConvolutionBackwardFilter(handle, scaling.one(dtype), desc.x, x.base + x.offset * itemSize, desc.y,
                                            dy.base + dy.offset * itemSize, desc.conv, algo, workspace, bytes, scaling.zero(dtype), desc.w, dw);
    };
    return runConvolution(api, c, desc, "cudnnConvolutionBackwardFilter", "cudnnGetConvolutionBackwardFilterAlgorithm_v7", query, run, why);
  });
}

bool convBackwardDataCudnn(int dtype, void* dx, const View& w, const View& dy, const ConvGeometry& g, cudaStream_t stream,
                           std::string& why) {
  const auto has = [](const Cudnn& a) { return a.GetConvolutionBackwardDataAlgorithm_v7 != nullptr && a.ConvolutionBackwardData != nullptr; };
  return backwardPass(dtype, g, has, stream, why, [&](const Cudnn* api, cudnnHandle_t handle, const CudnnConvolution& c, Descriptors& desc) {
    const CudnnScaling scaling;
    const int itemSize = itemSizeOf(dtype);
    const auto query = [&](cudnnConvolutionBwdDataAlgoPerf_t* candidates, int* returned) {
      return api->GetConvolutionBackwardDataAlgorithm_v7(handle, desc.w, desc.y, desc.conv, desc.x, kCandidates, returned, candidates);
    };
    const auto run = [&](int algo, void* workspace, size_t bytes) {
      return api->ConvolutionBackwardData(handle, scaling.one(dtype), desc.w, w.base + w.offset * itemSize, desc.y,
                                          dy.base + dy.offset * itemSize, desc.conv, algo, workspace, bytes, scaling.zero(dtype), desc.x, dx);
    };
    return runConvolution(api, c, desc, "cudnnConvolutionBackwardData", "cudnnGetConvolutionBackwardDataAlgorithm_v7", query, run, why);
  });
}

bool maxPoolCudnn(int dtype, void* out, const View& x, const PoolParams& p, cudaStream_t stream, std::string& why) {
  if (!takenByCudnn(dtype)) {
    why = std::string("cuDNN pooling is not used for ") + dtypeName(dtype);
    return false;
  }
  const int spatial = x.rank - 2;
  if (spatial < 1 || spatial > 3) {
    why = "cuDNN pools [N, C, ...] with 1 to 3 spatial dims";
    return false;
  }
  if (x.size == 0 || !x.contiguous()) {
    why = "the input must be non-empty and contiguous";
    return false;
  }
  for (int d = 0; d < 2; d++) {
    if (p.window[d] != 1 || p.strides[d] != 1 || p.padLow[d] != 0 || p.padHigh[d] != 0 || p.dilation[d] != 1) {
      why = "cuDNN pools only the spatial dims (a unit window over N and C)";
      return false;
    }
  }
  for (int d = 0; d < x.rank; d++) {
    if (!fitsInt(x.shape[d]) || !fitsInt(p.outShape[d]) || p.outShape[d] == 0) {
      why = "dims must be non-zero and fit in int";
      return false;
    }
  }
  // A 1-d pooling runs as 2-d with a unit leading spatial dim; cuDNN takes 4-d and 5-d tensors.
  const int lead = spatial == 1 ? 1 : 0;
  const int rank = x.rank + lead;
  int windowDims[3], pad[3], stride[3];
  int xDims[5], yDims[5], xStrides[5], yStrides[5];
  xDims[0] = static_cast<int>(x.shape[0]);
  xDims[1] = static_cast<int>(x.shape[1]);
  yDims[0] = xDims[0];
  yDims[1] = xDims[1];
  if (lead) {
    windowDims[0] = 1;
    pad[0] = 0;
    stride[0] = 1;
    xDims[2] = 1;
    yDims[2] = 1;
  }
  for (int d = 0; d < spatial; d++) {
    const int at = 2 + d;
    if (p.dilation[at] != 1 || p.padLow[at] != p.padHigh[at] || p.padLow[at] >= p.window[at] || !fitsInt(p.window[at]) ||
        !fitsInt(p.strides[at]) || !fitsInt(p.padLow[at])) {
      why = "cuDNN pooling needs no dilation and symmetric padding smaller than the window";
      return false;
    }
    windowDims[lead + d] = static_cast<int>(p.window[at]);
    pad[lead + d] = static_cast<int>(p.padLow[at]);
    stride[lead + d] = static_cast<int>(p.strides[at]);
    xDims[2 + lead + d] = static_cast<int>(x.shape[at]);
    yDims[2 + lead + d] = static_cast<int>(p.outShape[at]);
  }
  int64_t xStride = 1;
  int64_t yStride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (!fitsInt(xStride) || !fitsInt(yStride)) {
      why = "strides must fit in int";
      return false;
    }
    xStrides[d] = static_cast<int>(xStride);
    yStrides[d] = static_cast<int>(yStride);
    xStride *= xDims[d];
    yStride *= yDims[d];
  }
  const Cudnn* api = cudnn();
  if (api == nullptr) {
    why = "cuDNN " + cudnnStatus().reason;
    return false;
  }
  if (api->CreatePoolingDescriptor == nullptr || api->SetPoolingNdDescriptor == nullptr || api->DestroyPoolingDescriptor == nullptr ||
      api->PoolingForward == nullptr) {
    why = "the loaded cuDNN lacks the pooling functions";
    return false;
  }
  cudnnHandle_t handle = boundCudnnHandle(api, stream, why);
  if (handle == nullptr) return false;
  const int type = cudnnType(dtype);
  PoolDescriptors desc{api};
  const bool described =
      api->CreateTensorDescriptor(&desc.x) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.x, type, rank, xDims, xStrides) == kCudnnSuccess &&
      api->CreateTensorDescriptor(&desc.y) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.y, type, rank, yDims, yStrides) == kCudnnSuccess &&
      api->CreatePoolingDescriptor(&desc.pool) == kCudnnSuccess &&
      api->SetPoolingNdDescriptor(desc.pool, kCudnnPoolingMax, kCudnnPropagateNan, rank - 2, windowDims, pad, stride) == kCudnnSuccess;
  if (!described) return vendorFailure(why, "cuDNN refused the pooling descriptors");
  const CudnnScaling scaling;
  if (api->PoolingForward(handle, desc.pool, scaling.one(dtype), desc.x, x.base + x.offset * itemSizeOf(dtype), scaling.zero(dtype), desc.y,
                          out) != kCudnnSuccess) {
    return vendorFailure(why, "cudnnPoolingForward failed");
  }
  return true;
}

}  // namespace flint_cuda
