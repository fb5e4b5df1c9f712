// Parsing and binding of the post-op lists of post_ops.h.
#include "post_ops.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "dnnl_context.h"

namespace flint {

PostOpList postOpsArg(const Napi::CallbackInfo& info, size_t index, const char* op, int64_t rowSize, int64_t fullSize) {
  const Napi::Env env = info.Env();
  if (!info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throwType(env, op, "postOps must be a Float64Array");
  const Napi::Float64Array encoded = info[index].As<Napi::Float64Array>();
  if (encoded.ElementLength() % 4 != 0 || encoded.ElementLength() > 4 * 32)
    throwRange(env, op, "postOps must hold 4 numbers per op, at most 32 ops");
  if (!info[index + 1].IsArray()) throwType(env, op, "operands must be an array of Float32Array");
  const Napi::Array operandArray = info[index + 1].As<Napi::Array>();
  PostOpList list;
  bool linearSeen = false;
  for (size_t i = 0; i < encoded.ElementLength(); i += 4) {
    const double kind = encoded[i], alpha = encoded[i + 1], beta = encoded[i + 2], layout = encoded[i + 3];
    if (!(kind >= 0 && kind < kPostKinds && kind == std::floor(kind))) throwRange(env, op, "unknown post-op kind");
    PostOp postOp;
    postOp.kind = static_cast<int>(kind);
    postOp.alpha = static_cast<float>(alpha);
    postOp.beta = static_cast<float>(beta);
    if (postOp.kind == kPostLinear) {
      // oneDNN 2.6 computes a chain with two eltwise_linear post-ops wrong (2x + 1 then 3x gave 6x),
      // so the caller must fold consecutive ones and leave other chains unfused.
      if (linearSeen) throwRange(env, op, "postOps may hold at most one linear (alpha * x + beta) op");
      linearSeen = true;
    }
    if (postOp.kind == kPostAdd || postOp.kind == kPostMul) {
      if (layout != 0 && layout != 1) throwRange(env, op, "an operand layout must be 0 (a row) or 1 (full)");
      postOp.operand = static_cast<int>(layout);
      const uint32_t at = static_cast<uint32_t>(list.operands.size());
      if (at >= operandArray.Length()) throwRange(env, op, "fewer operands than binary post-ops");
      const Napi::Value value = operandArray.Get(at);
      if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throwType(env, op, "each operand must be a Float32Array");
      Napi::Float32Array operand = value.As<Napi::Float32Array>();
      const int64_t expected = postOp.operand == 0 ? rowSize : fullSize;
      // A detached buffer reads as length 0 with no data, and so fails this check.
      if (static_cast<int64_t>(operand.ElementLength()) != expected || operand.Data() == nullptr)
        throwRange(env, op, "operand " + std::to_string(at) + " must have " + std::to_string(expected) + " elements");
      list.operands.push_back(operand.Data());
    }
    list.ops.push_back(postOp);
    // The exact bits: a decimal rendering (std::to_string keeps 6 decimals) makes different scales
    // share one cached primitive, whose constants are baked in.
    uint32_t alphaBits = 0, betaBits = 0;
    std::memcpy(&alphaBits, &postOp.alpha, sizeof alphaBits);
    std::memcpy(&betaBits, &postOp.beta, sizeof betaBits);
    appendKey(list.key, {postOp.kind, postOp.operand, alphaBits, betaBits});
  }
  if (list.operands.size() != operandArray.Length()) throwRange(env, op, "more operands than binary post-ops");
  return list;
}

void addPostOpArguments(const PostOpList& list, const std::vector<dnnl::memory::desc>& operandDescs, std::unordered_map<int, dnnl::memory>& args) {
  size_t binary = 0;
  for (size_t i = 0; i < list.ops.size(); i++) {
    if (list.ops[i].kind != kPostAdd && list.ops[i].kind != kPostMul) continue;
    args.insert({DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i)) | DNNL_ARG_SRC_1,
                 dnnl::memory(operandDescs[binary], cpuEngine(), list.operands[binary])});
    binary++;
  }
}

}  // namespace flint
