// The emulation build's grid: every CUDA thread of a block is a fiber (ucontext) on the calling
// thread, and blocks run one after another. A fiber runs until it finishes or waits at a barrier
// (__syncthreads, or a warp shuffle's exchange); a barrier opens once every live thread of its
// scope waits at it. When no thread can run and no barrier can open, the kernel has a barrier
// some threads never reach (a hang or undefined behaviour on a GPU): the launch fails with
// cudaErrorLaunchFailure and a report on stderr naming the kernel, the block and the waits.
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emulated_device.h"

uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

namespace flint_emu {

void setLastError(cudaError_t error);  // runtime.cc

namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr int kWarp = 32;

enum class FiberState { kRunnable, kAtBlockBarrier, kAtWarpBarrier, kDone };

struct Fiber {
  ucontext_t context;
  FiberState state = FiberState::kRunnable;
  bool started = false;  // has run at least once in this block
  unsigned mask = 0;  // of the warp barrier it waits at
};

/** Raised inside a fiber to leave it after a reported failure; caught by the fiber's entry. */
struct Abandoned {};

/**
 * A fiber's stack, mapped with an inaccessible guard page below it (stacks grow down), so that a
 * kernel overflowing its stack faults instead of corrupting the neighbouring fiber's.
 */
class FiberStack {
 public:
  FiberStack() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    mapped_ = kStackBytes + page;
    void* base = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "[flint-cuda emulation] could not map a fiber stack\n");
      std::abort();
    }
    mprotect(base, page, PROT_NONE);
    base_ = static_cast<char*>(base);
    lowest_ = base_ + page;
  }
  ~FiberStack() { munmap(base_, mapped_); }
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;
  /** The usable stack's lowest address (what ucontext's ss_sp takes), above the guard page. */
  char* lowest() const { return lowest_; }

 private:
  char* base_ = nullptr;
  char* lowest_ = nullptr;
  size_t mapped_ = 0;
};

struct Block {
  const char* kernel = "";
  const std::function<void()>* body = nullptr;
  std::vector<Fiber> fibers;
  std::vector<std::unique_ptr<FiberStack>> stacks;
  ucontext_t scheduler;
  int current = 0;
  int threads = 0;
  uint64_t linear = 0;  // the block's index in the grid, x fastest
  bool failed = false;
  // Per warp: the values deposited for a shuffle, 8 bytes a lane.
  std::vector<uint64_t> exchange;
  std::vector<unsigned char> votes;
};

Block block;
std::mutex launchMutex;

/**
 * The order the scheduler runs a block's threads in (each round, up to their next barrier) and
 * a grid's blocks in: FLINT_CUDA_EMULATION_SCHEDULE = forward (the default), reverse, or
 * shuffle[:seed]. A GPU promises no order, so a kernel whose results change with it has a race:
 * two threads that touch the same memory between barriers (a missing __syncthreads or
 * __syncwarp, a write-after-read), or blocks that depend on each other. Running threads in
 * ascending order hides every race whose later thread only reads what an earlier one wrote;
 * reversed, each such pair runs the other way round. With ",warps" each warp runs ahead of the
 * next up to a block barrier (its shuffles do not wait for the other warps), which shows the
 * write-after-read races of shared memory reused between two barriers-free phases.
 */
struct Schedule {
  enum Kind { kForward, kReverse, kShuffle } kind = kForward;
  uint64_t seed = 0;
  /** ",warps": the order is the warps', and each runs ahead to its next block barrier. */
  bool warpsRunAhead = false;
};

const Schedule& schedule() {
  static const Schedule chosen = [] {
    Schedule s;
    const char* env = std::getenv("FLINT_CUDA_EMULATION_SCHEDULE");
    std::string value = env == nullptr ? "" : env;
    const std::string warpsSuffix = ",warps";
    if (value.size() >= warpsSuffix.size() && value.compare(value.size() - warpsSuffix.size(), warpsSuffix.size(), warpsSuffix) == 0) {
      s.warpsRunAhead = true;
      value.resize(value.size() - warpsSuffix.size());
    }
    char* end = nullptr;
    if (value.empty() || value == "forward") {
      s.kind = Schedule::kForward;
    } else if (value == "reverse") {
      s.kind = Schedule::kReverse;
    } else if (value == "shuffle") {
      s.kind = Schedule::kShuffle;
      s.seed = 1;
    } else if (value.rfind("shuffle:", 0) == 0 && value.size() > 8 && (s.seed = std::strtoull(value.c_str() + 8, &end, 10), *end == 0)) {
      s.kind = Schedule::kShuffle;
    } else {
      std::fprintf(stderr,
                   "[flint-cuda emulation] FLINT_CUDA_EMULATION_SCHEDULE=%s: expected forward, reverse or shuffle[:seed], "
                   "optionally followed by ,warps\n",
                   env);
      std::abort();
    }
    return s;
  }();
  return chosen;
}

