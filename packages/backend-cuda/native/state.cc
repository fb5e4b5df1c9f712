// The caching allocators and the process-wide state (see state.h).
#include "state.h"

#include <algorithm>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) && defined(FLINT_CUDA_EMULATION)
#include <sanitizer/asan_interface.h>
// Under AddressSanitizer (the emulation's --asan build, whose "device" memory is host memory) a
// block is addressable up to the bytes asked for while it is handed out, and not at all while it
// is cached: a kernel that reads or writes past its buffer, or into a released one, faults, where
// the size classes would otherwise hide it.
#define FLINT_POISON(pointer, bytes) ASAN_POISON_MEMORY_REGION(pointer, bytes)
#define FLINT_UNPOISON(pointer, bytes) ASAN_UNPOISON_MEMORY_REGION(pointer, bytes)
#else
#define FLINT_POISON(pointer, bytes) ((void)(pointer), (void)(bytes))
#define FLINT_UNPOISON(pointer, bytes) ((void)(pointer), (void)(bytes))
#endif

namespace flint_cuda {

State& state() {
  static State instance;
  return instance;
}

std::recursive_mutex& addonMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

size_t DeviceAllocator::roundSize(size_t bytes) {
  constexpr size_t kMinBlock = 512;
  constexpr size_t kLarge = size_t{64} << 20;
  constexpr size_t kLargeStep = size_t{2} << 20;
  if (bytes <= kMinBlock) return kMinBlock;
  if (bytes <= 4096) return (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
  if (bytes > kLarge) return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
  // Four classes per power of two: at most 25% of a block goes unused.
  size_t power = 1;
  while (power * 2 < bytes) power *= 2;
  const size_t step = power / 4;
  return (bytes + step - 1) / step * step;
}

void* DeviceAllocator::rawAllocate(size_t bytes, cudaError_t& error) {
  error = cudaSuccess;
  if (host_) {
    void* ptr = std::aligned_alloc(512, bytes);
    if (ptr == nullptr) error = cudaErrorMemoryAllocation;
    return ptr;
  }
  void* ptr = nullptr;
  error = cudaMalloc(&ptr, bytes);
  if (error != cudaSuccess) {
    cudaGetLastError();  // out of memory is not sticky: clear it so later calls do not report it
    return nullptr;
  }
  return ptr;
}

void DeviceAllocator::rawFree(void* ptr, size_t blockBytes) {
  FLINT_UNPOISON(ptr, blockBytes);
  if (host_) std::free(ptr);
  else cudaFree(ptr);
  stats_.deviceFrees++;
}

void* DeviceAllocator::allocate(size_t bytes, size_t& blockBytes, cudaError_t& error) {
  blockBytes = roundSize(bytes);
  error = cudaSuccess;
  void* ptr = nullptr;
  auto list = free_.find(blockBytes);
  if (list != free_.end() && !list->second.empty()) {
    ptr = list->second.back();
    list->second.pop_back();
    stats_.cachedBytes -= static_cast<int64_t>(blockBytes);
    stats_.cachedBlocks--;
    stats_.cacheHits++;
  } else {
    stats_.cacheMisses++;
    ptr = rawAllocate(blockBytes, error);
    if (ptr == nullptr && stats_.cachedBlocks > 0) {
      // The cache may hold the memory this request needs in other classes: free it and retry.
      emptyCache();
      ptr = rawAllocate(blockBytes, error);
      if (ptr != nullptr) stats_.retriesAfterFlush++;
    }
    if (ptr == nullptr) return nullptr;
    stats_.deviceAllocations++;
  }
  stats_.allocatedBytes += static_cast<int64_t>(blockBytes);
  stats_.allocatedBlocks++;
  if (stats_.allocatedBytes > stats_.peakAllocatedBytes) stats_.peakAllocatedBytes = stats_.allocatedBytes;
  // Addressable to the next 4 bytes: atomics on the half types (scatterAdd) compare-and-swap the
  // aligned 32-bit word holding the element, as CUDA's own atomicAdd on __half does, and that
  // word may reach 2 bytes past a half buffer's end. A real block is padded well past it.
  const size_t addressable = std::min(blockBytes, (bytes + 3) / 4 * 4);
  FLINT_UNPOISON(ptr, addressable);
  FLINT_POISON(static_cast<char*>(ptr) + addressable, blockBytes - addressable);
  return ptr;
}

void DeviceAllocator::release(void* ptr, size_t blockBytes) {
  if (ptr == nullptr) return;
  stats_.allocatedBytes -= static_cast<int64_t>(blockBytes);
  stats_.allocatedBlocks--;
  FLINT_POISON(ptr, blockBytes);
  free_[blockBytes].push_back(ptr);
  stats_.cachedBytes += static_cast<int64_t>(blockBytes);
  stats_.cachedBlocks++;
}

void DeviceAllocator::emptyCache() {
  if (!host_ && state().stream != nullptr) cudaStreamSynchronize(state().stream);
  for (auto& [size, blocks] : free_) {
    for (void* ptr : blocks) rawFree(ptr, size);
  }
  free_.clear();
  stats_.cachedBytes = 0;
  stats_.cachedBlocks = 0;
}

void PinnedPool::reclaim() {
  for (size_t i = 0; i < pending_.size();) {
    const Pending& p = pending_[i];
    if (host_ || p.event == nullptr || cudaEventQuery(p.event) != cudaErrorNotReady) {
      if (p.event != nullptr) releaseEvent(p.event);
      free_.emplace(p.blockBytes, p.ptr);
      cachedBytes_ += static_cast<int64_t>(p.blockBytes);
      pending_[i] = pending_.back();
      pending_.pop_back();
    } else {
      i++;
    }
  }
  cudaGetLastError();
}

void* PinnedPool::acquire(size_t bytes, size_t& blockBytes) {
  reclaim();
  blockBytes = DeviceAllocator::roundSize(bytes);
  auto found = free_.find(blockBytes);
  if (found != free_.end()) {
    void* ptr = found->second;
    free_.erase(found);
    cachedBytes_ -= static_cast<int64_t>(blockBytes);
    liveBytes_ += static_cast<int64_t>(blockBytes);
    return ptr;
  }
  void* ptr = nullptr;
  if (host_) {
    ptr = std::aligned_alloc(512, blockBytes);
  } else if (cudaHostAlloc(&ptr, blockBytes, cudaHostAllocDefault) != cudaSuccess) {
    cudaGetLastError();
    emptyCache();
    if (cudaHostAlloc(&ptr, blockBytes, cudaHostAllocDefault) != cudaSuccess) {
      cudaGetLastError();
      ptr = nullptr;
    }
  }
  if (ptr != nullptr) liveBytes_ += static_cast<int64_t>(blockBytes);
  return ptr;
}

void PinnedPool::release(void* ptr, size_t blockBytes, cudaEvent_t event) {
  if (ptr == nullptr) return;
  liveBytes_ -= static_cast<int64_t>(blockBytes);
  pending_.push_back({ptr, blockBytes, event});
}

void PinnedPool::emptyCache() {
  reclaim();
  for (auto& [size, ptr] : free_) {
    if (host_) std::free(ptr);
    else cudaFreeHost(ptr);
  }
  free_.clear();
  cachedBytes_ = 0;
}

cudaEvent_t acquireEvent(cudaError_t& error) {
  error = cudaSuccess;
  State& s = state();
  if (!s.freeEvents.empty()) {
    cudaEvent_t event = s.freeEvents.back();
    s.freeEvents.pop_back();
    return event;
  }
  cudaEvent_t event = nullptr;
  error = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
  return error == cudaSuccess ? event : nullptr;
}

void releaseEvent(cudaEvent_t event) {
  if (event != nullptr) state().freeEvents.push_back(event);
}

}  // namespace flint_cuda
