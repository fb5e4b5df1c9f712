// Device code on the CPU, for the emulation build of the addon. The kernels' own source runs
// unchanged: each CUDA thread of a block is a fiber, the scheduler (grid.cc) runs a block's fibers
// until each finishes or waits at a barrier, and releases a barrier once every live thread of its
// scope (the block for __syncthreads, the warp for shuffles) waits at it. So indexing, shared
// memory, warp shuffles and block reductions compute what they compute on a GPU, and a barrier
// that some threads never reach is reported as a launch failure instead of hanging.
//
// Launches (`kernel<<<grid, block, shared, stream>>>(args)`) are rewritten into calls of
// flint_emu::launch by scripts/emulation-source.mjs before the .cu files are compiled.
// Not emulated: memory ordering between threads (fibers of one block run one at a time, so there
// are no races to find), timing, and device limits other than the launch geometry's.
#pragma once

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <utility>

// The toolkit's host_defines.h maps these to attributes the host compiler ignores or rejects.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __noinline__
#undef __shared__
#undef __constant__
#undef __launch_bounds__
#undef __restrict__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
// Blocks run one after another, so one static array per kernel instantiation is each block's own.
#define __shared__ static
#define __constant__
#define __launch_bounds__(...)
#define __restrict__ __restrict

constexpr int warpSize = 32;

namespace flint_emu {
enum class ShuffleKind { kIndex, kUp, kDown, kXor };
}  // namespace flint_emu

#ifndef FLINT_EMU_JIT
// The built-in variables, set by the scheduler before it resumes a thread.
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;

namespace flint_emu {

/**
 * Runs `body` once for every thread of the grid, block after block, with the built-in variables
 * set; `kernel` names it in reports. Checks the geometry as the driver does (a bad one sets the
 * runtime's last error to cudaErrorInvalidConfiguration and runs nothing).
 */
void launch(const char* kernel, const std::function<void()>& body, dim3 grid, dim3 block, size_t sharedBytes = 0,
            cudaStream_t stream = nullptr);

/** Waits until every live thread of the block arrives. */
void syncBlock();

/**
 * A kernel's `__shared__` array (a static in the emulation): registered when a thread first
 * reaches its declaration, filled with 0xff bytes then and before every later block.
 */
struct SharedArray {
  SharedArray(void* data, size_t bytes);
};

/** A warp shuffle of `size` bytes: every live lane deposits `in`, then reads its source lane's value into `out`. */
void shuffle(unsigned mask, const void* in, void* out, size_t size, ShuffleKind kind, int lane, int width);
/** A warp vote: the bits of the live lanes whose `predicate` holds. */
unsigned ballot(unsigned mask, bool predicate);

}  // namespace flint_emu
#else
// A kernel compiled at run time (the emulated NVRTC, nvrtc.cc) is a shared library of its own,
// loaded privately: it reaches the addon's built-in variables and grid functions through these
// pointers, which the emulated cudaLibraryLoadData sets (runtime.cc).
extern "C" {
uint3* flint_emu_threadIdx = nullptr;
uint3* flint_emu_blockIdx = nullptr;
dim3* flint_emu_blockDim = nullptr;
dim3* flint_emu_gridDim = nullptr;
void (*flint_emu_syncBlock)() = nullptr;
void (*flint_emu_shuffle)(unsigned, const void*, void*, size_t, flint_emu::ShuffleKind, int, int) = nullptr;
unsigned (*flint_emu_ballot)(unsigned, bool) = nullptr;
}
#define threadIdx (*flint_emu_threadIdx)
#define blockIdx (*flint_emu_blockIdx)
#define blockDim (*flint_emu_blockDim)
#define gridDim (*flint_emu_gridDim)

