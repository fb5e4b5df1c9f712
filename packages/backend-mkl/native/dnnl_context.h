// The process's oneDNN CPU engine and stream, and a bounded cache of primitives keyed by shape.
#pragma once

#include <dnnl.hpp>
#include <functional>
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

/** Adds a primitive cache's clear function to those clearPrimitiveCaches calls. */
void registerPrimitiveCache(std::function<void()> clear);

/**
 * Empties every primitive cache. oneDNN (OpenMP runtime) sizes a primitive's parallelism when it
 * is created, so a new team size (setTeamSize) takes effect only through new primitives. The
 * caller holds dnnlMutex.
 */
void clearPrimitiveCaches();

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
  explicit PrimitiveCache(size_t capacity) : capacity_(capacity) {
    registerPrimitiveCache([this] { entries_.clear(); });
  }

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

/** Appends integers to a cache key. */
inline void appendKey(std::string& key, std::initializer_list<int64_t> values) {
  for (const int64_t v : values) {
    key += std::to_string(v);
    key += ',';
  }
}

}  // namespace flint
