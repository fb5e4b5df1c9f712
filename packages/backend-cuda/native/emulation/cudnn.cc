// libcudnn.so.9 for the CPU emulation: the part of cuDNN's legacy descriptor API the addon opens
// (native/libraries.h, struct Cudnn) - handles, tensor / filter / convolution / pooling
// descriptors, the forward convolution and the backward filter and data convolutions with their
// algorithm queries and workspaces, max and average pooling, and batch normalization (forward
// training, inference, backward) - computed on the CPU from NVIDIA's documented semantics, written
// without looking at how the addon calls it. Its point is to be strict: what the documentation
// refuses (wrong output dims, channel or group mismatches, type configurations outside the
// supported tables, algorithms outside their documented limits, too small a workspace, optional
// pointers given singly, an epsilon under CUDNN_BN_MIN_EPSILON, scaling parameters of the wrong
// width or in device memory, operands reaching outside their allocation) fails here with the
// status cuDNN 9 documents and one line on stderr, instead of first showing on a rare GPU run.
//
// Facts relied on (cuDNN 9.6 headers cudnn_graph.h / cudnn_ops.h / cudnn_cnn.h / cudnn_version.h,
// and the API reference): status codes are cuDNN 9's (BAD_PARAM 2000, NOT_SUPPORTED 3000, ...,
// with sub-codes); tensors have 4 to CUDNN_DIM_MAX (8) dims, filters at least 3; convolutions take
// 4D or 5D tensors; output dims are 1 + (in + 2 pad - ((k - 1) dilation + 1)) / stride for
// convolutions and 1 + (in + 2 pad - window) / stride for pooling, and the backward convolutions
// take a dy of exactly the forward output dims of (x or dx, w or dw); the backward algorithm
// enums (filter ALGO_0, ALGO_1, FFT, ALGO_3, WINOGRAD - "not implemented" -, WINOGRAD_NONFUSED,
// FFT_TILING = 0..6; data ALGO_0, ALGO_1, FFT, FFT_TILING, WINOGRAD, WINOGRAD_NONFUSED = 0..5;
// filter ALGO_0 and ALGO_3 and data ALGO_0 non-deterministic) and the shared layout of the three
// AlgoPerf structs are cudnn_ops.h's and cudnn_cnn.h's; the FFT algorithms need stride 1,
// dilation 1 and a filter larger than the padding (FFT: a padded input of 256 or less;
// FFT_TILING: a filter of 32 or less); alpha and beta are host scalars, float for half / float /
// bfloat16 data and double for double data, and beta == 0 means the destination is not read;
// batch normalization's parameter tensors are float (double for double data) with dims
// 1xCx1x1(x1) (spatial) or 1xCxHxW(xD) (per activation).
// Where cuDNN's results depend on hardware, the emulation takes the documented worst case: float
// convolutions whose math type is not CUDNN_FMA_MATH round their multiplied operands (x and w
// forward, x and dy for the filter gradient, w and dy for the data gradient) to TF32 (as on
// Ampere and later; NVIDIA_TF32_OVERRIDE=0 turns that off, as for cuDNN), and TRUE_HALF_CONFIG
// accumulates in half precision. Otherwise sums are accumulated in double and rounded once to the
// data type.
//
// Every call runs to completion before it returns (the emulated streams do the same). Objects
// live in a registry under one lock, so a destroyed or foreign pointer is refused without being
// read; a handle is held by one call at a time, as cuDNN requires of threads sharing a handle.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "vendor_emulation.h"

FLINT_EMULATED_LIBRARY_ATTACH

#define CUDNN_API extern "C" __attribute__((visibility("default")))

