// The elementwise entry points: unary and binary math, where, casts, copies, fills and iota.
#include <cstring>

#include "boundary.h"
#include "ops.h"

namespace flint_cuda {

namespace {

/** Which dtypes each unary op takes (the api's abstract evaluation allows no others). */
unsigned unaryDTypes(int op) {
  switch (op) {
    case kNeg:
    case kAbs:
    case kSign:
    case kFloor:
    case kCeil:
    case kRound:
    case kRelu:
      return kNumeric;
    case kNot:
      return 1u << kBool;
    default:
      return kFloats;
  }
}

unsigned binaryDTypes(int op) {
  switch (op) {
    case kMax:
    case kMin:
    case kEqual:
    case kNotEqual:
    case kLess:
    case kLessEqual:
    case kGreater:
    case kGreaterEqual:
      return kAllDTypes;
    case kAnd:
    case kOr:
      return 1u << kBool;
    case kAtan2:
      return kFloats;
    default:
      return kNumeric;
  }
}

void requireSameShape(const Napi::Env& env, const char* op, const View& a, const View& b, const char* what) {
  bool same = a.rank == b.rank;
  for (int d = 0; same && d < a.rank; d++) same = a.shape[d] == b.shape[d];
  if (!same) throwRange(env, op, std::string(what) + " must have the first input's shape");
}

/** A walk writing a fresh contiguous output from `inputs` of the output's shape. */
Walk outputWalk(const View& shapeOf, std::initializer_list<const View*> inputs) {
  int64_t outStrides[kMaxRank];
  contiguousStrides(shapeOf.rank, shapeOf.shape, outStrides);
  const int64_t* strides[kMaxOperands] = {outStrides};
  int64_t offsets[kMaxOperands] = {0};
  int k = 1;
  for (const View* input : inputs) {
    strides[k] = input->strides;
    offsets[k] = input->offset;
    k++;
  }
  return makeWalk(shapeOf.rank, shapeOf.shape, k, strides, offsets);
}

}  // namespace

Napi::Value Unary(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "unary";
  const Napi::Env env = info.Env();
  checkArgs(info, 4, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kUnaryOpCount - 1));
  const int dtype = dtypeArg(info, 1, op, unaryDTypes(code));
  const View x = viewArg(info, 2, 3, dtype, op, "input");
  Output out(env, op, dtype, x.size);
  if (launching()) checkCuda(env, op, launchUnary(code, dtype, out.data(), x.base, outputWalk(x, {&x}), state().stream));
  return out.commit(env);
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "binary";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kBinaryOpCount - 1));
  const int dtype = dtypeArg(info, 1, op, binaryDTypes(code));
  const View a = viewArg(info, 2, 3, dtype, op, "lhs");
  const View b = viewArg(info, 4, 5, dtype, op, "rhs");
  requireSameShape(env, op, a, b, "rhs");
  Output out(env, op, isComparison(code) ? kBool : dtype, a.size);
  if (launching()) checkCuda(env, op, launchBinary(code, dtype, out.data(), a.base, b.base, outputWalk(a, {&a, &b}), state().stream));
  return out.commit(env);
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "where";
  const Napi::Env env = info.Env();
  checkArgs(info, 7, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const View condition = viewArg(info, 1, 2, kBool, op, "condition");
  const View x = viewArg(info, 3, 4, dtype, op, "x");
  const View y = viewArg(info, 5, 6, dtype, op, "y");
  requireSameShape(env, op, condition, x, "x");
  requireSameShape(env, op, condition, y, "y");
  Output out(env, op, dtype, x.size);
  if (launching()) {
    checkCuda(env, op, launchWhere(dtype, out.data(), condition.base, x.base, y.base, outputWalk(x, {&condition, &x, &y}), state().stream));
  }
  return out.commit(env);
}

