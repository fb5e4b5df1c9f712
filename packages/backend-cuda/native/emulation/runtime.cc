// The CUDA runtime functions the addon calls, for the emulation build (linked instead of
// cudart_static). One device, "device" memory from the host heap, and streams that run their work
// at once: a copy or a kernel is done when its call returns, so every event has completed. What a
// real runtime would refuse is refused here too, loudly: copies and fills must lie inside one
// live allocation, frees must name one, and a launch's failure stays the last error until read.
// Run-time compiled kernels (NVRTC's cubins) cannot run on the CPU: loading one fails, and the
// addon then reports NVRTC's fused kernels as unavailable as it does without NVRTC.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace flint_emu {

namespace {

std::mutex mutex;
cudaError_t lastError = cudaSuccess;
// Live allocations by address: device memory and pinned host memory.
std::map<const char*, size_t> deviceBlocks;
std::map<const char*, size_t> hostBlocks;
int currentDevice = 0;
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
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  if (p != nullptr) blocks[static_cast<const char*>(p)] = bytes;
  return p;
}

}  // namespace

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
  flint_emu::currentDevice = device;
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

cudaError_t cudaLibraryLoadData(cudaLibrary_t*, const void*, cudaJitOption*, void**, unsigned int, cudaLibraryOption*, void**,
                                unsigned int) {
  return cudaErrorNotSupported;
}
cudaError_t cudaLibraryGetKernel(cudaKernel_t*, cudaLibrary_t, const char*) { return cudaErrorNotSupported; }
cudaError_t cudaLibraryUnload(cudaLibrary_t) { return cudaErrorNotSupported; }
cudaError_t cudaLaunchKernel(const void*, dim3, dim3, void**, size_t, cudaStream_t) { return cudaErrorNotSupported; }

}  // extern "C"
