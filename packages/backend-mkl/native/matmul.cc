// Batched matrix products [batch, m, k] x [batch, k, n] -> [batch, m, n] (DotGeneral after the
// TypeScript side has merged its axes). Two engines: CBLAS (MKL or OpenBLAS) gemm, and oneDNN's
// matmul primitive (float32). The first calls of each shape and layout try both, timing each,
// and later calls use the faster one.
//
// Both engines run on one thread pool, OpenMP's: CBLAS is pinned to the calling thread and the
// addon splits a product over the OpenMP team itself. Left to its own pthreads, OpenBLAS kept a
// worker spinning for tens of milliseconds after every call, on the core OpenMP's worker needed
// for the next elementwise kernel: on 2 cores an MLP training step ran its matmuls at one core's
// speed and its small kernels several times slower than alone.
#include <chrono>
#include <climits>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "dnnl_context.h"
#include "ops.h"
#include "post_ops.h"

#ifdef FLINT_BLAS_MKL
#include <mkl_cblas.h>
#include <mkl_service.h>
#else
#include <cblas.h>
#endif

namespace flint {

namespace {

/** How a [rows, cols] strided matrix is passed to BLAS: transposed or not, and its leading dim. */
struct BlasMatrix {
  bool usable = false;
  bool transposed = false;
  int64_t ld = 1;
};

/**
 * Row-major BLAS reads element (i, j) at i * ld + j (or j * ld + i transposed), so one stride
 * must be 1 and the other at least the extent it skips. A dim of size 1 may take any stride.
 */
BlasMatrix blasMatrix(int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride) {
  BlasMatrix m;
  if ((colStride == 1 || cols == 1) && (rows == 1 || rowStride >= std::max<int64_t>(1, cols))) {
    m.usable = true;
    m.ld = rows == 1 ? std::max<int64_t>(1, cols) : rowStride;
  } else if ((rowStride == 1 || rows == 1) && (cols == 1 || colStride >= std::max<int64_t>(1, rows))) {
    m.usable = true;
    m.transposed = true;
    m.ld = cols == 1 ? std::max<int64_t>(1, rows) : colStride;
  }
  m.usable = m.usable && m.ld <= INT_MAX;
  return m;
}

/** One batch's [rows, cols] matrix of a rank-3 view, as a rank-2 view. */
View matrixOf(const View& v, int64_t batch) {
  View m = v;
  m.rank = 2;
  m.offset = v.offset + batch * v.strides[0];
  m.shape[0] = v.shape[1];
  m.shape[1] = v.shape[2];
  m.strides[0] = v.strides[1];
  m.strides[1] = v.strides[2];
  m.size = m.shape[0] * m.shape[1];
  return m;
}

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc);

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                 float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f, c,
              static_cast<int>(ldc));
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                  double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0, c,
              static_cast<int>(ldc));
}

/** One gemm operand: its first element, layout and leading dimension. */
template <typename T>
struct GemmOperand {
  const T* data;
  BlasMatrix layout;
};

/**
 * Rows [first, last) of a [rows, cols] operand (columns of its transpose), or columns
 * [first, last) when `columns`: the same matrix read from a later first element.
 */
template <typename T>
const T* slice(const GemmOperand<T>& operand, int64_t first, bool columns) {
  const bool alongLeading = columns == operand.layout.transposed;  // the slice steps over whole leading-dim runs
  return operand.data + (alongLeading ? first * operand.layout.ld : first);
}

// Splits are multiples of this many rows or columns (one AVX-512 register of floats): slices
// then start on the kernels' natural tile boundaries.
constexpr int64_t kSplitAlign = 16;

/**
 * c[m, n] = a[m, k] x b[k, n] with the work split over the OpenMP team: the larger of m and n is
 * cut into one slice per thread, and each thread runs CBLAS (single-threaded) on its slice.
 */
