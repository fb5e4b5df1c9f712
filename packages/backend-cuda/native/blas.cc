// Batched matmul through cuBLASLt (loaded at run time; see libraries.h).
//
// cuBLASLt is column-major. A row-major [m, n] product C = A B is the column-major [n, m]
// product C^T = B^T A^T, and a row-major matrix is its transpose read column-major, so the call
// passes B as Lt's first operand and A as its second, each marked transposed or not by which of
// its strides is 1. TF32 is off unless configured (PyTorch's default for matmuls since 1.12):
// float32 products then match a float32 reference to float32 rounding.
#include <memory>

#include "libraries.h"
#include "vendor.h"

namespace flint_cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

struct LtContext {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  bool failed = false;
  std::string failure;
};

LtContext& context() {
  static LtContext instance;
  return instance;
}

/** The largest power of two (at most 256) that divides the address: Lt must not assume more. */
uint32_t alignmentOf(const void* pointer) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

/** How Lt sees a row-major view with strides (rowStride, columnStride) of a rows x columns matrix. */
struct LtOperand {
  bool transposed;
  uint64_t rows;     // of the column-major matrix Lt reads
  uint64_t columns;
  int64_t ld;
};

bool ltOperand(int64_t rows, int64_t columns, int64_t rowStride, int64_t columnStride, LtOperand& result) {
  // Read column-major, a row-major [rows, columns] matrix is [columns, rows] with ld = rowStride.
  if (columnStride == 1 || columns == 1) {
    const int64_t ld = rows == 1 ? (columns > 0 ? columns : 1) : rowStride;
    if (ld < columns || ld < 1) return false;
    result = {false, static_cast<uint64_t>(columns), static_cast<uint64_t>(rows), ld};
    return true;
  }
  if (rowStride == 1 || rows == 1) {
    const int64_t ld = columns == 1 ? (rows > 0 ? rows : 1) : columnStride;
    if (ld < rows || ld < 1) return false;
    result = {true, static_cast<uint64_t>(rows), static_cast<uint64_t>(columns), ld};
    return true;
  }
  return false;
}

struct Descriptors {
  const CublasLt* api;
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  ~Descriptors() {
    if (preference) api->MatmulPreferenceDestroy(preference);
    if (c) api->MatrixLayoutDestroy(c);
    if (b) api->MatrixLayoutDestroy(b);
    if (a) api->MatrixLayoutDestroy(a);
    if (operation) api->MatmulDescDestroy(operation);
  }
};

