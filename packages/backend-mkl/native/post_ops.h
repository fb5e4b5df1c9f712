// oneDNN post-ops as the TypeScript side encodes them (src/compile/post-ops.ts): the epilogue of
// a matmul or convolution applied to each result before it is stored.
#pragma once

#include <dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace flint {

constexpr int kPostLinear = 0, kPostRelu = 1, kPostTanh = 2, kPostLogistic = 3, kPostAdd = 4, kPostMul = 5, kPostKinds = 6;

/** One post-op: [kind, alpha, beta, operand layout] (kinds: alpha * x + beta, relu, tanh, logistic, add, mul). */
struct PostOp {
  int kind = 0;
  float alpha = 0, beta = 0;
  int operand = 0;  // binary ops: 0 one value per output column (matmul) or channel (conv), 1 the whole result
};

struct PostOpList {
  std::vector<PostOp> ops;
  std::vector<float*> operands;  // per binary op, in order
  std::string key;               // describes the list, for primitive caches
};

/**
 * The post-ops at argument `index` (a Float64Array of quadruples) and their operands at `index + 1`
 * (an array of Float32Array, one per add or mul: `rowSize` elements for layout 0, `fullSize` for
 * layout 1). Throws a TypeError or RangeError for anything else, and for a list with two linear
 * ops (oneDNN 2.6 computes those wrong; fold consecutive ones first).
 */
PostOpList postOpsArg(const Napi::CallbackInfo& info, size_t index, const char* op, int64_t rowSize, int64_t fullSize);

/** The list as oneDNN post-ops; `operandDesc(layout)` describes a binary operand of that layout. */
template <typename DescribeOperand>
dnnl::post_ops makePostOps(const std::vector<PostOp>& ops, DescribeOperand operandDesc, std::vector<dnnl::memory::desc>& operandDescs) {
  dnnl::post_ops postOps;
  for (const PostOp& op : ops) {
    switch (op.kind) {
      case kPostLinear:
        postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, op.alpha, op.beta);
        break;
      case kPostRelu:
        postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        break;
      case kPostTanh:
        postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_tanh, 0.0f, 0.0f);
        break;
      case kPostLogistic:
        postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
        break;
      default: {
        const dnnl::memory::desc desc = operandDesc(op.operand);
        postOps.append_binary(op.kind == kPostAdd ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul, desc);
        operandDescs.push_back(desc);
      }
    }
  }
  return postOps;
}

/** Adds each binary post-op's operand memory to a primitive's arguments. */
void addPostOpArguments(const PostOpList& list, const std::vector<dnnl::memory::desc>& operandDescs, std::unordered_map<int, dnnl::memory>& args);

}  // namespace flint