template <typename T>
void parallelGemm(int64_t m, int64_t n, int64_t k, const GemmOperand<T>& a, const GemmOperand<T>& b, T* c) {
  const bool splitRows = m >= n;
  const int64_t extent = splitRows ? m : n;
  const int64_t threads = threadCount();
  const int64_t blocks = (extent + kSplitAlign - 1) / kSplitAlign;
  const int64_t tasks = static_cast<double>(m) * n * k < kParallelWork ? 1 : std::min<int64_t>(threads, blocks);
  const auto run = [&](int64_t task) {
    const int64_t first = std::min(extent, blocks * task / tasks * kSplitAlign);
    const int64_t last = std::min(extent, blocks * (task + 1) / tasks * kSplitAlign);
    if (first >= last) return;
    if (splitRows) {
      gemm<T>(a.layout.transposed, b.layout.transposed, last - first, n, k, slice(a, first, false), a.layout.ld, b.data,
              b.layout.ld, c + first * n, n);
    } else {
      gemm<T>(a.layout.transposed, b.layout.transposed, m, last - first, k, a.data, a.layout.ld, slice(b, first, true),
              b.layout.ld, c + first, n);
    }
  };
  if (tasks == 1) {
    run(0);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(tasks))
  for (int64_t task = 0; task < tasks; task++) run(task);
}

/** A matrix operand ready for gemm: its own memory when BLAS can read it, else a packed copy. */
template <typename T>
const T* blasOperand(const View& v, int64_t batch, BlasMatrix& layout, std::vector<char>& storage) {
  const View matrix = matrixOf(v, batch);
  layout = blasMatrix(matrix.shape[0], matrix.shape[1], matrix.strides[0], matrix.strides[1]);
  if (layout.usable) return v.data<T>() + matrix.offset;
  storage.resize(static_cast<size_t>(matrix.size) * sizeof(T));
  copyToContiguous(matrix, storage.data());
  layout.usable = true;
  layout.transposed = false;
  layout.ld = std::max<int64_t>(1, matrix.shape[1]);
  return reinterpret_cast<const T*>(storage.data());
}

template <typename T>
void blasMatmul(const View& a, const View& b, T* c) {
  const int64_t batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2];
  const int64_t threads = threadCount();
  const bool batchParallel = batch >= threads && threads > 1 && static_cast<double>(batch) * m * n * k >= kParallelWork;
#ifdef _OPENMP
  if (batchParallel) {
    // Whole products per thread, each with its own packing storage, sized before the threads
    // start (every batch has the same layout): an allocation failing inside a parallel region
    // would end the process instead of becoming a JavaScript exception.
    const View a0 = matrixOf(a, 0), b0 = matrixOf(b, 0);
    const bool packA = !blasMatrix(m, k, a0.strides[0], a0.strides[1]).usable;
    const bool packB = !blasMatrix(k, n, b0.strides[0], b0.strides[1]).usable;
    std::vector<std::vector<char>> aStorage(static_cast<size_t>(threads)), bStorage(static_cast<size_t>(threads));
    for (int64_t t = 0; t < threads; t++) {
      if (packA) aStorage[static_cast<size_t>(t)].resize(static_cast<size_t>(m * k) * sizeof(T));
      if (packB) bStorage[static_cast<size_t>(t)].resize(static_cast<size_t>(k * n) * sizeof(T));
    }
#pragma omp parallel num_threads(static_cast<int>(threads))
    {
      const size_t self = static_cast<size_t>(omp_get_thread_num());
#pragma omp for schedule(static)
      for (int64_t i = 0; i < batch; i++) {
        GemmOperand<T> pa{nullptr, {}}, pb{nullptr, {}};
        pa.data = blasOperand<T>(a, i, pa.layout, aStorage[self]);
        pb.data = blasOperand<T>(b, i, pb.layout, bStorage[self]);
        gemm<T>(pa.layout.transposed, pb.layout.transposed, m, n, k, pa.data, pa.layout.ld, pb.data, pb.layout.ld, c + i * m * n, n);
      }
    }
    return;
  }
