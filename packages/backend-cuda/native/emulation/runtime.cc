// The CUDA runtime functions the addon calls, for the emulation build (linked instead of
// cudart_static). One device, "device" memory from the host heap, and streams that run their work
// at once: a copy or a kernel is done when its call returns, so every event has completed. What a
// real runtime would refuse is refused here too, loudly: copies and fills must lie inside one
// live allocation, frees must name one, and a launch's failure stays the last error until read.
// Run-time compiled kernels come from the emulated NVRTC (nvrtc.cc) as shared libraries: loading
// one opens it and hands it the grid; launching one runs it on the emulated grid.
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "emulated_device.h"
#include "nvrtc.h"
#include "vendor_emulation.h"

namespace flint_emu {

namespace {

std::mutex mutex;
cudaError_t lastError = cudaSuccess;
// Live allocations by address: device memory and pinned host memory.
std::map<const char*, size_t> deviceBlocks;
std::map<const char*, size_t> hostBlocks;
constexpr size_t kEmulatedMemory = size_t{16} << 30;

cudaError_t report(cudaError_t error, const std::string& what) {
  std::fprintf(stderr, "[flint-cuda emulation] %s\n", what.c_str());
  lastError = error;
  return error;
}

/** Whether [address, address + bytes) lies inside one live block of `blocks`. */
bool inside(const std::map<const char*, size_t>& blocks, const void* address, size_t bytes) {
  const char* p = static_cast<const char*>(address);
  auto it = blocks.upper_bound(p);
  if (it == blocks.begin()) return false;
  --it;
  return p >= it->first && p + bytes <= it->first + it->second;
}

bool deviceRange(const void* address, size_t bytes) { return bytes == 0 || inside(deviceBlocks, address, bytes); }

void* allocate(std::map<const char*, size_t>& blocks, size_t bytes) {
  // 256-byte alignment, as cudaMalloc guarantees; at least one byte so every block has an address.
#ifdef __SANITIZE_ADDRESS__
  // Exact sizes under AddressSanitizer (build-emulation.mjs --asan): its redzone starts right
  // after the last byte, so a kernel that reads or writes past its buffer faults.
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes > 0 ? bytes : 1) != 0) p = nullptr;
#else
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
#endif
  if (p != nullptr) blocks[static_cast<const char*>(p)] = bytes;
  return p;
}

}  // namespace

bool liveDeviceRange(const void* address, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  return deviceRange(address, bytes);
}

void setLastError(cudaError_t error) {
  std::lock_guard<std::mutex> lock(mutex);
  lastError = error;
}

}  // namespace flint_emu

using flint_emu::mutex;

extern "C" {

cudaError_t cudaGetLastError(void) {
  std::lock_guard<std::mutex> lock(mutex);
  const cudaError_t error = flint_emu::lastError;
  flint_emu::lastError = cudaSuccess;
  return error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported:
      return "cudaErrorNotSupported";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure (emulation: see the report on stderr)";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorNotSupported:
      return "operation not supported (the CPU emulation cannot run it)";
    default:
      return "error in the CPU emulation of the CUDA runtime";
  }
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  std::lock_guard<std::mutex> lock(mutex);
  if (device != 0) return flint_emu::report(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): one device");
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* props, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::memset(props, 0, sizeof *props);
  std::snprintf(props->name, sizeof props->name, "CPU emulation of a CUDA device (kernels run as host fibers)");
  props->major = 9;
  props->minor = 0;
  props->multiProcessorCount = 4;
  props->totalGlobalMem = flint_emu::kEmulatedMemory;
  props->warpSize = 32;
  props->maxThreadsPerBlock = 1024;
  props->sharedMemPerBlock = 48 * 1024;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  *pointer = flint_emu::allocate(flint_emu::deviceBlocks, bytes);
  return *pointer != nullptr ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFree(void* pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  if (pointer == nullptr) return cudaSuccess;
  auto it = flint_emu::deviceBlocks.find(static_cast<const char*>(pointer));
  if (it == flint_emu::deviceBlocks.end())
    return flint_emu::report(cudaErrorInvalidValue, "cudaFree of an address that is not a live cudaMalloc block");
  flint_emu::deviceBlocks.erase(it);
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** pointer, size_t bytes, unsigned int) {
  std::lock_guard<std::mutex> lock(mutex);
  *pointer = flint_emu::allocate(flint_emu::hostBlocks, bytes);
  return *pointer != nullptr ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFreeHost(void* pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  if (pointer == nullptr) return cudaSuccess;
  auto it = flint_emu::hostBlocks.find(static_cast<const char*>(pointer));
  if (it == flint_emu::hostBlocks.end())
    return flint_emu::report(cudaErrorInvalidValue, "cudaFreeHost of an address that is not a live cudaHostAlloc block");
  flint_emu::hostBlocks.erase(it);
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  std::lock_guard<std::mutex> lock(mutex);
  const bool dstDevice = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool srcDevice = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice)
    return flint_emu::report(cudaErrorInvalidValue, "cudaMemcpyAsync: a copy kind the addon does not use");
  if ((dstDevice && !flint_emu::deviceRange(dst, bytes)) || (srcDevice && !flint_emu::deviceRange(src, bytes))) {
    return flint_emu::report(cudaErrorInvalidValue, "cudaMemcpyAsync of " + std::to_string(bytes) +
                                                        " bytes reaches outside a live device allocation (kind " +
                                                        std::to_string(static_cast<int>(kind)) + ")");
  }
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* pointer, int value, size_t bytes, cudaStream_t) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!flint_emu::deviceRange(pointer, bytes))
    return flint_emu::report(cudaErrorInvalidValue,
                             "cudaMemsetAsync of " + std::to_string(bytes) + " bytes reaches outside a live device allocation");
  if (bytes > 0) std::memset(pointer, value, bytes);
  return cudaSuccess;
}