/** splitmix64: the shuffled schedule's random numbers, seeded per launch, block and round. */
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/** Puts 0..n-1 into `order` in the schedule's order; `salt` varies a shuffle between calls. */
void scheduleOrder(std::vector<uint32_t>& order, uint32_t n, uint64_t salt) {
  order.resize(n);
  for (uint32_t i = 0; i < n; i++) order[i] = schedule().kind == Schedule::kReverse ? n - 1 - i : i;
  if (schedule().kind != Schedule::kShuffle) return;
  uint64_t state = mix(schedule().seed ^ mix(salt));
  for (uint32_t i = n; i > 1; i--) {
    state = mix(state);
    std::swap(order[i - 1], order[state % i]);
  }
}

uint64_t launchCount = 0;

/** Every `__shared__` array seen so far: poisoned before each block. */
std::vector<std::pair<void*, size_t>>& sharedArrays() {
  static std::vector<std::pair<void*, size_t>> arrays;
  return arrays;
}

void poisonShared() {
  for (const auto& [data, bytes] : sharedArrays()) std::memset(data, 0xff, bytes);
}

void fiberEntry() {
  try {
    (*block.body)();
  } catch (const Abandoned&) {
    // the block failed; nothing more to do on this thread
  }
  block.fibers[block.current].state = FiberState::kDone;
  // uc_link returns to the scheduler.
}

void setBuiltins(int linear) {
  threadIdx.x = static_cast<unsigned>(linear) % blockDim.x;
  threadIdx.y = (static_cast<unsigned>(linear) / blockDim.x) % blockDim.y;
  threadIdx.z = static_cast<unsigned>(linear) / (blockDim.x * blockDim.y);
}

/** Parks the running fiber in `state` and returns when the scheduler resumes it. */
void wait(FiberState state, unsigned mask = 0) {
  Fiber& fiber = block.fibers[block.current];
  fiber.state = state;
  fiber.mask = mask;
  swapcontext(&fiber.context, &block.scheduler);
  if (block.failed) throw Abandoned{};
}

const char* waitName(FiberState state) {
  return state == FiberState::kAtBlockBarrier ? "__syncthreads" : state == FiberState::kAtWarpBarrier ? "a warp shuffle" : "nothing";
}

/** The waiting threads as runs: "threads 0-15 at a warp shuffle, 16-31 at __syncthreads". */
std::string describeWaits() {
  std::string text;
  for (int t = 0; t < block.threads;) {
    const FiberState s = block.fibers[t].state;
    int end = t + 1;
    while (end < block.threads && block.fibers[end].state == s) end++;
    if (s != FiberState::kDone) {
      text += text.empty() ? "threads " : ", ";
      text += std::to_string(t) + (end - 1 > t ? "-" + std::to_string(end - 1) : "") + " at " + waitName(s);
    }
    t = end;
  }
  return text;
}

void fail(const std::string& why) {
  std::fprintf(stderr, "[flint-cuda emulation] kernel %s, block (%u, %u, %u): %s\n", block.kernel, blockIdx.x, blockIdx.y,
               blockIdx.z, why.c_str());
  block.failed = true;
}

/** Opens the barriers every live thread of their scope waits at; false when none could open. */
bool releaseBarriers() {
  bool released = false;
  int live = 0;
  int atBlock = 0;
  for (const Fiber& f : block.fibers) {
    if (f.state != FiberState::kDone) live++;
    if (f.state == FiberState::kAtBlockBarrier) atBlock++;
  }
  if (live > 0 && atBlock == live) {
    for (Fiber& f : block.fibers) {
      if (f.state == FiberState::kAtBlockBarrier) f.state = FiberState::kRunnable;
    }
    return true;
  }
  for (int first = 0; first < block.threads; first += kWarp) {
    const int end = first + kWarp < block.threads ? first + kWarp : block.threads;
    int waiting = 0;
    int warpLive = 0;
    for (int t = first; t < end; t++) {
      if (block.fibers[t].state != FiberState::kDone) warpLive++;
      if (block.fibers[t].state == FiberState::kAtWarpBarrier) waiting++;
    }
    if (waiting == 0 || waiting != warpLive) continue;
    for (int t = first; t < end; t++) {
      Fiber& f = block.fibers[t];
      if (f.state != FiberState::kAtWarpBarrier) continue;
      // A lane the mask names must exist and take part: one that has finished never will.
      if ((f.mask >> (end - first)) != 0 && end - first < kWarp) {
        fail("a warp shuffle's mask names lanes past the last thread of warp " + std::to_string(first / kWarp) + " (" +
             std::to_string(end - first) + " threads)");
        return false;
      }
      for (int lane = 0; lane < end - first; lane++) {
        if ((f.mask >> lane & 1u) != 0 && block.fibers[first + lane].state == FiberState::kDone) {
          fail("a warp shuffle's mask names lane " + std::to_string(lane) + " of warp " + std::to_string(first / kWarp) +
               ", which has finished");
          return false;
        }
      }
      f.state = FiberState::kRunnable;
    }
    released = true;
  }
  return released;
}

