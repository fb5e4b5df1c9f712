// The CUDA libraries the addon loads at run time with dlopen: cuBLASLt, cuBLAS, cuDNN, NVRTC and
// NCCL.
// The package builds without their headers and runs without them (falling back to its own
// kernels), so the few declarations it calls are written out here, from the libraries'
// documented C APIs; every entry point is resolved with dlsym and checked before use.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace flint_cuda {

// ---- cuBLAS / cuBLASLt (cublas_api.h, cublasLt.h) ----
using cublasStatus_t = int;
constexpr cublasStatus_t kCublasSuccess = 0;
constexpr cublasStatus_t kCublasNotSupported = 15;
using cublasComputeType_t = int;
constexpr cublasComputeType_t kCublasCompute32F = 68;
constexpr cublasComputeType_t kCublasCompute32FFastTf32 = 77;
constexpr cublasComputeType_t kCublasCompute64F = 70;
constexpr int kCublasOpN = 0;
constexpr int kCublasOpT = 1;
struct cublasLtContext;
using cublasLtHandle_t = cublasLtContext*;
struct cublasLtMatmulDescOpaque_t;
using cublasLtMatmulDesc_t = cublasLtMatmulDescOpaque_t*;
struct cublasLtMatrixLayoutOpaque_t;
using cublasLtMatrixLayout_t = cublasLtMatrixLayoutOpaque_t*;
struct cublasLtMatmulPreferenceOpaque_t;
using cublasLtMatmulPreference_t = cublasLtMatmulPreferenceOpaque_t*;
struct cublasLtMatmulAlgo_t {
  uint64_t data[8];
};
struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};
// cublasLtMatmulDescAttributes_t
constexpr int kLtDescTransA = 3;
constexpr int kLtDescTransB = 4;
constexpr int kLtDescEpilogue = 7;
constexpr int kLtDescBiasPointer = 8;
// cublasLtEpilogue_t: CUBLASLT_EPILOGUE_BIAS adds a vector of D's rows to every column.
constexpr uint32_t kLtEpilogueBias = 4;
// cublasLtMatrixLayoutAttribute_t
constexpr int kLtLayoutBatchCount = 5;
constexpr int kLtLayoutStridedBatchOffset = 6;
// cublasLtMatmulPreferenceAttributes_t
constexpr int kLtPrefMaxWorkspaceBytes = 1;
constexpr int kLtPrefMinAlignmentA = 5;
constexpr int kLtPrefMinAlignmentB = 6;
constexpr int kLtPrefMinAlignmentC = 7;
constexpr int kLtPrefMinAlignmentD = 8;

struct CublasLt {
  size_t (*GetVersion)();
  cublasStatus_t (*Create)(cublasLtHandle_t*);
  cublasStatus_t (*Destroy)(cublasLtHandle_t);
  cublasStatus_t (*MatmulDescCreate)(cublasLtMatmulDesc_t*, cublasComputeType_t, cudaDataType_t);
  cublasStatus_t (*MatmulDescDestroy)(cublasLtMatmulDesc_t);
  cublasStatus_t (*MatmulDescSetAttribute)(cublasLtMatmulDesc_t, int, const void*, size_t);
  cublasStatus_t (*MatrixLayoutCreate)(cublasLtMatrixLayout_t*, cudaDataType_t, uint64_t, uint64_t, int64_t);
  cublasStatus_t (*MatrixLayoutDestroy)(cublasLtMatrixLayout_t);
  cublasStatus_t (*MatrixLayoutSetAttribute)(cublasLtMatrixLayout_t, int, const void*, size_t);
  cublasStatus_t (*MatmulPreferenceCreate)(cublasLtMatmulPreference_t*);
  cublasStatus_t (*MatmulPreferenceDestroy)(cublasLtMatmulPreference_t);
  cublasStatus_t (*MatmulPreferenceSetAttribute)(cublasLtMatmulPreference_t, int, const void*, size_t);
  cublasStatus_t (*MatmulAlgoGetHeuristic)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                           cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatmulPreference_t, int,
                                           cublasLtMatmulHeuristicResult_t*, int*);
  cublasStatus_t (*Matmul)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*, cublasLtMatrixLayout_t, const void*,
                           cublasLtMatrixLayout_t, const void*, const void*, cublasLtMatrixLayout_t, void*, cublasLtMatrixLayout_t,
                           const cublasLtMatmulAlgo_t*, void*, size_t, cudaStream_t);
};

struct Cublas {
  // Resolved only to report the library; matmuls go through cuBLASLt.
  cublasStatus_t (*Create)(void**);
  cublasStatus_t (*Destroy)(void*);
};

