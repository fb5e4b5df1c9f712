// What the N-API layer (compiled by the C++ compiler) and the kernels (compiled by nvcc) share:
// dtype and op codes, the plain structs that describe strided walks to a kernel, and the launch
// functions. Nothing here includes napi.h, so the .cu files never see Node's headers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace flint_cuda {

// Matches src/native/codes.ts.
// float16 and bfloat16 are stored as their 16-bit patterns (__half, __nv_bfloat16 on the device).
enum DType : int { kFloat32 = 0, kFloat64 = 1, kInt32 = 2, kUint8 = 3, kBool = 4, kFloat16 = 5, kBFloat16 = 6, kDTypeCount = 7 };

enum UnaryOp : int {
  kNeg, kAbs, kSign, kExp, kLog, kLog1p, kExpm1, kSqrt, kRsqrt, kSin, kCos, kTan, kTanh, kLogistic, kErf,
  kFloor, kCeil, kRound, kReciprocal, kNot, kRelu, kAsin, kAcos, kAtan, kUnaryOpCount
};
enum BinaryOp : int {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFloorDivide, kEqual, kNotEqual, kLess, kLessEqual, kGreater,
  kGreaterEqual, kAnd, kOr, kReluGrad, kAtan2, kBinaryOpCount
};
enum ReduceOp : int { kReduceSum, kReduceMax, kReduceMin, kReduceProd, kReduceOpCount };
enum ArgReduceOp : int { kArgmax, kArgmin, kArgReduceOpCount };
enum ScanOp : int { kScanSum, kScanProd, kScanMax, kScanMin, kScanOpCount };
enum WindowOp : int { kWindowSum, kWindowMax, kWindowOpCount };

// Ranks up to 16 cross the boundary; kernels index at most that many dims after coalescing.
constexpr int kMaxRank = 16;
// Operands of one walk: the output and up to three inputs.
constexpr int kMaxOperands = 4;
// Spatial dims of a convolution kernel.
constexpr int kMaxSpatial = 8;

inline bool isComparison(int op) { return op >= kEqual && op <= kOr; }

inline int itemSizeOf(int dtype) {
  return dtype == kFloat64 ? 8 : (dtype == kFloat32 || dtype == kInt32) ? 4 : (dtype == kFloat16 || dtype == kBFloat16) ? 2 : 1;
}

/**
 * A walk over a row-major index space of `total` elements shared by `operands` strided operands
 * (operand 0 is the one written). Element i of the space is element offsets[k] + sum(c_d *
 * strides[k][d]) of operand k, where c is i's coordinate. Its dims are coalesced, so rank 1
 * (element offsets[k] + i * strides[k][0]) covers every contiguous, strided or broadcast run.
 */
struct Walk {
  int32_t rank;
  int32_t operands;
  int64_t total;
  int32_t shape[kMaxRank];
  int64_t strides[kMaxOperands][kMaxRank];
  int64_t offsets[kMaxOperands];
};

/**
 * The dims of `operands` views of one shape with size-1 dims dropped and neighbours that every
 * operand steps through as one merged (so most end with rank 1 or 2), into `outShape` and each
 * `outStrides[k]`; returns the new rank, at least 1. Row-major index i reaches the same element
 * of every operand before and after, so a kernel that walks indices can take either.
 */
int coalesceDims(int rank, const int64_t* shape, int operands, const int64_t* const* strides, int32_t* outShape, int64_t* const* outStrides);

/** Builds a walk for `operands` views of one shape, its dims coalesced (coalesceDims). */
Walk makeWalk(int rank, const int64_t* shape, int operands, const int64_t* const* strides, const int64_t* offsets);

/** A reduction: `outer` output elements (a walk of the kept dims), each over `inner` elements. */
struct Reduction {
  int32_t keptRank;
  int32_t reducedRank;
  int64_t outer;
  int64_t inner;
  int64_t offset;
  int32_t keptShape[kMaxRank];
  int64_t keptStrides[kMaxRank];
  int32_t reducedShape[kMaxRank];
  int64_t reducedStrides[kMaxRank];
};

