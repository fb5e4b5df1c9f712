// Validation of everything that crosses the Node-API boundary (see boundary.h), and the host-side
// construction of strided walks.
#include "boundary.h"

#include <cmath>

namespace flint_cuda {

const char* dtypeName(int dtype) {
  switch (dtype) {
    case kFloat32:
      return "float32";
    case kFloat64:
      return "float64";
    case kInt32:
      return "int32";
    case kUint8:
      return "uint8";
    case kBool:
      return "bool";
    case kFloat16:
      return "float16";
    case kBFloat16:
      return "bfloat16";
    default:
      return "unknown";
  }
}

void throwType(const Napi::Env& env, const std::string& op, const std::string& message) {
  throw Napi::TypeError::New(env, "flint-cuda " + op + ": " + message);
}

void throwRange(const Napi::Env& env, const std::string& op, const std::string& message) {
  throw Napi::RangeError::New(env, "flint-cuda " + op + ": " + message);
}

void throwCuda(const Napi::Env& env, const std::string& call, cudaError_t error) {
  const char* name = cudaGetErrorName(error);
  const char* description = cudaGetErrorString(error);
  // Clear a non-sticky error so that it is not reported again by the next call.
  cudaGetLastError();
  Napi::Error failure = Napi::Error::New(env, "flint-cuda " + call + ": " + (name ? name : "cudaError") + ": " +
                                                  (description ? description : "unknown error"));
  failure.Set("cudaError", Napi::String::New(env, name ? name : "cudaError"));
  failure.Set("call", Napi::String::New(env, call));
  throw failure;
}

void requireReady(const Napi::Env& env, const char* op) {
  if (!state().ready) throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": the device is not initialized (call init first)");
}

void checkArgs(const Napi::CallbackInfo& info, size_t count, const char* op) {
  if (info.Length() != count) {
    throwType(info.Env(), op, "expected " + std::to_string(count) + " arguments, got " + std::to_string(info.Length()));
  }
}

