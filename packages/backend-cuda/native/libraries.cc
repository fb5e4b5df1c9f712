// Run-time loading of the optional CUDA libraries (see libraries.h).
#include "libraries.h"

#include <dlfcn.h>

#include <cstdlib>
#include <sstream>

#ifdef FLINT_CUDA_EMULATION
#include "emulation/nvrtc.h"
#include "emulation/vendor_emulation.h"
#endif

namespace flint_cuda {

namespace {

/** Folders searched after FLINT_CUDA_LIBRARY_PATH and the dynamic loader's own path. */
const char* const kFallbackFolders[] = {
    "/usr/local/cuda/lib64",
    "/usr/local/cuda/targets/x86_64-linux/lib",
    "/usr/local/cuda/targets/sbsa-linux/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/lib",
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
};

std::vector<std::string> splitPath(const char* value) {
  std::vector<std::string> parts;
  if (value == nullptr) return parts;
  std::stringstream stream(value);
  std::string part;
  while (std::getline(stream, part, ':')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

/**
 * dlopens the first of `names` found: in FLINT_CUDA_LIBRARY_PATH's folders, then by bare name
 * (LD_LIBRARY_PATH, the ld.so cache, the system folders), then in the usual CUDA folders.
 */
void* openLibrary(const std::vector<std::string>& names, LibraryStatus& status) {
  status.attempted = true;
  const char* configured = std::getenv("FLINT_CUDA_LIBRARY_PATH");
  const std::vector<std::string> folders = splitPath(configured);
  std::vector<std::string> candidates;
  for (const std::string& folder : folders)
    for (const std::string& name : names) candidates.push_back(folder + "/" + name);
  for (const std::string& name : names) candidates.push_back(name);
  for (const char* folder : kFallbackFolders)
    for (const std::string& name : names) candidates.push_back(std::string(folder) + "/" + name);
  std::string skipped;
  for (const std::string& candidate : candidates) {
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) continue;
#ifdef FLINT_CUDA_EMULATION
    // The emulated addon's "device" memory is host memory: only the emulation's own libraries
    // (native/emulation/) can work on it. They check operands against the emulated runtime's
    // allocations; a real NVIDIA library found on the way is passed over.
    using Attach = void (*)(flint_emu::LiveRangeCheck);
    auto attach = reinterpret_cast<Attach>(dlsym(handle, flint_emu::kAttachSymbol));
    if (attach == nullptr) {
      dlclose(handle);
      skipped += (skipped.empty() ? "" : ", ") + candidate;
      continue;
    }
    attach(flint_emu::liveDeviceRange);
#endif
    status.found = true;
    status.path = candidate;
    return handle;
  }
  std::string searched;
  for (size_t i = 0; i < names.size(); i++) searched += (i ? ", " : "") + names[i];
  std::string where = "FLINT_CUDA_LIBRARY_PATH (";
  where += configured && *configured ? configured : "unset";
  where += "), the dynamic loader's path (LD_LIBRARY_PATH, the ld.so cache)";
  for (const char* folder : kFallbackFolders) where += std::string(", ") + folder;
  status.reason = "not found (searched " + searched + " in " + where + ")";
  if (!skipped.empty()) status.reason += "; passed over, not the emulation's own: " + skipped;
  return nullptr;
}

template <typename F>
bool resolve(void* handle, const char* symbol, F& target, LibraryStatus& status) {
  target = reinterpret_cast<F>(dlsym(handle, symbol));
  if (target == nullptr) {
    status.found = false;
    status.reason = std::string("found at ") + status.path + " but it lacks " + symbol + " (an incompatible version)";
    return false;
  }
  return true;
}

LibraryStatus& mutableStatus(int which) {
  static LibraryStatus statuses[5];
  return statuses[which];
}

}  // namespace

const CublasLt* cublasLt() {
  static CublasLt api{};
  static bool loaded = [] {
    LibraryStatus& status = mutableStatus(0);
    void* h = openLibrary({"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}, status);
    if (h == nullptr) return false;
    bool ok = resolve(h, "cublasLtGetVersion", api.GetVersion, status) && resolve(h, "cublasLtCreate", api.Create, status) &&
              resolve(h, "cublasLtDestroy", api.Destroy, status) &&
              resolve(h, "cublasLtMatmulDescCreate", api.MatmulDescCreate, status) &&
              resolve(h, "cublasLtMatmulDescDestroy", api.MatmulDescDestroy, status) &&
              resolve(h, "cublasLtMatmulDescSetAttribute", api.MatmulDescSetAttribute, status) &&
              resolve(h, "cublasLtMatrixLayoutCreate", api.MatrixLayoutCreate, status) &&
              resolve(h, "cublasLtMatrixLayoutDestroy", api.MatrixLayoutDestroy, status) &&
              resolve(h, "cublasLtMatrixLayoutSetAttribute", api.MatrixLayoutSetAttribute, status) &&
              resolve(h, "cublasLtMatmulPreferenceCreate", api.MatmulPreferenceCreate, status) &&
              resolve(h, "cublasLtMatmulPreferenceDestroy", api.MatmulPreferenceDestroy, status) &&
              resolve(h, "cublasLtMatmulPreferenceSetAttribute", api.MatmulPreferenceSetAttribute, status) &&
              resolve(h, "cublasLtMatmulAlgoGetHeuristic", api.MatmulAlgoGetHeuristic, status) &&
              resolve(h, "cublasLtMatmul", api.Matmul, status);
    if (ok) status.version = std::to_string(api.GetVersion());
    return ok;
  }();
  return loaded ? &api : nullptr;
}

const Cublas* cublas() {
  static Cublas api{};
  static bool loaded = [] {
    LibraryStatus& status = mutableStatus(1);
    void* h = openLibrary({"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, status);
    if (h == nullptr) return false;
    return resolve(h, "cublasCreate_v2", api.Create, status) && resolve(h, "cublasDestroy_v2", api.Destroy, status);
  }();
  return loaded ? &api : nullptr;
}

const Cudnn* cudnn() {
  static Cudnn api{};
  static bool loaded = [] {
    LibraryStatus& status = mutableStatus(2);
    void* h = openLibrary({"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}, status);
    if (h == nullptr) return false;
    bool ok = resolve(h, "cudnnGetVersion", api.GetVersion, status) &&
              resolve(h, "cudnnGetErrorString", api.GetErrorString, status) && resolve(h, "cudnnCreate", api.Create, status) &&
              resolve(h, "cudnnDestroy", api.Destroy, status) && resolve(h, "cudnnSetStream", api.SetStream, status) &&
              resolve(h, "cudnnCreateTensorDescriptor", api.CreateTensorDescriptor, status) &&
              resolve(h, "cudnnSetTensorNdDescriptor", api.SetTensorNdDescriptor, status) &&
              resolve(h, "cudnnDestroyTensorDescriptor", api.DestroyTensorDescriptor, status) &&
              resolve(h, "cudnnCreateFilterDescriptor", api.CreateFilterDescriptor, status) &&
              resolve(h, "cudnnSetFilterNdDescriptor", api.SetFilterNdDescriptor, status) &&
              resolve(h, "cudnnDestroyFilterDescriptor", api.DestroyFilterDescriptor, status) &&
              resolve(h, "cudnnCreateConvolutionDescriptor", api.CreateConvolutionDescriptor, status) &&
              resolve(h, "cudnnSetConvolutionNdDescriptor", api.SetConvolutionNdDescriptor, status) &&
              resolve(h, "cudnnSetConvolutionGroupCount", api.SetConvolutionGroupCount, status) &&
              resolve(h, "cudnnSetConvolutionMathType", api.SetConvolutionMathType, status) &&
              resolve(h, "cudnnDestroyConvolutionDescriptor", api.DestroyConvolutionDescriptor, status) &&
              resolve(h, "cudnnGetConvolutionForwardAlgorithm_v7", api.GetConvolutionForwardAlgorithm_v7, status) &&
              resolve(h, "cudnnGetConvolutionForwardWorkspaceSize", api.GetConvolutionForwardWorkspaceSize, status) &&
              resolve(h, "cudnnConvolutionForward", api.ConvolutionForward, status);
    if (ok) status.version = std::to_string(api.GetVersion());
    if (ok) {
      // Optional: missing backward convolutions run as forward ones; missing pooling symbols only
      // send pooling to the own kernel.
      api.GetConvolutionBackwardFilterAlgorithm_v7 = reinterpret_cast<decltype(api.GetConvolutionBackwardFilterAlgorithm_v7)>(
          dlsym(h, "cudnnGetConvolutionBackwardFilterAlgorithm_v7"));
      api.ConvolutionBackwardFilter =
          reinterpret_cast<decltype(api.ConvolutionBackwardFilter)>(dlsym(h, "cudnnConvolutionBackwardFilter"));
      api.GetConvolutionBackwardDataAlgorithm_v7 = reinterpret_cast<decltype(api.GetConvolutionBackwardDataAlgorithm_v7)>(
          dlsym(h, "cudnnGetConvolutionBackwardDataAlgorithm_v7"));
      api.ConvolutionBackwardData = reinterpret_cast<decltype(api.ConvolutionBackwardData)>(dlsym(h, "cudnnConvolutionBackwardData"));
      api.CreatePoolingDescriptor = reinterpret_cast<decltype(api.CreatePoolingDescriptor)>(dlsym(h, "cudnnCreatePoolingDescriptor"));
      api.SetPoolingNdDescriptor = reinterpret_cast<decltype(api.SetPoolingNdDescriptor)>(dlsym(h, "cudnnSetPoolingNdDescriptor"));
      api.DestroyPoolingDescriptor = reinterpret_cast<decltype(api.DestroyPoolingDescriptor)>(dlsym(h, "cudnnDestroyPoolingDescriptor"));
      api.PoolingForward = reinterpret_cast<decltype(api.PoolingForward)>(dlsym(h, "cudnnPoolingForward"));
      api.BatchNormalizationForwardTraining = reinterpret_cast<decltype(api.BatchNormalizationForwardTraining)>(
          dlsym(h, "cudnnBatchNormalizationForwardTraining"));
      api.BatchNormalizationForwardInference = reinterpret_cast<decltype(api.BatchNormalizationForwardInference)>(
          dlsym(h, "cudnnBatchNormalizationForwardInference"));
      api.BatchNormalizationBackward =
          reinterpret_cast<decltype(api.BatchNormalizationBackward)>(dlsym(h, "cudnnBatchNormalizationBackward"));
    }
    return ok;
  }();
  return loaded ? &api : nullptr;
}

const Nvrtc* nvrtc() {
#ifdef FLINT_CUDA_EMULATION
  // The host compiler stands in for NVRTC (native/emulation/nvrtc.cc).
  LibraryStatus& emulated = mutableStatus(3);
  if (!emulated.attempted) {
    emulated.attempted = true;
    emulated.found = true;
    emulated.path = "emulated: the host C++ compiler ($CXX, else c++)";
  }
  return &flint_emu::emulatedNvrtc();
#else
  static Nvrtc api{};
  static bool loaded = [] {
    LibraryStatus& status = mutableStatus(3);
    void* h = openLibrary({"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}, status);
    if (h == nullptr) return false;
    bool ok = resolve(h, "nvrtcGetErrorString", api.GetErrorString, status) && resolve(h, "nvrtcVersion", api.Version, status) &&
              resolve(h, "nvrtcCreateProgram", api.CreateProgram, status) &&
              resolve(h, "nvrtcDestroyProgram", api.DestroyProgram, status) &&
              resolve(h, "nvrtcCompileProgram", api.CompileProgram, status) &&
              resolve(h, "nvrtcGetProgramLogSize", api.GetProgramLogSize, status) &&
              resolve(h, "nvrtcGetProgramLog", api.GetProgramLog, status) &&
              resolve(h, "nvrtcGetCUBINSize", api.GetCUBINSize, status) && resolve(h, "nvrtcGetCUBIN", api.GetCUBIN, status);
    if (ok) {
      int major = 0;
      int minor = 0;
      api.Version(&major, &minor);
      status.version = std::to_string(major) + "." + std::to_string(minor);
    }
    return ok;
  }();
  return loaded ? &api : nullptr;
#endif
}

const Nccl* nccl() {
  static Nccl api{};
  static bool loaded = [] {
    LibraryStatus& status = mutableStatus(4);
    void* h = openLibrary({"libnccl.so.2", "libnccl.so"}, status);
    if (h == nullptr) return false;
    bool ok = resolve(h, "ncclGetVersion", api.GetVersion, status) && resolve(h, "ncclGetUniqueId", api.GetUniqueId, status) &&
              resolve(h, "ncclCommInitRank", api.CommInitRank, status) && resolve(h, "ncclCommDestroy", api.CommDestroy, status) &&
              resolve(h, "ncclCommAbort", api.CommAbort, status) &&
              resolve(h, "ncclCommGetAsyncError", api.CommGetAsyncError, status) &&
              resolve(h, "ncclGetErrorString", api.GetErrorString, status) && resolve(h, "ncclAllReduce", api.AllReduce, status) &&
              resolve(h, "ncclBroadcast", api.Broadcast, status) && resolve(h, "ncclAllGather", api.AllGather, status) &&
              resolve(h, "ncclReduceScatter", api.ReduceScatter, status) && resolve(h, "ncclGroupStart", api.GroupStart, status) &&
              resolve(h, "ncclGroupEnd", api.GroupEnd, status);
    if (ok) {
      api.GetVersion(&api.version);
      // NCCL encodes 2.x.y as 20000 + 100 x + y since 2.9 (and as 1000 x ... before).
      const int v = api.version;
      status.version = v >= 10000 ? std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100)
                                  : std::to_string(v);
    }
    return ok;
  }();
  return loaded ? &api : nullptr;
}

const LibraryStatus& cublasLtStatus() {
  cublasLt();
  return mutableStatus(0);
}
const LibraryStatus& cublasStatus() {
  cublas();
  return mutableStatus(1);
}
const LibraryStatus& cudnnStatus() {
  cudnn();
  return mutableStatus(2);
}
const LibraryStatus& nvrtcStatus() {
  nvrtc();
  return mutableStatus(3);
}

const LibraryStatus& ncclStatus() {
  nccl();
  return mutableStatus(4);
}

bool driverLibraryFound(std::string& reason) {
#ifdef FLINT_CUDA_EMULATION
  // The emulated runtime (native/emulation/runtime.cc) needs no driver.
  return true;
#else
  LibraryStatus status;
  void* handle = openLibrary({"libcuda.so.1", "libcuda.so"}, status);
  if (handle == nullptr) {
    reason = "libcuda.so.1 " + status.reason;
    return false;
  }
  // Kept loaded: the CUDA runtime opens the same library and shares it.
  return true;
#endif
}

}  // namespace flint_cuda