#endif
  std::vector<char> aStorage, bStorage;
  for (int64_t i = 0; i < batch; i++) {
    GemmOperand<T> pa{nullptr, {}}, pb{nullptr, {}};
    pa.data = blasOperand<T>(a, i, pa.layout, aStorage);
    pb.data = blasOperand<T>(b, i, pb.layout, bStorage);
    parallelGemm<T>(m, n, k, pa, pb, c + i * m * n);
  }
}

// The first calls of a new shape are trials: kTrialsPerEngine consecutive calls of oneDNN, then
// as many of CBLAS; the engine whose fastest call after the first of its run was faster stays.
// Runs rather than alternation, and the first call of each run not counted, time each engine in
// its steady state: alternation measured each engine right after the other one (when CBLAS ran on
// OpenBLAS's own threads, a oneDNN call found them still spinning and OpenMP's workers asleep).
constexpr int kTrialsPerEngine = 3;

// A choice is reviewed: after kFirstReview calls, then after four times as many each time, both
// engines run a trial again, and the one whose fastest steady call over all reviews is faster is
// chosen. A process's first calls run while it is still starting (V8 compiling on another thread,
// the other OpenMP worker descheduled: a 256x256 product took 460 us for its first 100 ms, then
// 150 us), so first trials alone picked CBLAS in one process of four where oneDNN is 13% faster.
// The fastest call only falls with more samples, so the choice settles; the reviews cost a few
// calls at spacings that grow geometrically.
constexpr int64_t kFirstReview = 32;

/**
 * oneDNN's matmul for one shape and layout; absent when oneDNN cannot take the layout. The three
 * memory objects are made with the primitive and get each call's pointers (set_data_handle), and
 * the execution arguments point at them: a call then allocates nothing (three memory objects and
 * a map of arguments per call took about a microsecond, as long as oneDNN's own execution of a
 * 4x4 product).
 */
struct MatmulEntry {
  bool dnnlUsable = false;
  dnnl::matmul primitive;
  dnnl::memory::desc aDesc, bDesc, cDesc;
  dnnl::memory aMemory, bMemory, cMemory;
  dnnl_exec_arg_t arguments[3] = {};
  int choice = 0;  // 0 undecided (trials under way), 1 BLAS, 2 oneDNN
  int trials = 0;  // trial calls of the current review: a run of oneDNN calls, then a run of CBLAS calls
  double bestSeconds[3] = {0, 1e300, 1e300};  // fastest steady call seen per engine, over every review
  int64_t callsSinceChoice = 0;
  int64_t nextReview = kFirstReview;  // calls after a choice at which both engines are tried again
};

/** A float32 product's cache key: the rank-3 operands' shapes and strides (a's three dims, b's columns, both strides). */
struct MatmulKey {
  int64_t values[10];
  bool operator==(const MatmulKey& other) const { return std::equal(values, values + 10, other.values); }
};

struct MatmulKeyHash {
  size_t operator()(const MatmulKey& key) const {
    uint64_t hash = 14695981039346656037ull;  // FNV-1a over the integers
    for (const int64_t v : key.values) hash = (hash ^ static_cast<uint64_t>(v)) * 1099511628211ull;
    return static_cast<size_t>(hash);
  }
};

MatmulKey matmulKeyOf(const View& a, const View& b) {
  return {{a.shape[0], a.shape[1], a.shape[2], b.shape[2], a.strides[0], a.strides[1], a.strides[2], b.strides[0], b.strides[1],
           b.strides[2]}};
}

PrimitiveCache<MatmulEntry, MatmulKey, MatmulKeyHash>& matmulCache() {
  static PrimitiveCache<MatmulEntry, MatmulKey, MatmulKeyHash> cache(512);
  return cache;
}

/**
 * A oneDNN memory descriptor for a rank-3 operand whose matrices BLAS could read in place: a
 * zero batch stride (broadcast) becomes a batch dim of 1, which oneDNN's matmul broadcasts.
 */