namespace {

// ---- cuDNN 9's values (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h) ----

enum Status : int {
  kSuccess = 0,
  kNotInitialized = 1001,
  kBadParam = 2000,
  kBadParamNull = 2002,
  kBadParamMisaligned = 2003,
  kBadParamNotFinalized = 2004,
  kBadParamSizeInsufficient = 2006,
  kBadParamShapeMismatch = 2008,
  kNotSupported = 3000,
  kNotSupportedShape = 3002,
  kNotSupportedDataType = 3003,
  kNotSupportedLayout = 3004,
  kExecutionFailed = 5000,
};

constexpr size_t kVersion = 90600;  // CUDNN_VERSION = major * 10000 + minor * 100 + patch
constexpr int kDimMax = 8;          // CUDNN_DIM_MAX
constexpr int kDataFloat = 0, kDataDouble = 1, kDataHalf = 2, kDataBfloat16 = 9, kDataTypeLast = 14;
constexpr int kFormatNchw = 0, kFormatNhwc = 1, kFormatNchwVectC = 2;
constexpr int kConvolution = 0, kCrossCorrelation = 1;
constexpr int kMathDefault = 0, kMathFma = 3;
constexpr int kPoolMax = 0, kPoolAverageInclude = 1, kPoolAverageExclude = 2, kPoolMaxDeterministic = 3;
constexpr int kPropagateNan = 1;
constexpr int kBnPerActivation = 0, kBnSpatialPersistent = 2;
constexpr double kBnMinEpsilon = 0.0;  // CUDNN_BN_MIN_EPSILON in cuDNN 9's cudnn_ops.h
constexpr int kFwdAlgoCount = 8;       // CUDNN_CONVOLUTION_FWD_ALGO_COUNT
constexpr int kAlgoImplicitGemm = 0, kAlgoImplicitPrecompGemm = 1, kAlgoGemm = 2;
constexpr int kNonDeterministic = 0, kDeterministic = 1;  // cudnnDeterminism_t
constexpr int64_t kMaxElements = int64_t{1} << 31;  // "2 Giga-elements"

/** Prints the one line a failure leaves on stderr and returns its status. */
__attribute__((format(printf, 3, 4))) int fail(const char* fn, int status, const char* format, ...) {
  char message[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  std::fprintf(stderr, "[flint-cuda emulation] %s: %s\n", fn, message);
  return status;
}

const char* dataTypeName(int t) {
  switch (t) {
    case kDataFloat: return "FLOAT";
    case kDataDouble: return "DOUBLE";
    case kDataHalf: return "HALF";
    case kDataBfloat16: return "BFLOAT16";
    default: return t >= 0 && t <= kDataTypeLast ? "an integer or FP8 type" : "invalid";
  }
}

/** Bytes of one element of the floating types these operations take; 0 for the others. */
size_t elementBytes(int t) {
  switch (t) {
    case kDataFloat: return 4;
    case kDataDouble: return 8;
    case kDataHalf:
    case kDataBfloat16: return 2;
    default: return 0;
  }
}

std::string listText(const int64_t* values, int count) {
  std::string text = "[";
  for (int i = 0; i < count; ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

// ---- objects: handles and descriptors, in a registry ----

enum class Kind { kHandle, kTensor, kFilter, kConvolution, kPooling };

const char* kindName(Kind kind) {
  switch (kind) {
    case Kind::kHandle: return "cudnnHandle_t";
    case Kind::kTensor: return "cudnnTensorDescriptor_t";
    case Kind::kFilter: return "cudnnFilterDescriptor_t";
    case Kind::kConvolution: return "cudnnConvolutionDescriptor_t";
    case Kind::kPooling: return "cudnnPoolingDescriptor_t";
  }
  return "?";
}

struct TensorDesc {
  int dtype = 0;
  int nbDims = 0;
  int64_t dims[kDimMax] = {};
  int64_t strides[kDimMax] = {};
};

struct FilterDesc {
  int dtype = 0;
  int format = 0;
  int nbDims = 0;
  int64_t dims[kDimMax] = {};  // [K, C / groups, spatial...] whatever the format
};

struct ConvDesc {
  int spatial = 0;
  int64_t pad[kDimMax] = {}, stride[kDimMax] = {}, dilation[kDimMax] = {};
  int mode = 0;
  int computeType = 0;
  int groups = 1;
  int mathType = kMathDefault;
};

struct PoolDesc {
  int mode = 0;
  int nanOpt = 0;
  int spatial = 0;
  int64_t window[kDimMax] = {}, pad[kDimMax] = {}, stride[kDimMax] = {};
};

constexpr uint32_t kMagic = 0xcd9e1a7eu;
constexpr uint32_t kDestroyed = 0xdeadd00du;

struct Object {
  uint32_t magic = kMagic;
  Kind kind;
  bool set = false;   // descriptors: a Set call succeeded (convolutions: the Nd call)
  bool busy = false;  // handles: a call is using it now
  void* stream = nullptr;
  TensorDesc tensor;
  FilterDesc filter;
  ConvDesc conv;
  PoolDesc pool;
};

struct Registry {
  std::mutex mutex;
  std::unordered_set<const Object*> live;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: calls may still come during exit
  return *r;
}

/** The live object p of the given kind (the caller holds the lock), or null after a message. */
Object* findLocked(const char* fn, const char* role, const void* p, Kind kind, int* status) {
  auto* o = static_cast<const Object*>(p);
  if (p == nullptr) {
    *status = fail(fn, kBadParamNull, "%s (a %s) is null", role, kindName(kind));
  } else if (!registry().live.count(o) || o->magic != kMagic) {
    *status = fail(fn, kBadParam, "%s (%p) is not a live %s: destroyed, or never created", role, p, kindName(kind));
  } else if (o->kind != kind) {
    *status = fail(fn, kBadParam, "%s (%p) is a %s, not a %s", role, p, kindName(o->kind), kindName(kind));
  } else {
    return const_cast<Object*>(o);
  }
  return nullptr;
}

/** Copies a descriptor that must have been set, so that the call computes on a stable snapshot. */
int snapshot(const char* fn, const char* role, const void* p, Kind kind, Object& out) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  int status = kSuccess;
  Object* o = findLocked(fn, role, p, kind, &status);
  if (o == nullptr) return status;
  if (!o->set) return fail(fn, kBadParamNotFinalized, "%s (%p) was created but never set", role, p);
  out = *o;
  return kSuccess;
}

/** Runs update(object) under the lock on a live object of the given kind (Set calls). */
template <class Update>
int update(const char* fn, const void* p, Kind kind, Update&& apply) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  int status = kSuccess;
  Object* o = findLocked(fn, kind == Kind::kHandle ? "handle" : "the descriptor", p, kind, &status);
  return o == nullptr ? status : apply(*o);
}

int createObject(const char* fn, void** out, Kind kind) {
  if (out == nullptr) return fail(fn, kBadParamNull, "the pointer to receive the %s is null", kindName(kind));
  auto* o = new Object();
  o->kind = kind;
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().live.insert(o);
  *out = o;
  return kSuccess;
}

int destroyObject(const char* fn, void* p, Kind kind) {
  // Destroying a null descriptor is a no-op, as freeing null is; a null handle is refused.
  if (p == nullptr && kind != Kind::kHandle) return kSuccess;
  std::lock_guard<std::mutex> lock(registry().mutex);
  int status = kSuccess;
  Object* o = findLocked(fn, kind == Kind::kHandle ? "handle" : "the descriptor", p, kind, &status);
  if (o == nullptr) return status;
  if (o->busy) return fail(fn, kBadParam, "handle %p is in use by a call on another thread", p);
  registry().live.erase(o);
  o->magic = kDestroyed;
  delete o;
  return kSuccess;
}

/** Holds a handle for one call: cuDNN handles must not be used by two threads at once. */
class HandleUse {
 public:
  int acquire(const char* fn, const void* handle) {
    std::lock_guard<std::mutex> lock(registry().mutex);
    int status = kSuccess;
    Object* o = findLocked(fn, "handle", handle, Kind::kHandle, &status);
    if (o == nullptr) return status;
    if (o->busy) return fail(fn, kBadParam, "handle %p is used by two threads at once (cuDNN handles are not thread-safe)", handle);
    o->busy = true;
    object_ = o;
    return kSuccess;
  }
  ~HandleUse() {
    if (object_ == nullptr) return;
    std::lock_guard<std::mutex> lock(registry().mutex);
    object_->busy = false;  // destroy refuses busy handles, so object_ is still alive
  }

 private:
  Object* object_ = nullptr;
};

// ---- layouts, elements and device operands ----

/** Elements from the first to one past the last a strided tensor touches (strides are >= 0). */
int64_t spanElements(int nbDims, const int64_t* dims, const int64_t* strides) {
  int64_t last = 0;
  for (int i = 0; i < nbDims; ++i) last += (dims[i] - 1) * strides[i];
  return last + 1;
}

size_t tensorBytes(const TensorDesc& t) { return size_t(spanElements(t.nbDims, t.dims, t.strides)) * elementBytes(t.dtype); }

/** Whether two elements of the layout share memory (checked sufficiently: sorted strides nest). */
bool selfOverlapping(const TensorDesc& t) {
  std::vector<std::pair<int64_t, int64_t>> used;  // (stride, dim) of the dims longer than 1
  for (int i = 0; i < t.nbDims; ++i)
    if (t.dims[i] > 1) used.push_back({t.strides[i], t.dims[i]});
  std::sort(used.begin(), used.end());
  int64_t reach = 1;  // elements the smaller dims span
  for (auto& [stride, dim] : used) {
    if (stride < reach) return true;
    reach = stride * dim;
  }
  return false;
}

/** For each row-major index over dims [first, nbDims), the offset it adds. */
std::vector<int64_t> offsetTable(int nbDims, const int64_t* dims, const int64_t* strides, int first) {
  std::vector<int64_t> table{0};
  for (int d = first; d < nbDims; ++d) {
    std::vector<int64_t> next;
    next.reserve(table.size() * dims[d]);
    for (int64_t base : table)
      for (int64_t i = 0; i < dims[d]; ++i) next.push_back(base + i * strides[d]);
    table.swap(next);
  }
  return table;
}

double loadElement(const void* base, int dtype, int64_t i) {
  switch (dtype) {
    case kDataFloat: return static_cast<const float*>(base)[i];
    case kDataDouble: return static_cast<const double*>(base)[i];
    case kDataHalf: return __half2float(static_cast<const __half*>(base)[i]);
    case kDataBfloat16: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  }
  return std::nan("");
}

/** Stores v rounded once (to nearest even) to the data type. */
void storeElement(void* base, int dtype, int64_t i, double v) {
  switch (dtype) {
    case kDataFloat: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case kDataDouble: static_cast<double*>(base)[i] = v; break;
    case kDataHalf: static_cast<__half*>(base)[i] = __double2half(v); break;
    case kDataBfloat16: static_cast<__nv_bfloat16*>(base)[i] = __double2bfloat16(v); break;
  }
}

/** dst = alpha * result + beta * dst, reading dst only when beta is nonzero ("Scaling Parameters"). */
void blendStore(void* base, int dtype, int64_t i, double result, double alpha, double beta) {
  double v = alpha * result;
  if (beta != 0) v += beta * loadElement(base, dtype, i);
  storeElement(base, dtype, i, v);
}

/** Rounds a float to TF32 (10 mantissa bits, to nearest, ties away), as tensor cores read FP32. */
double toTf32(double v) {
  float f = static_cast<float>(v);
  if (!std::isfinite(f)) return f;
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits = (bits + 0x1000u) & ~0x1fffu;
  std::memcpy(&f, &bits, 4);
  return f;
}

double toHalf(double v) { return __half2float(__double2half(v)); }

/**
 * Reads a host scaling parameter (alpha, beta): a float for half, float and bfloat16 data, a
 * double for double data. One in device memory is refused: the GPU's cuDNN reads it on the host.
 */
int readScalar(const char* fn, const char* name, const void* p, int dataType, double* out) {
  size_t bytes = dataType == kDataDouble ? 8 : 4;
  if (p == nullptr) return fail(fn, kBadParamNull, "%s is null", name);
  if (flint_emu::vendor::deviceRange(p, bytes))
    return fail(fn, kBadParam, "%s (%p) points into device memory; cuDNN reads scaling parameters from host memory", name, p);
  if (dataType == kDataDouble) {
    std::memcpy(out, p, 8);
  } else {
    float f;
    std::memcpy(&f, p, 4);
    *out = f;
  }
  return kSuccess;
}

/** A device operand: its name, address and the bytes its descriptor makes a call touch. */
struct Extent {
  const char* name;
  const void* p;
  size_t bytes;
};

/** Checks that a device operand is non-null, aligned to its element and inside one live allocation. */
int checkOperand(const char* fn, const Extent& e, size_t elementSize) {
  if (e.p == nullptr) return fail(fn, kBadParamNull, "%s is null", e.name);
  if (reinterpret_cast<uintptr_t>(e.p) % elementSize != 0)
    return fail(fn, kBadParamMisaligned, "%s (%p) is not aligned to its %zu-byte elements", e.name, e.p, elementSize);
  if (!flint_emu::vendor::deviceRange(e.p, e.bytes))
    return fail(fn, kExecutionFailed, "%s (%p, %zu bytes by its descriptor) does not lie inside one live device allocation",
                e.name, e.p, e.bytes);
  return kSuccess;
}

int checkTensorOperand(const char* fn, const char* name, const void* p, const TensorDesc& t) {
  return checkOperand(fn, {name, p, tensorBytes(t)}, elementBytes(t.dtype));
}

/** Checks that an output's elements do not share memory (two of them would be written at once). */
int checkOutputLayout(const char* fn, const char* name, const TensorDesc& t) {
  if (!selfOverlapping(t)) return kSuccess;
  return fail(fn, kBadParam, "%s's layout (dims %s, strides %s) maps several elements to one address", name,
              listText(t.dims, t.nbDims).c_str(), listText(t.strides, t.nbDims).c_str());
}

bool intersects(const Extent& a, const Extent& b) {
  auto a0 = reinterpret_cast<uintptr_t>(a.p), b0 = reinterpret_cast<uintptr_t>(b.p);
  return a.bytes > 0 && b.bytes > 0 && a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

/** Refuses an output that overlaps another operand of the call (the results would depend on order). */
int checkDisjoint(const char* fn, const Extent& output, std::initializer_list<Extent> others) {
  for (const Extent& other : others)
    if (other.p != nullptr && intersects(output, other))
      return fail(fn, kBadParam, "%s (%p, %zu bytes) overlaps %s (%p, %zu bytes)", output.name, output.p, output.bytes, other.name,
                  other.p, other.bytes);
  return kSuccess;
}

// ---- convolution ----

/** The shapes of one convolution, checked against each other as cudnnConvolutionForward documents. */
struct ConvGeometry {
  int nbDims = 0, spatial = 0;
  int64_t n = 0, c = 0, k = 0, groups = 1, cPerGroup = 0, kPerGroup = 0;
  int64_t in[kDimMax] = {}, filter[kDimMax] = {}, out[kDimMax] = {};
  int64_t pad[kDimMax] = {}, stride[kDimMax] = {}, dilation[kDimMax] = {};
  int64_t filterTaps = 1, outPositions = 1;
};

/**
 * The names a call gives the forward convolution's three operands, for its messages: the backward
 * calls check the same forward relation between (x or dx), (w or dw) and (y or dy).
 */
struct ConvRoles {
  const char *x, *w, *y;
};
constexpr ConvRoles kForwardRoles{"xDesc", "wDesc", "yDesc"};
constexpr ConvRoles kBwdFilterRoles{"xDesc", "dwDesc", "dyDesc"};
constexpr ConvRoles kBwdDataRoles{"dxDesc", "wDesc", "dyDesc"};

int convGeometry(const char* fn, const TensorDesc& x, const FilterDesc& w, const ConvDesc& conv, ConvGeometry& g,
                 const ConvRoles& roles = kForwardRoles) {
  if (x.dtype != w.dtype)
    return fail(fn, kBadParam, "%s's data type is %s but %s's is %s", roles.x, dataTypeName(x.dtype), roles.w, dataTypeName(w.dtype));
  if (x.nbDims != w.nbDims) return fail(fn, kBadParam, "%s has %d dims but %s has %d", roles.x, x.nbDims, roles.w, w.nbDims);
  if (x.nbDims != conv.spatial + 2)
    return fail(fn, kBadParam, "%s has %d dims but the convolution descriptor has %d spatial dims (needs %d + 2)", roles.x, x.nbDims,
                conv.spatial, conv.spatial);
  g.nbDims = x.nbDims;
  g.spatial = conv.spatial;
  g.n = x.dims[0];
  g.c = x.dims[1];
  g.k = w.dims[0];
  g.cPerGroup = w.dims[1];
  g.groups = conv.groups;
  if (g.c != g.cPerGroup * g.groups)
    return fail(fn, kBadParam, "%s has %lld channels but the filter takes %lld per group x %lld groups = %lld", roles.x, (long long)g.c,
                (long long)g.cPerGroup, (long long)g.groups, (long long)(g.cPerGroup * g.groups));
  if (g.k % g.groups != 0)
    return fail(fn, kBadParam, "the filter's %lld output channels are not a multiple of the group count %lld", (long long)g.k,
                (long long)g.groups);
  g.kPerGroup = g.k / g.groups;
  for (int i = 0; i < g.spatial; ++i) {
    g.in[i] = x.dims[i + 2];
    g.filter[i] = w.dims[i + 2];
    g.pad[i] = conv.pad[i];
    g.stride[i] = conv.stride[i];
    g.dilation[i] = conv.dilation[i];
    int64_t reach = (g.filter[i] - 1) * g.dilation[i] + 1;
    if (g.in[i] + 2 * g.pad[i] < reach)
      return fail(fn, kBadParam, "spatial dim %d: the dilated filter (%lld) is larger than the padded input (%lld + 2 x %lld)", i,
                  (long long)reach, (long long)g.in[i], (long long)g.pad[i]);
    g.out[i] = 1 + (g.in[i] + 2 * g.pad[i] - reach) / g.stride[i];
    g.filterTaps *= g.filter[i];
    g.outPositions *= g.out[i];
  }
  return kSuccess;
}

/** Checks y (or dy) against the geometry: cuDNN computes y's dims and refuses any others. */
int checkConvOutput(const char* fn, const ConvGeometry& g, const TensorDesc& x, const TensorDesc& y, const ConvRoles& roles = kForwardRoles) {
  if (y.nbDims != x.nbDims) return fail(fn, kBadParam, "%s has %d dims but %s has %d", roles.y, y.nbDims, roles.x, x.nbDims);
  if (y.dtype != x.dtype)
    return fail(fn, kBadParam, "%s's data type is %s but %s's is %s", roles.y, dataTypeName(y.dtype), roles.x, dataTypeName(x.dtype));
  if (x.nbDims != 4 && x.nbDims != 5)
    return fail(fn, kNotSupported, "convolutions take 4D or 5D tensors, not %dD", x.nbDims);
  int64_t expected[kDimMax] = {g.n, g.k};
  for (int i = 0; i < g.spatial; ++i) expected[i + 2] = g.out[i];
  if (y.dims[0] != g.n || y.dims[1] != g.k)
    return fail(fn, kBadParamShapeMismatch, "%s's dims are %s but the convolution gives %s", roles.y, listText(y.dims, y.nbDims).c_str(),
                listText(expected, y.nbDims).c_str());
  for (int i = 0; i < g.spatial; ++i)
    if (y.dims[i + 2] != g.out[i])
      return fail(fn, kNotSupportedShape, "%s's dims are %s but the convolution of %s gives %s (1 + (in + 2 pad - ((k - 1) dilation + 1)) / stride)",
                  roles.y, listText(y.dims, y.nbDims).c_str(), roles.x, listText(expected, y.nbDims).c_str());
  return kSuccess;
}

/** How the emulation rounds a configuration's arithmetic. */
enum class Precision { kExact, kTf32Inputs, kHalfAccumulate };

bool tf32Allowed() {
  const char* override = std::getenv("NVIDIA_TF32_OVERRIDE");
  return override == nullptr || std::strcmp(override, "0") != 0;
}

/** The supported-configurations table of cudnnConvolutionForward for these data types. */
int convConfiguration(const char* fn, int dataType, const ConvDesc& conv, Precision* precision) {
  int compute = conv.computeType;
  *precision = Precision::kExact;
  if (dataType == kDataFloat && compute == kDataFloat) {
    // FLOAT_CONFIG
    if (conv.mathType != kMathFma && tf32Allowed()) *precision = Precision::kTf32Inputs;
  } else if (dataType == kDataDouble && compute == kDataDouble) {
    // DOUBLE_CONFIG
  } else if (dataType == kDataHalf && compute == kDataFloat) {
    // PSEUDO_HALF_CONFIG
  } else if (dataType == kDataHalf && compute == kDataHalf) {
    // TRUE_HALF_CONFIG
    *precision = Precision::kHalfAccumulate;
  } else if (dataType == kDataBfloat16 && compute == kDataFloat) {
    // PSEUDO_BFLOAT16_CONFIG
  } else {
    return fail(fn, kNotSupportedDataType,
                "%s data with a %s compute type is none of FLOAT, DOUBLE, PSEUDO_HALF, TRUE_HALF or PSEUDO_BFLOAT16_CONFIG",
                dataTypeName(dataType), dataTypeName(compute));
  }
  return kSuccess;
}

bool algoImplemented(int algo) { return algo == kAlgoImplicitGemm || algo == kAlgoImplicitPrecompGemm || algo == kAlgoGemm; }

int checkAlgo(const char* fn, int algo) {
  if (algo < 0 || algo >= kFwdAlgoCount)
    return fail(fn, kBadParam, "algo %d is not a cudnnConvolutionFwdAlgo_t value (0 to %d)", algo, kFwdAlgoCount - 1);
  if (!algoImplemented(algo))
    return fail(fn, kNotSupported, "algo %d is not supported here (only IMPLICIT_GEMM, IMPLICIT_PRECOMP_GEMM and GEMM are)", algo);
  return kSuccess;
}

/**
 * The workspace each algorithm needs: none for IMPLICIT_GEMM, a table of filter-tap offsets for
 * IMPLICIT_PRECOMP_GEMM and one image-group's unfolded input (im2col) for GEMM.
 */
size_t workspaceBytes(int algo, const ConvGeometry& g, int dataType) {
  if (algo == kAlgoImplicitPrecompGemm) return size_t(g.cPerGroup * g.filterTaps) * sizeof(int64_t);
  if (algo == kAlgoGemm) return size_t(g.cPerGroup * g.filterTaps * g.outPositions) * elementBytes(dataType);
  return 0;
}

/** Everything a forward convolution needs, after its descriptors were read and checked. */
struct ConvCall {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  ConvGeometry g;
  Precision precision = Precision::kExact;
};

/**
 * Reads and checks the descriptors of the forward relation y = conv(x, w); the backward calls pass
 * theirs in the same roles (dx for x, dw for w, dy for y) with their own names for messages.
 */
int prepareConvolution(const char* fn, const void* xDesc, const void* wDesc, const void* convDesc, const void* yDesc, ConvCall& call,
                       const ConvRoles& roles = kForwardRoles) {
  Object x, w, conv, y;
  int status;
  if ((status = snapshot(fn, roles.x, xDesc, Kind::kTensor, x)) || (status = snapshot(fn, roles.w, wDesc, Kind::kFilter, w)) ||
      (status = snapshot(fn, "convDesc", convDesc, Kind::kConvolution, conv)) ||
      (status = snapshot(fn, roles.y, yDesc, Kind::kTensor, y)))
    return status;
  call.x = x.tensor;
  call.w = w.filter;
  call.conv = conv.conv;
  call.y = y.tensor;
  if ((status = convGeometry(fn, call.x, call.w, call.conv, call.g, roles)) || (status = checkConvOutput(fn, call.g, call.x, call.y, roles)))
    return status;
  return convConfiguration(fn, call.x.dtype, call.conv, &call.precision);
}

/** Element offset of filter element (k, c, tap) in the filter's format. */
int64_t filterOffset(const ConvCall& call, int64_t k, int64_t c, int64_t tap) {
  const ConvGeometry& g = call.g;
  if (call.w.format == kFormatNhwc) return (k * g.filterTaps + tap) * g.cPerGroup + c;
  return (k * g.cPerGroup + c) * g.filterTaps + tap;
}

/** The spatial coordinates of a row-major index over dims. */
void unravel(int64_t index, int count, const int64_t* dims, int64_t* coords) {
  for (int i = count - 1; i >= 0; --i) {
    coords[i] = index % dims[i];
    index /= dims[i];
  }
}

/** Reads an operand as the configuration's arithmetic does: FLOAT_CONFIG off CUDNN_FMA_MATH in TF32. */
double readOperand(Precision precision, double v) { return precision == Precision::kTf32Inputs ? toTf32(v) : v; }

/** sum += term in the configuration's accumulator (half precision for TRUE_HALF_CONFIG, else double). */
void accumulate(Precision precision, double& sum, double term) {
  sum += term;
  if (precision == Precision::kHalfAccumulate) sum = toHalf(sum);
}

/** A tensor of dims [n][c][spatial...], read densely in that order as the arithmetic reads it. */
std::vector<double> loadDenseTensor(const TensorDesc& t, const void* p, Precision precision) {
  std::vector<int64_t> spatial = offsetTable(t.nbDims, t.dims, t.strides, 2);
  int64_t positions = int64_t(spatial.size());
  std::vector<double> values(size_t(t.dims[0] * t.dims[1] * positions));
  for (int64_t n = 0; n < t.dims[0]; ++n)
    for (int64_t c = 0; c < t.dims[1]; ++c)
      for (int64_t q = 0; q < positions; ++q)
        values[size_t((n * t.dims[1] + c) * positions + q)] =
            readOperand(precision, loadElement(p, t.dtype, n * t.strides[0] + c * t.strides[1] + spatial[size_t(q)]));
  return values;
}

/**
 * The filter tap that the row-major tap t of the applied kernel reads: CUDNN_CONVOLUTION mirrors the
 * filter in every spatial dim (all taps reversed), CUDNN_CROSS_CORRELATION reads it as it is.
 */
int64_t storedTap(const ConvCall& call, int64_t t) { return call.conv.mode == kConvolution ? call.g.filterTaps - 1 - t : t; }

/** The filter densely as the applied kernel, [k][c][tap] with its taps in row-major order. */
std::vector<double> loadDenseFilter(const ConvCall& call, const void* w) {
  const ConvGeometry& g = call.g;
  std::vector<double> values(size_t(g.k * g.cPerGroup * g.filterTaps));
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t c = 0; c < g.cPerGroup; ++c)
      for (int64_t t = 0; t < g.filterTaps; ++t)
        values[size_t((k * g.cPerGroup + c) * g.filterTaps + t)] =
            readOperand(call.precision, loadElement(w, call.w.dtype, filterOffset(call, k, c, storedTap(call, t))));
  return values;
}

/** For each output position and tap, the row-major input position it reads (-1 in the padding). */
std::vector<int64_t> tapPositions(const ConvGeometry& g) {
  std::vector<int64_t> taps(size_t(g.outPositions * g.filterTaps));
  int64_t outCoord[kDimMax], tapCoord[kDimMax];
  for (int64_t o = 0; o < g.outPositions; ++o) {
    unravel(o, g.spatial, g.out, outCoord);
    for (int64_t t = 0; t < g.filterTaps; ++t) {
      unravel(t, g.spatial, g.filter, tapCoord);
      int64_t position = 0;
      for (int i = 0; i < g.spatial && position >= 0; ++i) {
        int64_t at = outCoord[i] * g.stride[i] - g.pad[i] + tapCoord[i] * g.dilation[i];
        position = at < 0 || at >= g.in[i] ? -1 : position * g.in[i] + at;
      }
      taps[size_t(o * g.filterTaps + t)] = position;
    }
  }
  return taps;
}

int64_t inPositions(const ConvGeometry& g) {
  int64_t positions = 1;
  for (int i = 0; i < g.spatial; ++i) positions *= g.in[i];
  return positions;
}

/** y = alpha * conv(x, w) + beta * y: y[n][k][o] sums x[n][group's c][tap position] * w[k][c][tap]. */
void runConvolution(const ConvCall& call, const void* x, const void* w, void* y, double alpha, double beta) {
  const ConvGeometry& g = call.g;
  std::vector<double> xs = loadDenseTensor(call.x, x, call.precision), ws = loadDenseFilter(call, w);
  std::vector<int64_t> taps = tapPositions(g);
  int64_t inCount = inPositions(g);
  std::vector<int64_t> ySpatial = offsetTable(call.y.nbDims, call.y.dims, call.y.strides, 2);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k) {
      int64_t group = k / g.kPerGroup;
      for (int64_t o = 0; o < g.outPositions; ++o) {
        double sum = 0;
        for (int64_t c = 0; c < g.cPerGroup; ++c) {
          const double* image = &xs[size_t((n * g.c + group * g.cPerGroup + c) * inCount)];
          const double* filter = &ws[size_t((k * g.cPerGroup + c) * g.filterTaps)];
          for (int64_t t = 0; t < g.filterTaps; ++t) {
            int64_t position = taps[size_t(o * g.filterTaps + t)];
            if (position >= 0) accumulate(call.precision, sum, image[position] * filter[t]);
          }
        }
        blendStore(y, call.y.dtype, n * call.y.strides[0] + k * call.y.strides[1] + ySpatial[size_t(o)], sum, alpha, beta);
      }
    }
}

/**
 * dw = alpha * dL/dw + beta * dw for the forward y = conv(x, w) and dL/dy = dy: each applied tap
 * (k, c, t) sums x[n][group's c][tap position] * dy[n][k][o] over images and output positions, and
 * lands on the stored tap it came from (mirrored back for CUDNN_CONVOLUTION).
 */
void runBackwardFilter(const ConvCall& call, const void* x, const void* dy, void* dw, double alpha, double beta) {
  const ConvGeometry& g = call.g;
  std::vector<double> xs = loadDenseTensor(call.x, x, call.precision), dys = loadDenseTensor(call.y, dy, call.precision);
  std::vector<int64_t> taps = tapPositions(g);
  int64_t inCount = inPositions(g);
  for (int64_t k = 0; k < g.k; ++k) {
    int64_t group = k / g.kPerGroup;
    for (int64_t c = 0; c < g.cPerGroup; ++c)
      for (int64_t t = 0; t < g.filterTaps; ++t) {
        double sum = 0;
        for (int64_t n = 0; n < g.n; ++n) {
          const double* image = &xs[size_t((n * g.c + group * g.cPerGroup + c) * inCount)];
          const double* gradient = &dys[size_t((n * g.k + k) * g.outPositions)];
          for (int64_t o = 0; o < g.outPositions; ++o) {
            int64_t position = taps[size_t(o * g.filterTaps + t)];
            if (position >= 0) accumulate(call.precision, sum, image[position] * gradient[o]);
          }
        }
        blendStore(dw, call.w.dtype, filterOffset(call, k, c, storedTap(call, t)), sum, alpha, beta);
      }
  }
}

/**
 * dx = alpha * dL/dx + beta * dx, the forward's transpose applied to dy: every product
 * w[k][c][tap] * dy[n][k][o] adds to the input position that tap read (none from the padding).
 */
void runBackwardData(const ConvCall& call, const void* w, const void* dy, void* dx, double alpha, double beta) {
  const ConvGeometry& g = call.g;
  std::vector<double> ws = loadDenseFilter(call, w), dys = loadDenseTensor(call.y, dy, call.precision);
  std::vector<int64_t> taps = tapPositions(g);
  int64_t inCount = inPositions(g);
  std::vector<double> dxs(size_t(g.n * g.c * inCount), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k) {
      int64_t group = k / g.kPerGroup;
      const double* gradient = &dys[size_t((n * g.k + k) * g.outPositions)];
      for (int64_t o = 0; o < g.outPositions; ++o)
        for (int64_t c = 0; c < g.cPerGroup; ++c) {
          double* image = &dxs[size_t((n * g.c + group * g.cPerGroup + c) * inCount)];
          const double* filter = &ws[size_t((k * g.cPerGroup + c) * g.filterTaps)];
          for (int64_t t = 0; t < g.filterTaps; ++t) {
            int64_t position = taps[size_t(o * g.filterTaps + t)];
            if (position >= 0) accumulate(call.precision, image[position], filter[t] * gradient[o]);
          }
        }
    }
  std::vector<int64_t> dxSpatial = offsetTable(call.x.nbDims, call.x.dims, call.x.strides, 2);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t q = 0; q < inCount; ++q)
        blendStore(dx, call.x.dtype, n * call.x.strides[0] + c * call.x.strides[1] + dxSpatial[size_t(q)],
                   dxs[size_t((n * g.c + c) * inCount + q)], alpha, beta);
}

