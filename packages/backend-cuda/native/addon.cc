// The addon's entry point: exports the functions of ops.h to JavaScript (src/native/addon.ts
// describes them to TypeScript). Loading it never touches the GPU: `probe` and `init` do.
#include <napi.h>

#include "ops.h"

namespace flint_cuda {

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  const auto add = [&](const char* name, Napi::Value (*function)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, function, name));
  };
  add("probe", Probe);
  add("init", Init);
  add("initValidationOnly", InitValidationOnly);
  add("libraries", Libraries);
  add("memory", Memory);
  add("emptyCache", EmptyCache);
  add("configure", Configure);
  add("upload", Upload);
  add("read", Read);
  add("free", Free);
  add("synchronize", Synchronize);
  add("unary", Unary);
  add("binary", Binary);
  add("where", Where);
  add("cast", Cast);
  add("copy", Copy);
  add("copyInto", CopyInto);
  add("full", Full);
  add("empty", Empty);
  add("iota", Iota);
  add("reduce", Reduce);
  add("argReduce", ArgReduce);
  add("cumulative", Cumulative);
  add("argsort", Argsort);
  add("matmul", Matmul);
  add("matmulBias", MatmulBias);
  add("conv", Conv);
  add("convBackwardFilter", ConvBackwardFilter);
  add("convBackwardData", ConvBackwardData);
  add("reduceWindow", ReduceWindow);
  add("windowMaxBackward", WindowMaxBackward);
  add("softmax", Softmax);
  add("softmaxBackward", SoftmaxBackward);
  add("layerNorm", LayerNorm);
  add("layerNormBackward", LayerNormBackward);
  add("batchNorm", BatchNorm);
  add("batchNormInference", BatchNormInference);
  add("batchNormBackward", BatchNormBackward);
  add("gather", Gather);
  add("scatterAdd", ScatterAdd);
  add("randomBits", RandomBits);
  add("randomUniform", RandomUniform);
  add("jitCompile", JitCompile);
  add("jitLaunch", JitLaunch);
  add("ncclLibrary", NcclLibrary);
  add("ncclUniqueId", NcclUniqueId);
  add("ncclInit", NcclInit);
  add("ncclCollective", NcclCollective);
  add("ncclGroup", NcclGroup);
  add("ncclStatus", NcclStatus);
  add("ncclDestroy", NcclDestroy);
  return exports;
}

}  // namespace flint_cuda

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return flint_cuda::Register(env, exports); }

NODE_API_MODULE(flint_cuda, InitModule)
