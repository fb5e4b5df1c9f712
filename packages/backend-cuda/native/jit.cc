// Fused kernels from jit's `compile` hook: CUDA C generated in TypeScript (src/jit/), compiled here
// by NVRTC for this device's architecture, loaded with the runtime's library API (no driver API
// linked), and launched over a shared index space.
//
// The generated kernel's ABI: `extern "C" __global__ void <name>(FlintJitParams p, T0* out0, ...,
// const U0* in0, ...)`, where FlintJitParams is declared identically in the generated prelude and
// input k is read at p.offsets[k] + sum(coordinate[d] * p.strides[k][d]) over the launch shape's dims
// coalesced (coalesceDims: rank 1 where they allow); outputs are contiguous.
// An elementwise kernel writes an output element per index of the launch shape (a thread each); a
// reduction kernel, an output per `reduced` consecutive indices (a thread or a warp each).
#include <memory>
#include <unordered_map>

#include "boundary.h"
#include "libraries.h"
#include "ops.h"

namespace flint_cuda {

namespace {

constexpr int kJitMaxOperands = 8;

// Declared as the generated prelude's (long long is int64_t's size and alignment there).
struct FlintJitParams {
  int64_t total;
  int32_t rank;
  int32_t shape[kMaxRank];
  int64_t strides[kJitMaxOperands][kMaxRank];
  int64_t offsets[kJitMaxOperands];
};

struct JitKernel {
  cudaLibrary_t library = nullptr;
  cudaKernel_t kernel = nullptr;
  std::vector<int> outputs;  // dtypes
  std::vector<int> inputs;   // dtypes
  // 0: an output element per index of the launch shape, a thread each; else each output folds
  // this many consecutive indices (a reduction's row) with `lanes` threads (1, or a warp of 32).
  int64_t reduced = 0;
  int lanes = 1;
  // The launch shape the source was generated for: a reduction's prologue outputs are written at
  // indices computed from it, so every launch must use it (jitLaunch checks).
  std::vector<int64_t> shape;
  // Per output: an element per index of the launch shape even when `reduced` is set (a
  // reduction's prologue values, which the kernel writes as it computes them).
  std::vector<bool> full;
};

std::unordered_map<uint64_t, JitKernel>& kernels() {
  static std::unordered_map<uint64_t, JitKernel> table;
  return table;
}

uint64_t nextKernelId = 1;

std::vector<int> dtypeList(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what) {
  const std::vector<int64_t> values = paramsArg(info, index, op, what, -1);
  std::vector<int> result;
  for (const int64_t value : values) {
    if (value < 0 || value >= kDTypeCount) throwRange(info.Env(), op, std::string(what) + " holds an unknown dtype code");
    result.push_back(static_cast<int>(value));
  }
  return result;
}

}  // namespace

Napi::Value JitCompile(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "jitCompile";
  const Napi::Env env = info.Env();
  checkArgs(info, 8, op);
  requireReady(env, op);
  if (!info[0].IsString() || !info[1].IsString()) throwType(env, op, "source and name must be strings");
  const std::string source = info[0].As<Napi::String>().Utf8Value();
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  JitKernel entry;
  entry.outputs = dtypeList(info, 2, op, "output dtypes");
  entry.inputs = dtypeList(info, 3, op, "input dtypes");
  entry.reduced = intArg(info, 4, op, "reduced", 0, kMaxElements);
  entry.lanes = static_cast<int>(intArg(info, 5, op, "lanes", 1, 32));
  if (entry.lanes != 1 && entry.lanes != 32) throwRange(env, op, "lanes must be 1 or 32");
  if (entry.outputs.empty() || entry.inputs.size() > static_cast<size_t>(kJitMaxOperands)) {
    throwRange(env, op, "a fused kernel has 1 or more outputs and at most 8 inputs");
  }
  const std::vector<int64_t> full = paramsArg(info, 6, op, "full outputs", static_cast<int>(entry.outputs.size()));
  bool folded = false;
  for (const int64_t flag : full) {
    if (flag != 0 && flag != 1) throwRange(env, op, "full outputs must be 0 or 1 per output");
    entry.full.push_back(flag == 1 || entry.reduced == 0);
    folded = folded || flag == 0;
  }
  if (entry.reduced > 0 && !folded) throwRange(env, op, "a reduction kernel has an output of one element per row");
  entry.shape = paramsArg(info, 7, op, "launch shape", -1);
  if (entry.shape.size() > static_cast<size_t>(kMaxRank)) throwRange(env, op, "the launch shape has more than 16 dims");
  const Nvrtc* api = nvrtc();
  if (api == nullptr) throw Napi::Error::New(env, "flint-cuda jitCompile: unavailable: NVRTC " + nvrtcStatus().reason);
  if (!launching()) throw Napi::Error::New(env, "flint-cuda jitCompile: validation-only mode runs no kernels");
  nvrtcProgram program = nullptr;
  if (api->CreateProgram(&program, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr) != kNvrtcSuccess) {
    throw Napi::Error::New(env, "flint-cuda jitCompile: nvrtcCreateProgram failed");
  }
  const State& s = state();
  const std::string arch = "--gpu-architecture=sm_" + std::to_string(s.computeMajor) + std::to_string(s.computeMinor);
  const char* options[] = {arch.c_str(), "--std=c++17", "--device-as-default-execution-space"};
  const nvrtcResult compiled = api->CompileProgram(program, 3, options);
  if (compiled != kNvrtcSuccess) {
    size_t logSize = 0;
    api->GetProgramLogSize(program, &logSize);
    std::string log(logSize, '\0');
    if (logSize > 0) api->GetProgramLog(program, log.data());
    api->DestroyProgram(&program);
    throw Napi::Error::New(env, std::string("flint-cuda jitCompile: NVRTC could not compile ") + name + ": " + api->GetErrorString(compiled) +
                                    "\n" + log);
  }
  size_t cubinSize = 0;
  api->GetCUBINSize(program, &cubinSize);
  std::vector<char> cubin(cubinSize);
  api->GetCUBIN(program, cubin.data());
  api->DestroyProgram(&program);
  checkCuda(env, "jitCompile (cudaLibraryLoadData)",
            cudaLibraryLoadData(&entry.library, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0));
  const cudaError_t found = cudaLibraryGetKernel(&entry.kernel, entry.library, name.c_str());
  if (found != cudaSuccess) {
    cudaLibraryUnload(entry.library);
    throwCuda(env, "jitCompile (cudaLibraryGetKernel " + name + ")", found);
  }
  const uint64_t id = nextKernelId++;
  kernels().emplace(id, entry);
  state().counters.jitCompiles++;
  return Napi::Number::New(env, static_cast<double>(id));
}

namespace {

/**
 * jitLaunch's `into` (argument `index`): per output, the buffer to write it into, or 0 for a
 * fresh one; checked so that writing cannot corrupt what the kernel reads or another output: an
 * elementwise kernel's output only, a distinct live buffer holding exactly the launch's elements
 * of the output's dtype, and where an input views it, that view is the whole buffer contiguous in
 * the launch shape (each element then read at the index it is written, before it is).
 */
std::vector<uint64_t> outputBuffers(const Napi::CallbackInfo& info, size_t index, const char* op, const JitKernel& kernel,
                                    const std::vector<View>& inputs, int rank, const int64_t* shape, int64_t total) {
  const Napi::Env env = info.Env();
  if (!info[index].IsArray()) throwType(env, op, "the output buffers must be an array of handles (0: a fresh buffer)");
  const Napi::Array array = info[index].As<Napi::Array>();
  if (array.Length() != kernel.outputs.size()) throwRange(env, op, "the output buffers must name one handle (or 0) per output");
  std::vector<uint64_t> into;
  for (uint32_t k = 0; k < array.Length(); k++) {
    const Napi::Value value = array.Get(k);
    const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
    if (!(number >= 0 && number <= 9007199254740992.0) || number != static_cast<double>(static_cast<uint64_t>(number))) {
      throwType(env, op, "an output buffer must be a handle or 0");
    }
    const uint64_t id = static_cast<uint64_t>(number);
    into.push_back(id);
    if (id == 0) continue;
    if (kernel.reduced > 0) throwRange(env, op, "only an elementwise kernel writes into a given buffer");
    for (uint32_t other = 0; other < k; other++) {
      if (into[other] == id) throwRange(env, op, "two outputs name the same buffer");
    }
    const Buffer& buffer = bufferOf(env, id, op, "an output buffer");
    if (buffer.dtype != kernel.outputs[k] || buffer.elements != total) {
      throwRange(env, op, "an output buffer must hold exactly the launch's " + std::to_string(total) + " elements of the output's dtype");
    }
    for (const View& view : inputs) {
      if (view.base != buffer.ptr) continue;
      bool whole = view.offset == 0 && view.rank == rank && view.contiguous();
      for (int d = 0; whole && d < rank; d++) whole = view.shape[d] == shape[d];
      if (!whole) throwRange(env, op, "an output buffer that an input reads must be read whole, contiguous, at the index it is written");
    }
  }
  return into;
}

}  // namespace

Napi::Value JitLaunch(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "jitLaunch";
  const Napi::Env env = info.Env();
  // jitLaunch(kernel, shape: Int32Array, into: number[], ...inputs as (handle, layout) pairs) ->
  // output handles. `into` names, per output, a buffer to write it into (0: a fresh one): a donated
  // input's, which the kernel overwrites element by element after reading it (its view must be
  // the whole buffer, contiguous, read at the index it is written), or one it does not read.
  if (info.Length() < 3) throwType(env, op, "expected a kernel, a shape, the output buffers and the inputs");
  requireReady(env, op);
  const uint64_t id = static_cast<uint64_t>(intArg(info, 0, op, "kernel", 1, int64_t{1} << 53));
  auto found = kernels().find(id);
  if (found == kernels().end()) throwRange(env, op, "no compiled kernel has handle " + std::to_string(id));
  const JitKernel& kernel = found->second;
  if (info.Length() != 3 + 2 * kernel.inputs.size()) {
    throwType(env, op, "the kernel takes " + std::to_string(kernel.inputs.size()) + " inputs as (handle, layout) pairs");
  }
  const std::vector<int64_t> shape = paramsArg(info, 1, op, "shape", -1);
  if (shape != kernel.shape) throwRange(env, op, "the shape must be the launch shape the kernel was compiled for");
  const int rank = static_cast<int>(shape.size());
  int64_t total = 1;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] < 0) throwRange(env, op, "shape has a negative dimension");
    if (total != 0 && shape[d] > kMaxElements / total) throwRange(env, op, "shape has 2^31 elements or more");
    total *= shape[d];
  }
  FlintJitParams params{};
  params.total = total;
  if (kernel.reduced > 0 && total % kernel.reduced != 0)
    throwRange(env, op, "the launch shape's size is not a multiple of the reduced elements (" + std::to_string(kernel.reduced) + ")");
  const int64_t outputElements = kernel.reduced > 0 ? total / kernel.reduced : total;
  std::vector<View> inputs;
  for (size_t k = 0; k < kernel.inputs.size(); k++) {
    const View view = viewArg(info, 3 + 2 * k, 4 + 2 * k, kernel.inputs[k], op, "input");
    bool same = view.rank == rank;
    for (int d = 0; same && d < view.rank; d++) same = view.shape[d] == shape[static_cast<size_t>(d)];
    if (!same) throwRange(env, op, "every input must have the launch shape (broadcasts as zero strides)");
    params.offsets[k] = view.offset;
    inputs.push_back(view);
  }
  // The kernels reach inputs through row-major index i only, so the launch takes the coalesced
  // dims: most fused kernels then see rank 1 and compute offsets without dividing.
  const int64_t* strides[kJitMaxOperands];
  int64_t* rows[kJitMaxOperands];
  for (size_t k = 0; k < inputs.size(); k++) {
    strides[k] = inputs[k].strides;
    rows[k] = params.strides[k];
  }
  params.rank = coalesceDims(rank, shape.data(), static_cast<int>(inputs.size()), strides, params.shape, rows);
  const std::vector<uint64_t> into = outputBuffers(info, 2, op, kernel, inputs, rank, shape.data(), total);
  std::vector<std::unique_ptr<Output>> outputs;
  for (size_t k = 0; k < kernel.outputs.size(); k++) {
    outputs.push_back(into[k] != 0 ? nullptr : std::make_unique<Output>(env, op, kernel.outputs[k], kernel.full[k] ? total : outputElements));
  }
  if (launching() && total > 0) {
    std::vector<void*> pointers;
    for (size_t k = 0; k < outputs.size(); k++) pointers.push_back(into[k] != 0 ? state().buffers.at(into[k]).ptr : outputs[k]->data());
    for (const View& view : inputs) pointers.push_back(view.base);
    std::vector<void*> args;
    args.push_back(&params);
    for (void*& pointer : pointers) args.push_back(&pointer);
    const int64_t threads = kernel.reduced > 0 ? outputElements * kernel.lanes : total;
    int64_t blocks = (threads + 255) / 256;
    if (blocks > 1048576) blocks = 1048576;
    checkCuda(env, op,
              cudaLaunchKernel(reinterpret_cast<const void*>(kernel.kernel), dim3(static_cast<unsigned>(blocks)), dim3(256), args.data(), 0,
                               state().stream));
    state().counters.jitLaunches++;
  }
  Napi::Array handles = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); i++) {
    handles.Set(static_cast<uint32_t>(i), into[i] != 0 ? Napi::Number::New(env, static_cast<double>(into[i])) : outputs[i]->commit(env));
  }
  return handles;
}

}  // namespace flint_cuda
