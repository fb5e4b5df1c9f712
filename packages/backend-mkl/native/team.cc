// The OpenMP team size of the calling thread, which src/native/team.ts lowers while other
// processes keep cores busy: OpenMP splits a kernel's work evenly over its team, so one thread
// that shares its core with another process holds up the whole kernel.
#include <atomic>
#include <vector>

#include "common.h"
#include "dnnl_context.h"
#include "ops.h"

namespace flint {

namespace {

struct CacheRegistry {
  std::mutex mutex;
  std::vector<std::function<void()>> clears;
};

CacheRegistry& cacheRegistry() {
  static CacheRegistry registry;
  return registry;
}

// The team size the primitives in the caches were made for (0: none set yet, the default team).
std::atomic<int> cachedTeam{0};

}  // namespace

void registerPrimitiveCache(std::function<void()> clear) {
  CacheRegistry& registry = cacheRegistry();
  const std::lock_guard<std::mutex> lock(registry.mutex);
  registry.clears.push_back(std::move(clear));
}

void clearPrimitiveCaches() {
  CacheRegistry& registry = cacheRegistry();
  const std::lock_guard<std::mutex> lock(registry.mutex);
  for (const auto& clear : registry.clears) clear();
}

// setTeamSize(threads): the calling thread's kernels run on `threads` OpenMP threads from now
// on, 1 to the number the process started with. Primitives made for another team size are
// dropped (they would keep their old parallelism). Returns the previous team size.
Napi::Value SetTeamSize(const Napi::CallbackInfo& info) {
  checkArgs(info, 1, "setTeamSize");
  const int previous = threadCount();
  const int threads = static_cast<int>(intArg(info, 0, "setTeamSize", "threads", 1, initialThreadCount()));
  if (threads == previous) return Napi::Number::New(info.Env(), previous);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  if (cachedTeam.exchange(threads) != threads) {
    const std::lock_guard<std::mutex> lock(dnnlMutex());
    clearPrimitiveCaches();
  }
  return Napi::Number::New(info.Env(), previous);
}

}  // namespace flint
