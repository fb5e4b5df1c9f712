// Convolution and max pooling through cuDNN's descriptor API (loaded at run time; see
// libraries.h), for the configurations cuDNN takes: float32/float64 and float16/bfloat16, 2 or 3
// spatial dims, contiguous operands, symmetric padding, no input dilation. The half types run in
// cuDNN's "pseudo half" configurations (half data, float compute, on the tensor cores), as
// PyTorch's half convolutions do. Everything else runs the addon's own kernels.
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

bool convCudnn(int dtype, void* out, const View& x, const View& w, const ConvParams& p, cudaStream_t stream, std::string& why) {
  if (!takenByCudnn(dtype)) {
    why = std::string("cuDNN is not used for ") + dtypeName(dtype);
    return false;
  }
  if (p.spatial != 2 && p.spatial != 3) {
    why = "cuDNN takes 2 or 3 spatial dims";
    return false;
  }
  if (x.size == 0 || w.size == 0) {
    why = "empty convolution";
    return false;
  }
  if (!x.contiguous() || !w.contiguous()) {
    why = "operands must be contiguous";
    return false;
  }
  int pad[kMaxSpatial];
  int stride[kMaxSpatial];
  int dilation[kMaxSpatial];
  for (int d = 0; d < p.spatial; d++) {
    if (p.lhsDilation[d] != 1 || p.padLow[d] != p.padHigh[d] || p.padLow[d] < 0 || !fitsInt(p.padLow[d]) || !fitsInt(p.strides[d]) ||
        !fitsInt(p.rhsDilation[d]) || p.outSize[d] == 0) {
      why = "cuDNN needs symmetric non-negative padding and no input dilation";
      return false;
    }
    pad[d] = static_cast<int>(p.padLow[d]);
    stride[d] = static_cast<int>(p.strides[d]);
    dilation[d] = static_cast<int>(p.rhsDilation[d]);
  }
  const Cudnn* api = cudnn();
  if (api == nullptr) {
    why = "cuDNN " + cudnnStatus().reason;
    return false;
  }
  cudnnHandle_t handle = boundCudnnHandle(api, stream, why);
  if (handle == nullptr) return false;
  const int rank = x.rank;
  int xDims[kMaxSpatial + 2], xStrides[kMaxSpatial + 2], wDims[kMaxSpatial + 2], yDims[kMaxSpatial + 2], yStrides[kMaxSpatial + 2];
  for (int d = 0; d < rank; d++) {
    xDims[d] = static_cast<int>(x.shape[d]);
    wDims[d] = static_cast<int>(w.shape[d]);
  }
  yDims[0] = xDims[0];
  yDims[1] = wDims[0];
  for (int d = 0; d < p.spatial; d++) yDims[2 + d] = static_cast<int>(p.outSize[d]);
  int64_t xStride = 1;
  int64_t yStride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    xStrides[d] = static_cast<int>(xStride);
    yStrides[d] = static_cast<int>(yStride);
    xStride *= xDims[d];
    yStride *= yDims[d];
  }
  const int type = cudnnType(dtype);
  // The half types accumulate in float (PSEUDO_HALF_CONFIG, PSEUDO_BFLOAT16_CONFIG) on the tensor
  // cores; float32 keeps FMA math unless TF32 is allowed.
  const int computeType = isHalf(dtype) ? kCudnnDataFloat : type;
  const int mathType = isHalf(dtype) ? kCudnnTensorOpMath : dtype == kFloat32 && !state().allowTf32 ? kCudnnFmaMath : kCudnnDefaultMath;
  Descriptors desc{api};
  const bool described =
      api->CreateTensorDescriptor(&desc.x) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.x, type, rank, xDims, xStrides) == kCudnnSuccess &&
      api->CreateTensorDescriptor(&desc.y) == kCudnnSuccess && api->SetTensorNdDescriptor(desc.y, type, rank, yDims, yStrides) == kCudnnSuccess &&
      api->CreateFilterDescriptor(&desc.w) == kCudnnSuccess &&
      api->SetFilterNdDescriptor(desc.w, type, kCudnnTensorNchw, rank, wDims) == kCudnnSuccess &&
      api->CreateConvolutionDescriptor(&desc.conv) == kCudnnSuccess &&
      api->SetConvolutionNdDescriptor(desc.conv, p.spatial, pad, stride, dilation, kCudnnCrossCorrelation, computeType) == kCudnnSuccess &&
      api->SetConvolutionGroupCount(desc.conv, static_cast<int>(p.groups)) == kCudnnSuccess &&
      api->SetConvolutionMathType(desc.conv, mathType) == kCudnnSuccess;
  if (!described) return vendorFailure(why, "cuDNN refused the convolution descriptors");
  constexpr int kCandidates = 8;
  cudnnConvolutionFwdAlgoPerf_t candidates[kCandidates];
  int returned = 0;
  if (api->GetConvolutionForwardAlgorithm_v7(handle, desc.x, desc.w, desc.conv, desc.y, kCandidates, &returned, candidates) !=
      kCudnnSuccess) {
    return vendorFailure(why, "cudnnGetConvolutionForwardAlgorithm_v7 failed");
  }
  std::string failed;
  for (int i = 0; i < returned; i++) {
    const cudnnConvolutionFwdAlgoPerf_t& candidate = candidates[i];
    if (candidate.status != kCudnnSuccess || candidate.memory > kMaxWorkspaceBytes) continue;
    // float32 without TF32: FMA math only (the default math type lets Ampere and later use TF32).
    if (dtype == kFloat32 && !state().allowTf32 && candidate.mathType != kCudnnFmaMath) continue;
    // cuDNN picks the kernels by the algorithm and the descriptor's math type together (since 7.4):
    // run each candidate with the math type it was ranked under, as PyTorch does.
    if (api->SetConvolutionMathType(desc.conv, candidate.mathType) != kCudnnSuccess) continue;
    size_t workspaceBlock = 0;
    void* workspace = nullptr;
    if (candidate.memory > 0) {
      cudaError_t error = cudaSuccess;
      workspace = state().allocator.allocate(candidate.memory, workspaceBlock, error);
      if (workspace == nullptr) continue;
    }
    const CudnnScaling scaling;
    const int itemSize = itemSizeOf(dtype);
    const cudnnStatus_t status = api->ConvolutionForward(handle, scaling.one(dtype), desc.x, x.base + x.offset * itemSize, desc.w,
                                                         w.base + w.offset * itemSize, desc.conv, candidate.algo, workspace,
                                                         candidate.memory, scaling.zero(dtype), desc.y, out);
    // Stream order keeps the workspace valid for the queued convolution.
    state().allocator.release(workspace, workspaceBlock);
    if (status == kCudnnSuccess) return true;
    failed += (failed.empty() ? "" : ", ") + std::string("algorithm ") + std::to_string(candidate.algo) + ": " + api->GetErrorString(status);
  }
  // Candidates skipped by choice (workspace, math type) are a decline; ones cuDNN refused to run are a failure.
  if (!failed.empty()) return vendorFailure(why, "cudnnConvolutionForward failed (" + failed + ")");
  why = "no cuDNN algorithm suits (workspace or math type)";
  return false;
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