// ---- cuDNN (cudnn_graph.h, cudnn_cnn.h, cudnn_ops.h; the legacy descriptor API) ----
using cudnnStatus_t = int;
constexpr cudnnStatus_t kCudnnSuccess = 0;
struct cudnnContext;
using cudnnHandle_t = cudnnContext*;
using cudnnTensorDescriptor_t = void*;
using cudnnFilterDescriptor_t = void*;
using cudnnConvolutionDescriptor_t = void*;
using cudnnPoolingDescriptor_t = void*;
constexpr int kCudnnDataFloat = 0;
constexpr int kCudnnDataDouble = 1;
constexpr int kCudnnDataHalf = 2;
constexpr int kCudnnDataBfloat16 = 9;
constexpr int kCudnnTensorNchw = 0;
constexpr int kCudnnCrossCorrelation = 1;
constexpr int kCudnnDefaultMath = 0;
constexpr int kCudnnTensorOpMath = 1;
constexpr int kCudnnFmaMath = 3;
constexpr int kCudnnPoolingMax = 0;
constexpr int kCudnnPropagateNan = 1;
/** One ranked algorithm: cudnnConvolution{Fwd,BwdFilter,BwdData}AlgoPerf_t share this layout. */
struct cudnnConvolutionFwdAlgoPerf_t {
  int algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
};
using cudnnConvolutionBwdFilterAlgoPerf_t = cudnnConvolutionFwdAlgoPerf_t;
constexpr int kCudnnNonDeterministic = 0;  // cudnnDeterminism_t
using cudnnConvolutionBwdDataAlgoPerf_t = cudnnConvolutionFwdAlgoPerf_t;

struct Cudnn {
  size_t (*GetVersion)();
  const char* (*GetErrorString)(cudnnStatus_t);
  cudnnStatus_t (*Create)(cudnnHandle_t*);
  cudnnStatus_t (*Destroy)(cudnnHandle_t);
  cudnnStatus_t (*SetStream)(cudnnHandle_t, cudaStream_t);
  cudnnStatus_t (*CreateTensorDescriptor)(cudnnTensorDescriptor_t*);
  cudnnStatus_t (*SetTensorNdDescriptor)(cudnnTensorDescriptor_t, int, int, const int*, const int*);
  cudnnStatus_t (*DestroyTensorDescriptor)(cudnnTensorDescriptor_t);
  cudnnStatus_t (*CreateFilterDescriptor)(cudnnFilterDescriptor_t*);
  cudnnStatus_t (*SetFilterNdDescriptor)(cudnnFilterDescriptor_t, int, int, int, const int*);
  cudnnStatus_t (*DestroyFilterDescriptor)(cudnnFilterDescriptor_t);
  cudnnStatus_t (*CreateConvolutionDescriptor)(cudnnConvolutionDescriptor_t*);
  cudnnStatus_t (*SetConvolutionNdDescriptor)(cudnnConvolutionDescriptor_t, int, const int*, const int*, const int*, int, int);
  cudnnStatus_t (*SetConvolutionGroupCount)(cudnnConvolutionDescriptor_t, int);
  cudnnStatus_t (*SetConvolutionMathType)(cudnnConvolutionDescriptor_t, int);
  cudnnStatus_t (*DestroyConvolutionDescriptor)(cudnnConvolutionDescriptor_t);
  cudnnStatus_t (*GetConvolutionForwardAlgorithm_v7)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnFilterDescriptor_t,
                                                     cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, int, int*,
                                                     cudnnConvolutionFwdAlgoPerf_t*);
  cudnnStatus_t (*GetConvolutionForwardWorkspaceSize)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnFilterDescriptor_t,
                                                      cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, int, size_t*);
  cudnnStatus_t (*ConvolutionForward)(cudnnHandle_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnFilterDescriptor_t,
                                      const void*, cudnnConvolutionDescriptor_t, int, void*, size_t, const void*,
                                      cudnnTensorDescriptor_t, void*);
  // The backward convolutions (cudnn_cnn.h): resolved on their own as pooling is (null when
  // missing: convolution gradients then run as forward convolutions).
  cudnnStatus_t (*GetConvolutionBackwardFilterAlgorithm_v7)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,
                                                            cudnnConvolutionDescriptor_t, cudnnFilterDescriptor_t, int, int*,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t*);
  cudnnStatus_t (*ConvolutionBackwardFilter)(cudnnHandle_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t,
                                             const void*, cudnnConvolutionDescriptor_t, int, void*, size_t, const void*,
                                             cudnnFilterDescriptor_t, void*);
  cudnnStatus_t (*GetConvolutionBackwardDataAlgorithm_v7)(cudnnHandle_t, cudnnFilterDescriptor_t, cudnnTensorDescriptor_t,
                                                          cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, int, int*,
                                                          cudnnConvolutionBwdDataAlgoPerf_t*);
  cudnnStatus_t (*ConvolutionBackwardData)(cudnnHandle_t, const void*, cudnnFilterDescriptor_t, const void*, cudnnTensorDescriptor_t,
                                           const void*, cudnnConvolutionDescriptor_t, int, void*, size_t, const void*,
                                           cudnnTensorDescriptor_t, void*);
  // Pooling: resolved on their own, so a library without them still serves convolutions (null then).
  cudnnStatus_t (*CreatePoolingDescriptor)(cudnnPoolingDescriptor_t*);
  cudnnStatus_t (*SetPoolingNdDescriptor)(cudnnPoolingDescriptor_t, int, int, int, const int*, const int*, const int*);
  cudnnStatus_t (*DestroyPoolingDescriptor)(cudnnPoolingDescriptor_t);
  cudnnStatus_t (*PoolingForward)(cudnnHandle_t, cudnnPoolingDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*,
                                  const void*, cudnnTensorDescriptor_t, void*);
  // Batch normalization (cudnn_ops.h, cudnnBatchNormMode_t): optional as pooling is.
  cudnnStatus_t (*BatchNormalizationForwardTraining)(cudnnHandle_t, int, const void*, const void*, cudnnTensorDescriptor_t,
                                                     const void*, cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t,
                                                     const void*, const void*, double, void*, void*, double, void*, void*);
  cudnnStatus_t (*BatchNormalizationForwardInference)(cudnnHandle_t, int, const void*, const void*, cudnnTensorDescriptor_t,
                                                      const void*, cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t,
                                                      const void*, const void*, const void*, const void*, double);
  cudnnStatus_t (*BatchNormalizationBackward)(cudnnHandle_t, int, const void*, const void*, const void*, const void*,
                                              cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*,
                                              cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t, const void*, void*, void*,
                                              double, const void*, const void*);
};
constexpr int kCudnnBatchNormSpatial = 1;
/** cudnn.h's CUDNN_BN_MIN_EPSILON was 1e-5 before cuDNN 7.5 (0 since): smaller eps runs the own kernel. */
constexpr double kCudnnBatchNormMinEpsilon = 1e-5;

