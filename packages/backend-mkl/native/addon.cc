// The addon's entry point: exports the kernels of ops.h to JavaScript (src/native/addon.ts
// describes them to TypeScript).
#include <napi.h>

#include "common.h"
#include "ops.h"

namespace flint {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  initialThreadCount();
  pinBlasToCallingThread();
  exports.Set("info", Napi::Function::New(env, DnnlInfo, "info"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("integerBinary", Napi::Function::New(env, IntegerBinary, "integerBinary"));
  exports.Set("cast", Napi::Function::New(env, Cast, "cast"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce, "argReduce"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd, "scatterAdd"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("setTeamSize", Napi::Function::New(env, SetTeamSize, "setTeamSize"));
  exports.Set("fused", Napi::Function::New(env, Fused, "fused"));
  exports.Set("matmulPostOps", Napi::Function::New(env, MatmulPostOps, "matmulPostOps"));
  exports.Set("loadKernel", Napi::Function::New(env, LoadKernel, "loadKernel"));
  exports.Set("runKernel", Napi::Function::New(env, RunKernel, "runKernel"));
  exports.Set("conv", Napi::Function::New(env, Conv, "conv"));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardData, "convBackwardData"));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeights, "convBackwardWeights"));
  exports.Set("pool", Napi::Function::New(env, Pool, "pool"));
  exports.Set("windowMaxBackward", Napi::Function::New(env, WindowMaxBackward, "windowMaxBackward"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm, "batchNorm"));
  exports.Set("batchNormInference", Napi::Function::New(env, BatchNormInference, "batchNormInference"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
  exports.Set("refuseNormalizationPrimitives",
              Napi::Function::New(env, RefuseNormalizationPrimitives, "refuseNormalizationPrimitives"));
  exports.Set("eigh", Napi::Function::New(env, Eigh, "eigh"));
  exports.Set("svd", Napi::Function::New(env, Svd, "svd"));
  exports.Set("qr", Napi::Function::New(env, Qr, "qr"));
  exports.Set("cholesky", Napi::Function::New(env, Cholesky, "cholesky"));
  exports.Set("luFactor", Napi::Function::New(env, LuFactor, "luFactor"));
  exports.Set("triangularSolve", Napi::Function::New(env, TriangularSolve, "triangularSolve"));
  return exports;
}

}  // namespace flint

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return flint::Init(env, exports); }

NODE_API_MODULE(flint_mkl, InitModule)