// Streams and events are tokens: work is done when its call returns.
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = reinterpret_cast<cudaStream_t>(new char(0));
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new char(0));
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) { return cudaEventCreate(event); }
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<char*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

}  // extern "C"

// What the emulated library and kernel handles point at.
struct CUlib_st {
  void* library;
};
struct CUkern_st {
  void (*entry)(void**);
  std::string name;
};

namespace flint_emu {
namespace {

/** Points the loaded kernel library's `flint_emu_<name>` pointer at `value`; false when it has none. */
template <typename T>
bool bind(void* library, const char* name, T value) {
  void* slot = dlsym(library, name);
  if (slot == nullptr) return false;
  *static_cast<T*>(slot) = value;
  return true;
}

}  // namespace
}  // namespace flint_emu

extern "C" {

cudaError_t cudaLibraryLoadData(cudaLibrary_t* library, const void* code, cudaJitOption*, void**, unsigned int, cudaLibraryOption*,
                                void**, unsigned int) {
  const std::string record(static_cast<const char*>(code));
  const std::string magic = std::string(flint_emu::kEmulatedCubinMagic) + '\n';
  if (record.compare(0, magic.size(), magic) != 0)
    return flint_emu::report(cudaErrorInvalidValue, "cudaLibraryLoadData: not a cubin of the emulated NVRTC");
  const std::string path = record.substr(magic.size());
  // The library stays in the emulated NVRTC's cache for the next process that compiles the same
  // kernel; one that does not open, or lacks the grid's pointers, is removed, so that the next
  // compile makes it again rather than every later run failing on it.
  void* opened = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (opened == nullptr) {
    const std::string why = dlerror();
    std::remove(path.c_str());
    return flint_emu::report(cudaErrorInvalidValue, "cudaLibraryLoadData: " + why);
  }
  const bool bound = flint_emu::bind(opened, "flint_emu_threadIdx", &threadIdx) && flint_emu::bind(opened, "flint_emu_blockIdx", &blockIdx) &&
                     flint_emu::bind(opened, "flint_emu_blockDim", &blockDim) && flint_emu::bind(opened, "flint_emu_gridDim", &gridDim) &&
                     flint_emu::bind(opened, "flint_emu_syncBlock", &flint_emu::syncBlock) &&
                     flint_emu::bind(opened, "flint_emu_shuffle", &flint_emu::shuffle) &&
                     flint_emu::bind(opened, "flint_emu_ballot", &flint_emu::ballot);
  if (!bound) {
    dlclose(opened);
    std::remove(path.c_str());
    return flint_emu::report(cudaErrorInvalidValue, "cudaLibraryLoadData: " + path + " lacks the emulated grid's pointers");
  }
  *library = new CUlib_st{opened};
  return cudaSuccess;
}

cudaError_t cudaLibraryGetKernel(cudaKernel_t* kernel, cudaLibrary_t library, const char* name) {
  if (library == nullptr || name == nullptr) return cudaErrorInvalidValue;
  const std::string entry = std::string(flint_emu::kEmulatedEntryPrefix) + name;
  void* found = dlsym(library->library, entry.c_str());
  if (found == nullptr) return cudaErrorSymbolNotFound;
  *kernel = new CUkern_st{reinterpret_cast<void (*)(void**)>(found), name};
  return cudaSuccess;
}

cudaError_t cudaLibraryUnload(cudaLibrary_t library) {
  if (library == nullptr) return cudaErrorInvalidValue;
  dlclose(library->library);
  delete library;
  return cudaSuccess;
}

cudaError_t cudaLaunchKernel(const void* function, dim3 grid, dim3 block, void** args, size_t sharedBytes, cudaStream_t stream) {
  // The addon launches only kernels it got from cudaLibraryGetKernel.
  const CUkern_st* kernel = static_cast<const CUkern_st*>(function);
  flint_emu::launch(kernel->name.c_str(), [&]() { kernel->entry(args); }, grid, block, sharedBytes, stream);
  return cudaGetLastError();
}

}  // extern "C"