// ---- NVRTC (nvrtc.h) ----
using nvrtcResult = int;
constexpr nvrtcResult kNvrtcSuccess = 0;
struct _nvrtcProgram;
using nvrtcProgram = _nvrtcProgram*;

struct Nvrtc {
  const char* (*GetErrorString)(nvrtcResult);
  nvrtcResult (*Version)(int*, int*);
  nvrtcResult (*CreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*);
  nvrtcResult (*DestroyProgram)(nvrtcProgram*);
  nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char* const*);
  nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetProgramLog)(nvrtcProgram, char*);
  nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetCUBIN)(nvrtcProgram, char*);
};

// ---- NCCL (nccl.h, 2.x) ----
using ncclResult_t = int;
constexpr ncclResult_t kNcclSuccess = 0;
constexpr ncclResult_t kNcclInProgress = 7;
struct ncclComm;
using ncclComm_t = ncclComm*;
constexpr int kNcclUniqueIdBytes = 128;
struct ncclUniqueId {
  char internal[kNcclUniqueIdBytes];
};
// ncclDataType_t
constexpr int kNcclUint8 = 1;
constexpr int kNcclInt32 = 2;
constexpr int kNcclFloat16 = 6;
constexpr int kNcclFloat32 = 7;
constexpr int kNcclFloat64 = 8;
constexpr int kNcclBfloat16 = 9;
// ncclRedOp_t: ncclSum, ncclProd, ncclMax, ncclMin, ncclAvg (2.10+); the addon's op codes match.
constexpr int kNcclAvg = 4;

struct Nccl {
  ncclResult_t (*GetVersion)(int*);
  ncclResult_t (*GetUniqueId)(ncclUniqueId*);
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*CommDestroy)(ncclComm_t);
  ncclResult_t (*CommAbort)(ncclComm_t);
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*);
  const char* (*GetErrorString)(ncclResult_t);
  ncclResult_t (*AllReduce)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t);
  ncclResult_t (*Broadcast)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t);
  ncclResult_t (*AllGather)(const void*, void*, size_t, int, ncclComm_t, cudaStream_t);
  ncclResult_t (*ReduceScatter)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t);
  ncclResult_t (*GroupStart)();
  ncclResult_t (*GroupEnd)();
  int version;  // e.g. 22104 for 2.21.4
};

/** What loading one library found: the path it loaded, or why not (with the places searched). */
struct LibraryStatus {
  bool attempted = false;
  bool found = false;
  std::string path;
  std::string version;
  std::string reason;
};

/** Each loader tries once per process and returns null (with the status saying why) when unavailable. */
const CublasLt* cublasLt();
const Cublas* cublas();
const Cudnn* cudnn();
const Nvrtc* nvrtc();
const Nccl* nccl();
const LibraryStatus& cublasLtStatus();
const LibraryStatus& cublasStatus();
const LibraryStatus& cudnnStatus();
const LibraryStatus& nvrtcStatus();
const LibraryStatus& ncclStatus();

/** Why NCCL collectives stopped (a timeout, an asynchronous NCCL error), or empty: reads fail with it. */
std::string ncclFailure();

/**
 * Whether the CUDA driver library can be loaded, and if not, the places searched: the runtime
 * needs it for any device work, and its absence is the usual reason the backend is unavailable.
 */
bool driverLibraryFound(std::string& reason);

}  // namespace flint_cuda