bool dnnlOperand(const View& v, dnnl::memory::desc& desc, dnnl::memory::data_type type = dnnl::memory::data_type::f32) {
  const int64_t batch = v.shape[0], rows = v.shape[1], cols = v.shape[2];
  const BlasMatrix layout = blasMatrix(rows, cols, v.strides[1], v.strides[2]);
  if (!layout.usable) return false;
  const int64_t rowStride = layout.transposed ? 1 : layout.ld;
  const int64_t colStride = layout.transposed ? layout.ld : 1;
  const bool broadcast = batch > 1 && v.strides[0] == 0;
  // Matrices of different batches must not overlap: oneDNN assumes a dense batch dim.
  const int64_t extent = (rows - 1) * rowStride + (cols - 1) * colStride + 1;
  if (batch > 1 && !broadcast && v.strides[0] < extent) return false;
  const int64_t batchStride = batch > 1 && !broadcast ? v.strides[0] : extent;
  desc = dnnl::memory::desc({broadcast ? 1 : batch, rows, cols}, type, {batchStride, rowStride, colStride});
  return true;
}

std::unique_ptr<MatmulEntry> makeMatmulEntry(const View& a, const View& b) {
  auto entry = std::make_unique<MatmulEntry>();
  const int64_t batch = a.shape[0], m = a.shape[1], n = b.shape[2];
  try {
    if (!dnnlOperand(a, entry->aDesc) || !dnnlOperand(b, entry->bDesc)) return entry;
    entry->cDesc = dnnl::memory::desc({batch, m, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::abc);
    const dnnl::matmul::desc desc(entry->aDesc, entry->bDesc, entry->cDesc);
    const dnnl::matmul::primitive_desc pd(desc, cpuEngine());
    entry->primitive = dnnl::matmul(pd);
    entry->aMemory = dnnl::memory(entry->aDesc, cpuEngine(), DNNL_MEMORY_NONE);
    entry->bMemory = dnnl::memory(entry->bDesc, cpuEngine(), DNNL_MEMORY_NONE);
    entry->cMemory = dnnl::memory(entry->cDesc, cpuEngine(), DNNL_MEMORY_NONE);
    entry->arguments[0] = {DNNL_ARG_SRC, entry->aMemory.get()};
    entry->arguments[1] = {DNNL_ARG_WEIGHTS, entry->bMemory.get()};
    entry->arguments[2] = {DNNL_ARG_DST, entry->cMemory.get()};
    entry->dnnlUsable = true;
  } catch (const dnnl::error&) {
    entry->dnnlUsable = false;  // a layout this oneDNN build does not take: BLAS only
  }
  return entry;
}

/** Runs the entry's primitive on this call's operands. The caller holds the lock (the entry's memory objects are shared). */
void dnnlMatmul(MatmulEntry& entry, const View& a, const View& b, float* c) {
  // oneDNN addresses each operand from its first element; views reach it through their offset.
  entry.aMemory.set_data_handle(const_cast<float*>(a.data<float>() + a.offset));
  entry.bMemory.set_data_handle(const_cast<float*>(b.data<float>() + b.offset));
  entry.cMemory.set_data_handle(c);
  // The C API takes the arguments as they are; the C++ execute() builds them from a map per call.
  dnnl::error::wrap_c_api(dnnl_primitive_execute(entry.primitive.get(), cpuStream().get(), 3, entry.arguments),
                          "could not execute a matmul primitive");
  cpuStream().wait();
}

std::string matmulKey(const View& a, const View& b) {
  std::string key;
  appendKey(key, {a.shape[0], a.shape[1], a.shape[2], b.shape[2], a.strides[0], a.strides[1], a.strides[2], b.strides[0],
                  b.strides[1], b.strides[2]});
  return key;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

constexpr int kModeAuto = 0, kModeBlas = 1, kModeDnnl = 2;

/** Runs the float32 product with the engine `mode` asks for (auto: the faster one); returns the engine used. */
int floatMatmul(const View& a, const View& b, float* c, int mode) {
  if (mode == kModeBlas) {
    blasMatmul<float>(a, b, c);
    return kModeBlas;
  }
  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = static_cast<double>(a.shape[0]) * a.shape[1] * a.shape[2] * b.shape[2] < kParallelWork;
  const SerialScope scope(serial);
  const MatmulKey key = matmulKeyOf(a, b);
  MatmulEntry* entry = matmulCache().find(key);
  if (entry == nullptr) entry = matmulCache().insert(key, makeMatmulEntry(a, b));
  if (!entry->dnnlUsable) {
    blasMatmul<float>(a, b, c);
    return kModeBlas;
  }
  if (mode == kModeDnnl) {
    dnnlMatmul(*entry, a, b, c);
    return kModeDnnl;
  }
  if (entry->choice != 0 && ++entry->callsSinceChoice >= entry->nextReview) {
    entry->choice = 0;  // review: trial both engines again
    entry->trials = 0;
    entry->nextReview *= 4;
  }
  if (entry->choice == kModeDnnl) {
    dnnlMatmul(*entry, a, b, c);
    return kModeDnnl;
  }
  if (entry->choice == kModeBlas) {
    blasMatmul<float>(a, b, c);
    return kModeBlas;
  }
  // A trial: one engine, timed. Taking each engine's best of a few calls keeps one slow call
  // (page faults, another process) from deciding.
  const int position = entry->trials % kTrialsPerEngine;
  const int engine = entry->trials < kTrialsPerEngine ? kModeDnnl : kModeBlas;
  const auto start = std::chrono::steady_clock::now();
  if (engine == kModeDnnl) dnnlMatmul(*entry, a, b, c);
  else blasMatmul<float>(a, b, c);
  if (position > 0) entry->bestSeconds[engine] = std::min(entry->bestSeconds[engine], secondsSince(start));
  if (++entry->trials >= 2 * kTrialsPerEngine) {
    entry->choice = entry->bestSeconds[kModeDnnl] <= entry->bestSeconds[kModeBlas] ? kModeDnnl : kModeBlas;
    entry->callsSinceChoice = 0;
  }
  return engine;
}

struct FusedMatmulEntry {
  dnnl::matmul primitive;
  dnnl::memory::desc aDesc, bDesc, cDesc;
  std::vector<dnnl::memory::desc> operandDescs;  // per binary post-op, in order
};

PrimitiveCache<FusedMatmulEntry>& fusedMatmulCache() {
  static PrimitiveCache<FusedMatmulEntry> cache(256);
  return cache;
}

/** The fused primitive, or null when oneDNN cannot take the layouts or the post-ops. */
std::unique_ptr<FusedMatmulEntry> makeFusedMatmulEntry(const View& a, const View& b, const std::vector<PostOp>& ops) {
  auto entry = std::make_unique<FusedMatmulEntry>();
  const int64_t batch = a.shape[0], m = a.shape[1], n = b.shape[2];
  if (!dnnlOperand(a, entry->aDesc) || !dnnlOperand(b, entry->bDesc)) return nullptr;
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  entry->cDesc = dnnl::memory::desc({batch, m, n}, dt::f32, tag::abc);
  try {
    const auto operandDesc = [&](int layout) {
      return layout == 0 ? dnnl::memory::desc({1, 1, n}, dt::f32, tag::abc) : dnnl::memory::desc({batch, m, n}, dt::f32, tag::abc);
    };
    dnnl::primitive_attr attr;
    attr.set_post_ops(makePostOps(ops, operandDesc, entry->operandDescs));
    const dnnl::matmul::desc desc(entry->aDesc, entry->bDesc, entry->cDesc);
    const dnnl::matmul::primitive_desc pd(desc, attr, cpuEngine());
    entry->primitive = dnnl::matmul(pd);
  } catch (const dnnl::error&) {
    return nullptr;
  }
  return entry;
}

/** bfloat16 operands and result, float32 accumulation: oneDNN's bf16 matmul (AVX-512 BF16 or AMX where the CPU has them). */
struct HalfMatmulEntry {
  dnnl::matmul primitive;
  dnnl::memory::desc aDesc, bDesc, cDesc;
};

PrimitiveCache<HalfMatmulEntry>& halfMatmulCache() {
  static PrimitiveCache<HalfMatmulEntry> cache(256);
  return cache;
}

/** Returns false when oneDNN cannot take the layouts (the caller then widens to float32). */
bool bfloat16Matmul(const View& a, const View& b, uint16_t* c) {
  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = static_cast<double>(a.shape[0]) * a.shape[1] * a.shape[2] * b.shape[2] < kParallelWork;
  const SerialScope scope(serial);
  std::string key = matmulKey(a, b);
  key += serial ? "s" : "p";
  HalfMatmulEntry* entry = halfMatmulCache().find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<HalfMatmulEntry>();
    using dt = dnnl::memory::data_type;
    if (!dnnlOperand(a, made->aDesc, dt::bf16) || !dnnlOperand(b, made->bDesc, dt::bf16)) return false;
    made->cDesc = dnnl::memory::desc({a.shape[0], a.shape[1], b.shape[2]}, dt::bf16, dnnl::memory::format_tag::abc);
    try {
      const dnnl::matmul::desc desc(made->aDesc, made->bDesc, made->cDesc);
      made->primitive = dnnl::matmul(dnnl::matmul::primitive_desc(desc, cpuEngine()));
    } catch (const dnnl::error&) {
      return false;
    }
    entry = halfMatmulCache().insert(key, std::move(made));
  }
  dnnl::memory am(entry->aDesc, cpuEngine(), const_cast<uint16_t*>(a.data<uint16_t>() + a.offset));
  dnnl::memory bm(entry->bDesc, cpuEngine(), const_cast<uint16_t*>(b.data<uint16_t>() + b.offset));
  dnnl::memory cm(entry->cDesc, cpuEngine(), c);
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  cpuStream().wait();
  return true;
}

}  // namespace