namespace flint_emu {
inline void syncBlock() { flint_emu_syncBlock(); }
inline void shuffle(unsigned mask, const void* in, void* out, size_t size, ShuffleKind kind, int lane, int width) {
  flint_emu_shuffle(mask, in, out, size, kind, lane, width);
}
inline unsigned ballot(unsigned mask, bool predicate) { return flint_emu_ballot(mask, predicate); }

/** Calls `kernel` with its arguments read from `args` (cudaLaunchKernel's array of pointers to each). */
template <typename... P, size_t... I>
void callWithArguments(void (*kernel)(P...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<P>>*>(args[I])...);
}
template <typename... P>
void callWithArguments(void (*kernel)(P...), void** args) {
  callWithArguments(kernel, args, std::index_sequence_for<P...>{});
}
}  // namespace flint_emu
#endif

inline void __syncthreads() { flint_emu::syncBlock(); }
inline void __syncwarp(unsigned = 0xffffffffu) {}

template <typename T>
inline T __shfl_sync(unsigned mask, T value, int lane, int width = warpSize) {
  T out;
  flint_emu::shuffle(mask, &value, &out, sizeof(T), flint_emu::ShuffleKind::kIndex, lane, width);
  return out;
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = warpSize) {
  T out;
  flint_emu::shuffle(mask, &value, &out, sizeof(T), flint_emu::ShuffleKind::kUp, static_cast<int>(delta), width);
  return out;
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = warpSize) {
  T out;
  flint_emu::shuffle(mask, &value, &out, sizeof(T), flint_emu::ShuffleKind::kDown, static_cast<int>(delta), width);
  return out;
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T value, int laneMask, int width = warpSize) {
  T out;
  flint_emu::shuffle(mask, &value, &out, sizeof(T), flint_emu::ShuffleKind::kXor, laneMask, width);
  return out;
}
inline unsigned __ballot_sync(unsigned mask, int predicate) { return flint_emu::ballot(mask, predicate != 0); }
inline int __any_sync(unsigned mask, int predicate) { return flint_emu::ballot(mask, predicate != 0) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  return flint_emu::ballot(mask, predicate != 0) == flint_emu::ballot(mask, true);
}

// Atomics: fibers switch only at barriers and shuffles, so a plain read-modify-write is atomic.
template <typename T>
inline T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}
template <typename T>
inline T atomicCAS(T* address, T compare, T value) {
  const T old = *address;
  if (old == compare) *address = value;
  return old;
}
template <typename T>
inline T atomicExch(T* address, T value) {
  const T old = *address;
  *address = value;
  return old;
}
template <typename T>
inline T atomicMax(T* address, T value) {
  const T old = *address;
  if (value > old) *address = value;
  return old;
}
template <typename T>
inline T atomicMin(T* address, T value) {
  const T old = *address;
  if (value < old) *address = value;
  return old;
}

// CUDA's integer and floating min/max overloads (the float ones are fminf's and fmaxf's).
#define FLINT_EMU_MIN_MAX(T)                     \
  inline T min(T a, T b) { return b < a ? b : a; } \
  inline T max(T a, T b) { return b > a ? b : a; }
FLINT_EMU_MIN_MAX(int)
FLINT_EMU_MIN_MAX(unsigned)
FLINT_EMU_MIN_MAX(long)
FLINT_EMU_MIN_MAX(unsigned long)
FLINT_EMU_MIN_MAX(long long)
FLINT_EMU_MIN_MAX(unsigned long long)
#undef FLINT_EMU_MIN_MAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

// Device functions the host's math library does not have.
template <typename T>
inline T __ldg(const T* address) {
  return *address;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
namespace flint_emu {
/** The bits of `from` read as a `To` of the same size (the CUDA reinterpretation intrinsics). */
template <typename To, typename From>
inline To bitsAs(From from) {
  static_assert(sizeof(To) == sizeof(From), "a reinterpretation keeps the size");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}
}  // namespace flint_emu
inline int __float_as_int(float x) { return flint_emu::bitsAs<int>(x); }
inline unsigned __float_as_uint(float x) { return flint_emu::bitsAs<unsigned>(x); }
inline float __int_as_float(int bits) { return flint_emu::bitsAs<float>(bits); }
inline float __uint_as_float(unsigned bits) { return flint_emu::bitsAs<float>(bits); }
inline long long __double_as_longlong(double x) { return flint_emu::bitsAs<long long>(x); }
inline double __longlong_as_double(long long bits) { return flint_emu::bitsAs<double>(bits); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32); }
