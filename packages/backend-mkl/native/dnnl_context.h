// The process's oneDNN CPU engine and stream, a bounded cache of primitives keyed by shape, and
// the staging of operands between the callers' plain arrays and the layouts primitives want.
#pragma once

#include <dnnl.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace flint {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

/**
 * Held while a call uses the primitive caches or the shared stream: Node's worker threads can
 * call the addon at the same time, and neither the caches nor a oneDNN stream are thread-safe.
 */
std::mutex& dnnlMutex();

/**
 * Primitives (and the primitive descriptors behind them) keyed by a description of shapes,
 * strides and parameters: a string, or a small struct with its own hash where the key is built
 * on every call of a hot path (matmul). Creating a oneDNN primitive JIT-compiles a kernel, which
 * costs far more than running it on small inputs, so each shape pays that once. The cache is
 * cleared when it grows past `capacity`, which bounds its memory for programs that see endless
 * shapes.
 */
template <typename Entry, typename Key = std::string, typename Hash = std::hash<Key>>
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t capacity) : capacity_(capacity) {}

  /** The entry for `key`, or null. */
  Entry* find(const Key& key) {
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : found->second.get();
  }

  Entry* insert(const Key& key, std::unique_ptr<Entry> entry) {
    if (entries_.size() >= capacity_) entries_.clear();
    Entry* raw = entry.get();
    entries_[key] = std::move(entry);
    return raw;
  }

  size_t size() const { return entries_.size(); }

 private:
  size_t capacity_;
  std::unordered_map<Key, std::unique_ptr<Entry>, Hash> entries_;
};

/**
 * Work (in multiply-adds or elements) below which a oneDNN primitive is created and run on one
 * thread: each primitive execution is an OpenMP fork and join, and for small problems the join
 * costs more than the work (on a loaded machine, a descheduled thread can hold it for milliseconds).
 */
constexpr double kParallelWork = 1 << 21;

/**
 * Limits the calling thread's OpenMP team to one thread for its lifetime when `serial`. oneDNN
 * (OpenMP runtime) sizes a primitive's parallelism when it is created, so a primitive made under
 * this scope stays serial; the scope is part of the cache key of such primitives.
 */
class SerialScope {
 public:
  explicit SerialScope(bool serial) : serial_(serial) {
#ifdef _OPENMP
    if (serial_) {
      saved_ = omp_get_max_threads();
      omp_set_num_threads(1);
    }
#endif
  }
  ~SerialScope() {
#ifdef _OPENMP
    if (serial_) omp_set_num_threads(saved_);
#endif
  }
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool serial_;
  int saved_ = 1;
};

/**
 * A user-layout memory bound to `data`, and the layout the primitive wants: when they differ, a
 * cached reorder moves data between them through a cached buffer.
 */
struct Staged {
  dnnl::memory::desc user;
  dnnl::memory::desc wanted;
  bool reorders = false;
  dnnl::reorder reorder;
  dnnl::memory staging;

  void prepare(const dnnl::memory::desc& userDesc, const dnnl::memory::desc& wantedDesc, bool toUser) {
    user = userDesc;
    wanted = wantedDesc;
    reorders = user != wanted;
    if (!reorders) return;
    staging = dnnl::memory(wanted, cpuEngine());
    reorder = toUser ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), wanted, cpuEngine(), user))
                     : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), wanted));
  }

  /** The memory the primitive reads: the user's data itself, or the staged copy of it. */
  dnnl::memory input(void* data) {
    dnnl::memory userMemory(user, cpuEngine(), data);
    if (!reorders) return userMemory;
    reorder.execute(cpuStream(), userMemory, staging);
    return staging;
  }

  /** The memory the primitive writes; `finish` moves it into the user's data. */
  dnnl::memory output(void* data) { return reorders ? staging : dnnl::memory(user, cpuEngine(), data); }
  void finish(void* data) {
    if (!reorders) return;
    dnnl::memory userMemory(user, cpuEngine(), data);
    reorder.execute(cpuStream(), staging, userMemory);
  }
};

/** Appends integers to a cache key. */
inline void appendKey(std::string& key, std::initializer_list<int64_t> values) {
  for (const int64_t v : values) {
    key += std::to_string(v);
    key += ',';
  }
}

}  // namespace flint