void pinBlasToCallingThread() {
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
#endif
#ifdef FLINT_BLAS_MKL
  mkl_set_num_threads(1);
#else
  openblas_set_num_threads(1);
#endif
#ifdef _OPENMP
  // An OpenMP build of OpenBLAS sets OpenMP's team size itself: the addon's own loops keep theirs.
  omp_set_num_threads(threads);
#endif
}

// matmulPostOps(a, aLayout, b, bLayout, out, postOps, operands): float32 [batch, m, k] x
// [batch, k, n] -> out [batch, m, n] through oneDNN's matmul with post-ops applied in order to
// the product. postOps is a Float64Array of [kind, alpha, beta, operandLayout] per op (kinds:
// 0 alpha * x + beta, 1 relu, 2 tanh, 3 logistic, 4 add, 5 mul; add and mul take the next array
// of `operands`, contiguous float32 of n elements (layout 0: a row) or batch * m * n (layout 1)).
// Returns false, leaving `out` alone, when oneDNN cannot take the layouts.
Napi::Value MatmulPostOps(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "matmulPostOps");
  const Napi::Env env = info.Env();
  const View a = viewArg(info, 0, 1, kFloat32, "matmulPostOps", "lhs");
  const View b = viewArg(info, 2, 3, kFloat32, "matmulPostOps", "rhs");
  if (a.rank != 3 || b.rank != 3) throwRange(env, "matmulPostOps", "lhs and rhs must be rank 3 ([batch, m, k] and [batch, k, n])");
  if (a.shape[0] != b.shape[0]) throwRange(env, "matmulPostOps", "lhs and rhs batch sizes differ");
  if (a.shape[2] != b.shape[1]) throwRange(env, "matmulPostOps", "lhs columns and rhs rows differ");
  const int64_t batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2];
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) throwRange(env, "matmulPostOps", "dimensions must be below 2^31");
  const __int128 outSize = static_cast<__int128>(batch) * m * n;
  if (outSize > kMaxElements) throwRange(env, "matmulPostOps", "the output would have 2^31 elements or more");
  const Output out = outputArg(info, 4, kFloat32, static_cast<int64_t>(outSize), "matmulPostOps");
  const PostOpList list = postOpsArg(info, 5, "matmulPostOps", n, static_cast<int64_t>(outSize));
  std::string key;
  appendKey(key, {a.shape[0], a.shape[1], a.shape[2], b.shape[2], a.strides[0], a.strides[1], a.strides[2], b.strides[0],
                  b.strides[1], b.strides[2]});
  key += list.key;
  if (out.size == 0) return Napi::Boolean::New(env, true);
  if (k == 0) return Napi::Boolean::New(env, false);  // an empty product: the caller's generic path fills zeros
  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const bool serial = static_cast<double>(batch) * m * k * n < kParallelWork;
  const SerialScope scope(serial);
  key += serial ? "s" : "p";
  FusedMatmulEntry* entry = fusedMatmulCache().find(key);
  if (entry == nullptr) {
    std::unique_ptr<FusedMatmulEntry> made = makeFusedMatmulEntry(a, b, list.ops);
    if (made == nullptr) return Napi::Boolean::New(env, false);
    entry = fusedMatmulCache().insert(key, std::move(made));
  }
  dnnl::memory am(entry->aDesc, cpuEngine(), const_cast<float*>(a.data<float>() + a.offset));
  dnnl::memory bm(entry->bDesc, cpuEngine(), const_cast<float*>(b.data<float>() + b.offset));
  dnnl::memory cm(entry->cDesc, cpuEngine(), out.data<float>());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  addPostOpArguments(list, entry->operandDescs, args);
  entry->primitive.execute(cpuStream(), args);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

