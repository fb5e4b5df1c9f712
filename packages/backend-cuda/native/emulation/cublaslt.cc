// libcublasLt.so.13 for the CPU emulation: the cuBLASLt entry points the addon opens
// (native/libraries.h), written from NVIDIA's documentation of the cuBLASLt API (the cuBLAS
// guide's cuBLASLt chapter and cublasLt.h of CUDA 12/13), not from the addon's use of them. The
// addon's matrix products (native/blas.cc) then run through their cuBLASLt path in tests on
// machines without a GPU, and the point of this library is to be an independent, strict reading
// of the documented contract: a wrong layout, leading dimension, transpose, batch stride, type
// combination, attribute size, alignment promise or workspace fails here with one line on stderr
//   [flint-cuda emulation] <function>: <what is wrong, with the numbers>
// and a cuBLAS status, instead of first showing up on a rare GPU run.
//
// What it emulates: D = epilogue(alpha * op(A) * op(B) + beta * C [+ bias]) for real data in
// column- or row-major order with strided batches, for the documented combinations of
// COMPUTE_32F (32F in and out, or 16F / 16BF in with outputs of the same type or 32F),
// COMPUTE_32F_FAST_TF32 (32F, inputs rounded to TF32) and COMPUTE_64F; alpha and beta on the host;
// the DEFAULT, RELU, BIAS, RELU_BIAS, GELU and GELU_BIAS epilogues. Everything else cuBLASLt has
// (other compute types, device pointer modes, FP8 scaling, aux outputs, gradients, IMMA orders,
// pointer arrays) is refused with CUBLAS_STATUS_NOT_SUPPORTED rather than guessed at, and so are
// empty matrices, whose handling cuBLASLt does not document.
//
// Where the documentation leaves a choice, this library takes the stricter one, so that code that
// passes here also keeps to what a GPU may assume: an algorithm from the heuristic remembers the
// problem and the pointer alignment the preference promised, and cublasLtMatmul refuses a pointer
// that breaks the promise or a problem the algorithm was not chosen for; the heuristic asks for
// workspace whenever the preference allows some, and cublasLtMatmul scribbles over it, so a
// workspace that is too small, misaligned, not device memory or shared with live data shows; an
// operand that reaches outside its live allocation (flint_emu::vendor::deviceRange) fails as a
// GPU fault would, with CUBLAS_STATUS_EXECUTION_FAILED; an output that overlaps an input, or whose
// own elements overlap, is refused (a data race on a GPU). The product runs on the calling thread
// when called: the emulated streams finish work as it is queued.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "vendor_emulation.h"

FLINT_EMULATED_LIBRARY_ATTACH