int64_t intArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t low, int64_t high) {
  const Napi::Value value = info[index];
  if (!value.IsNumber()) throwType(info.Env(), op, std::string(what) + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number != std::floor(number) || number < static_cast<double>(low) ||
      number > static_cast<double>(high)) {
    throwRange(info.Env(), op, std::string(what) + " must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return static_cast<int64_t>(number);
}

bool boolArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what) {
  const Napi::Value value = info[index];
  if (!value.IsBoolean()) throwType(info.Env(), op, std::string(what) + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

int dtypeArg(const Napi::CallbackInfo& info, size_t index, const char* op, unsigned allowed) {
  const int dtype = static_cast<int>(intArg(info, index, op, "dtype", 0, kDTypeCount - 1));
  if ((allowed & (1u << dtype)) == 0) throwType(info.Env(), op, std::string("dtype ") + dtypeName(dtype) + " is not supported");
  return dtype;
}

std::vector<int64_t> paramsArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t expected) {
  const TypedArrayArg array = typedArrayArg(info, index, napi_int32_array, op, [what] { return std::string(what) + " must be an Int32Array"; });
  const size_t count = array.count;
  const void* data = array.data;
  if (expected >= 0 && static_cast<int64_t>(count) != expected) {
    throwRange(info.Env(), op, std::string(what) + " must have " + std::to_string(expected) + " entries, got " + std::to_string(count));
  }
  const int32_t* values = static_cast<const int32_t*>(data);
  return std::vector<int64_t>(values, values + count);
}

uint64_t handleArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what) {
  return static_cast<uint64_t>(intArg(info, index, op, what, 1, (int64_t{1} << 53)));
}

Buffer& bufferOf(const Napi::Env& env, uint64_t handle, const char* op, const char* what) {
  auto found = state().buffers.find(handle);
  if (found == state().buffers.end()) {
    throwRange(env, op, std::string(what) + " names no live buffer (handle " + std::to_string(handle) + " was freed or never allocated)");
  }
  return found->second;
}

bool View::contiguous() const {
  int64_t expected = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (shape[d] == 0) return true;
    if (shape[d] != 1 && strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

View viewArg(const Napi::CallbackInfo& info, size_t handleIndex, size_t layoutIndex, int dtype, const char* op, const char* what,
             int rank) {
  const Napi::Env env = info.Env();
  const uint64_t handle = handleArg(info, handleIndex, op, what);
  const std::string layoutName = std::string(what) + " layout";
  const std::vector<int64_t> layout = paramsArg(info, layoutIndex, op, layoutName.c_str(), -1);
  Buffer& buffer = bufferOf(env, handle, op, what);
  if (buffer.dtype != dtype) {
    throwType(env, op, std::string(what) + " is a " + dtypeName(buffer.dtype) + " buffer, expected " + dtypeName(dtype));
  }
  View view;
  view.dtype = dtype;
  view.base = static_cast<char*>(buffer.ptr);
  if (layout.size() < 2) throwRange(env, op, layoutName + " must hold [offset, rank, ...shape, ...strides]");
  const int64_t layoutRank = layout[1];
  if (layoutRank < 0 || layoutRank > kMaxRank) {
    throwRange(env, op, std::string(what) + " rank " + std::to_string(layoutRank) + " is outside [0, 16]");
  }
  if (rank >= 0 && layoutRank != rank) {
    throwRange(env, op, std::string(what) + " must have rank " + std::to_string(rank) + ", got " + std::to_string(layoutRank));
  }
  if (static_cast<int64_t>(layout.size()) != 2 + 2 * layoutRank) {
    throwRange(env, op, layoutName + " of rank " + std::to_string(layoutRank) + " must have " + std::to_string(2 + 2 * layoutRank) + " entries");
  }
  view.offset = layout[0];
  view.rank = static_cast<int>(layoutRank);
  int64_t size = 1;
  for (int d = 0; d < view.rank; d++) {
    const int64_t dim = layout[2 + d];
    if (dim < 0) throwRange(env, op, std::string(what) + " has a negative dimension " + std::to_string(dim));
    view.shape[d] = dim;
    view.strides[d] = layout[2 + layoutRank + d];
    if (size != 0 && dim > kMaxElements / size) throwRange(env, op, std::string(what) + " has 2^31 elements or more");
    size *= dim;
  }
  view.size = size;
  if (size > 0) {
    // The lowest and highest element offsets the view reaches; 128-bit so no sum can overflow.
    __int128 low = view.offset;
    __int128 high = view.offset;
    for (int d = 0; d < view.rank; d++) {
      const __int128 span = static_cast<__int128>(view.shape[d] - 1) * view.strides[d];
      if (span < 0) low += span;
      else high += span;
    }
    if (low < 0 || high >= buffer.elements) {
      throwRange(env, op, std::string(what) + " reaches outside its buffer of " + std::to_string(buffer.elements) + " elements");
    }
  }
  return view;
}

Output::Output(const Napi::Env& env, const char* op, int dtype, int64_t elements) {
  if (elements < 0 || elements > kMaxElements) throwRange(env, op, "the output would have 2^31 elements or more");
  buffer_.dtype = dtype;
  buffer_.elements = elements;
  buffer_.bytes = static_cast<size_t>(elements) * static_cast<size_t>(itemSizeOf(dtype));
  cudaError_t error = cudaSuccess;
  buffer_.ptr = state().allocator.allocate(buffer_.bytes == 0 ? 1 : buffer_.bytes, buffer_.blockBytes, error);
  if (buffer_.ptr == nullptr) {
    const AllocatorStats& stats = state().allocator.stats();
    throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": out of device memory allocating " + std::to_string(buffer_.bytes) +
                                    " bytes (" + std::to_string(stats.allocatedBytes) + " bytes in live buffers; " +
                                    (error != cudaSuccess ? cudaGetErrorName(error) : "allocation failed") + ")");
  }
}

Output::~Output() {
  if (!committed_) state().allocator.release(buffer_.ptr, buffer_.blockBytes);
}

Napi::Value Output::commit(const Napi::Env& env) {
  State& s = state();
  const uint64_t id = s.nextBufferId++;
  s.buffers.emplace(id, buffer_);
  committed_ = true;
  return Napi::Number::New(env, static_cast<double>(id));
}

Scratch::Scratch(const Napi::Env& env, const char* op, size_t bytes) {
  if (bytes == 0) return;
  cudaError_t error = cudaSuccess;
  ptr_ = state().allocator.allocate(bytes, blockBytes_, error);
  if (ptr_ == nullptr) throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": out of device memory for " + std::to_string(bytes) + " bytes of scratch space");
}

Scratch::~Scratch() { state().allocator.release(ptr_, blockBytes_); }

void contiguousStrides(int rank, const int64_t* shape, int64_t* strides) {
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

int coalesceDims(int rank, const int64_t* shape, int operands, const int64_t* const* strides, int32_t* outShape, int64_t* const* outStrides) {
  int out = 0;
  for (int d = 0; d < rank; d++) {
    const int64_t dim = shape[d];
    if (dim == 1) continue;
    if (out > 0) {
      bool merge = true;
      for (int k = 0; k < operands; k++) merge = merge && outStrides[k][out - 1] == strides[k][d] * dim;
      if (merge) {
        outShape[out - 1] = static_cast<int32_t>(outShape[out - 1] * dim);
        for (int k = 0; k < operands; k++) outStrides[k][out - 1] = strides[k][d];
        continue;
      }
    }
    outShape[out] = static_cast<int32_t>(dim);
    for (int k = 0; k < operands; k++) outStrides[k][out] = strides[k][d];
    out++;
  }
  if (out == 0) {
    outShape[0] = 1;
    for (int k = 0; k < operands; k++) outStrides[k][0] = 1;
    out = 1;
  }
  return out;
}

Walk makeWalk(int rank, const int64_t* shape, int operands, const int64_t* const* strides, const int64_t* offsets) {
  Walk walk{};
  walk.operands = operands;
  walk.total = 1;
  for (int d = 0; d < rank; d++) walk.total *= shape[d];
  for (int k = 0; k < operands; k++) walk.offsets[k] = offsets[k];
  int64_t* rows[kMaxOperands];
  for (int k = 0; k < operands; k++) rows[k] = walk.strides[k];
  walk.rank = coalesceDims(rank, shape, operands, strides, walk.shape, rows);
  return walk;
}

}  // namespace flint_cuda