// matmul(dtype, a, aLayout, b, bLayout, out, mode): a [batch, m, k], b [batch, k, n], out
// contiguous [batch, m, n]; mode 0 picks the faster engine per shape, 1 forces CBLAS, 2 oneDNN.
// Returns the engine that ran (1 CBLAS, 2 oneDNN). bfloat16 (Uint16Array bits) runs oneDNN only,
// accumulating in float32, and returns 0, leaving `out` alone, for layouts oneDNN refuses.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "matmul");
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, "matmul", (1u << kFloat32) | (1u << kFloat64) | (1u << kBFloat16));
  const View a = viewArg(info, 1, 2, dtype, "matmul", "lhs");
  const View b = viewArg(info, 3, 4, dtype, "matmul", "rhs");
  const int mode = static_cast<int>(intArg(info, 6, "matmul", "mode", 0, 2));
  if (a.rank != 3 || b.rank != 3) throwRange(env, "matmul", "lhs and rhs must be rank 3 ([batch, m, k] and [batch, k, n])");
  if (a.shape[0] != b.shape[0]) throwRange(env, "matmul", "lhs and rhs batch sizes differ");
  if (a.shape[2] != b.shape[1]) throwRange(env, "matmul", "lhs columns and rhs rows differ");
  const int64_t batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2];
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) throwRange(env, "matmul", "dimensions must be below 2^31");
  const __int128 outSize = static_cast<__int128>(batch) * m * n;
  if (outSize > kMaxElements) throwRange(env, "matmul", "the output would have 2^31 elements or more");
  const Output out = outputArg(info, 5, dtype, static_cast<int64_t>(outSize), "matmul");
  if (out.size == 0) return Napi::Number::New(env, kModeBlas);
  if (k == 0) {
    std::memset(out.base, 0, static_cast<size_t>(out.size) * itemSize(dtype));
    return Napi::Number::New(env, kModeBlas);
  }
  if (dtype == kBFloat16) {
    if (mode == kModeBlas) throwType(env, "matmul", "CBLAS has no bfloat16 matmul");
    // 0: oneDNN could not take the layouts; the caller widens to float32 instead.
    return Napi::Number::New(env, bfloat16Matmul(a, b, out.data<uint16_t>()) ? kModeDnnl : 0);
  }
  if (dtype == kFloat64) {
    if (mode == kModeDnnl) throwType(env, "matmul", "oneDNN's matmul takes float32 only");
    blasMatmul<double>(a, b, out.data<double>());
    return Napi::Number::New(env, kModeBlas);
  }
  return Napi::Number::New(env, floatMatmul(a, b, out.data<float>(), mode));
}

}  // namespace flint
