// Everything that crosses the Node-API boundary is checked here before native code touches
// memory or launches a kernel: argument counts and types, dtype and op codes, buffer handles
// (which must name a live buffer of the expected dtype), and layouts (every element a view can
// reach must lie inside its buffer). Failures become JavaScript TypeErrors and RangeErrors that
// name the call and the argument; CUDA failures become Errors naming the call and the CUDA error.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shared.h"
#include "state.h"

namespace flint_cuda {

// Flint's sizes are 32-bit (DESIGN.md): no view may hold 2^31 elements or more.
constexpr int64_t kMaxElements = (int64_t{1} << 31) - 1;

const char* dtypeName(int dtype);

[[noreturn]] void throwType(const Napi::Env& env, const std::string& op, const std::string& message);
[[noreturn]] void throwRange(const Napi::Env& env, const std::string& op, const std::string& message);
/** A JavaScript Error "flint-cuda <call>: <cudaErrorName>: <description>" with `cudaError` set to the name. */
[[noreturn]] void throwCuda(const Napi::Env& env, const std::string& call, cudaError_t error);
inline void checkCuda(const Napi::Env& env, const std::string& call, cudaError_t error) {
  if (error != cudaSuccess) throwCuda(env, call, error);
}

/** Throws unless init() or initValidationOnly() has run. */
void requireReady(const Napi::Env& env, const char* op);
/** Whether kernels really run (false in validation-only mode, where calls stop after their checks). */
inline bool launching() { return !state().validationOnly; }

void checkArgs(const Napi::CallbackInfo& info, size_t count, const char* op);
int64_t intArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t low, int64_t high);
bool boolArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what);
/** A dtype code, restricted to the dtypes in the bit mask `allowed`. */
int dtypeArg(const Napi::CallbackInfo& info, size_t index, const char* op, unsigned allowed);
constexpr unsigned kHalves = (1u << kFloat16) | (1u << kBFloat16);
constexpr unsigned kAllDTypes = (1u << kDTypeCount) - 1;
constexpr unsigned kNumeric = (1u << kFloat32) | (1u << kFloat64) | (1u << kInt32) | (1u << kUint8) | kHalves;
constexpr unsigned kFloats = (1u << kFloat32) | (1u << kFloat64) | kHalves;

/** A typed array argument's elements, valid for the call: null data and no count when detached. */
struct TypedArrayArg {
  void* data;
  size_t count;
};

/**
 * Argument `index` as a typed array of `type`, else a TypeError naming the call, with the text
 * `message()` makes (only then: most calls pass two or three arrays). One napi_get_typedarray_info
 * call, which fails for anything but a typed array, instead of IsTypedArray, TypedArrayType and
 * the info: three crossings of the boundary per argument.
 */
template <typename Message>
TypedArrayArg typedArrayArg(const Napi::CallbackInfo& info, size_t index, napi_typedarray_type type, const char* op, const Message& message) {
  napi_typedarray_type actual;
  TypedArrayArg result{nullptr, 0};
  if (napi_get_typedarray_info(info.Env(), info[index], &actual, &result.count, &result.data, nullptr, nullptr) != napi_ok || actual != type) {
    throwType(info.Env(), op, message());
  }
  // A detached buffer reports no data: treat it as empty.
  if (result.data == nullptr) result.count = 0;
  return result;
}

/** An Int32Array of exactly `expected` entries (any count when expected < 0), copied out. */
std::vector<int64_t> paramsArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t expected);

/** A live buffer's handle (a positive integer JavaScript got from this addon). */
uint64_t handleArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what);
Buffer& bufferOf(const Napi::Env& env, uint64_t handle, const char* op, const char* what);

/** A strided view of a live buffer, validated against the buffer's length. */
struct View {
  char* base = nullptr;
  int dtype = kFloat32;
  int64_t offset = 0;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t size = 0;
  bool contiguous() const;
};

/**
 * The view made of argument `handleIndex` (a buffer of `dtype`) and argument `layoutIndex` (an
 * Int32Array [offset, rank, ...shape, ...strides]); `rank` < 0 accepts any rank up to 16.
 */
View viewArg(const Napi::CallbackInfo& info, size_t handleIndex, size_t layoutIndex, int dtype, const char* op, const char* what,
             int rank = -1);

/**
 * A fresh buffer for a kernel's output: it is registered (and its handle returned to JavaScript)
 * only by `commit`, so an exception before then frees it.
 */
class Output {
 public:
  Output(const Napi::Env& env, const char* op, int dtype, int64_t elements);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  void* data() const { return buffer_.ptr; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(buffer_.ptr);
  }
  /** Registers the buffer and returns its handle for JavaScript. */
  Napi::Value commit(const Napi::Env& env);

 private:
  Buffer buffer_;
  bool committed_ = false;
};

/** A scratch block released back to the cache at the end of the scope (stream order keeps it valid). */
class Scratch {
 public:
  Scratch(const Napi::Env& env, const char* op, size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* data() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  size_t blockBytes_ = 0;
};

/** Row-major strides of a shape. */
void contiguousStrides(int rank, const int64_t* shape, int64_t* strides);

}  // namespace flint_cuda