void prepareStacks(int threads) {
  while (static_cast<int>(block.stacks.size()) < threads) block.stacks.emplace_back(new FiberStack());
  block.fibers.assign(static_cast<size_t>(threads), Fiber{});
  block.exchange.assign(static_cast<size_t>((threads + kWarp - 1) / kWarp * kWarp), 0);
  block.votes.assign(block.exchange.size(), 0);
}

/** Runs thread `t` up to its next barrier or its end; false when it was not runnable. */
bool runThread(uint32_t t) {
  if (block.fibers[t].state != FiberState::kRunnable) return false;
  block.current = static_cast<int>(t);
  block.fibers[t].started = true;
  setBuiltins(static_cast<int>(t));
  swapcontext(&block.scheduler, &block.fibers[t].context);
  return true;
}

void runBlock() {
  poisonShared();
  for (int t = 0; t < block.threads; t++) {
    Fiber& f = block.fibers[t];
    f.state = FiberState::kRunnable;
    f.started = false;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = block.stacks[t]->lowest();
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &block.scheduler;
    makecontext(&f.context, fiberEntry, 0);
  }
  std::vector<uint32_t> order;
  std::vector<uint32_t> lanes;
  const uint32_t warps = static_cast<uint32_t>((block.threads + kWarp - 1) / kWarp);
  for (uint64_t round = 0;; round++) {
    bool ran = false;
    const uint64_t salt = mix(launchCount) ^ mix(block.linear) ^ round;
    if (!schedule().warpsRunAhead) {
      scheduleOrder(order, static_cast<uint32_t>(block.threads), salt);
      for (uint32_t t : order) {
        ran = runThread(t) || ran;
        if (block.failed) break;
      }
    } else {
      // Each warp in turn runs as far as it can (its shuffles open as soon as its lanes are
      // there) before the next starts: one warp far ahead of the others, as a GPU may run them.
      scheduleOrder(order, warps, salt);
      for (uint32_t w : order) {
        const uint32_t first = w * kWarp;
        const uint32_t count = std::min<uint32_t>(kWarp, static_cast<uint32_t>(block.threads) - first);
        for (uint64_t pass = 0; !block.failed; pass++) {
          scheduleOrder(lanes, count, salt ^ mix(w) ^ (pass << 32));
          bool warpRan = false;
          for (uint32_t lane : lanes) {
            warpRan = runThread(first + lane) || warpRan;
            if (block.failed) break;
          }
          ran = ran || warpRan;
          if (!warpRan && !releaseBarriers()) break;
        }
        if (block.failed) break;
      }
    }
    if (block.failed) break;
    bool done = true;
    for (const Fiber& f : block.fibers) done = done && f.state == FiberState::kDone;
    if (done) return;
    if (releaseBarriers() || ran) continue;
    if (!block.failed) fail("no thread can go on: " + describeWaits() + " (a barrier some threads never reach)");
    break;
  }
  // Let the waiting fibers unwind (each throws Abandoned from its wait). One that never ran (a
  // reordered schedule may fail a block before some warps start) has nothing to unwind: running
  // it would run the kernel after the failure.
  for (int t = 0; t < block.threads; t++) {
    if (block.fibers[t].state == FiberState::kDone || !block.fibers[t].started) continue;
    block.current = t;
    swapcontext(&block.scheduler, &block.fibers[t].context);
  }
}

}  // namespace