bool layout(const CublasLt* api, cublasLtMatrixLayout_t& result, cudaDataType_t type, uint64_t rows, uint64_t columns, int64_t ld,
            int32_t batch, int64_t batchStride) {
  if (api->MatrixLayoutCreate(&result, type, rows, columns, ld) != kCublasSuccess) return false;
  if (batch > 1) {
    if (api->MatrixLayoutSetAttribute(result, kLtLayoutBatchCount, &batch, sizeof(batch)) != kCublasSuccess) return false;
    if (api->MatrixLayoutSetAttribute(result, kLtLayoutStridedBatchOffset, &batchStride, sizeof(batchStride)) != kCublasSuccess) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool matmulCublasLt(int dtype, void* out, const View& a, const View& b, int64_t batch, int64_t m, int64_t n, int64_t k,
                    cudaStream_t stream, std::string& why, const void* bias) {
  if (dtype != kFloat32 && dtype != kFloat64 && dtype != kFloat16 && dtype != kBFloat16) {
    why = std::string("cuBLASLt is not used for ") + dtypeName(dtype);
    return false;
  }
  if (batch == 0 || m == 0 || n == 0 || k == 0) {
    why = "empty product";
    return false;
  }
  if (batch > INT32_MAX) {
    why = "batch too large";
    return false;
  }
  const CublasLt* api = cublasLt();
  if (api == nullptr) {
    why = "cuBLASLt " + cublasLtStatus().reason;
    return false;
  }
  LtContext& lt = context();
  if (lt.failed) {
    why = lt.failure;
    return false;
  }
  if (lt.handle == nullptr) {
    if (api->Create(&lt.handle) != kCublasSuccess) {
      lt.failed = true;
      lt.failure = "cublasLtCreate failed";
      return vendorFailure(why, lt.failure);
    }
    // The workspace lives as long as the process, outside the allocator's statistics.
    if (cudaMalloc(&lt.workspace, kWorkspaceBytes) != cudaSuccess) {
      cudaGetLastError();
      lt.workspace = nullptr;
    }
  }
  // Lt's first operand is our B ([k, n] row-major), its second our A ([m, k]).
  LtOperand first{};
  LtOperand second{};
  if (!ltOperand(k, n, b.strides[1], b.strides[2], first) || !ltOperand(m, k, a.strides[1], a.strides[2], second)) {
    why = "an operand has no unit stride in its matrix dims";
    return false;
  }
  const int itemSize = itemSizeOf(dtype);
  const char* aPointer = a.base + a.offset * itemSize;
  const char* bPointer = b.base + b.offset * itemSize;
  // float16 and bfloat16 run on the tensor cores with float32 accumulation and float scalars;
  // float32 uses TF32 tensor cores only when configured (off by default, as PyTorch).
  const bool half = dtype == kFloat16 || dtype == kBFloat16;
  const cudaDataType_t type = dtype == kFloat64   ? CUDA_R_64F
                              : dtype == kFloat16 ? CUDA_R_16F
                              : dtype == kBFloat16 ? CUDA_R_16BF
                                                   : CUDA_R_32F;
  const cublasComputeType_t compute =
      dtype == kFloat64 ? kCublasCompute64F : (state().allowTf32 && !half ? kCublasCompute32FFastTf32 : kCublasCompute32F);
  const cudaDataType_t scaleType = dtype == kFloat64 ? CUDA_R_64F : CUDA_R_32F;
  Descriptors d{api};
  const int32_t batchCount = static_cast<int32_t>(batch);
  if (api->MatmulDescCreate(&d.operation, compute, scaleType) != kCublasSuccess) return vendorFailure(why, "cublasLtMatmulDescCreate failed");
  const int32_t transA = first.transposed ? kCublasOpT : kCublasOpN;
  const int32_t transB = second.transposed ? kCublasOpT : kCublasOpN;
  if (api->MatmulDescSetAttribute(d.operation, kLtDescTransA, &transA, sizeof(transA)) != kCublasSuccess ||
      api->MatmulDescSetAttribute(d.operation, kLtDescTransB, &transB, sizeof(transB)) != kCublasSuccess) {
    return vendorFailure(why, "cublasLtMatmulDescSetAttribute refused the transposes");
  }
  // Column-major, the product is [n, m]: a bias over its n rows is one value per output column
  // of ours, added to every row, as a row bias (x W + b) is. Its type defaults to D's.
  if (bias != nullptr &&
      (api->MatmulDescSetAttribute(d.operation, kLtDescEpilogue, &kLtEpilogueBias, sizeof(kLtEpilogueBias)) != kCublasSuccess ||
       api->MatmulDescSetAttribute(d.operation, kLtDescBiasPointer, &bias, sizeof(bias)) != kCublasSuccess)) {
    return vendorFailure(why, "cublasLtMatmulDescSetAttribute refused the bias epilogue");
  }
  if (!layout(api, d.a, type, first.rows, first.columns, first.ld, batchCount, b.strides[0]) ||
      !layout(api, d.b, type, second.rows, second.columns, second.ld, batchCount, a.strides[0]) ||
      !layout(api, d.c, type, static_cast<uint64_t>(n), static_cast<uint64_t>(m), n, batchCount, m * n)) {
    return vendorFailure(why, "cublasLtMatrixLayoutCreate failed");
  }
  if (api->MatmulPreferenceCreate(&d.preference) != kCublasSuccess) return vendorFailure(why, "cublasLtMatmulPreferenceCreate failed");
  const uint64_t workspaceBytes = lt.workspace != nullptr ? kWorkspaceBytes : 0;
  const uint32_t alignA = alignmentOf(bPointer);
  const uint32_t alignB = alignmentOf(aPointer);
  const uint32_t alignC = alignmentOf(out);
  // Unset, the alignments default to 256 bytes: an algorithm chosen then could fault on a view at an offset.
  if (api->MatmulPreferenceSetAttribute(d.preference, kLtPrefMaxWorkspaceBytes, &workspaceBytes, sizeof(workspaceBytes)) != kCublasSuccess ||
      api->MatmulPreferenceSetAttribute(d.preference, kLtPrefMinAlignmentA, &alignA, sizeof(alignA)) != kCublasSuccess ||
      api->MatmulPreferenceSetAttribute(d.preference, kLtPrefMinAlignmentB, &alignB, sizeof(alignB)) != kCublasSuccess ||
      api->MatmulPreferenceSetAttribute(d.preference, kLtPrefMinAlignmentC, &alignC, sizeof(alignC)) != kCublasSuccess ||
      api->MatmulPreferenceSetAttribute(d.preference, kLtPrefMinAlignmentD, &alignC, sizeof(alignC)) != kCublasSuccess) {
    return vendorFailure(why, "cublasLtMatmulPreferenceSetAttribute refused the workspace or an alignment");
  }
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  const cublasStatus_t searched =
      api->MatmulAlgoGetHeuristic(lt.handle, d.operation, d.a, d.b, d.c, d.c, d.preference, 1, &heuristic, &found);
  // No algorithm (NOT_SUPPORTED, or none returned) is cuBLASLt declining this problem, as it may
  // for some alignments and sizes; any other status means it refused the call as made.
  if (searched == kCublasNotSupported || (searched == kCublasSuccess && found == 0)) {
    why = "cuBLASLt has no algorithm for this problem";
    return false;
  }
  if (searched != kCublasSuccess) return vendorFailure(why, "cublasLtMatmulAlgoGetHeuristic returned status " + std::to_string(searched));
  const float oneF = 1.0f;
  const float zeroF = 0.0f;
  const double oneD = 1.0;
  const double zeroD = 0.0;
  const void* alpha = dtype == kFloat64 ? static_cast<const void*>(&oneD) : static_cast<const void*>(&oneF);
  const void* beta = dtype == kFloat64 ? static_cast<const void*>(&zeroD) : static_cast<const void*>(&zeroF);
  const cublasStatus_t status = api->Matmul(lt.handle, d.operation, alpha, bPointer, d.a, aPointer, d.b, beta, out, d.c, out, d.c,
                                            &heuristic.algo, lt.workspace, workspaceBytes, stream);
  if (status != kCublasSuccess) return vendorFailure(why, "cublasLtMatmul returned status " + std::to_string(status));
  return true;
}

}  // namespace flint_cuda