/** Lines along one axis: `lines` of `length` elements, with input and output strides along it. */
struct Lines {
  int32_t rank;  // of the other dims
  int64_t lines;
  int64_t length;
  int64_t inOffset;
  int64_t inStride;
  int64_t outStride;
  int32_t shape[kMaxRank];
  int64_t inStrides[kMaxRank];
  int64_t outStrides[kMaxRank];
};

/** A strided rank-3 operand [batch, rows, columns]. */
struct Matrix {
  const void* data;
  int64_t offset;
  int64_t strides[3];
};

/** N-d convolution, as the Conv primitive's params describe it. */
struct Convolution {
  int32_t spatial;
  int32_t groups;
  int64_t batch, channels, outChannels, total;
  int32_t inSize[kMaxSpatial], kernelSize[kMaxSpatial], outSize[kMaxSpatial];
  int32_t stride[kMaxSpatial], padLow[kMaxSpatial], lhsDilation[kMaxSpatial], rhsDilation[kMaxSpatial];
  int64_t xOffset, wOffset;
  int64_t xStrides[kMaxSpatial + 2], wStrides[kMaxSpatial + 2];
};

/** A window reduction over every dim of the input. */
struct Window {
  int32_t rank;
  int64_t total;
  int64_t offset;
  int32_t inShape[kMaxRank], outShape[kMaxRank];
  int64_t inStrides[kMaxRank];
  int32_t window[kMaxRank], stride[kMaxRank], padLow[kMaxRank], dilation[kMaxRank];
};

// Launchers (the .cu files). Each returns the launch's error (cudaSuccess when queued).
cudaError_t launchUnary(int op, int dtype, void* out, const void* in, const Walk& walk, cudaStream_t stream);
cudaError_t launchBinary(int op, int dtype, void* out, const void* a, const void* b, const Walk& walk, cudaStream_t stream);
cudaError_t launchWhere(int dtype, void* out, const void* condition, const void* x, const void* y, const Walk& walk,
                        cudaStream_t stream);
cudaError_t launchCast(int from, int to, void* out, const void* in, const Walk& walk, cudaStream_t stream);
/** Copies operand 1 into operand 0 (any strides on both sides), elements of `itemSize` bytes. */
cudaError_t launchCopy(int itemSize, void* out, const void* in, const Walk& walk, cudaStream_t stream);
/** Fills `count` elements of `itemSize` bytes with `pattern` (the element's bytes). */
cudaError_t launchFill(int itemSize, void* out, int64_t count, uint64_t pattern, cudaStream_t stream);
cudaError_t launchIota(int dtype, void* out, int64_t total, int64_t length, int64_t inner, cudaStream_t stream);

/** `scratch` holds at least reduceScratchBytes(...) bytes (may be null when that is 0). */
size_t reduceScratchBytes(int dtype, const Reduction& reduction);
cudaError_t launchReduce(int op, int dtype, void* out, const void* in, const Reduction& reduction, void* scratch,
                         cudaStream_t stream);
cudaError_t launchArgReduce(int op, int dtype, int32_t* out, const void* in, const Reduction& reduction, cudaStream_t stream);
cudaError_t launchCumulative(int op, bool reverse, int dtype, void* out, const void* in, const Lines& lines, cudaStream_t stream);
/**
 * Stable argsort of `lines` contiguous rows of `length` keys (`keys`, which it reorders) into
 * int32 positions; `keyScratch` and `indexScratch` are buffers of the same sizes as keys and out.
 */
cudaError_t launchArgsort(bool descending, int dtype, int32_t* out, void* keys, void* keyScratch, int32_t* indexScratch,
                          int64_t lines, int64_t length, cudaStream_t stream);

cudaError_t launchMatmul(int dtype, void* out, const Matrix& a, const Matrix& b, int64_t batch, int64_t m, int64_t n,
                         int64_t k, cudaStream_t stream);
cudaError_t launchConv(int dtype, void* out, const void* x, const void* w, const Convolution& conv, cudaStream_t stream);
cudaError_t launchReduceWindow(int op, int dtype, void* out, const void* in, const Window& window, cudaStream_t stream);