// ---- backward convolutions: algorithms and workspaces ----

/**
 * How an algorithm computes, which decides what it supports and the workspace it needs. The
 * emulation computes every supported one the same exact way; it offers a subset of what cuDNN
 * documents (a real cuDNN's support varies with the GPU too), never more.
 */
enum class Method {
  kImplicitSum,       // ALGO_0: sums of matrix products with atomic adds, no workspace (non-deterministic)
  kGemm,              // ALGO_1: explicit matrix products over an unfolded (im2col / col2im) buffer
  kSplitGemm,         // backward filter ALGO_3: partial sums of dw per batch slice (non-deterministic)
  kFft,               // FFT: transforms of whole padded planes
  kFftTiling,         // FFT_TILING: transforms of 32-wide tiles
  kWinograd,          // backward data WINOGRAD: not offered here
  kWinogradNonfused,  // WINOGRAD_NONFUSED: not offered here
  kNotImplemented,    // backward filter WINOGRAD: "not implemented" in cuDNN itself (cudnn_ops.h)
};

/** One cudnnConvolutionBwdFilterAlgo_t or cudnnConvolutionBwdDataAlgo_t value. */
struct BwdAlgo {
  int value;
  const char* name;
  Method method;
  bool deterministic;  // cudnn_ops.h marks filter ALGO_0 and ALGO_3, and data ALGO_0, non-deterministic
};

