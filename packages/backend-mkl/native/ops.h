// The functions the addon exports (registered in addon.cc). Each validates its arguments (see
// common.h) before it reads or writes any memory.
#pragma once

#include <napi.h>

namespace flint {

// Op codes shared with src/native/codes.ts.
enum UnaryOp : int {
  kNeg, kAbs, kSign, kExp, kLog, kLog1p, kExpm1, kSqrt, kRsqrt, kSin, kCos, kTan, kTanh, kLogistic, kErf,
  kFloor, kCeil, kRound, kReciprocal, kRelu, kAsin, kAcos, kAtan, kUnaryOpCount
};
enum BinaryOp : int {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFloorDivide, kEqual, kNotEqual, kLess, kLessEqual, kGreater,
  kGreaterEqual, kAnd, kOr, kReluGrad, kAtan2, kBinaryOpCount
};
enum ReduceOp : int { kReduceSum, kReduceMax, kReduceMin, kReduceProd, kReduceOpCount };

Napi::Value Copy(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Matmul(const Napi::CallbackInfo& info);
Napi::Value Conv(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info);
Napi::Value Pool(const Napi::CallbackInfo& info);
Napi::Value WindowMaxBackward(const Napi::CallbackInfo& info);
Napi::Value Fused(const Napi::CallbackInfo& info);
Napi::Value MatmulPostOps(const Napi::CallbackInfo& info);
Napi::Value LoadKernel(const Napi::CallbackInfo& info);
Napi::Value RunKernel(const Napi::CallbackInfo& info);
Napi::Value Cast(const Napi::CallbackInfo& info);
Napi::Value IntegerBinary(const Napi::CallbackInfo& info);
Napi::Value Where(const Napi::CallbackInfo& info);
Napi::Value ArgReduce(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value ScatterAdd(const Napi::CallbackInfo& info);
Napi::Value DnnlInfo(const Napi::CallbackInfo& info);
Napi::Value SetTeamSize(const Napi::CallbackInfo& info);
Napi::Value Softmax(const Napi::CallbackInfo& info);
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info);
Napi::Value LayerNorm(const Napi::CallbackInfo& info);
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info);
Napi::Value BatchNorm(const Napi::CallbackInfo& info);
Napi::Value BatchNormInference(const Napi::CallbackInfo& info);
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info);
Napi::Value RefuseNormalizationPrimitives(const Napi::CallbackInfo& info);
Napi::Value Eigh(const Napi::CallbackInfo& info);
Napi::Value Svd(const Napi::CallbackInfo& info);
Napi::Value Qr(const Napi::CallbackInfo& info);
Napi::Value Cholesky(const Napi::CallbackInfo& info);
Napi::Value LuFactor(const Napi::CallbackInfo& info);
Napi::Value TriangularSolve(const Napi::CallbackInfo& info);

/** Makes CBLAS compute on the calling thread only (the addon splits products over OpenMP itself). */
void pinBlasToCallingThread();

}  // namespace flint
