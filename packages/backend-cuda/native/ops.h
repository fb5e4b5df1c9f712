// The functions the addon exports (registered in addon.cc; src/native/addon.ts describes them to
// TypeScript). Each validates its arguments (boundary.h) before it touches memory or launches.
#pragma once

#include <napi.h>

namespace flint_cuda {

// device.cc
Napi::Value Probe(const Napi::CallbackInfo& info);
Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value InitValidationOnly(const Napi::CallbackInfo& info);
Napi::Value Libraries(const Napi::CallbackInfo& info);
Napi::Value Memory(const Napi::CallbackInfo& info);
Napi::Value EmptyCache(const Napi::CallbackInfo& info);
Napi::Value Configure(const Napi::CallbackInfo& info);

// transfer.cc
Napi::Value Upload(const Napi::CallbackInfo& info);
Napi::Value Read(const Napi::CallbackInfo& info);
Napi::Value Free(const Napi::CallbackInfo& info);
Napi::Value Synchronize(const Napi::CallbackInfo& info);

// elementwise_ops.cc
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Where(const Napi::CallbackInfo& info);
Napi::Value Cast(const Napi::CallbackInfo& info);
Napi::Value Copy(const Napi::CallbackInfo& info);
Napi::Value CopyInto(const Napi::CallbackInfo& info);
Napi::Value Full(const Napi::CallbackInfo& info);
/** A buffer whose contents are unspecified, for kernels that write every element (concat). */
Napi::Value Empty(const Napi::CallbackInfo& info);
Napi::Value Iota(const Napi::CallbackInfo& info);

// reduce_ops.cc
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value ArgReduce(const Napi::CallbackInfo& info);
Napi::Value Cumulative(const Napi::CallbackInfo& info);
Napi::Value Argsort(const Napi::CallbackInfo& info);

// linalg_ops.cc
Napi::Value Matmul(const Napi::CallbackInfo& info);
Napi::Value MatmulBias(const Napi::CallbackInfo& info);
Napi::Value Conv(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardFilter(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info);
Napi::Value ReduceWindow(const Napi::CallbackInfo& info);
Napi::Value WindowMaxBackward(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value ScatterAdd(const Napi::CallbackInfo& info);
Napi::Value RandomBits(const Napi::CallbackInfo& info);
Napi::Value RandomUniform(const Napi::CallbackInfo& info);

// normalization_ops.cc (the composite ops' kernels)
Napi::Value Softmax(const Napi::CallbackInfo& info);
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info);
Napi::Value LayerNorm(const Napi::CallbackInfo& info);
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info);
Napi::Value BatchNorm(const Napi::CallbackInfo& info);
Napi::Value BatchNormInference(const Napi::CallbackInfo& info);
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info);

// nccl.cc
Napi::Value NcclLibrary(const Napi::CallbackInfo& info);
Napi::Value NcclUniqueId(const Napi::CallbackInfo& info);
Napi::Value NcclInit(const Napi::CallbackInfo& info);
Napi::Value NcclCollective(const Napi::CallbackInfo& info);
Napi::Value NcclGroup(const Napi::CallbackInfo& info);
Napi::Value NcclStatus(const Napi::CallbackInfo& info);
Napi::Value NcclDestroy(const Napi::CallbackInfo& info);

// jit.cc
Napi::Value JitCompile(const Napi::CallbackInfo& info);
Napi::Value JitLaunch(const Napi::CallbackInfo& info);

}  // namespace flint_cuda