// Indexed by value: cudnn_ops.h of cuDNN 9 (CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7, _DATA_ALGO_COUNT = 6).
constexpr BwdAlgo kBwdFilterAlgos[] = {
    {0, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0", Method::kImplicitSum, false},
    {1, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1", Method::kGemm, true},
    {2, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT", Method::kFft, true},
    {3, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3", Method::kSplitGemm, false},
    {4, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD", Method::kNotImplemented, true},
    {5, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED", Method::kWinogradNonfused, true},
    {6, "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING", Method::kFftTiling, true},
};
constexpr BwdAlgo kBwdDataAlgos[] = {
    {0, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_0", Method::kImplicitSum, false},
    {1, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_1", Method::kGemm, true},
    {2, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT", Method::kFft, true},
    {3, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING", Method::kFftTiling, true},
    {4, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD", Method::kWinograd, true},
    {5, "CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED", Method::kWinogradNonfused, true},
};

struct BwdAlgoTable {
  const char* typeName;
  const BwdAlgo* algos;
  int count;
};
constexpr BwdAlgoTable kBwdFilterTable{"cudnnConvolutionBwdFilterAlgo_t", kBwdFilterAlgos, 7};
constexpr BwdAlgoTable kBwdDataTable{"cudnnConvolutionBwdDataAlgo_t", kBwdDataAlgos, 6};

/**
 * The emulation's "heuristic" ranking of the methods it offers: the workspace-hungry GEMM first, so
 * that callers exercise the workspace, then the FFTs (where the problem allows them), then the
 * non-deterministic ones.
 */
constexpr Method kBwdPreference[] = {Method::kGemm, Method::kFftTiling, Method::kFft, Method::kSplitGemm, Method::kImplicitSum};

/** Whether the spatial dims of t are packed (innermost stride 1, each outer one the span of the inner). */
bool spatiallyPacked(const TensorDesc& t) {
  int64_t expected = 1;
  for (int i = t.nbDims - 1; i >= 2; --i) {
    if (t.dims[i] > 1 && t.strides[i] != expected) return false;
    expected *= t.dims[i];
  }
  return true;
}

/** The documented limits of the FFT methods: 2D, NCHW filter, HW-packed planes, stride and dilation 1, ... */
std::string fftLimits(const ConvCall& call, Method method) {
  const ConvGeometry& g = call.g;
  char why[256];
  bool floatConfig = call.x.dtype == kDataFloat, pseudoHalf = call.x.dtype == kDataHalf && call.conv.computeType == kDataFloat;
  if (g.spatial != 2) return "the FFT algorithms here take 2D convolutions only";
  if (!floatConfig && !pseudoHalf) return "the FFT algorithms take FLOAT_CONFIG and PSEUDO_HALF_CONFIG only";
  if (call.w.format != kFormatNchw) return "the FFT algorithms take NCHW filters only";
  if (!spatiallyPacked(call.x) || !spatiallyPacked(call.y)) return "the FFT algorithms take HW-packed x and dy planes only";
  for (int i = 0; i < g.spatial; ++i) {
    if (g.stride[i] != 1) return "the FFT algorithms need filter strides of 1";
    if (g.dilation[i] != 1) return "the FFT algorithms need dilations of 1";
    if (g.filter[i] <= g.pad[i]) {
      std::snprintf(why, sizeof why, "spatial dim %d: the filter (%lld) must be larger than the padding (%lld)", i, (long long)g.filter[i],
                    (long long)g.pad[i]);
      return why;
    }
    if (method == Method::kFft && g.in[i] + 2 * g.pad[i] > 256) {
      std::snprintf(why, sizeof why, "spatial dim %d: FFT needs the padded input (%lld + 2 x %lld) to be 256 or less", i, (long long)g.in[i],
                    (long long)g.pad[i]);
      return why;
    }
    if (method == Method::kFftTiling && g.filter[i] > 32) {
      std::snprintf(why, sizeof why, "spatial dim %d: FFT_TILING needs a filter of 32 or less, not %lld", i, (long long)g.filter[i]);
      return why;
    }
  }
  return "";
}

/** Why an algorithm cannot compute this convolution here, or "" when it can. */
std::string unsupportedBecause(const BwdAlgo& algo, const ConvCall& call) {
  switch (algo.method) {
    case Method::kImplicitSum:
    case Method::kGemm: return "";
    case Method::kSplitGemm:
      // A subset of ALGO_3's documented support: NCHW filters, 2D, no dilation, not TRUE_HALF_CONFIG.
      if (call.g.spatial != 2 || call.w.format != kFormatNchw) return "ALGO_3 takes 2D convolutions with NCHW filters only";
      for (int i = 0; i < call.g.spatial; ++i)
        if (call.g.dilation[i] != 1) return "ALGO_3 needs dilations of 1";
      if (call.precision == Precision::kHalfAccumulate) return "ALGO_3 does not take TRUE_HALF_CONFIG";
      return "";
    case Method::kFft:
    case Method::kFftTiling: return fftLimits(call, algo.method);
    case Method::kWinograd:
    case Method::kWinogradNonfused: return "the Winograd algorithms are not offered by this emulation";
    case Method::kNotImplemented: return "cuDNN does not implement it (cudnn_ops.h: \"not implemented\")";
  }
  return "unknown algorithm";
}

/** Bytes of the spectra an FFT method keeps: the padded x planes, the dy planes and the filters, in complex float. */
size_t fftWorkspaceBytes(const ConvGeometry& g, bool tiled) {
  int64_t bins = 1;  // a real-to-complex transform keeps half of the innermost dim, plus one
  for (int i = 0; i < g.spatial; ++i) {
    int64_t extent = g.in[i] + 2 * g.pad[i];
    if (tiled) extent = std::min<int64_t>(extent, 32);
    bins *= i == g.spatial - 1 ? extent / 2 + 1 : extent;
  }
  int64_t planes = g.n * g.c + g.n * g.k + g.k * g.cPerGroup;
  return size_t(planes * bins) * 8;
}

/**
 * The workspace a supported algorithm needs: none for ALGO_0; one image-group's unfolded columns for
 * ALGO_1 (im2col for the filter gradient, the col2im buffer for the data gradient); partial sums of dw
 * for up to four batch slices in the compute type for ALGO_3; spectra for the FFTs.
 */
size_t bwdWorkspaceBytes(const BwdAlgo& algo, const ConvCall& call) {
  const ConvGeometry& g = call.g;
  switch (algo.method) {
    case Method::kGemm: return size_t(g.cPerGroup * g.filterTaps * g.outPositions) * elementBytes(call.x.dtype);
    case Method::kSplitGemm:
      return size_t(g.k * g.cPerGroup * g.filterTaps * std::min<int64_t>(g.n, 4)) * (call.x.dtype == kDataDouble ? 8 : 4);
    case Method::kFft: return fftWorkspaceBytes(g, false);
    case Method::kFftTiling: return fftWorkspaceBytes(g, true);
    default: return 0;
  }
}

/** The algorithm named by value, when it is one of the type's values and supports this convolution here. */
int checkBwdAlgo(const char* fn, const BwdAlgoTable& table, int value, const ConvCall& call, const BwdAlgo** out) {
  if (value < 0 || value >= table.count)
    return fail(fn, kBadParam, "algo %d is not a %s value (0 to %d)", value, table.typeName, table.count - 1);
  const BwdAlgo& algo = table.algos[value];
  std::string why = unsupportedBecause(algo, call);
  if (!why.empty()) return fail(fn, kNotSupported, "%s does not support this convolution: %s", algo.name, why.c_str());
  *out = &algo;
  return kSuccess;
}

/** cudnnConvolution{Fwd,BwdFilter,BwdData}AlgoPerf_t: the three share this layout (cudnn_cnn.h). */
struct AlgoPerf {
  int algo;
  int status;
  float time;
  size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
};
static_assert(sizeof(AlgoPerf) == 48 && offsetof(AlgoPerf, memory) == 16 && offsetof(AlgoPerf, determinism) == 24,
              "cudnnConvolution*AlgoPerf_t's layout");

/**
 * Fills perfResults as cudnnGetConvolutionBackward*Algorithm_v7 does: at most requestedAlgoCount
 * entries, the supported ones first in the emulation's ranking, then the others with status
 * CUDNN_STATUS_NOT_SUPPORTED, as real results list algorithms a configuration cannot use.
 */
int rankBwdAlgorithms(const BwdAlgoTable& table, const ConvCall& call, int requested, AlgoPerf* results) {
  std::vector<const BwdAlgo*> order;
  for (Method method : kBwdPreference)
    for (int i = 0; i < table.count; ++i)
      if (table.algos[i].method == method && unsupportedBecause(table.algos[i], call).empty()) order.push_back(&table.algos[i]);
  size_t supported = order.size();
  for (int i = 0; i < table.count; ++i)
    if (!unsupportedBecause(table.algos[i], call).empty()) order.push_back(&table.algos[i]);
  int count = std::min(requested, table.count);
  for (int i = 0; i < count; ++i) {
    bool ok = size_t(i) < supported;
    AlgoPerf r{};
    r.algo = order[size_t(i)]->value;
    r.status = ok ? kSuccess : kNotSupported;
    r.time = ok ? 0.25f * float(i + 1) : -1.0f;
    r.memory = ok ? bwdWorkspaceBytes(*order[size_t(i)], call) : 0;
    r.determinism = order[size_t(i)]->deterministic ? kDeterministic : kNonDeterministic;
    r.mathType = call.conv.mathType;
    results[i] = r;
  }
  return count;
}

/** Checks that the workspace given is at least what the algorithm needs (before any operand is read). */
int checkWorkspaceSize(const char* fn, int algo, size_t given, size_t needed) {
  if (given >= needed) return kSuccess;
  return fail(fn, kBadParamSizeInsufficient, "algo %d needs %zu bytes of workspace but %zu were given", algo, needed, given);
}

/**
 * Checks a workspace of `given` bytes (when any are given: non-null, inside one live allocation,
 * disjoint from every operand), then scribbles over the `needed` bytes the algorithm uses, as the
 * GPU's cuDNN leaves its scratch there too.
 */
int useWorkspace(const char* fn, void* workSpace, size_t given, size_t needed, std::initializer_list<Extent> operands) {
  if (given == 0) return kSuccess;
  if (workSpace == nullptr) return fail(fn, kBadParamNull, "workSpace is null but workSpaceSizeInBytes is %zu", given);
  if (!flint_emu::vendor::deviceRange(workSpace, given))
    return fail(fn, kExecutionFailed, "workSpace (%p, %zu bytes) does not lie inside one live device allocation", workSpace, given);
  int status = checkDisjoint(fn, {"workSpace", workSpace, given}, operands);
  if (status) return status;
  std::memset(workSpace, 0xa5, needed);
  return kSuccess;
}

/** The extent a filter operand's descriptor makes a call touch (filters are dense). */
Extent filterExtent(const char* name, const void* p, const ConvCall& call) {
  return {name, p, size_t(call.g.k * call.g.cPerGroup * call.g.filterTaps) * elementBytes(call.w.dtype)};
}

// ---- pooling ----

struct PoolCall {
  TensorDesc x, y;
  PoolDesc pool;
  int64_t out[kDimMax] = {};
};

/** Output dims: 1 + (in + 2 pad - window) / stride per spatial dim; false when one is not positive. */
bool poolOutputDims(const PoolDesc& pool, const TensorDesc& x, int64_t* out) {
  out[0] = x.dims[0];
  out[1] = x.dims[1];
  for (int i = 0; i < pool.spatial; ++i) {
    int64_t room = x.dims[i + 2] + 2 * pool.pad[i] - pool.window[i];
    if (room < 0) return false;
    out[i + 2] = 1 + room / pool.stride[i];
  }
  return true;
}

int preparePooling(const char* fn, const void* poolDesc, const void* xDesc, const void* yDesc, PoolCall& call) {
  Object pool, x, y;
  int status;
  if ((status = snapshot(fn, "poolingDesc", poolDesc, Kind::kPooling, pool)) || (status = snapshot(fn, "xDesc", xDesc, Kind::kTensor, x)) ||
      (status = snapshot(fn, "yDesc", yDesc, Kind::kTensor, y)))
    return status;
  call.pool = pool.pool;
  call.x = x.tensor;
  call.y = y.tensor;
  const TensorDesc &xd = call.x, &yd = call.y;
  const PoolDesc& p = call.pool;
  if (xd.nbDims != p.spatial + 2)
    return fail(fn, kBadParam, "xDesc has %d dims but the pooling descriptor has %d spatial dims", xd.nbDims, p.spatial);
  if (xd.nbDims != 4 && xd.nbDims != 5) return fail(fn, kNotSupported, "pooling takes 2 or 3 spatial dims, not %d", p.spatial);
  if (yd.nbDims != xd.nbDims) return fail(fn, kBadParam, "yDesc has %d dims but xDesc has %d", yd.nbDims, xd.nbDims);
  if (yd.dtype != xd.dtype)
    return fail(fn, kBadParam, "yDesc's data type is %s but xDesc's is %s", dataTypeName(yd.dtype), dataTypeName(xd.dtype));
  if (elementBytes(xd.dtype) == 0) return fail(fn, kNotSupportedDataType, "pooling of %s data is not supported here", dataTypeName(xd.dtype));
  if (yd.dims[0] != xd.dims[0] || yd.dims[1] != xd.dims[1])
    return fail(fn, kBadParam, "y's n, c (%lld, %lld) differ from x's (%lld, %lld)", (long long)yd.dims[0], (long long)yd.dims[1],
                (long long)xd.dims[0], (long long)xd.dims[1]);
  if (xd.strides[xd.nbDims - 1] != 1 || yd.strides[yd.nbDims - 1] != 1)
    return fail(fn, kNotSupportedLayout, "the innermost (w) stride of x (%lld) or y (%lld) is not 1", (long long)xd.strides[xd.nbDims - 1],
                (long long)yd.strides[yd.nbDims - 1]);
  if (!poolOutputDims(p, xd, call.out))
    return fail(fn, kBadParam, "a window (%s) is larger than the padded input %s", listText(p.window, p.spatial).c_str(),
                listText(xd.dims, xd.nbDims).c_str());
  for (int i = 0; i < xd.nbDims; ++i)
    if (yd.dims[i] != call.out[i])
      return fail(fn, kBadParamShapeMismatch, "yDesc's dims are %s but pooling gives %s (1 + (in + 2 pad - window) / stride)",
                  listText(yd.dims, yd.nbDims).c_str(), listText(call.out, xd.nbDims).c_str());
  bool needsRealCell = p.mode != kPoolAverageInclude;
  for (int i = 0; i < p.spatial && needsRealCell; ++i)
    if (p.pad[i] >= p.window[i])
      return fail(fn, kNotSupported, "spatial dim %d: padding %lld >= window %lld leaves windows with no input cell, whose result cuDNN does not document",
                  i, (long long)p.pad[i], (long long)p.window[i]);
  return kSuccess;
}

void runPooling(const PoolCall& call, const void* x, void* y, double alpha, double beta) {
  const TensorDesc &xd = call.x, &yd = call.y;
  const PoolDesc& p = call.pool;
  const int s = p.spatial;
  std::vector<int64_t> ySpatial = offsetTable(yd.nbDims, yd.dims, yd.strides, 2);
  int64_t windowCells = 1;
  for (int i = 0; i < s; ++i) windowCells *= p.window[i];
  int64_t outCoord[kDimMax], cell[kDimMax];
  for (int64_t n = 0; n < xd.dims[0]; ++n)
    for (int64_t c = 0; c < xd.dims[1]; ++c)
      for (size_t o = 0; o < ySpatial.size(); ++o) {
        unravel(int64_t(o), s, call.out + 2, outCoord);
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        bool sawNan = false;
        int64_t count = 0;
        for (int64_t w = 0; w < windowCells; ++w) {
          unravel(w, s, p.window, cell);
          int64_t offset = n * xd.strides[0] + c * xd.strides[1];
          bool inside = true;
          for (int i = 0; i < s && inside; ++i) {
            int64_t at = outCoord[i] * p.stride[i] - p.pad[i] + cell[i];
            inside = at >= 0 && at < xd.dims[i + 2];
            offset += at * xd.strides[i + 2];
          }
          if (!inside) continue;  // padding: no part in a max, zero in a sum
          double v = loadElement(x, xd.dtype, offset);
          ++count;
          sum += v;
          if (std::isnan(v)) sawNan = true;
          else best = std::max(best, v);
        }
        double result;
        if (p.mode == kPoolMax || p.mode == kPoolMaxDeterministic) {
          result = sawNan && p.nanOpt == kPropagateNan ? std::nan("") : best;
        } else {
          result = sum / double(p.mode == kPoolAverageExclude ? count : windowCells);
        }
        blendStore(y, yd.dtype, n * yd.strides[0] + c * yd.strides[1] + ySpatial[o], result, alpha, beta);
      }
}

// ---- batch normalization ----

/** A batch normalization's data and parameter layouts, checked as cuDNN documents them. */
struct BnCall {
  int mode = 0;
  TensorDesc x, param;
  int64_t n = 0, c = 0, positions = 1;  // positions: product of the spatial dims
  std::vector<int64_t> xSpatial, paramSpatial;

  bool spatial() const { return mode != kBnPerActivation; }
  int64_t groups() const { return spatial() ? c : c * positions; }
  int64_t members() const { return spatial() ? n * positions : n; }
  /** Dense [n][c][position] index of a group's j-th member. */
  int64_t member(int64_t group, int64_t j) const {
    if (spatial()) return ((j / positions) * c + group) * positions + j % positions;
    return (j * c + group / positions) * positions + group % positions;
  }
  int64_t paramOffset(int64_t group) const {
    if (spatial()) return group * param.strides[1];
    return (group / positions) * param.strides[1] + paramSpatial[size_t(group % positions)];
  }
  /** Element offset in a data tensor (of x's dims) of dense index i. */
  int64_t dataOffset(const TensorDesc& t, const std::vector<int64_t>& spatialTable, int64_t i) const {
    return (i / (c * positions)) * t.strides[0] + ((i / positions) % c) * t.strides[1] + spatialTable[size_t(i % positions)];
  }
};

/** Checks a data tensor against x: same dims and data type. */
int checkSameAsX(const char* fn, const char* name, const TensorDesc& x, const TensorDesc& t) {
  bool same = t.nbDims == x.nbDims && t.dtype == x.dtype;
  for (int i = 0; same && i < x.nbDims; ++i) same = t.dims[i] == x.dims[i];
  if (same) return kSuccess;
  return fail(fn, kBadParam, "%s (%s %s) does not match xDesc (%s %s)", name, dataTypeName(t.dtype), listText(t.dims, t.nbDims).c_str(),
              dataTypeName(x.dtype), listText(x.dims, x.nbDims).c_str());
}

int prepareBatchNorm(const char* fn, int mode, const void* xDesc, const void* paramDesc, double epsilon, BnCall& call) {
  if (mode < kBnPerActivation || mode > kBnSpatialPersistent)
    return fail(fn, kBadParam, "mode %d is not a cudnnBatchNormMode_t value", mode);
  Object x, param;
  int status;
  if ((status = snapshot(fn, "xDesc", xDesc, Kind::kTensor, x)) || (status = snapshot(fn, "bnScaleBiasMeanVarDesc", paramDesc, Kind::kTensor, param)))
    return status;
  call.mode = mode;
  call.x = x.tensor;
  call.param = param.tensor;
  const TensorDesc &xd = call.x, &pd = call.param;
  if (xd.nbDims != 4 && xd.nbDims != 5) return fail(fn, kBadParam, "batch normalization takes 4D or 5D tensors, not %dD", xd.nbDims);
  if (elementBytes(xd.dtype) == 0) return fail(fn, kNotSupportedDataType, "%s data is not supported here", dataTypeName(xd.dtype));
  int paramType = xd.dtype == kDataDouble ? kDataDouble : kDataFloat;
  if (pd.dtype != paramType)
    return fail(fn, kBadParam, "the scale/bias/mean/variance descriptor is %s but %s data needs %s", dataTypeName(pd.dtype),
                dataTypeName(xd.dtype), dataTypeName(paramType));
  int64_t expected[kDimMax] = {1, xd.dims[1]};
  for (int i = 2; i < xd.nbDims; ++i) expected[i] = call.spatial() ? 1 : xd.dims[i];
  bool match = pd.nbDims == xd.nbDims;
  for (int i = 0; match && i < xd.nbDims; ++i) match = pd.dims[i] == expected[i];
  if (!match)
    return fail(fn, kBadParam, "the scale/bias/mean/variance descriptor's dims are %s but %s mode on x %s needs %s",
                listText(pd.dims, pd.nbDims).c_str(), call.spatial() ? "spatial" : "per-activation", listText(xd.dims, xd.nbDims).c_str(),
                listText(expected, xd.nbDims).c_str());
  if (!(epsilon >= kBnMinEpsilon)) return fail(fn, kBadParam, "epsilon %g is less than CUDNN_BN_MIN_EPSILON (%g)", epsilon, kBnMinEpsilon);
  call.n = xd.dims[0];
  call.c = xd.dims[1];
  for (int i = 2; i < xd.nbDims; ++i) call.positions *= xd.dims[i];
  call.xSpatial = offsetTable(xd.nbDims, xd.dims, xd.strides, 2);
  call.paramSpatial = offsetTable(pd.nbDims, pd.dims, pd.strides, 2);
  return kSuccess;
}

/** Reads a data tensor of x's dims densely as [n][c][position]. */
std::vector<double> loadDense(const BnCall& call, const TensorDesc& t, const void* p) {
  std::vector<int64_t> table = offsetTable(t.nbDims, t.dims, t.strides, 2);
  std::vector<double> values(size_t(call.n * call.c * call.positions));
  for (size_t i = 0; i < values.size(); ++i) values[i] = loadElement(p, t.dtype, call.dataOffset(t, table, int64_t(i)));
  return values;
}

/** A group's mean and biased variance (two passes, in double). */
void groupMoments(const BnCall& call, const std::vector<double>& xs, int64_t group, double* mean, double* variance) {
  int64_t m = call.members();
  double sum = 0;
  for (int64_t j = 0; j < m; ++j) sum += xs[size_t(call.member(group, j))];
  *mean = sum / double(m);
  double squares = 0;
  for (int64_t j = 0; j < m; ++j) {
    double d = xs[size_t(call.member(group, j))] - *mean;
    squares += d * d;
  }
  *variance = squares / double(m);
}

Extent paramExtent(const BnCall& call, const char* name, const void* p) { return {name, p, tensorBytes(call.param)}; }

/**
 * Checks the parameter-shaped operands (scale, bias, statistics; null ones are absent): each
 * inside its allocation, and each output disjoint from every other operand of the call.
 */
int checkParams(const char* fn, const BnCall& call, const std::vector<Extent>& inputs, const std::vector<Extent>& outputs,
                const std::vector<Extent>& dataOperands) {
  int status;
  size_t bytes = elementBytes(call.param.dtype);
  for (const Extent& e : inputs)
    if ((status = checkOperand(fn, e, bytes))) return status;
  for (const Extent& e : outputs)
    if ((status = checkOperand(fn, e, bytes))) return status;
  if (!outputs.empty() && (status = checkOutputLayout(fn, "a scale/bias/mean/variance output", call.param))) return status;
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (const std::vector<Extent>* others : {&inputs, &dataOperands})
      for (const Extent& other : *others)
        if ((status = checkDisjoint(fn, outputs[i], {other}))) return status;
    for (size_t j = 0; j < i; ++j)
      if ((status = checkDisjoint(fn, outputs[i], {outputs[j]}))) return status;
  }
  return kSuccess;
}

/**
 * Checks a data output that may replace its input exactly (in place, same address and layout) but
 * not overlap it, nor any other operand, partly.
 */
int checkDataOutput(const char* fn, const Extent& out, const TensorDesc& outDesc, const Extent& in, const TensorDesc& inDesc,
                    std::initializer_list<Extent> others) {
  int status;
  if ((status = checkOutputLayout(fn, out.name, outDesc))) return status;
  bool inPlace = out.p == in.p && std::memcmp(outDesc.strides, inDesc.strides, sizeof outDesc.strides) == 0 && out.bytes == in.bytes;
  if (!inPlace && (status = checkDisjoint(fn, out, {in}))) return status;
  return checkDisjoint(fn, out, others);
}

}  // namespace

// ---- exported entry points ----

CUDNN_API size_t cudnnGetVersion() { return kVersion; }

CUDNN_API const char* cudnnGetErrorString(int status) {
  switch (status) {
    case 0: return "CUDNN_STATUS_SUCCESS";
    case 1001: return "CUDNN_STATUS_NOT_INITIALIZED";
    case 1002: return "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH";
    case 1003: return "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH";
    case 1004: return "CUDNN_STATUS_DEPRECATED";
    case 1005: return "CUDNN_STATUS_LICENSE_ERROR";
    case 1006: return "CUDNN_STATUS_RUNTIME_IN_PROGRESS";
    case 1007: return "CUDNN_STATUS_RUNTIME_FP_OVERFLOW";
    case 1008: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case 2000: return "CUDNN_STATUS_BAD_PARAM";
    case 2001: return "CUDNN_STATUS_INVALID_VALUE";
    case 2002: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case 2003: return "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER";
    case 2004: return "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED";
    case 2005: return "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND";
    case 2006: return "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT";
    case 2007: return "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH";
    case 2008: return "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH";
    case 2009: return "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES";
    case 2010: return "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE";
    case 2011: return "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH";
    case 2012: return "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE";
    case 3000: return "CUDNN_STATUS_NOT_SUPPORTED";
    case 3001: return "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN";
    case 3002: return "CUDNN_STATUS_NOT_SUPPORTED_SHAPE";
    case 3003: return "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE";
    case 3004: return "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT";
    case 3005: return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER";
    case 3006: return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART";
    case 3007: return "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH";
    case 3008: return "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING";
    case 3009: return "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE";
    case 3010: return "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT";
    case 3011: return "CUDNN_STATUS_NOT_SUPPORTED_PADDING";
    case 3012: return "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM";
    case 3013: return "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API";
    case 4000: return "CUDNN_STATUS_INTERNAL_ERROR";
    case 4001: return "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED";
    case 4002: return "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE";
    case 4003: return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
    case 4004: return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED";
    case 4005: return "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM";
    case 4006: return "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED";
    case 5000: return "CUDNN_STATUS_EXECUTION_FAILED";
    case 5001: return "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER";
    case 5002: return "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS";
    case 5003: return "CUDNN_STATUS_EXECUTION_FAILED_CUDART";
    case 5004: return "CUDNN_STATUS_EXECUTION_FAILED_CURAND";
    default: return "CUDNN_STATUS_UNKNOWN (not a cudnnStatus_t value)";
  }
}

// Handles.

CUDNN_API int cudnnCreate(void** handle) {
  if (handle == nullptr) return fail(__func__, kBadParamNull, "the pointer to receive the handle is null");
  if (!flint_emu::vendor::attached())
    return fail(__func__, kNotInitialized, "this emulated cuDNN serves only the emulated addon (flintEmulationAttach was not called)");
  return createObject(__func__, handle, Kind::kHandle);
}

CUDNN_API int cudnnDestroy(void* handle) { return destroyObject(__func__, handle, Kind::kHandle); }

CUDNN_API int cudnnSetStream(void* handle, void* stream) {
  // Calls finish before they return, as the emulated streams' work does, so any stream will do.
  const char* fn = __func__;
  return update(fn, handle, Kind::kHandle, [&](Object& o) {
    if (o.busy) return fail(fn, kBadParam, "handle %p is in use by a call on another thread", handle);
    o.stream = stream;
    return int(kSuccess);
  });
}

// Tensor descriptors.

CUDNN_API int cudnnCreateTensorDescriptor(void** desc) { return createObject(__func__, desc, Kind::kTensor); }
CUDNN_API int cudnnDestroyTensorDescriptor(void* desc) { return destroyObject(__func__, desc, Kind::kTensor); }

CUDNN_API int cudnnSetTensorNdDescriptor(void* desc, int dataType, int nbDims, const int* dimA, const int* strideA) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kTensor, [&](Object& o) {
    if (dataType < 0 || dataType > kDataTypeLast) return fail(fn, kBadParam, "dataType %d is not a cudnnDataType_t value", dataType);
    if (nbDims < 4 || nbDims > kDimMax)
      return fail(fn, kNotSupported, "nbDims %d is outside [4, CUDNN_DIM_MAX = %d] (give unused dims size 1)", nbDims, kDimMax);
    if (dimA == nullptr || strideA == nullptr) return fail(fn, kBadParamNull, "dimA or strideA is null");
    TensorDesc t;
    t.dtype = dataType;
    t.nbDims = nbDims;
    for (int i = 0; i < nbDims; ++i) {
      if (dimA[i] <= 0) return fail(fn, kBadParam, "dimA[%d] = %d is not positive", i, dimA[i]);
      if (strideA[i] < 0) return fail(fn, kBadParam, "strideA[%d] = %d is negative", i, strideA[i]);
      t.dims[i] = dimA[i];
      t.strides[i] = strideA[i];
    }
    if (spanElements(nbDims, t.dims, t.strides) > kMaxElements)
      return fail(fn, kNotSupported, "the tensor spans more than 2 Giga-elements");
    o.tensor = t;
    o.set = true;
    return int(kSuccess);
  });
}

// Filter descriptors.

CUDNN_API int cudnnCreateFilterDescriptor(void** desc) { return createObject(__func__, desc, Kind::kFilter); }
CUDNN_API int cudnnDestroyFilterDescriptor(void* desc) { return destroyObject(__func__, desc, Kind::kFilter); }

CUDNN_API int cudnnSetFilterNdDescriptor(void* desc, int dataType, int format, int nbDims, const int* filterDimA) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kFilter, [&](Object& o) {
    if (dataType < 0 || dataType > kDataTypeLast) return fail(fn, kBadParam, "dataType %d is not a cudnnDataType_t value", dataType);
    if (format < kFormatNchw || format > kFormatNchwVectC) return fail(fn, kBadParam, "format %d is not a cudnnTensorFormat_t value", format);
    if (format == kFormatNchwVectC) return fail(fn, kNotSupported, "CUDNN_TENSOR_NCHW_VECT_C is only for vectorized integer types");
    if (nbDims < 3) return fail(fn, kBadParam, "nbDims %d: filters have at least 3 dims", nbDims);
    if (nbDims > kDimMax) return fail(fn, kNotSupported, "nbDims %d exceeds CUDNN_DIM_MAX = %d", nbDims, kDimMax);
    if (filterDimA == nullptr) return fail(fn, kBadParamNull, "filterDimA is null");
    FilterDesc f;
    f.dtype = dataType;
    f.format = format;
    f.nbDims = nbDims;
    for (int i = 0; i < nbDims; ++i) {
      if (filterDimA[i] <= 0) return fail(fn, kBadParam, "filterDimA[%d] = %d is not positive", i, filterDimA[i]);
      f.dims[i] = filterDimA[i];
    }
    o.filter = f;
    o.set = true;
    return int(kSuccess);
  });
}

// Convolution descriptors.

CUDNN_API int cudnnCreateConvolutionDescriptor(void** desc) { return createObject(__func__, desc, Kind::kConvolution); }
CUDNN_API int cudnnDestroyConvolutionDescriptor(void* desc) { return destroyObject(__func__, desc, Kind::kConvolution); }

CUDNN_API int cudnnSetConvolutionNdDescriptor(void* desc, int arrayLength, const int* padA, const int* filterStrideA,
                                              const int* dilationA, int mode, int computeType) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kConvolution, [&](Object& o) {
    if (arrayLength <= 0) return fail(fn, kBadParam, "arrayLength %d is not positive", arrayLength);
    if (arrayLength > kDimMax - 2) return fail(fn, kNotSupported, "arrayLength %d exceeds CUDNN_DIM_MAX - 2 = %d", arrayLength, kDimMax - 2);
    if (padA == nullptr || filterStrideA == nullptr || dilationA == nullptr)
      return fail(fn, kBadParamNull, "padA, filterStrideA or dilationA is null");
    if (mode != kConvolution && mode != kCrossCorrelation) return fail(fn, kBadParam, "mode %d is not a cudnnConvolutionMode_t value", mode);
    if (computeType < 0 || computeType > kDataTypeLast)
      return fail(fn, kBadParam, "computeType %d is not a cudnnDataType_t value", computeType);
    ConvDesc c = o.conv;  // keeps the group count and math type set on their own
    c.spatial = arrayLength;
    c.mode = mode;
    c.computeType = computeType;
    for (int i = 0; i < arrayLength; ++i) {
      if (padA[i] < 0) return fail(fn, kBadParam, "padA[%d] = %d is negative", i, padA[i]);
      if (filterStrideA[i] <= 0) return fail(fn, kBadParam, "filterStrideA[%d] = %d is not positive", i, filterStrideA[i]);
      if (dilationA[i] <= 0) return fail(fn, kBadParam, "dilationA[%d] = %d is not positive", i, dilationA[i]);
      c.pad[i] = padA[i];
      c.stride[i] = filterStrideA[i];
      c.dilation[i] = dilationA[i];
    }
    o.conv = c;
    o.set = true;
    return int(kSuccess);
  });
}

CUDNN_API int cudnnSetConvolutionGroupCount(void* desc, int groupCount) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kConvolution, [&](Object& o) {
    if (groupCount < 1) return fail(fn, kBadParam, "groupCount %d is not positive", groupCount);
    o.conv.groups = groupCount;
    return int(kSuccess);
  });
}

CUDNN_API int cudnnSetConvolutionMathType(void* desc, int mathType) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kConvolution, [&](Object& o) {
    if (mathType < kMathDefault || mathType > kMathFma) return fail(fn, kBadParam, "mathType %d is not a cudnnMathType_t value", mathType);
    o.conv.mathType = mathType;
    return int(kSuccess);
  });
}