Napi::Value Cast(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "cast";
  const Napi::Env env = info.Env();
  checkArgs(info, 4, op);
  requireReady(env, op);
  const int from = dtypeArg(info, 0, op, kAllDTypes);
  const int to = dtypeArg(info, 1, op, kAllDTypes);
  const View x = viewArg(info, 2, 3, from, op, "input");
  Output out(env, op, to, x.size);
  if (launching()) checkCuda(env, op, launchCast(from, to, out.data(), x.base, outputWalk(x, {&x}), state().stream));
  return out.commit(env);
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "copy";
  const Napi::Env env = info.Env();
  checkArgs(info, 3, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const View x = viewArg(info, 1, 2, dtype, op, "input");
  Output out(env, op, dtype, x.size);
  if (launching()) checkCuda(env, op, launchCopy(itemSizeOf(dtype), out.data(), x.base, outputWalk(x, {&x}), state().stream));
  return out.commit(env);
}

Napi::Value CopyInto(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "copyInto";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const View destination = viewArg(info, 1, 2, dtype, op, "destination");
  const View source = viewArg(info, 3, 4, dtype, op, "source");
  requireSameShape(env, op, destination, source, "source");
  if (launching()) {
    const int64_t* strides[2] = {destination.strides, source.strides};
    const int64_t offsets[2] = {destination.offset, source.offset};
    checkCuda(env, op,
              launchCopy(itemSizeOf(dtype), destination.base, source.base, makeWalk(destination.rank, destination.shape, 2, strides, offsets),
                         state().stream));
  }
  return env.Undefined();
}

Napi::Value Full(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "full";
  const Napi::Env env = info.Env();
  checkArgs(info, 3, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const int64_t count = intArg(info, 1, op, "count", 0, kMaxElements);
  // The value arrives already converted to the dtype, as the first element of a typed array of it.
  const napi_typedarray_type expected = dtype == kFloat32   ? napi_float32_array
                                        : dtype == kFloat64 ? napi_float64_array
                                        : dtype == kInt32   ? napi_int32_array
                                        : (dtype == kFloat16 || dtype == kBFloat16) ? napi_uint16_array
                                                            : napi_uint8_array;
  const TypedArrayArg array =
      typedArrayArg(info, 2, expected, op, [dtype] { return std::string("value must be a typed array of ") + dtypeName(dtype); });
  if (array.data == nullptr || array.count < 1) throwRange(env, op, "value must hold one element");
  uint64_t pattern = 0;
  std::memcpy(&pattern, array.data, static_cast<size_t>(itemSizeOf(dtype)));
  Output out(env, op, dtype, count);
  if (launching()) checkCuda(env, op, launchFill(itemSizeOf(dtype), out.data(), count, pattern, state().stream));
  return out.commit(env);
}

Napi::Value Empty(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "empty";
  const Napi::Env env = info.Env();
  checkArgs(info, 2, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  Output out(env, op, dtype, intArg(info, 1, op, "count", 0, kMaxElements));
  return out.commit(env);
}

Napi::Value Iota(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "iota";
  const Napi::Env env = info.Env();
  checkArgs(info, 3, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kNumeric);
  const std::vector<int64_t> shape = paramsArg(info, 1, op, "shape", -1);
  if (shape.size() > static_cast<size_t>(kMaxRank)) throwRange(env, op, "shape has more than 16 dims");
  const int64_t axis = intArg(info, 2, op, "axis", 0, shape.empty() ? 0 : static_cast<int64_t>(shape.size()) - 1);
  if (shape.empty()) throwRange(env, op, "shape must have at least one dim");
  int64_t total = 1;
  int64_t inner = 1;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] < 0) throwRange(env, op, "shape has a negative dimension");
    if (total != 0 && shape[d] > kMaxElements / total) throwRange(env, op, "shape has 2^31 elements or more");
    total *= shape[d];
    if (static_cast<int64_t>(d) > axis) inner *= shape[d];
  }
  Output out(env, op, dtype, total);
  if (launching()) checkCuda(env, op, launchIota(dtype, out.data(), total, shape[axis], inner == 0 ? 1 : inner, state().stream));
  return out.commit(env);
}

}  // namespace flint_cuda
