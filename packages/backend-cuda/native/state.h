// The addon's process-wide state: the device and its stream, the caching device allocator, the
// pool of pinned host blocks, the table of live buffers that JavaScript refers to by number, and
// a pool of CUDA events.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace flint_cuda {

/** One allocation that JavaScript holds a handle to. */
struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;       // requested
  size_t blockBytes = 0;  // the allocator's block (a size class)
  int dtype = 0;
  int64_t elements = 0;
};

struct AllocatorStats {
  int64_t allocatedBytes = 0;  // in live blocks (block sizes)
  int64_t allocatedBlocks = 0;
  int64_t cachedBytes = 0;  // in freed blocks kept for reuse
  int64_t cachedBlocks = 0;
  int64_t peakAllocatedBytes = 0;
  int64_t deviceAllocations = 0;  // cudaMalloc calls
  int64_t deviceFrees = 0;        // cudaFree calls
  int64_t cacheHits = 0;
  int64_t cacheMisses = 0;
  int64_t retriesAfterFlush = 0;  // allocations that succeeded only after emptying the cache
};

/**
 * A caching allocator in the manner of PyTorch's: requests are rounded up to size classes (512 B
 * steps below 4 KiB, then four classes per power of two, then 2 MiB multiples past 64 MiB), and
 * freed blocks wait in per-class free lists for the next request of their class instead of going
 * back to cudaFree, which synchronizes the device. All work runs on one stream, so a block freed
 * after enqueueing its last use can be handed out again at once: the stream orders the old use
 * before the new one. In validation-only mode blocks come from malloc.
 */
class DeviceAllocator {
 public:
  static size_t roundSize(size_t bytes);
  /** A block of at least `bytes`; sets `blockBytes`. Returns null and sets `error` on failure. */
  void* allocate(size_t bytes, size_t& blockBytes, cudaError_t& error);
  void release(void* ptr, size_t blockBytes);
  /** Frees every cached block (after the stream finishes, since a cached block may still be read). */
  void emptyCache();
  const AllocatorStats& stats() const { return stats_; }
  void setHostMode(bool host) { host_ = host; }

 private:
  void* rawAllocate(size_t bytes, cudaError_t& error);
  void rawFree(void* ptr, size_t blockBytes);
  bool host_ = false;
  std::unordered_map<size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
};

/** Page-locked host blocks for transfers, reused once the event recorded after their copy completes. */
class PinnedPool {
 public:
  void* acquire(size_t bytes, size_t& blockBytes);
  /** Returns a block whose transfer was recorded by `event` (null: no transfer pending). */
  void release(void* ptr, size_t blockBytes, cudaEvent_t event);
  void emptyCache();
  int64_t cachedBytes() const { return cachedBytes_; }
  int64_t liveBytes() const { return liveBytes_; }
  void setHostMode(bool host) { host_ = host; }

 private:
  struct Pending {
    void* ptr;
    size_t blockBytes;
    cudaEvent_t event;
  };
  void reclaim();
  bool host_ = false;
  std::multimap<size_t, void*> free_;
  std::vector<Pending> pending_;
  int64_t cachedBytes_ = 0;
  int64_t liveBytes_ = 0;
};

/** Counters of which engine ran each contraction (tests and benchmarks read them). */
struct EngineCounters {
  int64_t matmulKernel = 0;
  int64_t matmulCublasLt = 0;
  /** Of those, matmuls that added a bias in cuBLASLt's epilogue (jit's contraction fusions). */
  int64_t matmulBiasEpilogue = 0;
  int64_t convKernel = 0;
  int64_t convCudnn = 0;
  int64_t convCudnnBackwardFilter = 0;  // convolution gradients through cudnnConvolutionBackward{Filter,Data}
  int64_t convCudnnBackwardData = 0;
  /** cuDNN convolution algorithm queries (once per problem: dnn.cc remembers what ran). */
  int64_t dnnAlgorithmQueries = 0;
  int64_t poolKernel = 0;
  int64_t poolCudnn = 0;
  /** Runs of the composite ops' kernels (normalization.cu): softmax, layer and batch norm, max pooling's backward. */
  int64_t compositeKernel = 0;
  /** Batch norms (forward, inference, backward) that ran through cuDNN. */
  int64_t normCudnn = 0;
  /**
   * Calls into cuBLASLt or cuDNN that failed after the addon chose them (the library refused its
   * arguments or found no algorithm): the op then ran the own kernel. Zero when the addon calls
   * them right; FLINT_CUDA_STRICT_VENDOR=1 turns each into an error (see vendorFailure).
   */
  int64_t vendorFailures = 0;
  int64_t jitLaunches = 0;
  int64_t jitCompiles = 0;
};

struct State {
  bool ready = false;
  bool validationOnly = false;
  int device = -1;
  cudaStream_t stream = nullptr;
  std::string deviceName;
  int computeMajor = 0;
  int computeMinor = 0;
  int multiprocessors = 0;
  size_t totalMemory = 0;
  bool allowTf32 = false;
  DeviceAllocator allocator;
  PinnedPool pinned;
  std::unordered_map<uint64_t, Buffer> buffers;
  uint64_t nextBufferId = 1;
  std::vector<cudaEvent_t> freeEvents;
  EngineCounters counters;
};

State& state();

/** Serializes entry into the addon (worker threads share one process-wide state). */
std::recursive_mutex& addonMutex();

cudaEvent_t acquireEvent(cudaError_t& error);
void releaseEvent(cudaEvent_t event);

}  // namespace flint_cuda