CUDNN_API int cudnnGetConvolutionNdForwardOutputDim(const void* convDesc, const void* inputTensorDesc, const void* filterDesc, int nbDims,
                                                    int* tensorOuputDimA) {
  const char* fn = __func__;
  Object x, w, conv;
  int status;
  if ((status = snapshot(fn, "convDesc", convDesc, Kind::kConvolution, conv)) ||
      (status = snapshot(fn, "inputTensorDesc", inputTensorDesc, Kind::kTensor, x)) ||
      (status = snapshot(fn, "filterDesc", filterDesc, Kind::kFilter, w)))
    return status;
  ConvGeometry g;
  if ((status = convGeometry(fn, x.tensor, w.filter, conv.conv, g))) return status;
  if (nbDims != g.nbDims) return fail(fn, kBadParam, "nbDims %d is not the input's %d", nbDims, g.nbDims);
  if (tensorOuputDimA == nullptr) return fail(fn, kBadParamNull, "tensorOuputDimA is null");
  tensorOuputDimA[0] = int(g.n);
  tensorOuputDimA[1] = int(g.k);
  for (int i = 0; i < g.spatial; ++i) tensorOuputDimA[i + 2] = int(g.out[i]);
  return kSuccess;
}

// Forward convolution.

CUDNN_API int cudnnGetConvolutionForwardAlgorithm_v7(void* handle, const void* srcDesc, const void* filterDesc, const void* convDesc,
                                                     const void* destDesc, int requestedAlgoCount, int* returnedAlgoCount,
                                                     void* perfResults) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  if (returnedAlgoCount == nullptr || perfResults == nullptr) return fail(fn, kBadParamNull, "returnedAlgoCount or perfResults is null");
  if (requestedAlgoCount <= 0) return fail(fn, kBadParam, "requestedAlgoCount %d is not positive", requestedAlgoCount);
  ConvCall call;
  if ((status = prepareConvolution(fn, srcDesc, filterDesc, convDesc, destDesc, call))) return status;
  // Ranked by the emulation's "heuristic": the workspace-hungry IMPLICIT_PRECOMP_GEMM first, so
  // that callers exercise the workspace, then IMPLICIT_GEMM (none) and GEMM; the rest are listed
  // as NOT_SUPPORTED, as real results list algorithms a configuration cannot use.
  const int order[kFwdAlgoCount] = {kAlgoImplicitPrecompGemm, kAlgoImplicitGemm, kAlgoGemm, 3, 4, 5, 6, 7};
  int count = std::min(requestedAlgoCount, kFwdAlgoCount);
  auto* results = static_cast<AlgoPerf*>(perfResults);
  for (int i = 0; i < count; ++i) {
    AlgoPerf r{};
    r.algo = order[i];
    bool ok = algoImplemented(r.algo);
    r.status = ok ? kSuccess : kNotSupported;
    r.time = ok ? 0.25f * float(i + 1) : -1.0f;
    r.memory = ok ? workspaceBytes(r.algo, call.g, call.x.dtype) : 0;
    r.determinism = kDeterministic;
    r.mathType = call.conv.mathType;
    results[i] = r;
  }
  *returnedAlgoCount = count;
  return kSuccess;
}