// The composite ops' kernels (normalization.cu), on contiguous float32 or float64 operands.
/** Softmax (or log-softmax) of x viewed as [outer, length, inner] along its middle dim. */
cudaError_t launchSoftmax(int dtype, bool log, void* out, const void* x, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream);
/** The input's cotangent of softmax from its output y and the output's cotangent g. */
cudaError_t launchSoftmaxBackward(int dtype, bool log, void* out, const void* y, const void* g, int64_t outer, int64_t length,
                                  int64_t inner, cudaStream_t stream);
/** Layer norm of `rows` rows of `width`; weight and bias are [width] or null. */
cudaError_t launchLayerNorm(int dtype, void* out, const void* x, const void* weight, const void* bias, int64_t rows, int64_t width,
                            double eps, cudaStream_t stream);
size_t layerNormBackwardScratchBytes(int dtype, int64_t rows, int64_t width);
/** dWeight and dBias may be null (not wanted); `scratch` holds layerNormBackwardScratchBytes bytes. */
cudaError_t launchLayerNormBackward(int dtype, void* dx, void* dWeight, void* dBias, const void* x, const void* weight, const void* g,
                                    int64_t rows, int64_t width, double eps, void* scratch, cudaStream_t stream);
/** Batch norm of x [batch, channels, spatial] with the batch's statistics, written to mean and variance [channels]. */
cudaError_t launchBatchNorm(int dtype, void* out, void* mean, void* variance, const void* x, const void* weight, const void* bias,
                            int64_t batch, int64_t channels, int64_t spatial, double eps, cudaStream_t stream);
cudaError_t launchBatchNormInference(int dtype, void* out, const void* x, const void* mean, const void* variance, const void* weight,
                                     const void* bias, int64_t batch, int64_t channels, int64_t spatial, double eps,
                                     cudaStream_t stream);
cudaError_t launchBatchNormBackward(int dtype, void* dx, void* dWeight, void* dBias, const void* x, const void* mean,
                                    const void* variance, const void* weight, const void* g, int64_t batch, int64_t channels,
                                    int64_t spatial, double eps, cudaStream_t stream);
/** data[i] *= factor for `count` contiguous float32 or float64 elements. */
cudaError_t launchScale(int dtype, void* data, int64_t count, double factor, cudaStream_t stream);
/**
 * Max pooling's backward pass: dx (contiguous, `inputs` elements of x's shape) from g (the
 * window's contiguous output shape) and x (any strides, `window.offset` included); `winners`
 * holds window.total int64 values of scratch.
 */
cudaError_t launchWindowMaxBackward(int dtype, void* dx, const void* x, const void* g, const Window& window, int64_t inputs,
                                    void* winners, cudaStream_t stream);

/**
 * Gather along an axis of x viewed as [outer, axisLength, inner]: out[o, j, i] = x[o, indices[j],
 * i] for j < count. Indices outside [0, axisLength) write 0 instead of reading out of bounds.
 */
cudaError_t launchGather(int dtype, void* out, const Matrix& x, const int32_t* indices, int64_t indexOffset,
                         int64_t indexStride, int64_t outer, int64_t axisLength, int64_t inner, int64_t count,
                         cudaStream_t stream);
/** Adds updates [outer, count, inner] into out [outer, axisLength, inner] (contiguous) at the indices. */
cudaError_t launchScatterAdd(int dtype, void* out, const Matrix& updates, const int32_t* indices, int64_t indexOffset,
                             int64_t indexStride, int64_t outer, int64_t axisLength, int64_t inner, int64_t count,
                             cudaStream_t stream);
/** Threefry-2x32-20 words of key (key[keyOffset], key[keyOffset + keyStride]), as random.ts lays them out. */
cudaError_t launchRandomBits(int32_t* out, int64_t count, const int32_t* key, int64_t keyOffset, int64_t keyStride,
                             cudaStream_t stream);
cudaError_t launchRandomUniform(int dtype, void* out, int64_t count, const int32_t* key, int64_t keyOffset,
                                int64_t keyStride, cudaStream_t stream);

}  // namespace flint_cuda
