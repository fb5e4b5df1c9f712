// The addon's entry point: exports the kernels of ops.h to JavaScript (src/native/addon.ts
// describes them to TypeScript).
#include <napi.h>

#include "ops.h"

namespace flint {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, DnnlInfo, "info"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("conv", Napi::Function::New(env, Conv, "conv"));
  exports.Set("pool", Napi::Function::New(env, Pool, "pool"));
  return exports;
}

}  // namespace flint

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return flint::Init(env, exports); }

NODE_API_MODULE(flint_mkl, InitModule)
