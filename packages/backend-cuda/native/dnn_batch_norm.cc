// Batch normalization through cuDNN's legacy API (spatial mode: statistics per channel over the
// batch and every spatial position), as PyTorch uses it on NCHW tensors. x [N, C, S] is described
// as the 4-d NCHW tensor [N, C, S, 1]; the statistics as [1, C, 1, 1]. Declines (the caller runs
// the own kernels of normalization.cu) for other dtypes, eps below cuDNN's old minimum, a single
// element per channel (the unbiased variance cuDNN reports would divide by zero), sizes past
// cuDNN's 32-bit indexing (PyTorch's limits: fewer than 2^31 elements, a batch of at most 880801
// in training and 65535 in inference), or a library without the entry points.
#include <cmath>

#include "shared.h"
#include "vendor.h"

namespace flint_cuda {

namespace {

// cuDNN's batch norm kernels index with 32 bits; PyTorch sends it these batches at most.
constexpr int64_t kTrainingMaxBatch = 880801;
constexpr int64_t kInferenceMaxBatch = 65535;

struct NormDescriptors {
  const Cudnn* api;
  cudnnTensorDescriptor_t x = nullptr, stats = nullptr;
  ~NormDescriptors() {
    if (stats) api->DestroyTensorDescriptor(stats);
    if (x) api->DestroyTensorDescriptor(x);
  }
};

/** The library and handle for `args`, with the descriptors made; null with `why` set when cuDNN does not take them. */
cudnnHandle_t prepare(const BatchNormArgs& args, const Cudnn*& api, NormDescriptors& desc, cudaStream_t stream, std::string& why,
                      bool (*present)(const Cudnn*), int64_t maxBatch) {
  api = cudnn();
  if (api == nullptr) {
    why = "cuDNN " + cudnnStatus().reason;
    return nullptr;
  }
  if (!present(api)) {
    why = "this cuDNN has no batch normalization entry points";
    return nullptr;
  }
  if (args.dtype != kFloat32 && args.dtype != kFloat64) {
    why = std::string("cuDNN batch norm is not used for ") + dtypeName(args.dtype);
    return nullptr;
  }
  if (!(args.eps >= kCudnnBatchNormMinEpsilon)) {
    why = "cuDNN batch norm needs eps of at least 1e-5";
    return nullptr;
  }
  const int64_t limit = 2147483647;
  // Each factor is below 2^31 (checked at the boundary), so the products fit in int64.
  if (args.channels == 0 || args.batch * args.spatial < 2 || args.batch * args.channels * args.spatial >= limit ||
      args.batch > maxBatch) {
    why = "cuDNN batch norm takes fewer than 2^31 elements, a batch of at most " + std::to_string(maxBatch) +
          " and at least 2 elements per channel";
    return nullptr;
  }
  cudnnHandle_t handle = boundCudnnHandle(api, stream, why);
  if (handle == nullptr) return nullptr;
  desc.api = api;
  const int type = args.dtype == kFloat64 ? kCudnnDataDouble : kCudnnDataFloat;
  const int c = static_cast<int>(args.channels);
  const int s = static_cast<int>(args.spatial);
  const int xDims[4] = {static_cast<int>(args.batch), c, s, 1};
  const int xStrides[4] = {c * s, s, 1, 1};
  const int statDims[4] = {1, c, 1, 1};
  const int statStrides[4] = {c, 1, 1, 1};
  const bool described = api->CreateTensorDescriptor(&desc.x) == kCudnnSuccess &&
                         api->SetTensorNdDescriptor(desc.x, type, 4, xDims, xStrides) == kCudnnSuccess &&
                         api->CreateTensorDescriptor(&desc.stats) == kCudnnSuccess &&
                         api->SetTensorNdDescriptor(desc.stats, type, 4, statDims, statStrides) == kCudnnSuccess;
  if (!described) {
    vendorFailure(why, "cuDNN refused the batch norm descriptors");
    return nullptr;
  }
  return handle;
}

}  // namespace

bool batchNormCudnn(const BatchNormArgs& args, void* out, void* mean, void* variance, cudaStream_t stream, std::string& why) {
  const Cudnn* api = nullptr;
  NormDescriptors desc{nullptr};
  cudnnHandle_t handle =
      prepare(args, api, desc, stream, why, [](const Cudnn* a) { return a->BatchNormalizationForwardTraining != nullptr; }, kTrainingMaxBatch);
  if (handle == nullptr) return false;
  // With an average factor of 1 the running statistics are this batch's: the mean, and the
  // unbiased variance. They start at zero (cuDNN reads them: 0 * garbage could be NaN).
  const size_t statBytes = static_cast<size_t>(args.channels) * static_cast<size_t>(itemSizeOf(args.dtype));
  if (cudaMemsetAsync(mean, 0, statBytes, stream) != cudaSuccess || cudaMemsetAsync(variance, 0, statBytes, stream) != cudaSuccess) {
    why = "could not clear the statistics";
    return false;
  }
  const CudnnScaling scaling;
  const cudnnStatus_t status = api->BatchNormalizationForwardTraining(
      handle, kCudnnBatchNormSpatial, scaling.one(args.dtype), scaling.zero(args.dtype), desc.x, args.x, desc.x, out, desc.stats,
      args.weight, args.bias, 1.0, mean, variance, args.eps, nullptr, nullptr);
  if (status != kCudnnSuccess) return vendorFailure(why, std::string("cudnnBatchNormalizationForwardTraining: ") + api->GetErrorString(status));
  // The api's statistics use the biased variance: n / (n - 1) back out.
  const double count = static_cast<double>(args.batch) * static_cast<double>(args.spatial);
  if (launchScale(args.dtype, variance, args.channels, (count - 1) / count, stream) != cudaSuccess) {
    why = "could not rescale the variance";
    return false;
  }
  return true;
}

bool batchNormInferenceCudnn(const BatchNormArgs& args, const void* mean, const void* variance, void* out, cudaStream_t stream,
                             std::string& why) {
  const Cudnn* api = nullptr;
  NormDescriptors desc{nullptr};
  cudnnHandle_t handle =
      prepare(args, api, desc, stream, why, [](const Cudnn* a) { return a->BatchNormalizationForwardInference != nullptr; }, kInferenceMaxBatch);
  if (handle == nullptr) return false;
  const CudnnScaling scaling;
  const cudnnStatus_t status = api->BatchNormalizationForwardInference(handle, kCudnnBatchNormSpatial, scaling.one(args.dtype),
                                                                       scaling.zero(args.dtype), desc.x, args.x, desc.x, out, desc.stats,
                                                                       args.weight, args.bias, mean, variance, args.eps);
  if (status != kCudnnSuccess) return vendorFailure(why, std::string("cudnnBatchNormalizationForwardInference: ") + api->GetErrorString(status));
  return true;
}

bool batchNormBackwardCudnn(const BatchNormArgs& args, const void* g, void* dx, void* dWeight, void* dBias, cudaStream_t stream,
                            std::string& why) {
  const Cudnn* api = nullptr;
  NormDescriptors desc{nullptr};
  cudnnHandle_t handle = prepare(args, api, desc, stream, why, [](const Cudnn* a) { return a->BatchNormalizationBackward != nullptr; }, kTrainingMaxBatch);
  if (handle == nullptr) return false;
  const CudnnScaling scaling;
  const void* one = scaling.one(args.dtype);
  const void* zero = scaling.zero(args.dtype);
  // No saved statistics: cuDNN recomputes the batch's from x, which are the ones the forward pass used.
  const cudnnStatus_t status = api->BatchNormalizationBackward(handle, kCudnnBatchNormSpatial, one, zero, one, zero, desc.x, args.x,
                                                               desc.x, g, desc.x, dx, desc.stats, args.weight, dWeight, dBias, args.eps,
                                                               nullptr, nullptr);
  if (status != kCudnnSuccess) return vendorFailure(why, std::string("cudnnBatchNormalizationBackward: ") + api->GetErrorString(status));
  return true;
}

}  // namespace flint_cuda
