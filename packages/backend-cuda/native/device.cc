// Finding and starting the device, and reporting on it: probe (never throws), init, the
// validation-only mode for tests on machines without a GPU, the optional libraries, memory
// statistics and the cache.
#include <string>

#include "boundary.h"
#include "libraries.h"
#include "ops.h"

namespace flint_cuda {

namespace {

std::string describeError(cudaError_t error) {
  const char* name = cudaGetErrorName(error);
  const char* text = cudaGetErrorString(error);
  return std::string(name ? name : "cudaError") + " (" + (text ? text : "unknown") + ")";
}

Napi::Object libraryObject(const Napi::Env& env, const LibraryStatus& status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("found", Napi::Boolean::New(env, status.found));
  if (status.found) {
    result.Set("path", Napi::String::New(env, status.path));
    if (!status.version.empty()) result.Set("version", Napi::String::New(env, status.version));
  } else {
    result.Set("reason", Napi::String::New(env, status.reason));
  }
  return result;
}

}  // namespace

Napi::Value Probe(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  int runtimeVersion = 0;
  cudaRuntimeGetVersion(&runtimeVersion);
  result.Set("runtimeVersion", Napi::Number::New(env, runtimeVersion));
  result.Set("devices", Napi::Number::New(env, 0));
  std::string reason;
  if (!driverLibraryFound(reason)) {
    result.Set("available", Napi::Boolean::New(env, false));
    result.Set("reason", Napi::String::New(env, "no CUDA driver: " + reason + "; install the NVIDIA driver (it provides libcuda.so.1) on a machine with an NVIDIA GPU"));
    return result;
  }
  int driverVersion = 0;
  cudaDriverGetVersion(&driverVersion);
  result.Set("driverVersion", Napi::Number::New(env, driverVersion));
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  cudaGetLastError();
  if (error != cudaSuccess) {
    result.Set("available", Napi::Boolean::New(env, false));
    std::string why = "no usable CUDA driver/GPU: cudaGetDeviceCount failed with " + describeError(error);
    if (error == cudaErrorInsufficientDriver) {
      why += "; the driver (version " + std::to_string(driverVersion) + ") is older than this build's CUDA runtime (" +
             std::to_string(runtimeVersion) + "): update the NVIDIA driver";
    }
    result.Set("reason", Napi::String::New(env, why));
    return result;
  }
  result.Set("devices", Napi::Number::New(env, count));
  if (count == 0) {
    result.Set("available", Napi::Boolean::New(env, false));
    result.Set("reason", Napi::String::New(env, "no CUDA GPU: the driver reports no devices"));
    return result;
  }
  result.Set("available", Napi::Boolean::New(env, true));
  return result;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "init";
  const Napi::Env env = info.Env();
  checkArgs(info, 1, op);
  const int device = static_cast<int>(intArg(info, 0, op, "device", 0, 1023));
  State& s = state();
  if (s.ready) {
    if (s.validationOnly) throw Napi::Error::New(env, "flint-cuda init: already initialized in validation-only mode");
    if (s.device != device) throwRange(env, op, "already initialized on device " + std::to_string(s.device));
  } else {
    int count = 0;
    checkCuda(env, "cudaGetDeviceCount", cudaGetDeviceCount(&count));
    if (device >= count) throwRange(env, op, "device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)");
    checkCuda(env, "cudaSetDevice", cudaSetDevice(device));
    cudaDeviceProp props{};
    checkCuda(env, "cudaGetDeviceProperties", cudaGetDeviceProperties(&props, device));
    cudaStream_t stream = nullptr;
    checkCuda(env, "cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    s.device = device;
    s.stream = stream;
    s.deviceName = props.name;
    s.computeMajor = props.major;
    s.computeMinor = props.minor;
    s.multiprocessors = props.multiProcessorCount;
    s.totalMemory = props.totalGlobalMem;
    s.ready = true;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("device", Napi::Number::New(env, s.device));
  result.Set("name", Napi::String::New(env, s.deviceName));
  result.Set("computeCapability", Napi::String::New(env, std::to_string(s.computeMajor) + "." + std::to_string(s.computeMinor)));
  result.Set("multiprocessors", Napi::Number::New(env, s.multiprocessors));
  result.Set("totalMemory", Napi::Number::New(env, static_cast<double>(s.totalMemory)));
  int runtimeVersion = 0;
  int driverVersion = 0;
  cudaRuntimeGetVersion(&runtimeVersion);
  cudaDriverGetVersion(&driverVersion);
  result.Set("runtimeVersion", Napi::Number::New(env, runtimeVersion));
  result.Set("driverVersion", Napi::Number::New(env, driverVersion));
  return result;
}

Napi::Value InitValidationOnly(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  checkArgs(info, 0, "initValidationOnly");
  State& s = state();
  if (s.ready && !s.validationOnly) throw Napi::Error::New(info.Env(), "flint-cuda initValidationOnly: a device is already initialized");
  s.validationOnly = true;
  s.allocator.setHostMode(true);
  s.pinned.setHostMode(true);
  s.deviceName = "validation only (no kernels run)";
  s.ready = true;
  return info.Env().Undefined();
}

Napi::Value Libraries(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const Napi::Env env = info.Env();
  checkArgs(info, 0, "libraries");
  Napi::Object result = Napi::Object::New(env);
  result.Set("cublasLt", libraryObject(env, cublasLtStatus()));
  result.Set("cublas", libraryObject(env, cublasStatus()));
  result.Set("cudnn", libraryObject(env, cudnnStatus()));
  result.Set("nvrtc", libraryObject(env, nvrtcStatus()));
  result.Set("nccl", libraryObject(env, ncclStatus()));
  return result;
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const Napi::Env env = info.Env();
  checkArgs(info, 0, "memory");
  const State& s = state();
  const AllocatorStats& stats = s.allocator.stats();
  Napi::Object result = Napi::Object::New(env);
  const auto set = [&](const char* name, double value) { result.Set(name, Napi::Number::New(env, value)); };
  set("buffers", static_cast<double>(s.buffers.size()));
  set("allocatedBytes", static_cast<double>(stats.allocatedBytes));
  set("allocatedBlocks", static_cast<double>(stats.allocatedBlocks));
  set("cachedBytes", static_cast<double>(stats.cachedBytes));
  set("cachedBlocks", static_cast<double>(stats.cachedBlocks));
  set("reservedBytes", static_cast<double>(stats.allocatedBytes + stats.cachedBytes));
  set("peakAllocatedBytes", static_cast<double>(stats.peakAllocatedBytes));
  set("deviceAllocations", static_cast<double>(stats.deviceAllocations));
  set("deviceFrees", static_cast<double>(stats.deviceFrees));
  set("cacheHits", static_cast<double>(stats.cacheHits));
  set("cacheMisses", static_cast<double>(stats.cacheMisses));
  set("retriesAfterFlush", static_cast<double>(stats.retriesAfterFlush));
  set("pinnedCachedBytes", static_cast<double>(s.pinned.cachedBytes()));
  set("pinnedLiveBytes", static_cast<double>(s.pinned.liveBytes()));
  set("matmulKernel", static_cast<double>(s.counters.matmulKernel));
  set("matmulCublasLt", static_cast<double>(s.counters.matmulCublasLt));
  set("matmulBiasEpilogue", static_cast<double>(s.counters.matmulBiasEpilogue));
  set("convKernel", static_cast<double>(s.counters.convKernel));
  set("convCudnn", static_cast<double>(s.counters.convCudnn));
  set("convCudnnBackwardFilter", static_cast<double>(s.counters.convCudnnBackwardFilter));
  set("convCudnnBackwardData", static_cast<double>(s.counters.convCudnnBackwardData));
  set("dnnAlgorithmQueries", static_cast<double>(s.counters.dnnAlgorithmQueries));
  set("poolKernel", static_cast<double>(s.counters.poolKernel));
  set("poolCudnn", static_cast<double>(s.counters.poolCudnn));
  set("compositeKernel", static_cast<double>(s.counters.compositeKernel));
  set("normCudnn", static_cast<double>(s.counters.normCudnn));
  set("vendorFailures", static_cast<double>(s.counters.vendorFailures));
  set("jitCompiles", static_cast<double>(s.counters.jitCompiles));
  set("jitLaunches", static_cast<double>(s.counters.jitLaunches));
  return result;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  checkArgs(info, 0, "emptyCache");
  requireReady(info.Env(), "emptyCache");
  state().allocator.emptyCache();
  state().pinned.emptyCache();
  return info.Env().Undefined();
}

Napi::Value Configure(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  checkArgs(info, 1, "configure");
  state().allowTf32 = boolArg(info, 0, "configure", "allowTf32");
  return info.Env().Undefined();
}

}  // namespace flint_cuda
