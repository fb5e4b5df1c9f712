// Validation of everything that crosses the Node-API boundary (see common.h).
#include <cmath>

#include "common.h"

namespace flint {

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

size_t itemSize(int dtype) {
  switch (dtype) {
    case kFloat32:
    case kInt32:
      return 4;
    case kFloat64:
      return 8;
    case kFloat16:
    case kBFloat16:
      return 2;
    default:
      return 1;
  }
}

static napi_typedarray_type arrayTypeOf(int dtype) {
  switch (dtype) {
    case kFloat32:
      return napi_float32_array;
    case kFloat64:
      return napi_float64_array;
    case kInt32:
      return napi_int32_array;
    case kFloat16:
    case kBFloat16:
      return napi_uint16_array;
    default:
      return napi_uint8_array;
  }
}

static const char* arrayNameOf(int dtype) {
  switch (dtype) {
    case kFloat32:
      return "Float32Array";
    case kFloat64:
      return "Float64Array";
    case kInt32:
      return "Int32Array";
    case kFloat16:
    case kBFloat16:
      return "Uint16Array";
    default:
      return "Uint8Array";
  }
}

void throwType(const Napi::Env& env, const std::string& op, const std::string& message) {
  throw Napi::TypeError::New(env, "flint-mkl " + op + ": " + message);
}

void throwRange(const Napi::Env& env, const std::string& op, const std::string& message) {
  throw Napi::RangeError::New(env, "flint-mkl " + op + ": " + message);
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
    throwRange(info.Env(), op,
               std::string(what) + " must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return static_cast<int64_t>(number);
}

int dtypeArg(const Napi::CallbackInfo& info, size_t index, const char* op, unsigned allowed) {
  const int dtype = static_cast<int>(intArg(info, index, op, "dtype", 0, kDTypeCount - 1));
  if ((allowed & (1u << dtype)) == 0) throwType(info.Env(), op, std::string("dtype ") + dtypeName(dtype) + " is not supported");
  return dtype;
}

/**
 * The elements of the typed array at `index` when it has `type`; throws otherwise. `length`
 * receives its element count. One napi_get_typedarray_info call reads the type, the length and
 * the data (Napi::TypedArray's constructor would read the type in a call of its own).
 */
static char* typedArrayArg(const Napi::CallbackInfo& info, size_t index, napi_typedarray_type type, const char* typeName,
                           const char* op, const char* what, int64_t& length) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray()) throwType(info.Env(), op, std::string(what) + " must be a " + typeName);
  napi_typedarray_type actual;
  size_t count = 0;
  void* data = nullptr;
  const napi_status status = napi_get_typedarray_info(info.Env(), value, &actual, &count, &data, nullptr, nullptr);
  if (status != napi_ok) throw Napi::Error::New(info.Env(), "flint-mkl: could not read a typed array");
  if (actual != type) throwType(info.Env(), op, std::string(what) + " must be a " + typeName);
  // A detached buffer reports no data; treat it as empty so every non-empty view fails its bounds check.
  length = data == nullptr ? 0 : static_cast<int64_t>(count);
  return static_cast<char*>(data);
}

std::vector<int64_t> paramsArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t expected) {
  int64_t length = 0;
  const int32_t* data =
      reinterpret_cast<const int32_t*>(typedArrayArg(info, index, napi_int32_array, "Int32Array", op, what, length));
  if (expected >= 0 && length != expected) {
    throwRange(info.Env(), op, std::string(what) + " must have " + std::to_string(expected) + " entries, got " + std::to_string(length));
  }
  return std::vector<int64_t>(data, data + length);
}

View viewArg(const Napi::CallbackInfo& info, size_t dataIndex, size_t layoutIndex, int dtype, const char* op, const char* what) {
  const Napi::Env env = info.Env();
  View view;
  view.dtype = dtype;
  view.base = typedArrayArg(info, dataIndex, arrayTypeOf(dtype), arrayNameOf(dtype), op, what, view.length);
  // The layout is read in place (a view is read on every call of every kernel: no copy, no allocation).
  const std::string layoutName = std::string(what) + " layout";
  int64_t layoutLength = 0;
  const int32_t* layout = reinterpret_cast<const int32_t*>(
      typedArrayArg(info, layoutIndex, napi_int32_array, "Int32Array", op, layoutName.c_str(), layoutLength));
  if (layoutLength < 2) throwRange(env, op, layoutName + " must hold [offset, rank, ...shape, ...strides]");
  const int64_t rank = layout[1];
  if (rank < 0 || rank > kMaxRank) throwRange(env, op, std::string(what) + " rank " + std::to_string(rank) + " is outside [0, 16]");
  if (layoutLength != 2 + 2 * rank) {
    throwRange(env, op, layoutName + " of rank " + std::to_string(rank) + " must have " + std::to_string(2 + 2 * rank) + " entries");
  }
  view.offset = layout[0];
  view.rank = static_cast<int>(rank);
  int64_t size = 1;
  for (int d = 0; d < view.rank; d++) {
    const int64_t dim = layout[2 + d];
    if (dim < 0) throwRange(env, op, std::string(what) + " has a negative dimension " + std::to_string(dim));
    view.shape[d] = dim;
    view.strides[d] = layout[2 + rank + d];
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
    if (low < 0 || high >= view.length) {
      throwRange(env, op, std::string(what) + " reaches outside its buffer of " + std::to_string(view.length) + " elements");
    }
  }
  return view;
}

Output outputArg(const Napi::CallbackInfo& info, size_t index, int dtype, int64_t size, const char* op) {
  Output out;
  out.dtype = dtype;
  int64_t length = 0;
  out.base = typedArrayArg(info, index, arrayTypeOf(dtype), arrayNameOf(dtype), op, "output", length);
  if (length != size) {
    throwRange(info.Env(), op, "output must have " + std::to_string(size) + " elements, got " + std::to_string(length));
  }
  out.size = size;
  return out;
}

bool View::sameShape(const View& other) const {
  if (rank != other.rank) return false;
  for (int d = 0; d < rank; d++)
    if (shape[d] != other.shape[d]) return false;
  return true;
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

int threadCount() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int initialThreadCount() {
  static const int initial = threadCount();  // latched when the addon loads (Init calls this first)
  return initial;
}

}  // namespace flint