namespace {

// ---- Constants of cublas_api.h, cublasLt.h and library_types.h (CUDA 13) ----

constexpr int kSuccess = 0;
constexpr int kNotInitialized = 1;
constexpr int kAllocFailed = 3;
constexpr int kInvalidValue = 7;
constexpr int kExecutionFailed = 13;
constexpr int kNotSupported = 15;

constexpr int kR32F = 0;
constexpr int kR64F = 1;
constexpr int kR16F = 2;
constexpr int kR16BF = 14;

constexpr int kCompute32F = 68;
constexpr int kCompute32FPedantic = 69;
constexpr int kCompute32FFastTf32 = 77;
constexpr int kCompute64F = 70;
constexpr int kCompute64FPedantic = 71;

constexpr int kOpN = 0;
constexpr int kOpT = 1;
constexpr int kOpC = 2;  // the conjugate transpose: a plain transpose for real data
constexpr int kOpConjg = 3;

constexpr int kOrderCol = 0;
constexpr int kOrderRow = 1;

// cublasLtEpilogue_t: the emulated ones, and the other documented ones (refused as unsupported).
constexpr uint32_t kEpilogueDefault = 1;
constexpr uint32_t kEpilogueRelu = 2;
constexpr uint32_t kEpilogueBias = 4;
constexpr uint32_t kEpilogueGelu = 32;
constexpr uint32_t kOtherEpilogues[] = {2 | 128, 2 | 128 | 4, 8 | 128, 8 | 128 | 16, 32 | 128, 32 | 128 | 4, 64 | 128, 64 | 128 | 16, 256, 512};

// Attribute numbers the code reads by name (the full tables are below).
constexpr int kDescComputeType = 0;
constexpr int kDescScaleType = 1;
constexpr int kDescPointerMode = 2;
constexpr int kDescTransA = 3;
constexpr int kDescTransB = 4;
constexpr int kDescEpilogue = 7;
constexpr int kDescBiasPointer = 8;
constexpr int kDescBiasBatchStride = 10;
constexpr int kDescBiasDataType = 26;
constexpr int kLayoutType = 0;
constexpr int kLayoutOrder = 1;
constexpr int kLayoutRows = 2;
constexpr int kLayoutCols = 3;
constexpr int kLayoutLd = 4;
constexpr int kLayoutBatchCount = 5;
constexpr int kLayoutBatchStride = 6;
constexpr int kPrefMaxWorkspace = 1;
constexpr int kPrefAlignmentA = 5;  // A, B, C, D: 5..8

// ---- Reporting ----

template <class... Parts>
std::string text(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/** Prints the one line each failure gets and returns its status. */
int fail(int status, const char* function, const std::string& what) {
  std::fprintf(stderr, "[flint-cuda emulation] %s: %s\n", function, what.c_str());
  return status;
}

const char* typeName(int type) {
  switch (type) {
    case kR32F: return "CUDA_R_32F";
    case kR64F: return "CUDA_R_64F";
    case kR16F: return "CUDA_R_16F";
    case kR16BF: return "CUDA_R_16BF";
    default: return "an unemulated cudaDataType";
  }
}

/** Element bytes of an emulated type, 0 for any other. */
size_t elementBytes(int type) {
  switch (type) {
    case kR32F: return 4;
    case kR64F: return 8;
    case kR16F:
    case kR16BF: return 2;
    default: return 0;
  }
}

// ---- Attribute tables ----
// Each attribute is stored as up to 8 raw bytes, so that set and get check sizes the same way for
// every descriptor. `use` says what the emulation does with a value: Emulated ones are honoured;
// Ignored ones cannot change the result of what is emulated (a heuristic hint, a setting of an
// unemulated epilogue); DefaultOnly ones change the operation in ways not emulated, so any value
// but the default is refused at use (NOT_SUPPORTED), as a setting the library cannot honour.

enum class Use { Emulated, Ignored, DefaultOnly };

struct Attribute {
  int id;
  const char* name;
  size_t size;
  uint64_t defaultBits;
  Use use;
};

constexpr uint64_t kMinusOne32 = 0xffffffffu;  // int32_t -1 as its four bytes

const Attribute kDescAttributes[] = {
    {0, "CUBLASLT_MATMUL_DESC_COMPUTE_TYPE", 4, 0, Use::Emulated},
    {1, "CUBLASLT_MATMUL_DESC_SCALE_TYPE", 4, 0, Use::Emulated},
    {2, "CUBLASLT_MATMUL_DESC_POINTER_MODE", 4, 0, Use::DefaultOnly},
    {3, "CUBLASLT_MATMUL_DESC_TRANSA", 4, kOpN, Use::Emulated},
    {4, "CUBLASLT_MATMUL_DESC_TRANSB", 4, kOpN, Use::Emulated},
    {5, "CUBLASLT_MATMUL_DESC_TRANSC", 4, kOpN, Use::DefaultOnly},
    {6, "CUBLASLT_MATMUL_DESC_FILL_MODE", 4, 2, Use::DefaultOnly},  // CUBLAS_FILL_MODE_FULL
    {7, "CUBLASLT_MATMUL_DESC_EPILOGUE", 4, kEpilogueDefault, Use::Emulated},
    {8, "CUBLASLT_MATMUL_DESC_BIAS_POINTER", 8, 0, Use::Emulated},
    {10, "CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE", 8, 0, Use::Emulated},
    {11, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER", 8, 0, Use::Ignored},
    {12, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD", 8, 0, Use::Ignored},
    {13, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE", 8, 0, Use::Ignored},
    {14, "CUBLASLT_MATMUL_DESC_ALPHA_VECTOR_BATCH_STRIDE", 8, 0, Use::Ignored},
    {15, "CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET", 4, 0, Use::Ignored},
    {17, "CUBLASLT_MATMUL_DESC_A_SCALE_POINTER", 8, 0, Use::DefaultOnly},
    {18, "CUBLASLT_MATMUL_DESC_B_SCALE_POINTER", 8, 0, Use::DefaultOnly},
    {19, "CUBLASLT_MATMUL_DESC_C_SCALE_POINTER", 8, 0, Use::DefaultOnly},
    {20, "CUBLASLT_MATMUL_DESC_D_SCALE_POINTER", 8, 0, Use::DefaultOnly},
    {21, "CUBLASLT_MATMUL_DESC_AMAX_D_POINTER", 8, 0, Use::DefaultOnly},
    {22, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_DATA_TYPE", 4, kMinusOne32, Use::Ignored},
    {23, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_SCALE_POINTER", 8, 0, Use::Ignored},
    {24, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_AMAX_POINTER", 8, 0, Use::Ignored},
    {25, "CUBLASLT_MATMUL_DESC_FAST_ACCUM", 1, 0, Use::Ignored},  // FP8 only
    {26, "CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE", 4, kMinusOne32, Use::Emulated},
    {27, "CUBLASLT_MATMUL_DESC_ATOMIC_SYNC_NUM_CHUNKS_D_ROWS", 4, 0, Use::DefaultOnly},
    {28, "CUBLASLT_MATMUL_DESC_ATOMIC_SYNC_NUM_CHUNKS_D_COLS", 4, 0, Use::DefaultOnly},
    {29, "CUBLASLT_MATMUL_DESC_ATOMIC_SYNC_IN_COUNTERS_POINTER", 8, 0, Use::DefaultOnly},
    {30, "CUBLASLT_MATMUL_DESC_ATOMIC_SYNC_OUT_COUNTERS_POINTER", 8, 0, Use::DefaultOnly},
    {31, "CUBLASLT_MATMUL_DESC_A_SCALE_MODE", 4, 0, Use::DefaultOnly},
    {32, "CUBLASLT_MATMUL_DESC_B_SCALE_MODE", 4, 0, Use::DefaultOnly},
    {33, "CUBLASLT_MATMUL_DESC_C_SCALE_MODE", 4, 0, Use::DefaultOnly},
    {34, "CUBLASLT_MATMUL_DESC_D_SCALE_MODE", 4, 0, Use::DefaultOnly},
    {35, "CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_SCALE_MODE", 4, 0, Use::DefaultOnly},
    {36, "CUBLASLT_MATMUL_DESC_D_OUT_SCALE_POINTER", 8, 0, Use::DefaultOnly},
    {37, "CUBLASLT_MATMUL_DESC_D_OUT_SCALE_MODE", 4, 0, Use::DefaultOnly},
};

const Attribute kLayoutAttributes[] = {
    {0, "CUBLASLT_MATRIX_LAYOUT_TYPE", 4, 0, Use::Emulated},
    {1, "CUBLASLT_MATRIX_LAYOUT_ORDER", 4, kOrderCol, Use::Emulated},
    {2, "CUBLASLT_MATRIX_LAYOUT_ROWS", 8, 0, Use::Emulated},
    {3, "CUBLASLT_MATRIX_LAYOUT_COLS", 8, 0, Use::Emulated},
    {4, "CUBLASLT_MATRIX_LAYOUT_LD", 8, 0, Use::Emulated},
    {5, "CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT", 4, 1, Use::Emulated},
    {6, "CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET", 8, 0, Use::Emulated},
    {7, "CUBLASLT_MATRIX_LAYOUT_PLANE_OFFSET", 8, 0, Use::DefaultOnly},
    {8, "CUBLASLT_MATRIX_LAYOUT_BATCH_MODE", 4, 0, Use::DefaultOnly},  // CUBLASLT_BATCH_MODE_STRIDED
};

const Attribute kPreferenceAttributes[] = {
    {0, "CUBLASLT_MATMUL_PREF_SEARCH_MODE", 4, 0, Use::DefaultOnly},  // CUBLASLT_SEARCH_BEST_FIT
    {1, "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES", 8, 0, Use::Emulated},
    {3, "CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK", 4, 7, Use::Ignored},  // no split-K here
    {5, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES", 4, 256, Use::Emulated},
    {6, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES", 4, 256, Use::Emulated},
    {7, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES", 4, 256, Use::Emulated},
    {8, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES", 4, 256, Use::Emulated},
    {9, "CUBLASLT_MATMUL_PREF_MAX_WAVES_COUNT", 4, 0, Use::Ignored},
    {12, "CUBLASLT_MATMUL_PREF_IMPL_MASK", 8, ~uint64_t{0}, Use::Ignored},
};

struct AttributeTable {
  const Attribute* begin;
  const Attribute* end;
  const char* what;  // names the descriptor in messages
};

template <size_t N>
constexpr AttributeTable tableOf(const Attribute (&attributes)[N], const char* what) {
  return {attributes, attributes + N, what};
}

const AttributeTable kDescTable = tableOf(kDescAttributes, "matmul descriptor");
const AttributeTable kLayoutTable = tableOf(kLayoutAttributes, "matrix layout");
const AttributeTable kPreferenceTable = tableOf(kPreferenceAttributes, "matmul preference");

const Attribute* findAttribute(const AttributeTable& table, int id) {
  for (const Attribute* a = table.begin; a != table.end; ++a)
    if (a->id == id) return a;
  return nullptr;
}

// ---- Handles and descriptors ----
// One object type for all four kinds; the magic names the kind. Live objects are kept in a set,
// so that a destroyed or made-up pointer is refused without reading freed memory, and every call
// works on a copy taken under the lock (the addon may call from more than one thread).

constexpr uint32_t kHandleMagic = 0x4c744831;      // "LtH1"
constexpr uint32_t kDescMagic = 0x4c744431;        // "LtD1"
constexpr uint32_t kLayoutMagic = 0x4c744c31;      // "LtL1"
constexpr uint32_t kPreferenceMagic = 0x4c745031;  // "LtP1"
constexpr int kSlots = 40;                         // attribute numbers run below this

struct Object {
  uint32_t magic = 0;
  uint64_t values[kSlots] = {};

  template <class T>
  T get(int id) const {
    T value;
    std::memcpy(&value, &values[id], sizeof(T));  // the attribute's bytes, as they were set
    return value;
  }
};

std::mutex registryMutex;
std::set<const Object*> liveObjects;

const char* kindName(uint32_t magic) {
  switch (magic) {
    case kHandleMagic: return "cuBLASLt handle";
    case kDescMagic: return "matmul descriptor";
    case kLayoutMagic: return "matrix layout";
    default: return "matmul preference";
  }
}

/** A new live object of a kind with its table's defaults, or null when memory ran out. */
Object* createObject(uint32_t magic, const AttributeTable* table) {
  auto* object = new (std::nothrow) Object();
  if (object == nullptr) return nullptr;
  object->magic = magic;
  if (table != nullptr)
    for (const Attribute* a = table->begin; a != table->end; ++a) object->values[a->id] = a->defaultBits;
  std::lock_guard<std::mutex> lock(registryMutex);
  liveObjects.insert(object);
  return object;
}

/** Copies a live object of the kind into `copy`; false for null, destroyed or foreign pointers. */
bool snapshot(const void* pointer, uint32_t magic, Object& copy) {
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = liveObjects.find(static_cast<const Object*>(pointer));
  if (it == liveObjects.end() || (*it)->magic != magic) return false;
  copy = **it;
  return true;
}

int destroyObject(const char* function, void* pointer, uint32_t magic, int statusWhenUnknown) {
  if (pointer == nullptr) return fail(kInvalidValue, function, text("the ", kindName(magic), " is null"));
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = liveObjects.find(static_cast<const Object*>(pointer));
  if (it == liveObjects.end() || (*it)->magic != magic)
    return fail(statusWhenUnknown, function, text(pointer, " is not a live ", kindName(magic), " (destroyed twice, or never created)"));
  liveObjects.erase(it);
  auto* object = static_cast<Object*>(pointer);
  object->magic = 0;
  delete object;
  return kSuccess;
}

int setAttribute(const char* function, void* pointer, uint32_t magic, const AttributeTable& table, int id, const void* buffer, size_t bytes) {
  const Attribute* attribute = findAttribute(table, id);
  if (attribute == nullptr) return fail(kInvalidValue, function, text("no ", table.what, " attribute ", id));
  if (buffer == nullptr) return fail(kInvalidValue, function, text(attribute->name, ": the value's buffer is null"));
  if (bytes != attribute->size)
    return fail(kInvalidValue, function, text(attribute->name, " takes ", attribute->size, " bytes, not ", bytes));
  uint64_t bits = 0;
  std::memcpy(&bits, buffer, bytes);
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = liveObjects.find(static_cast<const Object*>(pointer));
  if (it == liveObjects.end() || (*it)->magic != magic)
    return fail(kInvalidValue, function, text(pointer, " is not a live ", kindName(magic)));
  static_cast<Object*>(pointer)->values[id] = bits;
  return kSuccess;
}

int getAttribute(const char* function, const void* pointer, uint32_t magic, const AttributeTable& table, int id, void* buffer, size_t bytes,
                 size_t* written) {
  const Attribute* attribute = findAttribute(table, id);
  if (attribute == nullptr) return fail(kInvalidValue, function, text("no ", table.what, " attribute ", id));
  Object copy;
  if (!snapshot(pointer, magic, copy)) return fail(kInvalidValue, function, text(pointer, " is not a live ", kindName(magic)));
  if (bytes == 0) {  // a query of the size the attribute needs
    if (written == nullptr) return fail(kInvalidValue, function, text(attribute->name, ": sizeInBytes is 0 and sizeWritten is null"));
    *written = attribute->size;
    return kSuccess;
  }
  if (buffer == nullptr) return fail(kInvalidValue, function, text(attribute->name, ": the buffer is null"));
  if (bytes != attribute->size)
    return fail(kInvalidValue, function, text(attribute->name, " takes ", attribute->size, " bytes, not ", bytes));
  std::memcpy(buffer, &copy.values[id], bytes);
  if (written != nullptr) *written = bytes;
  return kSuccess;
}

/** NOT_SUPPORTED for a DefaultOnly attribute set to something else than its default. */
int checkDefaultOnly(const char* function, const Object& object, const AttributeTable& table, const std::string& owner) {
  for (const Attribute* a = table.begin; a != table.end; ++a) {
    if (a->use != Use::DefaultOnly || object.values[a->id] == a->defaultBits) continue;
    return fail(kNotSupported, function, text(owner, a->name, " is set (raw value ", object.values[a->id], "); the emulation supports only its default"));
  }
  return kSuccess;
}

// ---- The problem a matmul descriptor and four layouts describe ----

struct Matrix {
  char name;
  int type = 0;
  size_t bytes = 0;  // per element
  int order = kOrderCol;
  int64_t rows = 0, cols = 0, ld = 0;
  int32_t batch = 1;
  int64_t stride = 0;

  bool operator==(const Matrix& o) const {
    return type == o.type && order == o.order && rows == o.rows && cols == o.cols && ld == o.ld && batch == o.batch && stride == o.stride;
  }
  /** Element offset of (row, col) of batch `b`. */
  int64_t offset(int64_t row, int64_t col, int64_t b) const {
    return b * stride + (order == kOrderCol ? row + col * ld : row * ld + col);
  }
};

struct Problem {
  int compute = 0, scale = 0;
  int transA = kOpN, transB = kOpN;  // C is folded into T
  bool relu = false, gelu = false, bias = false;
  uint32_t epilogue = kEpilogueDefault;
  int biasType = 0;
  uint64_t biasPointer = 0;
  int64_t biasStride = 0;
  Matrix a{'A'}, b{'B'}, c{'C'}, d{'D'};
  int64_t m = 0, n = 0, k = 0;
  int32_t batch = 1;
};

Matrix matrixOf(char name, const Object& layout) {
  Matrix x{name};
  x.type = static_cast<int>(layout.get<uint32_t>(kLayoutType));
  x.bytes = elementBytes(x.type);
  x.order = layout.get<int32_t>(kLayoutOrder);
  x.rows = static_cast<int64_t>(layout.get<uint64_t>(kLayoutRows));
  x.cols = static_cast<int64_t>(layout.get<uint64_t>(kLayoutCols));
  x.ld = layout.get<int64_t>(kLayoutLd);
  x.batch = layout.get<int32_t>(kLayoutBatchCount);
  x.stride = layout.get<int64_t>(kLayoutBatchStride);
  return x;
}

/**
 * The span of element offsets a matrix touches over all its batches: [low, high]. False when it
 * does not fit in 63 bits (a leading dimension or stride no real matrix has).
 */
bool span(const Matrix& x, int64_t& low, int64_t& high) {
  int64_t inner = 0, outer = 0, reach = 0, batches = 0;
  bool overflow = x.order == kOrderCol ? __builtin_mul_overflow(x.cols - 1, x.ld, &outer) || __builtin_add_overflow(outer, x.rows - 1, &inner)
                                       : __builtin_mul_overflow(x.rows - 1, x.ld, &outer) || __builtin_add_overflow(outer, x.cols - 1, &inner);
  overflow = overflow || __builtin_mul_overflow(int64_t{x.batch} - 1, x.stride, &batches);
  low = std::min<int64_t>(0, batches);
  overflow = overflow || __builtin_add_overflow(inner, std::max<int64_t>(0, batches), &reach);
  high = reach;
  int64_t byteSpan = 0;
  return !overflow && !__builtin_mul_overflow(high - low + 1, static_cast<int64_t>(x.bytes), &byteSpan);
}

/** Checks one layout on its own: type, order, sizes and the documented leading-dimension rule. */
int checkMatrix(const char* function, const Matrix& x, const Object& layout, bool mayBroadcast) {
  std::string who = text(x.name, "'s layout: ");
  if (x.bytes == 0) return fail(kNotSupported, function, text(who, "data type ", x.type, " is not one the emulation supports (32F, 64F, 16F, 16BF)"));
  if (x.order != kOrderCol && x.order != kOrderRow)
    return fail(x.order >= 2 && x.order <= 4 ? kNotSupported : kInvalidValue, function,
                text(who, "CUBLASLT_MATRIX_LAYOUT_ORDER ", x.order, " (only COL 0 and ROW 1 are emulated)"));
  if (int status = checkDefaultOnly(function, layout, kLayoutTable, who)) return status;
  uint64_t rows = static_cast<uint64_t>(x.rows), cols = static_cast<uint64_t>(x.cols);
  if (rows > INT32_MAX || cols > INT32_MAX)
    return fail(kNotSupported, function, text(who, rows, " x ", cols, ": cuBLASLt supports only sizes that fit int32_t"));
  if (rows == 0 || cols == 0)
    return fail(kNotSupported, function, text(who, rows, " x ", cols, ": empty matrices are not emulated (cuBLASLt does not document them)"));
  if (x.batch < 1) return fail(kInvalidValue, function, text(who, "CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT ", x.batch, " (must be at least 1)"));
  if (x.ld < 0) return fail(kInvalidValue, function, text(who, "ld ", x.ld, " is negative (only non-negative leading dimensions are supported)"));
  int64_t least = x.order == kOrderCol ? x.rows : x.cols;
  if (x.ld < least && !(mayBroadcast && x.ld == 0))
    return fail(kInvalidValue, function,
                text(who, "ld ", x.ld, " is less than its ", x.order == kOrderCol ? "rows " : "columns ", least, " (", x.rows, " x ", x.cols,
                     x.order == kOrderCol ? ", column-major): its columns" : ", row-major): its rows", " would overlap"));
  int64_t low = 0, high = 0;
  if (!span(x, low, high))
    return fail(kInvalidValue, function, text(who, x.rows, " x ", x.cols, " ld ", x.ld, " batch ", x.batch, " stride ", x.stride, " spans more than 2^63 bytes"));
  return kSuccess;
}

/** The documented type combinations (the "Datatypes Supported" table of cublasLtMatmul). */
int checkTypes(const char* function, const Problem& p) {
  std::string combination = text("compute type ", p.compute, ", scale type ", typeName(p.scale), ", A ", typeName(p.a.type), ", B ", typeName(p.b.type),
                                 ", C ", typeName(p.c.type), ", D ", typeName(p.d.type));
  if (p.a.type != p.b.type || p.c.type != p.d.type)
    return fail(kNotSupported, function, text(combination, ": A and B must share a type, and C and D"));
  int ab = p.a.type, cd = p.c.type;
  bool ok = false;
  switch (p.compute) {
    case kCompute32F:
    case kCompute32FPedantic:
      ok = p.scale == kR32F && ((ab == kR32F && cd == kR32F) || ((ab == kR16F || ab == kR16BF) && (cd == ab || cd == kR32F)));
      break;
    case kCompute32FFastTf32: ok = p.scale == kR32F && ab == kR32F && cd == kR32F; break;
    case kCompute64F:
    case kCompute64FPedantic: ok = p.scale == kR64F && ab == kR64F && cd == kR64F; break;
    default:
      return fail(kNotSupported, function, text(combination, ": only COMPUTE_32F (68, 69), COMPUTE_32F_FAST_TF32 (77) and COMPUTE_64F (70, 71) are emulated"));
  }
  if (!ok) return fail(kNotSupported, function, text(combination, ": not a combination cublasLtMatmul supports"));
  return kSuccess;
}

int checkEpilogue(const char* function, Problem& p, const Object& desc) {
  uint32_t e = p.epilogue;
  if (e == kEpilogueDefault) return kSuccess;
  if (e == kEpilogueRelu || e == kEpilogueGelu || e == kEpilogueBias || e == (kEpilogueRelu | kEpilogueBias) || e == (kEpilogueGelu | kEpilogueBias)) {
    p.relu = (e & kEpilogueRelu) != 0;
    p.gelu = (e & kEpilogueGelu) != 0;
    p.bias = (e & kEpilogueBias) != 0;
  } else if (std::find(std::begin(kOtherEpilogues), std::end(kOtherEpilogues), e) != std::end(kOtherEpilogues)) {
    return fail(kNotSupported, function, text("CUBLASLT_MATMUL_DESC_EPILOGUE ", e, " (aux outputs and gradients) is not emulated"));
  } else {
    return fail(kInvalidValue, function, text("CUBLASLT_MATMUL_DESC_EPILOGUE ", e, " is not a cublasLtEpilogue_t"));
  }
  // Footnote of the datatypes table: ReLU/GELU combined with bias are unsupported for a row-major D.
  if (p.bias && (p.relu || p.gelu) && p.d.order == kOrderRow)
    return fail(kNotSupported, function, text("epilogue ", e, " (an activation with bias) is not supported when D is row-major"));
  if (!p.bias) return kSuccess;
  // The bias vector has the type of C and D for every emulated row of the datatypes table.
  int32_t biasType = desc.get<int32_t>(kDescBiasDataType);
  p.biasType = biasType == -1 ? p.d.type : biasType;
  if (p.biasType != p.c.type)
    return fail(kNotSupported, function, text("CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE ", typeName(p.biasType), " (", biasType, ") with D of ", typeName(p.d.type),
                                              ": the bias must have the output's type"));
  p.biasPointer = desc.get<uint64_t>(kDescBiasPointer);
  p.biasStride = desc.get<int64_t>(kDescBiasBatchStride);
  return kSuccess;
}

int normalizeOp(const char* function, int op, const char* attribute, int& normalized) {
  if (op == kOpN || op == kOpT) {
    normalized = op;
  } else if (op == kOpC) {
    normalized = kOpT;  // real data: the conjugate transpose is the transpose
  } else {
    return fail(op == kOpConjg ? kNotSupported : kInvalidValue, function, text(attribute, " ", op, " is not CUBLAS_OP_N, _T or _C"));
  }
  return kSuccess;
}

/** Sorted runs of bytes an operand covers: a column (column-major) or row (row-major) each. */
struct Run {
  uint64_t begin, end;
};

std::vector<Run> runsOf(const Matrix& x, uint64_t base) {
  int64_t lines = x.order == kOrderCol ? x.cols : x.rows;
  int64_t length = x.order == kOrderCol ? x.rows : x.cols;
  std::vector<Run> runs;
  runs.reserve(static_cast<size_t>(lines) * static_cast<size_t>(x.batch));
  for (int64_t b = 0; b < x.batch; ++b)
    for (int64_t line = 0; line < lines; ++line) {
      uint64_t begin = base + static_cast<uint64_t>((b * x.stride + line * x.ld) * static_cast<int64_t>(x.bytes));
      runs.push_back({begin, begin + static_cast<uint64_t>(length) * x.bytes});
    }
  std::sort(runs.begin(), runs.end(), [](const Run& l, const Run& r) { return l.begin < r.begin; });
  return runs;
}

/** Whether any byte of one set of runs is also in the other (both sorted). */
bool intersect(const std::vector<Run>& first, const std::vector<Run>& second) {
  size_t i = 0;
  uint64_t reach = 0;  // the furthest end of the runs of `first` that begin before the current run of `second`
  for (const Run& r : second) {
    while (i < first.size() && first[i].begin < r.end) reach = std::max(reach, first[i++].end);
    if (reach > r.begin) return true;
  }
  return false;
}

/** Whether two runs of one list overlap (an output writing one element twice). */
bool selfOverlaps(const std::vector<Run>& runs) {
  uint64_t reach = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0 && runs[i].begin < reach) return true;
    reach = std::max(reach, runs[i].end);
  }
  return false;
}

/**
 * Checks the descriptor and the four layouts against each other, as cublasLtMatmulAlgoGetHeuristic
 * and cublasLtMatmul both do, and fills `p`. Inconsistent problems are INVALID_VALUE; documented
 * features the emulation does not have are NOT_SUPPORTED.
 */
int resolveProblem(const char* function, const Object& desc, const Object& aLayout, const Object& bLayout, const Object& cLayout, const Object& dLayout,
                   bool cIsD, Problem& p) {
  p.compute = desc.get<int32_t>(kDescComputeType);
  p.scale = desc.get<int32_t>(kDescScaleType);
  p.epilogue = desc.get<uint32_t>(kDescEpilogue);
  p.a = matrixOf('A', aLayout);
  p.b = matrixOf('B', bLayout);
  p.c = matrixOf('C', cLayout);
  p.d = matrixOf('D', dLayout);
  if (int status = checkDefaultOnly(function, desc, kDescTable, "")) return status;
  if (int status = normalizeOp(function, desc.get<int32_t>(kDescTransA), "CUBLASLT_MATMUL_DESC_TRANSA", p.transA)) return status;
  if (int status = normalizeOp(function, desc.get<int32_t>(kDescTransB), "CUBLASLT_MATMUL_DESC_TRANSB", p.transB)) return status;
  // The leading dimension of C may be 0 (row or column broadcast) when C is not also D.
  if (int status = checkMatrix(function, p.a, aLayout, false)) return status;
  if (int status = checkMatrix(function, p.b, bLayout, false)) return status;
  if (int status = checkMatrix(function, p.c, cLayout, !cIsD)) return status;
  if (int status = checkMatrix(function, p.d, dLayout, false)) return status;
  if (int status = checkTypes(function, p)) return status;

  p.m = p.d.rows;
  p.n = p.d.cols;
  int64_t am = p.transA == kOpN ? p.a.rows : p.a.cols;
  p.k = p.transA == kOpN ? p.a.cols : p.a.rows;
  int64_t bk = p.transB == kOpN ? p.b.rows : p.b.cols;
  int64_t bn = p.transB == kOpN ? p.b.cols : p.b.rows;
  std::string shapes = text(" (A ", p.a.rows, " x ", p.a.cols, p.transA == kOpN ? "" : " transposed", ", B ", p.b.rows, " x ", p.b.cols,
                            p.transB == kOpN ? "" : " transposed", ", C ", p.c.rows, " x ", p.c.cols, ", D ", p.d.rows, " x ", p.d.cols, ")");
  if (am != p.m) return fail(kInvalidValue, function, text("op(A) has ", am, " rows but D has ", p.m, shapes));
  if (bk != p.k) return fail(kInvalidValue, function, text("op(A) is ", am, " x ", p.k, " but op(B) has ", bk, " rows", shapes));
  if (bn != p.n) return fail(kInvalidValue, function, text("op(B) has ", bn, " columns but D has ", p.n, shapes));
  if (p.c.rows != p.m || p.c.cols != p.n) return fail(kInvalidValue, function, text("C must be shaped as D", shapes));
  if (p.c.order != p.d.order)
    return fail(kInvalidValue, function, text("C is ", p.c.order == kOrderCol ? "column" : "row", "-major but D is not: C and D must share their memory order"));
  p.batch = p.d.batch;
  for (const Matrix* x : {&p.a, &p.b, &p.c})
    if (x->batch != p.batch)
      return fail(kInvalidValue, function, text(x->name, " has batch count ", x->batch, " but D has ", p.batch, ": all four batch counts must match"));
  if (int status = checkEpilogue(function, p, desc)) return status;
  // Each element of D must be written once: its batches (and columns) may not overlap.
  int64_t low = 0, high = 0;
  span(p.d, low, high);
  if (p.batch > 1 && selfOverlaps(runsOf(p.d, static_cast<uint64_t>(-low) * p.d.bytes)))  // offsets from D's lowest element
    return fail(kInvalidValue, function, text("D's batches overlap: batch stride ", p.d.stride, " with ", p.d.rows, " x ", p.d.cols, " ld ", p.d.ld, " and ", p.batch,
                                              " batches writes some elements more than once"));
  return kSuccess;
}

// ---- Algorithms ----
// What cublasLtMatmulAlgoGetHeuristic returns: a record, laid over cublasLtMatmulAlgo_t's eight
// words, of the problem it was chosen for (a hash of types, transposes, orders, epilogue and the
// alignment of leading dimensions and strides, plus the sizes for messages), the pointer alignment
// the preference promised (the one thing about A..D the heuristic cannot see), the bias pointer's
// alignment when it was asked (documented as read for that purpose) and the workspace it needs.

constexpr uint64_t kAlgoMagic = 0x466c696e744c7431;  // "FlintLt1"

struct AlgoRecord {
  uint64_t magic;
  uint64_t signature;
  uint32_t m, n, k, batch;
  uint32_t align[4];  // promised bytes for A, B, C, D
  uint64_t workspace;
  uint32_t biasAlign;
  uint32_t check;  // a hash of the words above: garbage or a hand-made algo is refused
};
static_assert(sizeof(AlgoRecord) == 64, "the record fills cublasLtMatmulAlgo_t exactly");

struct AlgoWords {
  uint64_t data[8];
};

uint64_t fnv(uint64_t hash, uint64_t value) {
  for (int i = 0; i < 8; ++i) hash = (hash ^ ((value >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  return hash;
}

/** The largest power of two up to 16 dividing `bytes`: what vector loads of a kernel can assume. */
uint64_t alignmentClass(int64_t bytes) {
  uint64_t u = static_cast<uint64_t>(bytes < 0 ? -bytes : bytes);
  if (u == 0) return 16;
  return std::min<uint64_t>(16, u & (~u + 1));
}

uint64_t signatureOf(const Problem& p) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int64_t v : {int64_t{p.compute}, int64_t{p.scale}, int64_t{p.transA}, int64_t{p.transB}, int64_t{p.epilogue}, int64_t{p.biasType}, p.m, p.n, p.k,
                    int64_t{p.batch}, int64_t{p.c.ld == 0}})
    h = fnv(h, static_cast<uint64_t>(v));
  for (const Matrix* x : {&p.a, &p.b, &p.c, &p.d}) {
    h = fnv(h, static_cast<uint64_t>(x->type));
    h = fnv(h, static_cast<uint64_t>(x->order));
    h = fnv(h, alignmentClass(x->ld * static_cast<int64_t>(x->bytes)));
    h = fnv(h, p.batch > 1 ? alignmentClass(x->stride * static_cast<int64_t>(x->bytes)) : 16);
  }
  return h;
}

uint32_t checkOf(const AlgoRecord& r) {
  AlgoWords words;
  std::memcpy(&words, &r, sizeof words);
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < 7; ++i) h = fnv(h, words.data[i]);
  h = fnv(h, r.biasAlign);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

/** The alignment of a pointer value, counted up to 256 bytes (null counts as 256). */
uint32_t alignmentOf(uint64_t address) {
  if (address == 0) return 256;
  return static_cast<uint32_t>(std::min<uint64_t>(256, address & (~address + 1)));
}

AlgoRecord makeAlgo(const Problem& p, const uint32_t align[4], uint64_t workspace) {
  AlgoRecord r{};
  r.magic = kAlgoMagic;
  r.signature = signatureOf(p);
  r.m = static_cast<uint32_t>(p.m);
  r.n = static_cast<uint32_t>(p.n);
  r.k = static_cast<uint32_t>(p.k);
  r.batch = static_cast<uint32_t>(p.batch);
  for (int i = 0; i < 4; ++i) r.align[i] = align[i];
  r.workspace = workspace;
  // A kernel's vector loads of the bias assume at most 16 bytes: more would only refuse harmless calls.
  r.biasAlign = std::min<uint32_t>(16, alignmentOf(p.biasPointer));
  r.check = checkOf(r);
  return r;
}

/**
 * The workspace the emulated algorithm asks for: nonzero whenever the preference allows some (so
 * that the caller's workspace is exercised), at most the preference's maximum and 1 MiB.
 */
uint64_t workspaceNeed(uint64_t maximum) { return std::min<uint64_t>(maximum, uint64_t{1} << 20); }

// ---- Arithmetic ----

float loadFloat(int type, const unsigned char* p) {
  float f;
  switch (type) {
    case kR16F: {
      __half h;
      std::memcpy(&h, p, sizeof h);
      return __half2float(h);
    }
    case kR16BF: {
      __nv_bfloat16 h;
      std::memcpy(&h, p, sizeof h);
      return __bfloat162float(h);
    }
    default: std::memcpy(&f, p, sizeof f); return f;
  }
}

void storeFloat(int type, unsigned char* p, float value) {
  switch (type) {
    case kR16F: {
      __half h = __float2half_rn(value);
      std::memcpy(p, &h, sizeof h);
      break;
    }
    case kR16BF: {
      __nv_bfloat16 h = __float2bfloat16_rn(value);
      std::memcpy(p, &h, sizeof h);
      break;
    }
    default: std::memcpy(p, &value, sizeof value);
  }
}

double loadDouble(const unsigned char* p) {
  double d;
  std::memcpy(&d, p, sizeof d);
  return d;
}

/**
 * A float rounded to TF32 (10 explicit mantissa bits) to nearest, ties away from zero (PTX's
 * cvt.rna.tf32.f32, which TF32 tensor-core paths use); infinities and NaNs stay.
 */
float roundToTf32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) == 0x7f800000u) return x;
  bits = (bits + 0x1000u) & 0xffffe000u;  // half of the 13 dropped bits, on the magnitude
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

/** GELU as cuBLASLt defines it: the tanh approximation 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))). */
template <class T>
T gelu(T x) {
  const T k = static_cast<T>(0.7978845608028654);  // sqrt(2 / pi)
  return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::tanh(k * (x + static_cast<T>(0.044715) * x * x * x)));
}

template <class T>
T activate(const Problem& p, T x) {
  if (p.relu) return x > 0 ? x : T(0);  // max(x, 0)
  if (p.gelu) return gelu(x);
  return x;
}

/**
 * One batch in scale type T (float for the 32F compute types, double for 64F): op(A) and op(B)
 * are first copied out (rounded to TF32 when asked), so that the sums read contiguous rows.
 */
template <class T>
void multiplyBatch(const Problem& p, int64_t batch, T alpha, T beta, const unsigned char* a, const unsigned char* b, const unsigned char* c, unsigned char* d,
                   const unsigned char* bias) {
  const int64_t m = p.m, n = p.n, k = p.k;
  const bool tf32 = p.compute == kCompute32FFastTf32;
  auto load = [&](const Matrix& x, const unsigned char* base, int64_t row, int64_t col) -> T {
    const unsigned char* e = base + x.offset(row, col, batch) * static_cast<int64_t>(x.bytes);
    if constexpr (sizeof(T) == sizeof(double)) {
      return loadDouble(e);
    } else {
      float f = loadFloat(x.type, e);
      return tf32 && x.name != 'C' ? roundToTf32(f) : f;
    }
  };
  std::vector<T> opA(static_cast<size_t>(m * k)), opB(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t q = 0; q < k; ++q) opA[i * k + q] = p.transA == kOpN ? load(p.a, a, i, q) : load(p.a, a, q, i);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t q = 0; q < k; ++q) opB[j * k + q] = p.transB == kOpN ? load(p.b, b, q, j) : load(p.b, b, j, q);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      // Products of floats are exact in double; summing them there is at least as accurate as
      // the GPU's float accumulator.
      double sum = 0;
      const T* row = &opA[i * k];
      const T* col = &opB[j * k];
      for (int64_t q = 0; q < k; ++q) sum += static_cast<double>(row[q]) * static_cast<double>(col[q]);
      T value = alpha * static_cast<T>(sum);
      if (beta != T(0)) value += beta * load(p.c, c, i, j);  // beta == 0: C is not read (it may hold NaN)
      if (p.bias) {
        const unsigned char* e = bias + (batch * p.biasStride + i) * static_cast<int64_t>(elementBytes(p.biasType));
        value += sizeof(T) == sizeof(double) ? static_cast<T>(loadDouble(e)) : static_cast<T>(loadFloat(p.biasType, e));
      }
      value = activate(p, value);
      unsigned char* out = d + p.d.offset(i, j, batch) * static_cast<int64_t>(p.d.bytes);
      if constexpr (sizeof(T) == sizeof(double)) {
        std::memcpy(out, &value, sizeof value);
      } else {
        storeFloat(p.d.type, out, value);
      }
    }
}

template <class T>
void multiply(const Problem& p, const void* alpha, const void* beta, const void* a, const void* b, const void* c, void* d) {
  T alphaValue, betaValue;
  std::memcpy(&alphaValue, alpha, sizeof(T));
  std::memcpy(&betaValue, beta, sizeof(T));
  const void* bias = reinterpret_cast<const void*>(static_cast<uintptr_t>(p.biasPointer));
  for (int64_t batch = 0; batch < p.batch; ++batch)
    multiplyBatch<T>(p, batch, alphaValue, betaValue, static_cast<const unsigned char*>(a), static_cast<const unsigned char*>(b),
                     static_cast<const unsigned char*>(c), static_cast<unsigned char*>(d), static_cast<const unsigned char*>(bias));
}

// ---- cublasLtMatmul's checks of its pointers ----

/** The first byte an operand touches and how many bytes it spans. */
void extentOf(const Matrix& x, const void* pointer, const unsigned char*& first, size_t& bytes) {
  int64_t low = 0, high = 0;
  span(x, low, high);  // checked not to overflow when the layout was checked
  first = static_cast<const unsigned char*>(pointer) + low * static_cast<int64_t>(x.bytes);
  bytes = static_cast<size_t>(high - low + 1) * x.bytes;
}

/** Alignment to the element, to the promise the algorithm was chosen under, and live device memory. */
int checkOperand(const Matrix& x, const void* pointer, uint32_t promised) {
  const char* function = "cublasLtMatmul";
  auto address = reinterpret_cast<uintptr_t>(pointer);
  if (pointer == nullptr) return fail(kInvalidValue, function, text(x.name, " is null"));
  if (address % x.bytes != 0)
    return fail(kInvalidValue, function, text(x.name, " at ", pointer, " is not aligned to its ", x.bytes, "-byte ", typeName(x.type), " elements"));
  if (address % promised != 0)
    return fail(kInvalidValue, function,
                text(x.name, " at ", pointer, " is aligned to ", alignmentOf(address), " bytes, but the algorithm was chosen for the ", promised,
                     "-byte alignment CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_", x.name, "_BYTES promised (default 256): a GPU kernel may fault on it"));
  const unsigned char* first = nullptr;
  size_t bytes = 0;
  extentOf(x, pointer, first, bytes);
  if (!flint_emu::vendor::deviceRange(first, bytes))
    return fail(kExecutionFailed, function,
                text(x.name, " (", x.rows, " x ", x.cols, " ", typeName(x.type), ", ld ", x.ld, ", ", x.batch, " batches of stride ", x.stride, ") spans ", bytes,
                     " bytes from ", static_cast<const void*>(first), ", which is not inside one live device allocation"));
  return kSuccess;
}

int checkBias(const Problem& p, const AlgoRecord& algo) {
  const char* function = "cublasLtMatmul";
  if (!p.bias) return kSuccess;
  if (p.biasPointer == 0) return fail(kInvalidValue, function, text("epilogue ", p.epilogue, " adds a bias, but CUBLASLT_MATMUL_DESC_BIAS_POINTER is null"));
  size_t bytes = elementBytes(p.biasType);
  if (p.biasPointer % bytes != 0)
    return fail(kInvalidValue, function, text("the bias at 0x", std::hex, p.biasPointer, std::dec, " is not aligned to its ", bytes, "-byte elements"));
  if (alignmentOf(p.biasPointer) < algo.biasAlign)
    return fail(kInvalidValue, function,
                text("the bias at 0x", std::hex, p.biasPointer, std::dec, " is aligned to ", alignmentOf(p.biasPointer), " bytes, but the heuristic chose the algorithm for a bias pointer aligned to ",
                     algo.biasAlign, " (cuBLASLt reads the bias pointer's value at the heuristic for that)"));
  Matrix vector{'b'};
  vector.type = p.biasType;
  vector.bytes = bytes;
  vector.rows = p.m;
  vector.cols = 1;
  vector.ld = p.m;
  vector.batch = p.batch;
  vector.stride = p.biasStride;
  int64_t low = 0, high = 0;
  if (!span(vector, low, high)) return fail(kInvalidValue, function, text("the bias batch stride ", p.biasStride, " overflows"));
  const unsigned char* first = reinterpret_cast<const unsigned char*>(static_cast<uintptr_t>(p.biasPointer)) + low * static_cast<int64_t>(bytes);
  size_t extent = static_cast<size_t>(high - low + 1) * bytes;
  if (!flint_emu::vendor::deviceRange(first, extent))
    return fail(kExecutionFailed, function,
                text("the bias (", p.m, " ", typeName(p.biasType), " per batch, ", p.batch, " batches of stride ", p.biasStride, ") spans ", extent, " bytes from ",
                     static_cast<const void*>(first), ", which is not inside one live device allocation"));
  return kSuccess;
}

/** alpha and beta: host pointers of the scale type (POINTER_MODE_HOST is the only mode emulated). */
int checkScalars(const Problem& p, const void* alpha, const void* beta) {
  size_t bytes = p.scale == kR64F ? sizeof(double) : sizeof(float);
  for (auto [name, pointer] : {std::pair<const char*, const void*>{"alpha", alpha}, {"beta", beta}}) {
    if (pointer == nullptr) return fail(kInvalidValue, "cublasLtMatmul", text(name, " is null"));
    if (flint_emu::vendor::deviceRange(pointer, bytes))
      return fail(kInvalidValue, "cublasLtMatmul",
                  text(name, " at ", pointer, " points into device memory, but CUBLASLT_MATMUL_DESC_POINTER_MODE is HOST: a GPU run would read it from the host"));
  }
  return kSuccess;
}

/**
 * Documented: C and D are the same matrix only with Cdesc == Ddesc. Beyond that, an output that
 * shares elements with an input is a data race on a GPU, so the emulation refuses it.
 */
int checkAliasing(const Problem& p, const void* a, const void* b, const void* c, void* d, bool betaIsZero, const void* workspace, uint64_t need) {
  const char* function = "cublasLtMatmul";
  if (c == d) {
    if (!(p.c == p.d))
      return fail(kInvalidValue, function,
                  text("C and D are the same pointer, but their layouts differ (C ld ", p.c.ld, " stride ", p.c.stride, ", D ld ", p.d.ld, " stride ", p.d.stride,
                       "): in-place needs Cdesc == Ddesc"));
  }
  auto base = [](const void* x) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(x)); };
  std::vector<Run> dRuns = runsOf(p.d, base(d));
  struct Input {
    const Matrix* x;
    const void* pointer;
    bool read;
  };
  for (const Input& in : {Input{&p.a, a, true}, Input{&p.b, b, true}, Input{&p.c, c, c != d && !betaIsZero}}) {
    if (in.read && intersect(runsOf(*in.x, base(in.pointer)), dRuns))
      return fail(kInvalidValue, function, text("D at ", d, " shares elements with ", in.x->name, " at ", in.pointer, ": the output would overwrite an input it reads"));
  }
  if (p.bias) {
    Matrix vector{'b'};
    vector.bytes = elementBytes(p.biasType);
    vector.rows = p.m;
    vector.cols = 1;
    vector.ld = p.m;
    vector.batch = p.batch;
    vector.stride = p.biasStride;
    if (intersect(runsOf(vector, p.biasPointer), dRuns)) return fail(kInvalidValue, function, text("D at ", d, " shares elements with the bias vector"));
  }
  if (need > 0) {
    std::vector<Run> used{{base(workspace), base(workspace) + need}};
    for (const Input& in : {Input{&p.a, a, true}, Input{&p.b, b, true}, Input{&p.c, c, true}, Input{&p.d, d, true}})
      if (intersect(runsOf(*in.x, base(in.pointer)), used))
        return fail(kInvalidValue, function, text("the workspace at ", workspace, " (", need, " bytes used) overlaps ", in.x->name, " at ", in.pointer));
  }
  return kSuccess;
}

int checkWorkspace(void* workspace, size_t bytes, uint64_t need) {
  const char* function = "cublasLtMatmul";
  if (bytes < need)
    return fail(kInvalidValue, function, text("workspaceSizeInBytes ", bytes, " is less than the ", need, " bytes the algorithm needs"));
  if (bytes == 0) return kSuccess;
  if (workspace == nullptr) return fail(kInvalidValue, function, text("the workspace is null but workspaceSizeInBytes is ", bytes));
  if (reinterpret_cast<uintptr_t>(workspace) % 256 != 0)
    return fail(kInvalidValue, function, text("the workspace at ", workspace, " is not 256-byte aligned (documented requirement)"));
  if (!flint_emu::vendor::deviceRange(workspace, bytes))
    return fail(kExecutionFailed, function, text("the workspace at ", workspace, " of ", bytes, " bytes is not inside one live device allocation"));
  return kSuccess;
}

/** The algorithm to run: the caller's (checked against the problem), or the implicit heuristic's. */
int algorithmFor(const Problem& p, const void* algo, AlgoRecord& record) {
  const char* function = "cublasLtMatmul";
  if (algo == nullptr) {
    // Documented: an implicit heuristic query with the default preferences (no workspace, 256-byte
    // alignment of A..D).
    const uint32_t defaults[4] = {256, 256, 256, 256};
    record = makeAlgo(p, defaults, 0);
    return kSuccess;
  }
  std::memcpy(&record, algo, sizeof record);
  if (record.magic != kAlgoMagic || record.check != checkOf(record))
    return fail(kInvalidValue, function, "the algorithm is not one cublasLtMatmulAlgoGetHeuristic returned (uninitialized or modified)");
  if (record.signature != signatureOf(p)) {
    if (record.m != p.m || record.n != p.n || record.k != p.k || static_cast<int32_t>(record.batch) != p.batch)
      return fail(kInvalidValue, function,
                  text("the algorithm was chosen for m ", record.m, " n ", record.n, " k ", record.k, " batch ", record.batch, ", this call is m ", p.m, " n ", p.n,
                       " k ", p.k, " batch ", p.batch));
    return fail(kInvalidValue, function,
                text("the algorithm was chosen for another problem of the same size (types, transposes, orders, epilogue, bias type, or the alignment of a leading "
                     "dimension or batch stride differ)"));
  }
  return kSuccess;
}

/** The layouts a call names; C may be omitted (null), documented to mean D's. */
int snapshotLayouts(const char* function, const void* const layouts[4], Object copies[4]) {
  static const char names[] = "ABCD";
  for (int i = 0; i < 4; ++i) {
    const void* layout = i == 2 && layouts[2] == nullptr ? layouts[3] : layouts[i];
    if (!snapshot(layout, kLayoutMagic, copies[i]))
      return fail(kInvalidValue, function, text(names[i], "desc ", layout, " is not a live matrix layout"));
  }
  return kSuccess;
}

}  // namespace

// ---- The C API ----

extern "C" {

size_t cublasLtGetVersion(void) { return 130100; }  // reported as cuBLASLt 13.1.0

int cublasLtCreate(void** handle) {
  if (handle == nullptr) return fail(kInvalidValue, "cublasLtCreate", "the handle pointer is null");
  if (!flint_emu::vendor::attached())
    return fail(kNotInitialized, "cublasLtCreate", "this emulated cuBLASLt serves only the emulated addon (flintEmulationAttach was not called)");
  Object* object = createObject(kHandleMagic, nullptr);
  if (object == nullptr) return fail(kAllocFailed, "cublasLtCreate", "out of memory");
  *handle = object;
  return kSuccess;
}

int cublasLtDestroy(void* handle) { return destroyObject("cublasLtDestroy", handle, kHandleMagic, kNotInitialized); }

int cublasLtMatmulDescCreate(void** desc, int computeType, int scaleType) {
  if (desc == nullptr) return fail(kInvalidValue, "cublasLtMatmulDescCreate", "the descriptor pointer is null");
  Object* object = createObject(kDescMagic, &kDescTable);
  if (object == nullptr) return fail(kAllocFailed, "cublasLtMatmulDescCreate", "out of memory");
  // The combination is checked when used, against the four layouts' types.
  std::lock_guard<std::mutex> lock(registryMutex);
  object->values[kDescComputeType] = static_cast<uint32_t>(computeType);
  object->values[kDescScaleType] = static_cast<uint32_t>(scaleType);
  *desc = object;
  return kSuccess;
}

int cublasLtMatmulDescDestroy(void* desc) { return destroyObject("cublasLtMatmulDescDestroy", desc, kDescMagic, kInvalidValue); }

int cublasLtMatmulDescSetAttribute(void* desc, int attribute, const void* buffer, size_t bytes) {
  return setAttribute("cublasLtMatmulDescSetAttribute", desc, kDescMagic, kDescTable, attribute, buffer, bytes);
}

int cublasLtMatmulDescGetAttribute(const void* desc, int attribute, void* buffer, size_t bytes, size_t* written) {
  return getAttribute("cublasLtMatmulDescGetAttribute", desc, kDescMagic, kDescTable, attribute, buffer, bytes, written);
}

int cublasLtMatrixLayoutCreate(void** layout, int type, uint64_t rows, uint64_t cols, int64_t ld) {
  if (layout == nullptr) return fail(kInvalidValue, "cublasLtMatrixLayoutCreate", "the layout pointer is null");
  Object* object = createObject(kLayoutMagic, &kLayoutTable);
  if (object == nullptr) return fail(kAllocFailed, "cublasLtMatrixLayoutCreate", "out of memory");
  // Type, sizes and ld are checked when used: the rule for ld depends on the order, settable later.
  std::lock_guard<std::mutex> lock(registryMutex);
  object->values[kLayoutType] = static_cast<uint32_t>(type);
  object->values[kLayoutRows] = rows;
  object->values[kLayoutCols] = cols;
  object->values[kLayoutLd] = static_cast<uint64_t>(ld);
  *layout = object;
  return kSuccess;
}

int cublasLtMatrixLayoutDestroy(void* layout) { return destroyObject("cublasLtMatrixLayoutDestroy", layout, kLayoutMagic, kInvalidValue); }

int cublasLtMatrixLayoutSetAttribute(void* layout, int attribute, const void* buffer, size_t bytes) {
  return setAttribute("cublasLtMatrixLayoutSetAttribute", layout, kLayoutMagic, kLayoutTable, attribute, buffer, bytes);
}

int cublasLtMatrixLayoutGetAttribute(const void* layout, int attribute, void* buffer, size_t bytes, size_t* written) {
  return getAttribute("cublasLtMatrixLayoutGetAttribute", layout, kLayoutMagic, kLayoutTable, attribute, buffer, bytes, written);
}

int cublasLtMatmulPreferenceCreate(void** preference) {
  if (preference == nullptr) return fail(kInvalidValue, "cublasLtMatmulPreferenceCreate", "the preference pointer is null");
  Object* object = createObject(kPreferenceMagic, &kPreferenceTable);
  if (object == nullptr) return fail(kAllocFailed, "cublasLtMatmulPreferenceCreate", "out of memory");
  *preference = object;
  return kSuccess;
}

int cublasLtMatmulPreferenceDestroy(void* preference) {
  return destroyObject("cublasLtMatmulPreferenceDestroy", preference, kPreferenceMagic, kInvalidValue);
}

int cublasLtMatmulPreferenceSetAttribute(void* preference, int attribute, const void* buffer, size_t bytes) {
  return setAttribute("cublasLtMatmulPreferenceSetAttribute", preference, kPreferenceMagic, kPreferenceTable, attribute, buffer, bytes);
}

int cublasLtMatmulPreferenceGetAttribute(const void* preference, int attribute, void* buffer, size_t bytes, size_t* written) {
  return getAttribute("cublasLtMatmulPreferenceGetAttribute", preference, kPreferenceMagic, kPreferenceTable, attribute, buffer, bytes, written);
}

int cublasLtMatmulAlgoGetHeuristic(void* handle, void* desc, void* aDesc, void* bDesc, void* cDesc, void* dDesc, void* preference, int requested,
                                   void* results, int* returned) {
  const char* function = "cublasLtMatmulAlgoGetHeuristic";
  if (returned == nullptr) return fail(kInvalidValue, function, "returnAlgoCount is null");
  *returned = 0;
  Object handleCopy, descCopy, preferenceCopy, layouts[4];
  if (!snapshot(handle, kHandleMagic, handleCopy)) return fail(kNotInitialized, function, text(handle, " is not a live cuBLASLt handle"));
  if (requested <= 0) return fail(kInvalidValue, function, text("requestedAlgoCount ", requested, " (must be positive)"));
  if (results == nullptr) return fail(kInvalidValue, function, "heuristicResultsArray is null");
  if (!snapshot(desc, kDescMagic, descCopy)) return fail(kInvalidValue, function, text(desc, " is not a live matmul descriptor"));
  if (!snapshot(preference, kPreferenceMagic, preferenceCopy)) return fail(kInvalidValue, function, text(preference, " is not a live matmul preference"));
  const void* names[4] = {aDesc, bDesc, cDesc, dDesc};
  if (int status = snapshotLayouts(function, names, layouts)) return status;
  Problem p;
  if (int status = resolveProblem(function, descCopy, layouts[0], layouts[1], layouts[2], layouts[3], cDesc == nullptr || cDesc == dDesc, p)) return status;
  if (int status = checkDefaultOnly(function, preferenceCopy, kPreferenceTable, "")) return status;
  uint32_t align[4];
  const Matrix* matrices[4] = {&p.a, &p.b, &p.c, &p.d};
  for (int i = 0; i < 4; ++i) {
    align[i] = preferenceCopy.get<uint32_t>(kPrefAlignmentA + i);
    // No kernel reads elements at addresses not aligned to them, so no algorithm fits such a promise.
    if (align[i] < matrices[i]->bytes || (align[i] & (align[i] - 1)) != 0)
      return fail(kNotSupported, function,
                  text("CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_", matrices[i]->name, "_BYTES ", align[i], " is not a power of two of at least the ", matrices[i]->bytes,
                       "-byte elements: no algorithm fits"));
  }
  AlgoRecord record = makeAlgo(p, align, workspaceNeed(preferenceCopy.get<uint64_t>(kPrefMaxWorkspace)));
  // One algorithm; the rest of the array is the caller's (returnAlgoCount says how many were written).
  struct Result {
    AlgoWords algo;
    size_t workspaceSize;
    int state;
    float wavesCount;
    int reserved[4];
  };
  static_assert(sizeof(Result) == 96, "cublasLtMatmulHeuristicResult_t is 96 bytes");
  Result result{};
  std::memcpy(&result.algo, &record, sizeof record);
  result.workspaceSize = record.workspace;
  result.state = kSuccess;
  result.wavesCount = 1.0f;
  std::memcpy(results, &result, sizeof result);
  *returned = 1;
  return kSuccess;
}

int cublasLtMatmul(void* handle, void* desc, const void* alpha, const void* a, void* aDesc, const void* b, void* bDesc, const void* beta, const void* c,
                   void* cDesc, void* d, void* dDesc, const void* algo, void* workspace, size_t workspaceBytes, void* stream) {
  const char* function = "cublasLtMatmul";
  Object handleCopy, descCopy, layouts[4];
  if (!snapshot(handle, kHandleMagic, handleCopy)) return fail(kNotInitialized, function, text(handle, " is not a live cuBLASLt handle"));
  if (!snapshot(desc, kDescMagic, descCopy)) return fail(kInvalidValue, function, text(desc, " is not a live matmul descriptor"));
  const void* names[4] = {aDesc, bDesc, cDesc, dDesc};
  if (int status = snapshotLayouts(function, names, layouts)) return status;
  Problem p;
  if (int status = resolveProblem(function, descCopy, layouts[0], layouts[1], layouts[2], layouts[3], cDesc == nullptr || cDesc == dDesc, p)) return status;
  if (c == nullptr && cDesc == nullptr) c = d;  // C omitted along with its layout: D's
  AlgoRecord record;
  if (int status = algorithmFor(p, algo, record)) return status;
  if (int status = checkScalars(p, alpha, beta)) return status;
  if (int status = checkWorkspace(workspace, workspaceBytes, record.workspace)) return status;
  const Matrix* matrices[4] = {&p.a, &p.b, &p.c, &p.d};
  const void* pointers[4] = {a, b, c, d};
  for (int i = 0; i < 4; ++i)
    if (int status = checkOperand(*matrices[i], pointers[i], record.align[i])) return status;
  if (int status = checkBias(p, record)) return status;
  bool betaIsZero = p.scale == kR64F ? *static_cast<const double*>(beta) == 0 : *static_cast<const float*>(beta) == 0;
  if (int status = checkAliasing(p, a, b, c, d, betaIsZero, workspace, record.workspace)) return status;
  // A real algorithm may use all the workspace it asked for: so does this one.
  if (record.workspace > 0) std::memset(workspace, 0xa5, record.workspace);
  if (p.scale == kR64F) {
    multiply<double>(p, alpha, beta, a, b, c, d);
  } else {
    multiply<float>(p, alpha, beta, a, b, c, d);
  }
  return kSuccess;
}

}  // extern "C"