CUDNN_API int cudnnGetConvolutionForwardWorkspaceSize(void* handle, const void* xDesc, const void* wDesc, const void* convDesc,
                                                      const void* yDesc, int algo, size_t* sizeInBytes) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  if (sizeInBytes == nullptr) return fail(fn, kBadParamNull, "sizeInBytes is null");
  ConvCall call;
  if ((status = prepareConvolution(fn, xDesc, wDesc, convDesc, yDesc, call)) || (status = checkAlgo(fn, algo))) return status;
  *sizeInBytes = workspaceBytes(algo, call.g, call.x.dtype);
  return kSuccess;
}

CUDNN_API int cudnnConvolutionForward(void* handle, const void* alpha, const void* xDesc, const void* x, const void* wDesc, const void* w,
                                      const void* convDesc, int algo, void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                      const void* yDesc, void* y) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  ConvCall call;
  if ((status = prepareConvolution(fn, xDesc, wDesc, convDesc, yDesc, call)) || (status = checkAlgo(fn, algo))) return status;
  size_t needed = workspaceBytes(algo, call.g, call.x.dtype);
  if ((status = checkWorkspaceSize(fn, algo, workSpaceSizeInBytes, needed))) return status;
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent xe{"x", x, tensorBytes(call.x)}, ye{"y", y, tensorBytes(call.y)}, we = filterExtent("w", w, call);
  if ((status = checkOperand(fn, xe, elementBytes(call.x.dtype))) || (status = checkOperand(fn, we, elementBytes(call.w.dtype))) ||
      (status = checkOperand(fn, ye, elementBytes(call.y.dtype))) || (status = checkOutputLayout(fn, "y", call.y)) ||
      (status = checkDisjoint(fn, ye, {xe, we})) || (status = useWorkspace(fn, workSpace, workSpaceSizeInBytes, needed, {xe, we, ye})))
    return status;
  runConvolution(call, x, w, y, a, b);
  return kSuccess;
}

