// The contractions that run through NVIDIA's libraries when they are present (blas.cc, dnn.cc).
// Each returns false, having written nothing, for a configuration it does not take or when its
// library is missing; the caller then runs the addon's own kernel.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "boundary.h"
#include "libraries.h"

namespace flint_cuda {

/**
 * out [batch, m, n] (contiguous) = a [batch, m, k] x b [batch, k, n] through cuBLASLt, for
 * float32 (TF32 only when configured), float64, and float16/bfloat16 (tensor cores, float32
 * accumulation). Views need a unit stride in one of their two
 * matrix dims (plain or transposed matrices); `why` says what declined. With `bias` (n
 * contiguous elements of the dtype, in device memory), every row of the product gets it added in
 * the matmul's store (cuBLASLt's BIAS epilogue, before rounding to the dtype).
 */
bool matmulCublasLt(int dtype, void* out, const View& a, const View& b, int64_t batch, int64_t m, int64_t n, int64_t k,
                    cudaStream_t stream, std::string& why, const void* bias = nullptr);

/** Convolution parameters as they cross the boundary: per spatial dim. */
struct ConvParams {
  int spatial = 0;
  int64_t groups = 1;
  int64_t strides[kMaxSpatial] = {};
  int64_t padLow[kMaxSpatial] = {};
  int64_t padHigh[kMaxSpatial] = {};
  int64_t lhsDilation[kMaxSpatial] = {};
  int64_t rhsDilation[kMaxSpatial] = {};
  int64_t outSize[kMaxSpatial] = {};
};

/**
 * out (contiguous [N, O, ...]) = conv(x, w) through cuDNN, for float32/float64 and
 * float16/bfloat16 (float accumulation) with 2 or 3 spatial dims, symmetric non-negative padding
 * and no input dilation.
 */
bool convCudnn(int dtype, void* out, const View& x, const View& w, const ConvParams& params, cudaStream_t stream, std::string& why);

/**
 * A forward convolution's shapes and geometry, for its backward passes: x [N, C, ...] (or dx),
 * w [K, C / groups, ...], y [N, K, ...] (or dy), and per spatial dim the symmetric padding,
 * stride and dilation. The caller has checked that y's spatial dims are the forward's
 * (in + 2 pad - ((k - 1) dilation + 1)) / stride + 1.
 */
struct ConvGeometry {
  int spatial = 2;
  int64_t groups = 1;  // w is then [K, C / groups, ...]
  int64_t xDims[kMaxSpatial + 2] = {};
  int64_t wDims[kMaxSpatial + 2] = {};
  int64_t yDims[kMaxSpatial + 2] = {};
  int64_t pad[kMaxSpatial] = {};
  int64_t stride[kMaxSpatial] = {};
  int64_t dilation[kMaxSpatial] = {};
};

/** dw (contiguous [K, C, ...]) = the forward's filter gradient from x and dy (contiguous), through cuDNN. */
bool convBackwardFilterCudnn(int dtype, void* dw, const View& x, const View& dy, const ConvGeometry& geometry, cudaStream_t stream,
                             std::string& why);

/** dx (contiguous [N, C, ...]) = the forward's input gradient from w and dy (contiguous), through cuDNN. */
bool convBackwardDataCudnn(int dtype, void* dx, const View& w, const View& dy, const ConvGeometry& geometry, cudaStream_t stream,
                           std::string& why);

/**
 * Records that a cuBLASLt or cuDNN call failed after the addon chose the library for an op (as
 * opposed to declining it beforehand): sets `why`, counts it (EngineCounters::vendorFailures) and
 * returns false, so the op runs the own kernel. With FLINT_CUDA_STRICT_VENDOR=1 it throws instead
 * (the tests on the emulated libraries set it), so a call the library refuses fails its test rather
 * than passing on the fallback.
 */
bool vendorFailure(std::string& why, const std::string& failure);

/**
 * cuDNN's scaling arguments 1 and 0 (alpha and beta), as it reads them: double for double data,
 * float for every other type, the half types included.
 */
struct CudnnScaling {
  float floats[2] = {1.0f, 0.0f};
  double doubles[2] = {1.0, 0.0};
  const void* one(int dtype) const { return dtype == kFloat64 ? static_cast<const void*>(&doubles[0]) : &floats[0]; }
  const void* zero(int dtype) const { return dtype == kFloat64 ? static_cast<const void*>(&doubles[1]) : &floats[1]; }
};

/** cuDNN's shared handle (created on first use), bound to `stream`; null with `why` set when cuDNN cannot serve. */
cudnnHandle_t boundCudnnHandle(const Cudnn* api, cudaStream_t stream, std::string& why);

/** Batch norm over x [batch, channels, spatial] (contiguous): its operands, as the composite kernels take them. */
struct BatchNormArgs {
  int dtype = kFloat32;
  int64_t batch = 0, channels = 0, spatial = 0;
  double eps = 0;
  const void* x = nullptr;
  /** [channels]; cuDNN needs both, so the caller passes ones and zeros for absent ones. */
  const void* weight = nullptr;
  const void* bias = nullptr;
};

/**
 * Batch norm with the batch's statistics through cuDNN (spatial mode): the output, the mean and
 * the biased variance (cuDNN's unbiased running variance of this batch alone, rescaled). For
 * float32/float64, eps of at least 1e-5 and at least 2 elements per channel.
 */
bool batchNormCudnn(const BatchNormArgs& args, void* out, void* mean, void* variance, cudaStream_t stream, std::string& why);
/** Batch norm with given statistics through cuDNN. */
bool batchNormInferenceCudnn(const BatchNormArgs& args, const void* mean, const void* variance, void* out, cudaStream_t stream,
                             std::string& why);
/** Batch norm's backward pass through cuDNN (statistics recomputed from x); dWeight and dBias are [channels] scratch if unwanted. */
bool batchNormBackwardCudnn(const BatchNormArgs& args, const void* g, void* dx, void* dWeight, void* dBias, cudaStream_t stream,
                            std::string& why);

/** A reduceWindow's parameters per dim of its input (any rank up to 16). */
struct PoolParams {
  int64_t window[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t padLow[kMaxRank] = {};
  int64_t padHigh[kMaxRank] = {};
  int64_t dilation[kMaxRank] = {};
  int64_t outShape[kMaxRank] = {};
};

/**
 * out (contiguous) = max pooling of x through cuDNN (NaN propagating), for the float types
 * [N, C, ...spatial] with 1 to 3 spatial dims, a unit window over N and C, symmetric padding
 * smaller than the window and no dilation. Window sums stay on the own kernel: cuDNN only
 * averages, and scaling an average back to a sum is not exact.
 */
bool maxPoolCudnn(int dtype, void* out, const View& x, const PoolParams& params, cudaStream_t stream, std::string& why);

}  // namespace flint_cuda
