// Generated elementwise kernels: C source that src/compile/codegen.ts writes for a jit fusion group,
// compiled by the system's C compiler into a shared object, loaded here with dlopen and run over the
// output split across the OpenMP team. Each value stays in a CPU register from load to store, where
// the register program of fused.cc goes through memory for every op.
//
// A shared object declares what it reads and writes in `flint_kernel_signature` (read at load), and
// every call is checked against it before the kernel sees a pointer: only the arrays and layouts
// JavaScript passes cross the boundary, and they are validated as for every other entry point.
#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <vector>

#include "common.h"
#include "ops.h"

namespace flint {

namespace {

// Operand kinds of a signature (src/compile/codegen.ts writes the same codes).
enum OperandKind : int32_t { kFullFloat = 0, kScalarFloat = 1, kFullBool = 2, kScalarBool = 3 };

using KernelFunction = void (*)(int64_t begin, int64_t end, const void* const* inputs, void* const* outputs);

struct LoadedKernel {
  void* library = nullptr;
  KernelFunction run = nullptr;
  std::vector<int32_t> inputs;   // OperandKind per input
  std::vector<int32_t> outputs;  // kFullFloat or kFullBool per output
};

std::mutex& kernelsMutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<std::unique_ptr<LoadedKernel>>& kernels() {
  static std::vector<std::unique_ptr<LoadedKernel>> loaded;
  return loaded;
}

constexpr int32_t kMaxOperands = 512;
// Below this many elements waking the OpenMP worker costs more than the arithmetic (as fused.cc).
constexpr int64_t kParallelElements = 2 * kLoopGrain;

bool isScalar(int32_t kind) { return kind == kScalarFloat || kind == kScalarBool; }
int dtypeOf(int32_t kind) { return kind == kFullBool || kind == kScalarBool ? kBool : kFloat32; }

}  // namespace

// loadKernel(path): dlopens a generated kernel and returns its id. Throws when the file does not
// load, lacks the kernel or its signature, or the signature is malformed.
Napi::Value LoadKernel(const Napi::CallbackInfo& info) {
  checkArgs(info, 1, "loadKernel");
  const Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "loadKernel", "the path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    throwRange(env, "loadKernel", "cannot load " + path + ": " + (why ? why : "unknown error"));
  }
  auto kernel = std::make_unique<LoadedKernel>();
  kernel->library = library;
  kernel->run = reinterpret_cast<KernelFunction>(dlsym(library, "flint_kernel"));
  const auto* signature = static_cast<const int32_t*>(dlsym(library, "flint_kernel_signature"));
  bool valid = kernel->run != nullptr && signature != nullptr;
  if (valid) {
    const int32_t inputCount = signature[0], outputCount = signature[1];
    valid = inputCount >= 0 && inputCount <= kMaxOperands && outputCount >= 1 && outputCount <= kMaxOperands;
    for (int32_t i = 0; valid && i < inputCount; i++) {
      const int32_t kind = signature[2 + i];
      valid = kind >= kFullFloat && kind <= kScalarBool;
      kernel->inputs.push_back(kind);
    }
    for (int32_t o = 0; valid && o < outputCount; o++) {
      const int32_t kind = signature[2 + inputCount + o];
      valid = kind == kFullFloat || kind == kFullBool;
      kernel->outputs.push_back(kind);
    }
  }
  if (!valid) {
    dlclose(library);
    throwRange(env, "loadKernel", path + " is not a Flint kernel (flint_kernel or a valid flint_kernel_signature is missing)");
  }
  const std::lock_guard<std::mutex> lock(kernelsMutex());
  kernels().push_back(std::move(kernel));
  return Napi::Number::New(env, static_cast<double>(kernels().size() - 1));
}

// runKernel(id, size, ...inputs as (data, layout) pairs, ...outputs): runs a loaded kernel over
// `size` elements. A full input must be a contiguous view of `size` elements, a scalar input a
// view whose strides are all zero (one element, read at its offset); outputs are contiguous
// arrays of `size` elements.
Napi::Value RunKernel(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 2) throwType(env, "runKernel", "expected a kernel id and a size");
  LoadedKernel* kernel;
  {
    const std::lock_guard<std::mutex> lock(kernelsMutex());
    const int64_t id = intArg(info, 0, "runKernel", "kernel id", 0, static_cast<int64_t>(kernels().size()) - 1);
    kernel = kernels()[static_cast<size_t>(id)].get();
  }
  const size_t inputCount = kernel->inputs.size(), outputCount = kernel->outputs.size();
  if (info.Length() != 2 + 2 * inputCount + outputCount)
    throwType(env, "runKernel", "expected " + std::to_string(2 + 2 * inputCount + outputCount) + " arguments");
  const int64_t size = intArg(info, 1, "runKernel", "size", 0, kMaxElements);
  std::vector<const void*> inputs(inputCount);
  for (size_t i = 0; i < inputCount; i++) {
    const int32_t kind = kernel->inputs[i];
    const View view = viewArg(info, 2 + 2 * i, 3 + 2 * i, dtypeOf(kind), "runKernel", "input");
    if (isScalar(kind)) {
      for (int d = 0; d < view.rank; d++)
        if (view.strides[d] != 0 && view.shape[d] != 1) throwRange(env, "runKernel", "a scalar input must have zero strides");
      if (view.size == 0) throwRange(env, "runKernel", "a scalar input must hold an element");
    } else {
      if (!view.contiguous()) throwRange(env, "runKernel", "a full input must be contiguous");
      if (view.size != size) throwRange(env, "runKernel", "a full input must have `size` elements");
    }
    inputs[i] = view.base + view.offset * static_cast<int64_t>(itemSize(view.dtype));
  }
  std::vector<void*> outputs(outputCount);
  for (size_t o = 0; o < outputCount; o++) {
    const Output out = outputArg(info, 2 + 2 * inputCount + o, dtypeOf(kernel->outputs[o]), size, "runKernel");
    outputs[o] = out.base;
  }
  if (size == 0) return env.Undefined();
  const int threads = threadCount();
  if (threads <= 1 || size < kParallelElements) {
    kernel->run(0, size, inputs.data(), outputs.data());
  } else {
#pragma omp parallel for schedule(static)
    for (int task = 0; task < threads; task++)
      kernel->run(size * task / threads, size * (task + 1) / threads, inputs.data(), outputs.data());
  }
  return env.Undefined();
}

}  // namespace flint