void launch(const char* kernel, const std::function<void()>& body, dim3 grid, dim3 blockShape, size_t sharedBytes,
            cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(launchMutex);
  const uint64_t threads = static_cast<uint64_t>(blockShape.x) * blockShape.y * blockShape.z;
  const bool geometryOk = threads > 0 && threads <= 1024 && blockShape.z <= 64 && grid.x > 0 && grid.y > 0 && grid.z > 0 &&
                          grid.x <= 2147483647u && grid.y <= 65535 && grid.z <= 65535 && sharedBytes <= 48 * 1024;
  if (!geometryOk) {
    std::fprintf(stderr,
                 "[flint-cuda emulation] kernel %s: invalid launch geometry: grid (%u, %u, %u), block (%u, %u, %u), %zu "
                 "bytes of shared memory\n",
                 kernel, grid.x, grid.y, grid.z, blockShape.x, blockShape.y, blockShape.z, sharedBytes);
    setLastError(cudaErrorInvalidConfiguration);
    return;
  }
  block.kernel = kernel;
  block.body = &body;
  block.threads = static_cast<int>(threads);
  block.failed = false;
  prepareStacks(block.threads);
  gridDim = grid;
  blockDim = blockShape;
  launchCount++;
  const uint64_t blocks = static_cast<uint64_t>(grid.x) * grid.y * grid.z;
  std::vector<uint32_t> blockOrder;
  // A forward schedule needs no list of blocks (a grid can have 2^31 of them).
  if (schedule().kind != Schedule::kForward) {
    if (blocks > (1ull << 28)) {
      std::fprintf(stderr, "[flint-cuda emulation] kernel %s: %llu blocks are too many for a reordered schedule\n", kernel,
                   static_cast<unsigned long long>(blocks));
      setLastError(cudaErrorInvalidConfiguration);
      return;
    }
    scheduleOrder(blockOrder, static_cast<uint32_t>(blocks), mix(launchCount));
  }
  for (uint64_t i = 0; i < blocks; i++) {
    const uint64_t linear = blockOrder.empty() ? i : blockOrder[i];
    blockIdx.x = static_cast<unsigned>(linear % grid.x);
    blockIdx.y = static_cast<unsigned>(linear / grid.x % grid.y);
    blockIdx.z = static_cast<unsigned>(linear / grid.x / grid.y);
    block.linear = linear;
    runBlock();
    if (block.failed) {
      setLastError(cudaErrorLaunchFailure);
      return;
    }
  }
}

void syncBlock() { wait(FiberState::kAtBlockBarrier); }

SharedArray::SharedArray(void* data, size_t bytes) {
  // Reached by the block's first thread before any thread writes the array.
  std::memset(data, 0xff, bytes);
  sharedArrays().emplace_back(data, bytes);
}

void shuffle(unsigned mask, const void* in, void* out, size_t size, ShuffleKind kind, int lane, int width) {
  const int self = block.current;
  const int first = self / kWarp * kWarp;
  const int laneId = self - first;
  if (size > sizeof(uint64_t) || width <= 0 || width > kWarp || (width & (width - 1)) != 0) {
    fail("a warp shuffle of " + std::to_string(size) + " bytes with width " + std::to_string(width) + " (unsupported)");
    throw Abandoned{};
  }
  if ((mask >> laneId & 1u) == 0) {
    fail("lane " + std::to_string(laneId) + " calls a warp shuffle its mask leaves out");
    throw Abandoned{};
  }
  std::memcpy(&block.exchange[static_cast<size_t>(self)], in, size);
  wait(FiberState::kAtWarpBarrier, mask);
  // Sources follow CUDA's rules: within the lane's segment of `width` lanes; out of range, its own value.
  const int segment = laneId / width * width;
  int source = laneId;
  switch (kind) {
    case ShuffleKind::kIndex:
      source = segment + (lane % width + width) % width;
      break;
    case ShuffleKind::kUp:
      source = laneId - lane >= segment ? laneId - lane : laneId;
      break;
    case ShuffleKind::kDown:
      source = laneId + lane < segment + width ? laneId + lane : laneId;
      break;
    case ShuffleKind::kXor:
      source = (laneId ^ lane) < segment + width ? laneId ^ lane : laneId;
      break;
  }
  if (first + source >= block.threads || (mask >> source & 1u) == 0) {
    fail("lane " + std::to_string(laneId) + " reads lane " + std::to_string(source) +
         " in a warp shuffle, which takes no part in it (its value is undefined on a GPU)");
    throw Abandoned{};
  }
  std::memcpy(out, &block.exchange[static_cast<size_t>(first + source)], size);
  // Every lane reads before any lane deposits for the next shuffle.
  wait(FiberState::kAtWarpBarrier, mask);
}

unsigned ballot(unsigned mask, bool predicate) {
  const int self = block.current;
  const int first = self / kWarp * kWarp;
  block.votes[static_cast<size_t>(self)] = predicate ? 1 : 0;
  wait(FiberState::kAtWarpBarrier, mask);
  unsigned bits = 0;
  for (int lane = 0; lane < kWarp && first + lane < block.threads; lane++) {
    if ((mask >> lane & 1u) != 0 && block.fibers[first + lane].state != FiberState::kDone && block.votes[first + lane] != 0)
      bits |= 1u << lane;
  }
  wait(FiberState::kAtWarpBarrier, mask);
  return bits;
}

}  // namespace flint_emu