// Backward convolutions: the filter gradient (dw from x and dy) and the data gradient (dx from w
// and dy) of the forward y = conv(x, w), with the same descriptor checks, configurations, scaling
// parameters and operand checks as the forward, and their own algorithms and workspaces.

namespace {

/** The algorithm query both backward directions share, with the descriptors in the forward's roles (x, w, y). */
int queryBwdAlgorithms(const char* fn, void* handle, const void* xDesc, const void* wDesc, const void* convDesc, const void* yDesc,
                       const ConvRoles& roles, const BwdAlgoTable& table, int requestedAlgoCount, int* returnedAlgoCount, void* perfResults) {
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  if (returnedAlgoCount == nullptr || perfResults == nullptr) return fail(fn, kBadParamNull, "returnedAlgoCount or perfResults is null");
  if (requestedAlgoCount <= 0) return fail(fn, kBadParam, "requestedAlgoCount %d is not positive", requestedAlgoCount);
  ConvCall call;
  if ((status = prepareConvolution(fn, xDesc, wDesc, convDesc, yDesc, call, roles))) return status;
  *returnedAlgoCount = rankBwdAlgorithms(table, call, requestedAlgoCount, static_cast<AlgoPerf*>(perfResults));
  return kSuccess;
}

/** The workspace query both backward directions share, the descriptors as for queryBwdAlgorithms. */
int bwdWorkspaceSize(const char* fn, void* handle, const void* xDesc, const void* wDesc, const void* convDesc, const void* yDesc,
                     const ConvRoles& roles, const BwdAlgoTable& table, int algo, size_t* sizeInBytes) {
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  if (sizeInBytes == nullptr) return fail(fn, kBadParamNull, "sizeInBytes is null");
  ConvCall call;
  const BwdAlgo* chosen = nullptr;
  if ((status = prepareConvolution(fn, xDesc, wDesc, convDesc, yDesc, call, roles)) || (status = checkBwdAlgo(fn, table, algo, call, &chosen)))
    return status;
  *sizeInBytes = bwdWorkspaceBytes(*chosen, call);
  return kSuccess;
}

}  // namespace

CUDNN_API int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void* handle, const void* srcDesc, const void* diffDesc, const void* convDesc,
                                                            const void* gradDesc, int requestedAlgoCount, int* returnedAlgoCount,
                                                            void* perfResults) {
  return queryBwdAlgorithms(__func__, handle, srcDesc, gradDesc, convDesc, diffDesc, kBwdFilterRoles, kBwdFilterTable, requestedAlgoCount,
                            returnedAlgoCount, perfResults);
}

CUDNN_API int cudnnGetConvolutionBackwardFilterWorkspaceSize(void* handle, const void* xDesc, const void* dyDesc, const void* convDesc,
                                                             const void* gradDesc, int algo, size_t* sizeInBytes) {
  return bwdWorkspaceSize(__func__, handle, xDesc, gradDesc, convDesc, dyDesc, kBwdFilterRoles, kBwdFilterTable, algo, sizeInBytes);
}

CUDNN_API int cudnnConvolutionBackwardFilter(void* handle, const void* alpha, const void* xDesc, const void* x, const void* dyDesc,
                                             const void* dy, const void* convDesc, int algo, void* workSpace, size_t workSpaceSizeInBytes,
                                             const void* beta, const void* dwDesc, void* dw) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  ConvCall call;
  const BwdAlgo* chosen = nullptr;
  if ((status = prepareConvolution(fn, xDesc, dwDesc, convDesc, dyDesc, call, kBwdFilterRoles)) ||
      (status = checkBwdAlgo(fn, kBwdFilterTable, algo, call, &chosen)))
    return status;
  size_t needed = bwdWorkspaceBytes(*chosen, call);
  if ((status = checkWorkspaceSize(fn, algo, workSpaceSizeInBytes, needed))) return status;
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent xe{"x", x, tensorBytes(call.x)}, dye{"dy", dy, tensorBytes(call.y)}, dwe = filterExtent("dw", dw, call);
  if ((status = checkOperand(fn, xe, elementBytes(call.x.dtype))) || (status = checkOperand(fn, dye, elementBytes(call.y.dtype))) ||
      (status = checkOperand(fn, dwe, elementBytes(call.w.dtype))) || (status = checkDisjoint(fn, dwe, {xe, dye})) ||
      (status = useWorkspace(fn, workSpace, workSpaceSizeInBytes, needed, {xe, dye, dwe})))
    return status;
  runBackwardFilter(call, x, dy, dw, a, b);
  return kSuccess;
}

CUDNN_API int cudnnGetConvolutionBackwardDataAlgorithm_v7(void* handle, const void* filterDesc, const void* diffDesc, const void* convDesc,
                                                          const void* gradDesc, int requestedAlgoCount, int* returnedAlgoCount,
                                                          void* perfResults) {
  return queryBwdAlgorithms(__func__, handle, gradDesc, filterDesc, convDesc, diffDesc, kBwdDataRoles, kBwdDataTable, requestedAlgoCount,
                            returnedAlgoCount, perfResults);
}

CUDNN_API int cudnnGetConvolutionBackwardDataWorkspaceSize(void* handle, const void* wDesc, const void* dyDesc, const void* convDesc,
                                                           const void* dxDesc, int algo, size_t* sizeInBytes) {
  return bwdWorkspaceSize(__func__, handle, dxDesc, wDesc, convDesc, dyDesc, kBwdDataRoles, kBwdDataTable, algo, sizeInBytes);
}

CUDNN_API int cudnnConvolutionBackwardData(void* handle, const void* alpha, const void* wDesc, const void* w, const void* dyDesc,
                                           const void* dy, const void* convDesc, int algo, void* workSpace, size_t workSpaceSizeInBytes,
                                           const void* beta, const void* dxDesc, void* dx) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  ConvCall call;
  const BwdAlgo* chosen = nullptr;
  if ((status = prepareConvolution(fn, dxDesc, wDesc, convDesc, dyDesc, call, kBwdDataRoles)) ||
      (status = checkBwdAlgo(fn, kBwdDataTable, algo, call, &chosen)))
    return status;
  size_t needed = bwdWorkspaceBytes(*chosen, call);
  if ((status = checkWorkspaceSize(fn, algo, workSpaceSizeInBytes, needed))) return status;
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent we = filterExtent("w", w, call), dye{"dy", dy, tensorBytes(call.y)}, dxe{"dx", dx, tensorBytes(call.x)};
  if ((status = checkOperand(fn, we, elementBytes(call.w.dtype))) || (status = checkOperand(fn, dye, elementBytes(call.y.dtype))) ||
      (status = checkOperand(fn, dxe, elementBytes(call.x.dtype))) || (status = checkOutputLayout(fn, "dx", call.x)) ||
      (status = checkDisjoint(fn, dxe, {we, dye})) || (status = useWorkspace(fn, workSpace, workSpaceSizeInBytes, needed, {we, dye, dxe})))
    return status;
  runBackwardData(call, w, dy, dx, a, b);
  return kSuccess;
}

// Pooling.

CUDNN_API int cudnnCreatePoolingDescriptor(void** desc) { return createObject(__func__, desc, Kind::kPooling); }
CUDNN_API int cudnnDestroyPoolingDescriptor(void* desc) { return destroyObject(__func__, desc, Kind::kPooling); }

CUDNN_API int cudnnSetPoolingNdDescriptor(void* desc, int mode, int maxpoolingNanOpt, int nbDims, const int* windowDimA, const int* paddingA,
                                          const int* strideA) {
  const char* fn = __func__;
  return update(fn, desc, Kind::kPooling, [&](Object& o) {
    if (mode < kPoolMax || mode > kPoolMaxDeterministic) return fail(fn, kBadParam, "mode %d is not a cudnnPoolingMode_t value", mode);
    if (maxpoolingNanOpt != 0 && maxpoolingNanOpt != kPropagateNan)
      return fail(fn, kBadParam, "maxpoolingNanOpt %d is not a cudnnNanPropagation_t value", maxpoolingNanOpt);
    if (nbDims <= 0) return fail(fn, kBadParam, "nbDims %d is not positive", nbDims);
    if (nbDims > kDimMax - 2) return fail(fn, kNotSupported, "nbDims %d exceeds CUDNN_DIM_MAX - 2 = %d", nbDims, kDimMax - 2);
    if (windowDimA == nullptr || paddingA == nullptr || strideA == nullptr)
      return fail(fn, kBadParamNull, "windowDimA, paddingA or strideA is null");
    PoolDesc p;
    p.mode = mode;
    p.nanOpt = maxpoolingNanOpt;
    p.spatial = nbDims;
    for (int i = 0; i < nbDims; ++i) {
      if (windowDimA[i] <= 0) return fail(fn, kBadParam, "windowDimA[%d] = %d is not positive", i, windowDimA[i]);
      if (paddingA[i] < 0) return fail(fn, kBadParam, "paddingA[%d] = %d is negative", i, paddingA[i]);
      if (strideA[i] <= 0) return fail(fn, kBadParam, "strideA[%d] = %d is not positive", i, strideA[i]);
      p.window[i] = windowDimA[i];
      p.pad[i] = paddingA[i];
      p.stride[i] = strideA[i];
    }
    o.pool = p;
    o.set = true;
    return int(kSuccess);
  });
}

CUDNN_API int cudnnGetPoolingNdForwardOutputDim(const void* poolingDesc, const void* inputTensorDesc, int nbDims, int* outputTensorDimA) {
  const char* fn = __func__;
  Object pool, x;
  int status;
  if ((status = snapshot(fn, "poolingDesc", poolingDesc, Kind::kPooling, pool)) ||
      (status = snapshot(fn, "inputTensorDesc", inputTensorDesc, Kind::kTensor, x)))
    return status;
  if (nbDims != x.tensor.nbDims || nbDims != pool.pool.spatial + 2)
    return fail(fn, kBadParam, "nbDims %d does not match the input's %d dims and the pooling's %d spatial dims", nbDims, x.tensor.nbDims,
                pool.pool.spatial);
  if (outputTensorDimA == nullptr) return fail(fn, kBadParamNull, "outputTensorDimA is null");
  int64_t out[kDimMax];
  if (!poolOutputDims(pool.pool, x.tensor, out)) return fail(fn, kBadParam, "a window is larger than the padded input");
  for (int i = 0; i < nbDims; ++i) outputTensorDimA[i] = int(out[i]);
  return kSuccess;
}

