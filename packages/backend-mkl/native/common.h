// Shared by every translation unit of the addon: dtypes, the strided views that cross the
// Node-API boundary and their validation, and the parallel strided loop.
//
// Nothing that JavaScript passes is trusted: every typed array, layout, dtype and op code is
// checked here before native code touches memory, and failures become JavaScript exceptions
// (node-addon-api's C++ exceptions, enabled for all std::exception types in CMakeLists.txt).
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace flint {

// Matches the dtype codes of src/native/codes.ts.
// float16 and bfloat16 travel as their 16-bit patterns in Uint16Arrays.
enum DType : int { kFloat32 = 0, kFloat64 = 1, kInt32 = 2, kUint8 = 3, kBool = 4, kFloat16 = 5, kBFloat16 = 6, kDTypeCount = 7 };

constexpr int kMaxRank = 16;
// Flint's sizes are 32-bit (DESIGN.md): no view may hold 2^31 elements or more.
constexpr int64_t kMaxElements = (int64_t{1} << 31) - 1;

const char* dtypeName(int dtype);
size_t itemSize(int dtype);

/** A strided view of a typed array's elements, validated against the array's length. */
struct View {
  char* base = nullptr;  // the typed array's first element
  int64_t length = 0;    // the typed array's length in elements
  int dtype = kFloat32;
  int64_t offset = 0;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t size = 0;

  template <typename T>
  T* data() const {
    return reinterpret_cast<T*>(base);
  }
  bool contiguous() const;
  /** Whether `other` has this view's rank and dims (strides and dtype aside). */
  bool sameShape(const View& other) const;
};

/** A contiguous output typed array of exactly `size` elements of `dtype`. */
struct Output {
  char* base = nullptr;
  int64_t size = 0;
  int dtype = kFloat32;

  template <typename T>
  T* data() const {
    return reinterpret_cast<T*>(base);
  }
};

/** Throws a JavaScript TypeError/RangeError naming the op and the argument. */
[[noreturn]] void throwType(const Napi::Env& env, const std::string& op, const std::string& message);
[[noreturn]] void throwRange(const Napi::Env& env, const std::string& op, const std::string& message);

/** Checks the argument count of a call. */
void checkArgs(const Napi::CallbackInfo& info, size_t count, const char* op);

/** A dtype code argument, optionally restricted to `allowed` (a bit mask of dtypes). */
int dtypeArg(const Napi::CallbackInfo& info, size_t index, const char* op, unsigned allowed);

/** An integer argument in [low, high]. */
int64_t intArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t low, int64_t high);

/**
 * An Int32Array argument of parameters with exactly `expected` entries (or any count when
 * expected < 0), copied out.
 */
std::vector<int64_t> paramsArg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* what, int64_t expected);

/**
 * The view made of argument `dataIndex` (a typed array of `dtype`'s kind) and argument
 * `layoutIndex` (an Int32Array [offset, rank, ...shape, ...strides]). Every element the view
 * can reach must lie inside the typed array.
 */
View viewArg(const Napi::CallbackInfo& info, size_t dataIndex, size_t layoutIndex, int dtype, const char* op, const char* what);

/** The output typed array at `index`: `dtype`'s kind, exactly `size` elements. */
Output outputArg(const Napi::CallbackInfo& info, size_t index, int dtype, int64_t size, const char* op);

/** Threads the calling thread's parallel loops may use: its OpenMP team size. */
int threadCount();

/** The team size the process started with (OMP_NUM_THREADS, else all cores): setTeamSize's upper bound. */
int initialThreadCount();

/**
 * Elements per thread before a cheap loop (moves, selects, arithmetic) splits over the threads:
 * waking a sleeping OpenMP worker costs more than 64K elements of such work. ReLU's select on a
 * [128, 512] activation took 125-149 us on one thread against 181-227 us on two (a grain of
 * 32768), a bias add 30 us against 68-74 us. Measured while idle workers slept at once
 * (OMP_WAIT_POLICY=PASSIVE); they now spin about 80 us first (GOMP_SPINCOUNT, src/native/load.ts),
 * which makes a region right after another cheaper, not one after a longer gap.
 */
constexpr int64_t kLoopGrain = 65536;

/**
 * A strided loop over `rank` dims shared by K operands. The dims are coalesced (size-1 dims
 * dropped, neighbours merged where every operand allows), and `forEachRun` hands the body runs
 * of consecutive inner elements, splitting the flat index range across threads.
 */
template <int K>
struct StridedLoop {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[K][kMaxRank] = {};
  int64_t total = 0;

  StridedLoop(int inRank, const int64_t* inShape, const int64_t* const* inStrides) {
    total = 1;
    for (int d = 0; d < inRank; d++) total *= inShape[d];
    for (int d = 0; d < inRank; d++) {
      const int64_t dim = inShape[d];
      if (dim == 1) continue;
      if (rank > 0) {
        bool merge = true;
        for (int k = 0; k < K; k++) merge = merge && strides[k][rank - 1] == inStrides[k][d] * dim;
        if (merge) {
          shape[rank - 1] *= dim;
          for (int k = 0; k < K; k++) strides[k][rank - 1] = inStrides[k][d];
          continue;
        }
      }
      shape[rank] = dim;
      for (int k = 0; k < K; k++) strides[k][rank] = inStrides[k][d];
      rank++;
    }
    if (rank == 0) {  // a scalar: one run of one element
      rank = 1;
      shape[0] = 1;
      for (int k = 0; k < K; k++) strides[k][0] = 0;
    }
  }