CUDNN_API int cudnnPoolingForward(void* handle, const void* poolingDesc, const void* alpha, const void* xDesc, const void* x, const void* beta,
                                  const void* yDesc, void* y) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  PoolCall call;
  if ((status = preparePooling(fn, poolingDesc, xDesc, yDesc, call))) return status;
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent xe{"x", x, tensorBytes(call.x)}, ye{"y", y, tensorBytes(call.y)};
  if ((status = checkTensorOperand(fn, "x", x, call.x)) || (status = checkTensorOperand(fn, "y", y, call.y)) ||
      (status = checkOutputLayout(fn, "y", call.y)) || (status = checkDisjoint(fn, ye, {xe})))
    return status;
  runPooling(call, x, y, a, b);
  return kSuccess;
}

// Batch normalization.

CUDNN_API int cudnnBatchNormalizationForwardTraining(void* handle, int mode, const void* alpha, const void* beta, const void* xDesc,
                                                     const void* x, const void* yDesc, void* y, const void* bnScaleBiasMeanVarDesc,
                                                     const void* bnScale, const void* bnBias, double exponentialAverageFactor,
                                                     void* resultRunningMean, void* resultRunningVariance, double epsilon,
                                                     void* resultSaveMean, void* resultSaveInvVariance) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  BnCall call;
  Object yObject;
  if ((status = prepareBatchNorm(fn, mode, xDesc, bnScaleBiasMeanVarDesc, epsilon, call)) ||
      (status = snapshot(fn, "yDesc", yDesc, Kind::kTensor, yObject)) || (status = checkSameAsX(fn, "yDesc", call.x, yObject.tensor)))
    return status;
  const TensorDesc& yd = yObject.tensor;
  if ((resultRunningMean == nullptr) != (resultRunningVariance == nullptr))
    return fail(fn, kBadParam, "exactly one of resultRunningMean and resultRunningVariance is null (both or neither)");
  if ((resultSaveMean == nullptr) != (resultSaveInvVariance == nullptr))
    return fail(fn, kBadParam, "exactly one of resultSaveMean and resultSaveInvVariance is null (both or neither)");
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent xe{"x", x, tensorBytes(call.x)}, ye{"y", y, tensorBytes(yd)};
  Extent scale = paramExtent(call, "bnScale", bnScale), bias = paramExtent(call, "bnBias", bnBias);
  Extent runMean = paramExtent(call, "resultRunningMean", resultRunningMean);
  Extent runVar = paramExtent(call, "resultRunningVariance", resultRunningVariance);
  Extent saveMean = paramExtent(call, "resultSaveMean", resultSaveMean);
  Extent saveInv = paramExtent(call, "resultSaveInvVariance", resultSaveInvVariance);
  std::vector<Extent> outputs;
  if (resultRunningMean) outputs.insert(outputs.end(), {runMean, runVar});
  if (resultSaveMean) outputs.insert(outputs.end(), {saveMean, saveInv});
  if ((status = checkTensorOperand(fn, "x", x, call.x)) || (status = checkTensorOperand(fn, "y", y, yd)) ||
      (status = checkParams(fn, call, {scale, bias}, outputs, {xe, ye})))
    return status;
  if ((status = checkDataOutput(fn, ye, yd, xe, call.x, {scale, bias}))) return status;

  // Every statistic comes from x before y is written, so y may replace x in place.
  std::vector<double> xs = loadDense(call, call.x, x);
  int64_t groups = call.groups(), m = call.members();
  std::vector<double> mean(static_cast<size_t>(groups)), inv(mean.size()), unbiased(mean.size());
  for (int64_t gi = 0; gi < groups; ++gi) {
    double variance;
    groupMoments(call, xs, gi, &mean[size_t(gi)], &variance);
    inv[size_t(gi)] = 1.0 / std::sqrt(variance + epsilon);
    unbiased[size_t(gi)] = variance * double(m) / double(m - 1);  // NaN (0/0) for one member
  }
  std::vector<int64_t> ySpatial = offsetTable(yd.nbDims, yd.dims, yd.strides, 2);
  int pt = call.param.dtype;
  for (int64_t gi = 0; gi < groups; ++gi) {
    int64_t po = call.paramOffset(gi);
    double gamma = loadElement(bnScale, pt, po), shift = loadElement(bnBias, pt, po);
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = call.member(gi, j);
      double normalized = (xs[size_t(i)] - mean[size_t(gi)]) * inv[size_t(gi)];
      blendStore(y, yd.dtype, call.dataOffset(yd, ySpatial, i), gamma * normalized + shift, a, b);
    }
  }
  for (int64_t gi = 0; gi < groups; ++gi) {
    int64_t po = call.paramOffset(gi);
    double f = exponentialAverageFactor;
    if (resultRunningMean) {
      // Literally (1 - factor) * old + factor * new: NaN in an uninitialized buffer stays NaN even
      // with factor 1 (cuDNN 9's documentation asks for "reasonable values or 0" in them).
      storeElement(resultRunningMean, pt, po, (1 - f) * loadElement(resultRunningMean, pt, po) + f * mean[size_t(gi)]);
      storeElement(resultRunningVariance, pt, po, (1 - f) * loadElement(resultRunningVariance, pt, po) + f * unbiased[size_t(gi)]);
    }
    if (resultSaveMean) {
      storeElement(resultSaveMean, pt, po, mean[size_t(gi)]);
      storeElement(resultSaveInvVariance, pt, po, inv[size_t(gi)]);
    }
  }
  return kSuccess;
}

CUDNN_API int cudnnBatchNormalizationForwardInference(void* handle, int mode, const void* alpha, const void* beta, const void* xDesc,
                                                      const void* x, const void* yDesc, void* y, const void* bnScaleBiasMeanVarDesc,
                                                      const void* bnScale, const void* bnBias, const void* estimatedMean,
                                                      const void* estimatedVariance, double epsilon) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  BnCall call;
  Object yObject;
  if ((status = prepareBatchNorm(fn, mode, xDesc, bnScaleBiasMeanVarDesc, epsilon, call)) ||
      (status = snapshot(fn, "yDesc", yDesc, Kind::kTensor, yObject)) || (status = checkSameAsX(fn, "yDesc", call.x, yObject.tensor)))
    return status;
  const TensorDesc& yd = yObject.tensor;
  double a, b;
  if ((status = readScalar(fn, "alpha", alpha, call.x.dtype, &a)) || (status = readScalar(fn, "beta", beta, call.x.dtype, &b))) return status;
  Extent xe{"x", x, tensorBytes(call.x)}, ye{"y", y, tensorBytes(yd)};
  Extent scale = paramExtent(call, "bnScale", bnScale), bias = paramExtent(call, "bnBias", bnBias);
  Extent mean = paramExtent(call, "estimatedMean", estimatedMean), variance = paramExtent(call, "estimatedVariance", estimatedVariance);
  if ((status = checkTensorOperand(fn, "x", x, call.x)) || (status = checkTensorOperand(fn, "y", y, yd)) ||
      (status = checkParams(fn, call, {scale, bias, mean, variance}, {}, {})) || (status = checkDataOutput(fn, ye, yd, xe, call.x, {scale, bias, mean, variance})))
    return status;
  std::vector<double> xs = loadDense(call, call.x, x);
  std::vector<int64_t> ySpatial = offsetTable(yd.nbDims, yd.dims, yd.strides, 2);
  int pt = call.param.dtype;
  for (int64_t gi = 0; gi < call.groups(); ++gi) {
    int64_t po = call.paramOffset(gi);
    double gamma = loadElement(bnScale, pt, po), shift = loadElement(bnBias, pt, po);
    double mu = loadElement(estimatedMean, pt, po), inv = 1.0 / std::sqrt(loadElement(estimatedVariance, pt, po) + epsilon);
    for (int64_t j = 0; j < call.members(); ++j) {
      int64_t i = call.member(gi, j);
      blendStore(y, yd.dtype, call.dataOffset(yd, ySpatial, i), gamma * (xs[size_t(i)] - mu) * inv + shift, a, b);
    }
  }
  return kSuccess;
}

CUDNN_API int cudnnBatchNormalizationBackward(void* handle, int mode, const void* alphaDataDiff, const void* betaDataDiff,
                                              const void* alphaParamDiff, const void* betaParamDiff, const void* xDesc, const void* x,
                                              const void* dyDesc, const void* dy, const void* dxDesc, void* dx,
                                              const void* dBnScaleBiasDesc, const void* bnScale, void* dBnScaleResult, void* dBnBiasResult,
                                              double epsilon, const void* savedMean, const void* savedInvVariance) {
  const char* fn = __func__;
  HandleUse use;
  int status;
  if ((status = use.acquire(fn, handle))) return status;
  BnCall call;
  Object dyObject, dxObject;
  if ((status = prepareBatchNorm(fn, mode, xDesc, dBnScaleBiasDesc, epsilon, call)) ||
      (status = snapshot(fn, "dyDesc", dyDesc, Kind::kTensor, dyObject)) || (status = snapshot(fn, "dxDesc", dxDesc, Kind::kTensor, dxObject)) ||
      (status = checkSameAsX(fn, "dyDesc", call.x, dyObject.tensor)) || (status = checkSameAsX(fn, "dxDesc", call.x, dxObject.tensor)))
    return status;
  const TensorDesc &dyd = dyObject.tensor, &dxd = dxObject.tensor;
  if ((savedMean == nullptr) != (savedInvVariance == nullptr))
    return fail(fn, kBadParam, "exactly one of savedMean and savedInvVariance is null (both or neither)");
  double ad, bd, ap, bp;
  int t = call.x.dtype;
  if ((status = readScalar(fn, "alphaDataDiff", alphaDataDiff, t, &ad)) || (status = readScalar(fn, "betaDataDiff", betaDataDiff, t, &bd)) ||
      (status = readScalar(fn, "alphaParamDiff", alphaParamDiff, t, &ap)) || (status = readScalar(fn, "betaParamDiff", betaParamDiff, t, &bp)))
    return status;
  Extent xe{"x", x, tensorBytes(call.x)}, dye{"dy", dy, tensorBytes(dyd)}, dxe{"dx", dx, tensorBytes(dxd)};
  Extent scale = paramExtent(call, "bnScale", bnScale);
  Extent dScale = paramExtent(call, "dBnScaleResult", dBnScaleResult), dBias = paramExtent(call, "dBnBiasResult", dBnBiasResult);
  Extent mean = paramExtent(call, "savedMean", savedMean), inv = paramExtent(call, "savedInvVariance", savedInvVariance);
  if ((status = checkTensorOperand(fn, "x", x, call.x)) || (status = checkTensorOperand(fn, "dy", dy, dyd)) ||
      (status = checkTensorOperand(fn, "dx", dx, dxd)))
    return status;
  std::vector<Extent> params{scale};
  if (savedMean) params.insert(params.end(), {mean, inv});
  if ((status = checkParams(fn, call, params, {dScale, dBias}, {xe, dye, dxe})) || (status = checkDisjoint(fn, dxe, {xe})) ||
      (status = checkDataOutput(fn, dxe, dxd, dye, dyd, {scale, mean, inv})))
    return status;

  std::vector<double> xs = loadDense(call, call.x, x), dys = loadDense(call, dyd, dy);
  std::vector<int64_t> dxSpatial = offsetTable(dxd.nbDims, dxd.dims, dxd.strides, 2);
  int pt = call.param.dtype;
  int64_t m = call.members();
  std::vector<double> dxs(xs.size());
  for (int64_t gi = 0; gi < call.groups(); ++gi) {
    int64_t po = call.paramOffset(gi);
    double mu, invStd;
    if (savedMean) {
      mu = loadElement(savedMean, pt, po);
      invStd = loadElement(savedInvVariance, pt, po);
    } else {
      double variance;
      groupMoments(call, xs, gi, &mu, &variance);
      invStd = 1.0 / std::sqrt(variance + epsilon);
    }
    double sumDy = 0, sumDyXhat = 0;
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = call.member(gi, j);
      sumDy += dys[size_t(i)];
      sumDyXhat += dys[size_t(i)] * (xs[size_t(i)] - mu) * invStd;
    }
    double gamma = loadElement(bnScale, pt, po);
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = call.member(gi, j);
      double xhat = (xs[size_t(i)] - mu) * invStd;
      dxs[size_t(i)] = gamma * invStd * (dys[size_t(i)] - sumDy / double(m) - xhat * sumDyXhat / double(m));
    }
    blendStore(dBnScaleResult, pt, po, sumDyXhat, ap, bp);
    blendStore(dBnBiasResult, pt, po, sumDy, ap, bp);
  }
  // dx is written after dy was read, so it may replace dy in place.
  for (size_t i = 0; i < dxs.size(); ++i) blendStore(dx, dxd.dtype, call.dataOffset(dxd, dxSpatial, int64_t(i)), dxs[i], ad, bd);
  return kSuccess;
}