  /**
   * Calls body(offsets, innerStrides, count) for runs of consecutive inner elements, where
   * offsets[k] is operand k's element offset (relative to `start`) of the run's first element.
   * Runs are split over threads once the loop has at least `grain` elements per thread.
   */
  template <typename Body>
  void forEachRun(const int64_t* start, Body body, int64_t grain = kLoopGrain) const {
    if (total == 0) return;
    const int64_t inner = shape[rank - 1];
    int64_t innerStrides[K];
    for (int k = 0; k < K; k++) innerStrides[k] = strides[k][rank - 1];
    int64_t tasks = 1;
    const int threads = threadCount();
    if (threads > 1 && total >= 2 * grain) tasks = std::min<int64_t>(total / grain, int64_t{threads} * 8);
    const auto runTask = [&](int64_t task) {
      int64_t first = total / tasks * task + std::min(task, total % tasks);
      const int64_t last = first + total / tasks + (task < total % tasks ? 1 : 0);
      int64_t row = first / inner;
      int64_t column = first % inner;
      int64_t counter[kMaxRank] = {};
      int64_t rowBase[K];
      for (int k = 0; k < K; k++) rowBase[k] = start[k];
      for (int d = rank - 2; d >= 0; d--) {
        counter[d] = row % shape[d];
        row /= shape[d];
        for (int k = 0; k < K; k++) rowBase[k] += counter[d] * strides[k][d];
      }
      while (first < last) {
        const int64_t count = std::min(inner - column, last - first);
        int64_t offsets[K];
        for (int k = 0; k < K; k++) offsets[k] = rowBase[k] + column * innerStrides[k];
        body(offsets, innerStrides, count);
        first += count;
        column = 0;
        for (int d = rank - 2; d >= 0; d--) {
          for (int k = 0; k < K; k++) rowBase[k] += strides[k][d];
          if (++counter[d] < shape[d]) break;
          for (int k = 0; k < K; k++) rowBase[k] -= strides[k][d] * shape[d];
          counter[d] = 0;
        }
      }
    };
    // Small loops skip the OpenMP region altogether: entering one costs microseconds.
    if (tasks == 1) {
      runTask(0);
      return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < tasks; task++) runTask(task);
  }
};

/** Row-major strides of a contiguous array of `rank` dims of `shape` (an output's). */
inline void contiguousStrides(int rank, const int64_t* shape, int64_t* strides) {
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

/**
 * out = f(a, b) elementwise over two views of one shape, into a contiguous output. The common
 * layouts get loops of their own that the compiler vectorizes: both operands contiguous, or one
 * a broadcast element along the run (a bias, a scalar; a broadcast left operand as in max
 * pooling's index arithmetic, window origins plus offsets).
 */
template <typename T, typename U, typename F>
void binaryLoop(const View& a, const View& b, U* out, F f) {
  int64_t outStrides[kMaxRank];
  contiguousStrides(a.rank, a.shape, outStrides);
  const int64_t* strides[3] = {a.strides, b.strides, outStrides};
  const StridedLoop<3> loop(a.rank, a.shape, strides);
  const T* left = a.data<T>();
  const T* right = b.data<T>();
  const int64_t start[3] = {a.offset, b.offset, 0};
  loop.forEachRun(start, [&](const int64_t* at, const int64_t* step, int64_t n) {
    const T* p = left + at[0];
    const T* q = right + at[1];
    U* o = out + at[2];
    const int64_t sp = step[0], sq = step[1];
    if (sp == 1 && sq == 1)
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i], q[i]);
    else if (sp == 1 && sq == 0) {
      const T v = q[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i], v);
    } else if (sp == 0 && sq == 1) {
      const T v = p[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(v, q[i]);
    } else
      for (int64_t i = 0; i < n; i++) o[i] = f(p[i * sp], q[i * sq]);
  });
}

/**
 * Calls body(first, last) over consecutive pieces of [0, total), one per thread, once the call
 * touches at least two grains of `work` elements (entering an OpenMP region costs microseconds,
 * more than a small loop); below that, one call over the whole range.
 */
template <typename Body>
void parallelRanges(int64_t total, int64_t work, Body body, int64_t grain = 32768) {
  if (total <= 0) return;
  const int threads = threadCount();
  int64_t tasks = 1;
  if (threads > 1 && work >= 2 * grain) tasks = std::min<int64_t>({int64_t{threads}, work / grain, total});
  if (tasks <= 1) {
    body(int64_t{0}, total);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t task = 0; task < tasks; task++) body(total * task / tasks, total * (task + 1) / tasks);
}

/** Output length of a window of `window` taps dilated by `dilation` slid by `stride` over a padded dim. */
inline int64_t windowCount(int64_t size, int64_t low, int64_t high, int64_t window, int64_t stride, int64_t dilation) {
  const int64_t span = size + low + high - ((window - 1) * dilation + 1);
  return span < 0 ? 0 : span / stride + 1;
}

/** Copies a view's elements into `out` (row-major, contiguous), any dtype. */
void copyToContiguous(const View& view, void* out);

/** The view's elements as a contiguous array: the view's own memory when it is already contiguous. */
const void* contiguousOrCopy(const View& view, std::vector<char>& storage);

}  // namespace flint
