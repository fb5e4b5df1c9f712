// The matrix decompositions through LAPACK (the api's Backend.composites eigh, svd, qr, cholesky
// and luFactor), and the triangular solve through BLAS's trsm: one call per matrix of a [batch, m, n] stack instead of the composites' hundreds
// of dispatched ops (a Jacobi round is some twenty-five ops whatever n; eigh of a 256 x 256 float64
// matrix took seconds that way). The CBLAS the addon links carries LAPACK too: OpenBLAS's
// libopenblas and MKL export the Fortran symbols declared below (LP64: 32-bit integers), so no
// LAPACKE header or library is needed.
//
// Each matrix is copied from its strided row-major view into a column-major workspace (what
// Fortran reads; n^2 moves beside n^3 arithmetic) and its results are written back row-major into
// the contiguous outputs. The batch is split over the OpenMP team, one LAPACK call per matrix on
// each thread (CBLAS is pinned to the calling thread, see matmul.cc). Conventions follow the
// composites' (packages/api/src/ops/linalg/), which the api falls back to and the tests compare:
//  - eigh: eigenvalues ascending (syevd's order), eigenvectors as columns; a matrix holding NaN or
//    an infinity gives NaN values and vectors (syevd is not defined there).
//  - svd: singular values descending (gesdd's), U [m, k or m], V (not V^T) [n, k or n]; a
//    non-finite matrix gives NaN.
//  - qr: geqrf's Householder signs (R's diagonal may be negative), Q by orgqr.
//  - cholesky: lower L, upper triangle zero; where a pivot is not positive (potrf's info, or a NaN
//    pivot OpenBLAS lets through) that column and every later one are NaN on and below the
//    diagonal, as the composite's NaN spreads, so that the api reads the failure off L's diagonal.
//  - luFactor: getrf's packed LU, its pivots 0-based, and the row permutation they make.
// syevd and gesdd may fail to converge (info > 0, rare): the call returns false and the api runs
// the composite instead. Bad arguments throw, before any memory is touched.
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#ifdef FLINT_BLAS_MKL
#include <mkl_cblas.h>
#else
#include <cblas.h>
#endif

#include "common.h"
#include "ops.h"

// LAPACK's Fortran entry points. Character arguments carry their lengths as trailing hidden
// arguments in gfortran's ABI (passed here as LAPACKE does; MKL ignores them).
extern "C" {
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work, const int* lwork,
             int* iwork, const int* liwork, int* info, size_t jobzLength, size_t uploLength);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork,
             int* iwork, const int* liwork, int* info, size_t jobzLength, size_t uploLength);
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu, float* vt,
             const int* ldvt, float* work, const int* lwork, int* iwork, int* info, size_t jobzLength);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u, const int* ldu, double* vt,
             const int* ldvt, double* work, const int* lwork, int* iwork, int* info, size_t jobzLength);
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork, int* info);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork, int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work, const int* lwork,
             int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work, const int* lwork,
             int* info);
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t uploLength);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uploLength);
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
}

namespace flint {

namespace {

/** The float32 and float64 routines under one name each. */
template <typename T>
struct Lapack;

template <>
struct Lapack<float> {
  static void syevd(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work, const int* lwork,
                    int* iwork, const int* liwork, int* info) {
    ssyevd_(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, 1, 1);
  }
  static void gesdd(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu, float* vt,
                    const int* ldvt, float* work, const int* lwork, int* iwork, int* info) {
    sgesdd_(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info, 1);
  }
  static void geqrf(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork, int* info) {
    sgeqrf_(m, n, a, lda, tau, work, lwork, info);
  }
  static void orgqr(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work, const int* lwork,
                    int* info) {
    sorgqr_(m, n, k, a, lda, tau, work, lwork, info);
  }
  static void potrf(const char* uplo, const int* n, float* a, const int* lda, int* info) { spotrf_(uplo, n, a, lda, info, 1); }
  static void getrf(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info) { sgetrf_(m, n, a, lda, ipiv, info); }
};

template <>
struct Lapack<double> {
  static void syevd(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork,
                    int* iwork, const int* liwork, int* info) {
    dsyevd_(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, 1, 1);
  }
  static void gesdd(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u, const int* ldu,
                    double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info) {
    dgesdd_(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info, 1);
  }
  static void geqrf(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork, int* info) {
    dgeqrf_(m, n, a, lda, tau, work, lwork, info);
  }
  static void orgqr(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work, const int* lwork,
                    int* info) {
    dorgqr_(m, n, k, a, lda, tau, work, lwork, info);
  }
  static void potrf(const char* uplo, const int* n, double* a, const int* lda, int* info) { dpotrf_(uplo, n, a, lda, info, 1); }
  static void getrf(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info) { dgetrf_(m, n, a, lda, ipiv, info); }
};

constexpr unsigned kFloatDTypes = (1u << kFloat32) | (1u << kFloat64);

/** A [batch, m, n] stack of matrices read from a strided view. */
struct Stack {
  View view;
  int64_t batch = 0, m = 0, n = 0;

  /** Matrix `b` into `w` column-major with leading dim `ld` (>= m). */
  template <typename T>
  void toColumnMajor(int64_t b, T* w, int64_t ld) const {
    const T* data = view.data<T>() + view.offset + b * view.strides[0];
    const int64_t rowStride = view.strides[1], columnStride = view.strides[2];
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < m; i++) w[i + j * ld] = data[i * rowStride + j * columnStride];
  }
};

/**
 * The stack at arguments (dataIndex, dataIndex + 1): a rank-3 float32 or float64 view with
 * non-empty matrices (`square` when asked) whose sides fit LAPACK's 32-bit integers.
 */
Stack stackArg(const Napi::CallbackInfo& info, size_t dataIndex, int dtype, bool square, const char* op) {
  Stack stack;
  stack.view = viewArg(info, dataIndex, dataIndex + 1, dtype, op, "a");
  const View& v = stack.view;
  if (v.rank != 3) throwRange(info.Env(), op, "a must be a [batch, m, n] stack (rank 3), got rank " + std::to_string(v.rank));
  stack.batch = v.shape[0];
  stack.m = v.shape[1];
  stack.n = v.shape[2];
  if (stack.m < 1 || stack.n < 1) throwRange(info.Env(), op, "the matrices must not be empty");
  if (square && stack.m != stack.n) {
    throwRange(info.Env(), op, "the matrices must be square, got " + std::to_string(stack.m) + " x " + std::to_string(stack.n));
  }
  return stack;
}

/** A column-major rows x columns matrix `w` (leading dim `ld`) into `out`, row-major and contiguous. */
template <typename T>
void toRowMajor(const T* w, int64_t ld, int64_t rows, int64_t columns, T* out) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < columns; j++) out[i * columns + j] = w[i + j * ld];
}

/** Whether the first `count` entries of `w` are all finite. */
template <typename T>
bool allFinite(const T* w, int64_t count) {
  for (int64_t i = 0; i < count; i++)
    if (!std::isfinite(w[i])) return false;
  return true;
}

template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

/** An optimal workspace size from a LAPACK query's result (stored as a floating-point number). */
template <typename T>
int workspaceSize(T queried) {
  return std::max(1, static_cast<int>(std::ceil(queried)));
}

/**
 * Runs body(first, last) over pieces of the batch, each on a thread of the team when the stack
 * holds enough work (about m n min(m, n) per matrix). The first negative LAPACK info any piece
 * reports (an argument LAPACK refused: a bug here) is returned, after the region, so that no
 * exception crosses an OpenMP thread.
 */
template <typename Body>
int overBatch(const Stack& stack, Body body) {
  std::atomic<int> refused{0};
  const int64_t work = stack.batch * stack.m * stack.n * std::min(stack.m, stack.n);
  parallelRanges(stack.batch, work, [&](int64_t first, int64_t last) {
    const int info = body(first, last);
    if (info < 0) {
      int expected = 0;
      refused.compare_exchange_strong(expected, info);
    }
  });
  return refused.load();
}

void throwRefused(const Napi::Env& env, const char* op, const char* routine, int info) {
  throwRange(env, op, std::string("LAPACK ") + routine + " refused its argument " + std::to_string(-info));
}

// ---- eigh ----

template <typename T>
bool eigh(const Napi::Env& env, const Stack& stack, T* values, T* vectors) {
  const int n = static_cast<int>(stack.n);
  std::atomic<bool> converged{true};
  const int refused = overBatch(stack, [&](int64_t first, int64_t last) {
    std::vector<T> w(static_cast<size_t>(n) * n);
    int info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
    T workQuery = 0;
    Lapack<T>::syevd("V", "L", &n, w.data(), &n, values, &workQuery, &lwork, &iworkQuery, &liwork, &info);
    if (info < 0) return info;
    lwork = workspaceSize(workQuery);
    liwork = std::max(1, iworkQuery);
    std::vector<T> work(lwork);
    std::vector<int> iwork(liwork);
    for (int64_t b = first; b < last; b++) {
      T* valuesOut = values + b * n;
      T* vectorsOut = vectors + b * n * n;
      stack.toColumnMajor(b, w.data(), n);
      if (!allFinite(w.data(), static_cast<int64_t>(n) * n)) {
        std::fill(valuesOut, valuesOut + n, kNaN<T>);
        std::fill(vectorsOut, vectorsOut + static_cast<int64_t>(n) * n, kNaN<T>);
        continue;
      }
      Lapack<T>::syevd("V", "L", &n, w.data(), &n, valuesOut, work.data(), &lwork, iwork.data(), &liwork, &info);
      if (info < 0) return info;
      if (info > 0) converged = false;
      // Column j of w is eigenvector j.
      toRowMajor(w.data(), n, n, n, vectorsOut);
    }
    return 0;
  });
  if (refused < 0) throwRefused(env, "eigh", "syevd", refused);
  return converged.load();
}

}  // namespace

// eigh(dtype, a, aLayout, values, vectors): the eigendecomposition of every symmetric matrix of
// the [batch, n, n] view (its lower triangle read): values [batch, n] ascending, vectors
// [batch, n, n] with the eigenvectors as columns. Returns false when syevd did not converge.
Napi::Value Eigh(const Napi::CallbackInfo& info) {
  const char* op = "eigh";
  checkArgs(info, 5, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack stack = stackArg(info, 1, dtype, true, op);
  const Output values = outputArg(info, 3, dtype, stack.batch * stack.n, op);
  const Output vectors = outputArg(info, 4, dtype, stack.batch * stack.n * stack.n, op);
  const bool ok = dtype == kFloat32 ? eigh(info.Env(), stack, values.data<float>(), vectors.data<float>())
                                    : eigh(info.Env(), stack, values.data<double>(), vectors.data<double>());
  return Napi::Boolean::New(info.Env(), ok);
}

namespace {

// ---- svd ----

enum SvdMode : int { kSvdValues = 0, kSvdReduced = 1, kSvdComplete = 2 };

template <typename T>
bool svd(const Napi::Env& env, const Stack& stack, int mode, T* s, T* u, T* v) {
  const int m = static_cast<int>(stack.m), n = static_cast<int>(stack.n), k = std::min(m, n);
  const int uColumns = mode == kSvdComplete ? m : k;
  const int vColumns = mode == kSvdComplete ? n : k;
  // gesdd's V^T has vColumns rows.
  const int ldvt = vColumns;
  const char* jobz = mode == kSvdValues ? "N" : mode == kSvdReduced ? "S" : "A";
  std::atomic<bool> converged{true};
  const int refused = overBatch(stack, [&](int64_t first, int64_t last) {
    std::vector<T> w(static_cast<size_t>(m) * n);
    std::vector<T> uWork(mode == kSvdValues ? 1 : static_cast<size_t>(m) * uColumns);
    std::vector<T> vtWork(mode == kSvdValues ? 1 : static_cast<size_t>(ldvt) * n);
    std::vector<int> iwork(8 * static_cast<size_t>(k));
    int info = 0, lwork = -1;
    T workQuery = 0;
    Lapack<T>::gesdd(jobz, &m, &n, w.data(), &m, s, uWork.data(), &m, vtWork.data(), &ldvt, &workQuery, &lwork, iwork.data(), &info);
    if (info < 0) return info;
    lwork = workspaceSize(workQuery);
    std::vector<T> work(lwork);
    for (int64_t b = first; b < last; b++) {
      T* sOut = s + b * k;
      T* uOut = mode == kSvdValues ? nullptr : u + b * m * uColumns;
      T* vOut = mode == kSvdValues ? nullptr : v + b * n * vColumns;
      stack.toColumnMajor(b, w.data(), m);
      if (!allFinite(w.data(), static_cast<int64_t>(m) * n)) {
        std::fill(sOut, sOut + k, kNaN<T>);
        if (uOut != nullptr) std::fill(uOut, uOut + static_cast<int64_t>(m) * uColumns, kNaN<T>);
        if (vOut != nullptr) std::fill(vOut, vOut + static_cast<int64_t>(n) * vColumns, kNaN<T>);
        continue;
      }
      Lapack<T>::gesdd(jobz, &m, &n, w.data(), &m, sOut, uWork.data(), &m, vtWork.data(), &ldvt, work.data(), &lwork, iwork.data(),
                       &info);
      if (info < 0) return info;
      if (info > 0) converged = false;
      if (uOut == nullptr) continue;
      toRowMajor(uWork.data(), m, m, uColumns, uOut);
      // V[i][j] = V^T[j][i], V^T column-major with leading dim ldvt.
      for (int i = 0; i < n; i++)
        for (int j = 0; j < vColumns; j++) vOut[static_cast<int64_t>(i) * vColumns + j] = vtWork[j + static_cast<int64_t>(i) * ldvt];
    }
    return 0;
  });
  if (refused < 0) throwRefused(env, "svd", "gesdd", refused);
  return converged.load();
}

}  // namespace

// svd(dtype, a, aLayout, mode, s, u, v): the SVD A = U diag(S) V^T of every matrix of the
// [batch, m, n] view, k = min(m, n): s [batch, k] descending; mode 0 values only (u and v null),
// 1 reduced (u [batch, m, k], v [batch, n, k]), 2 complete (u [batch, m, m], v [batch, n, n]).
// Returns false when gesdd did not converge.
Napi::Value Svd(const Napi::CallbackInfo& info) {
  const char* op = "svd";
  checkArgs(info, 7, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack stack = stackArg(info, 1, dtype, false, op);
  const int mode = static_cast<int>(intArg(info, 3, op, "mode", kSvdValues, kSvdComplete));
  const int64_t k = std::min(stack.m, stack.n);
  const Output s = outputArg(info, 4, dtype, stack.batch * k, op);
  Output u, v;
  if (mode == kSvdValues) {
    if (!info[5].IsNull() || !info[6].IsNull()) throwType(info.Env(), op, "u and v must be null for the values alone (mode 0)");
  } else {
    u = outputArg(info, 5, dtype, stack.batch * stack.m * (mode == kSvdComplete ? stack.m : k), op);
    v = outputArg(info, 6, dtype, stack.batch * stack.n * (mode == kSvdComplete ? stack.n : k), op);
  }
  const bool ok = dtype == kFloat32 ? svd(info.Env(), stack, mode, s.data<float>(), u.data<float>(), v.data<float>())
                                    : svd(info.Env(), stack, mode, s.data<double>(), u.data<double>(), v.data<double>());
  return Napi::Boolean::New(info.Env(), ok);
}

namespace {

// ---- qr ----

template <typename T>
void qr(const Napi::Env& env, const Stack& stack, bool complete, T* q, T* r) {
  const int m = static_cast<int>(stack.m), n = static_cast<int>(stack.n), k = std::min(m, n);
  const int qColumns = complete ? m : k;
  const int rRows = complete ? m : k;
  // The workspace holds A, then Q's qColumns columns (orgqr overwrites the reflectors in place).
  const int columns = std::max(n, qColumns);
  const int refused = overBatch(stack, [&](int64_t first, int64_t last) {
    std::vector<T> w(static_cast<size_t>(m) * columns);
    std::vector<T> tau(k);
    int info = 0, lwork = -1;
    T geqrfQuery = 0, orgqrQuery = 0;
    Lapack<T>::geqrf(&m, &n, w.data(), &m, tau.data(), &geqrfQuery, &lwork, &info);
    if (info < 0) return info;
    Lapack<T>::orgqr(&m, &qColumns, &k, w.data(), &m, tau.data(), &orgqrQuery, &lwork, &info);
    if (info < 0) return info;
    lwork = std::max(workspaceSize(geqrfQuery), workspaceSize(orgqrQuery));
    std::vector<T> work(lwork);
    for (int64_t b = first; b < last; b++) {
      stack.toColumnMajor(b, w.data(), m);
      Lapack<T>::geqrf(&m, &n, w.data(), &m, tau.data(), work.data(), &lwork, &info);
      if (info < 0) return info;
      T* rOut = r + b * rRows * n;
      for (int i = 0; i < rRows; i++)
        for (int j = 0; j < n; j++) rOut[static_cast<int64_t>(i) * n + j] = i <= j ? w[i + static_cast<int64_t>(j) * m] : T(0);
      Lapack<T>::orgqr(&m, &qColumns, &k, w.data(), &m, tau.data(), work.data(), &lwork, &info);
      if (info < 0) return info;
      toRowMajor(w.data(), m, m, qColumns, q + b * m * qColumns);
    }
    return 0;
  });
  if (refused < 0) throwRefused(env, "qr", "geqrf or orgqr", refused);
}

}  // namespace

// qr(dtype, a, aLayout, complete, q, r): the Householder QR of every matrix of the [batch, m, n]
// view, k = min(m, n): reduced (complete 0) q [batch, m, k] and r [batch, k, n], complete (1)
// q [batch, m, m] and r [batch, m, n] (zero below row k). Returns true.
Napi::Value Qr(const Napi::CallbackInfo& info) {
  const char* op = "qr";
  checkArgs(info, 6, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack stack = stackArg(info, 1, dtype, false, op);
  const bool complete = intArg(info, 3, op, "complete", 0, 1) == 1;
  const int64_t k = std::min(stack.m, stack.n);
  const int64_t qColumns = complete ? stack.m : k;
  const Output q = outputArg(info, 4, dtype, stack.batch * stack.m * qColumns, op);
  const Output r = outputArg(info, 5, dtype, stack.batch * (complete ? stack.m : k) * stack.n, op);
  if (dtype == kFloat32)
    qr(info.Env(), stack, complete, q.data<float>(), r.data<float>());
  else
    qr(info.Env(), stack, complete, q.data<double>(), r.data<double>());
  return Napi::Boolean::New(info.Env(), true);
}

namespace {

// ---- cholesky ----

template <typename T>
void cholesky(const Napi::Env& env, const Stack& stack, T* out) {
  const int n = static_cast<int>(stack.n);
  const int refused = overBatch(stack, [&](int64_t first, int64_t last) {
    std::vector<T> w(static_cast<size_t>(n) * n);
    for (int64_t b = first; b < last; b++) {
      stack.toColumnMajor(b, w.data(), n);
      int info = 0;
      Lapack<T>::potrf("L", &n, w.data(), &n, &info);
      if (info < 0) return info;
      // The first column whose pivot is not positive: potrf's info, or a NaN pivot it passed.
      int failed = info > 0 ? info - 1 : n;
      for (int j = 0; j < failed; j++)
        if (!(w[j + static_cast<int64_t>(j) * n] > 0)) failed = j;
      T* lOut = out + b * n * n;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
          lOut[static_cast<int64_t>(i) * n + j] = i < j ? T(0) : j >= failed ? kNaN<T> : w[i + static_cast<int64_t>(j) * n];
    }
    return 0;
  });
  if (refused < 0) throwRefused(env, "cholesky", "potrf", refused);
}

}  // namespace

// cholesky(dtype, a, aLayout, out): the lower Cholesky factor of every matrix of the [batch, n, n]
// view (its lower triangle read) into out [batch, n, n], the upper triangle zero; from a pivot
// that is not positive on, the columns are NaN on and below the diagonal. Returns true.
Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  const char* op = "cholesky";
  checkArgs(info, 4, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack stack = stackArg(info, 1, dtype, true, op);
  const Output out = outputArg(info, 3, dtype, stack.batch * stack.n * stack.n, op);
  if (dtype == kFloat32)
    cholesky(info.Env(), stack, out.data<float>());
  else
    cholesky(info.Env(), stack, out.data<double>());
  return Napi::Boolean::New(info.Env(), true);
}

namespace {

// ---- LU ----

template <typename T>
void luFactor(const Napi::Env& env, const Stack& stack, T* lu, int32_t* perm, int32_t* pivots) {
  const int m = static_cast<int>(stack.m), n = static_cast<int>(stack.n), k = std::min(m, n);
  const int refused = overBatch(stack, [&](int64_t first, int64_t last) {
    std::vector<T> w(static_cast<size_t>(m) * n);
    std::vector<int> ipiv(k);
    for (int64_t b = first; b < last; b++) {
      stack.toColumnMajor(b, w.data(), m);
      int info = 0;
      // info > 0 is an exact zero pivot: the factorization is complete all the same.
      Lapack<T>::getrf(&m, &n, w.data(), &m, ipiv.data(), &info);
      if (info < 0) return info;
      toRowMajor(w.data(), m, m, n, lu + b * m * n);
      int32_t* permOut = perm + b * m;
      int32_t* pivotsOut = pivots + b * k;
      for (int i = 0; i < m; i++) permOut[i] = i;
      // The swaps in order: row i of L U is row perm[i] of A.
      for (int i = 0; i < k; i++) {
        pivotsOut[i] = ipiv[i] - 1;
        std::swap(permOut[i], permOut[ipiv[i] - 1]);
      }
    }
    return 0;
  });
  if (refused < 0) throwRefused(env, "luFactor", "getrf", refused);
}

}  // namespace

// luFactor(dtype, a, aLayout, lu, perm, pivots): the LU factorization with partial pivoting of
// every matrix of the [batch, m, n] view, k = min(m, n): lu [batch, m, n] packed (L's unit
// diagonal implied), perm int32 [batch, m] (row i of L U is row perm[i] of A) and pivots int32
// [batch, k] (at step i, row i was swapped with row pivots[i], 0-based). Returns true.
Napi::Value LuFactor(const Napi::CallbackInfo& info) {
  const char* op = "luFactor";
  checkArgs(info, 6, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack stack = stackArg(info, 1, dtype, false, op);
  const Output lu = outputArg(info, 3, dtype, stack.batch * stack.m * stack.n, op);
  const Output perm = outputArg(info, 4, kInt32, stack.batch * stack.m, op);
  const Output pivots = outputArg(info, 5, kInt32, stack.batch * std::min(stack.m, stack.n), op);
  if (dtype == kFloat32)
    luFactor(info.Env(), stack, lu.data<float>(), perm.data<int32_t>(), pivots.data<int32_t>());
  else
    luFactor(info.Env(), stack, lu.data<double>(), perm.data<int32_t>(), pivots.data<int32_t>());
  return Napi::Boolean::New(info.Env(), true);
}

namespace {

// ---- triangular solve ----

/** cblas_strsm and cblas_dtrsm under one name: X = T^-1 X in place, row-major, T on the left. */
void trsm(bool upper, bool unit, int n, int columns, const float* t, float* x, int ldx) {
  cblas_strsm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower, CblasNoTrans, unit ? CblasUnit : CblasNonUnit, n, columns, 1.0f,
              t, n, x, ldx);
}
void trsm(bool upper, bool unit, int n, int columns, const double* t, double* x, int ldx) {
  cblas_dtrsm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower, CblasNoTrans, unit ? CblasUnit : CblasNonUnit, n, columns, 1.0,
              t, n, x, ldx);
}

/** Row-major copy of matrix `b` of a [batch, rows, columns] view into `w` (contiguous, `columns` wide). */
template <typename T>
void toRowMajorCopy(const View& view, int64_t b, int64_t rows, int64_t columns, T* w) {
  const T* data = view.data<T>() + view.offset + b * view.strides[0];
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < columns; j++) w[i * columns + j] = data[i * view.strides[1] + j * view.strides[2]];
}

/**
 * Multiply-adds (n^2 k) below which a solve stays on the calling thread: waking the team cost more
 * than it saved (a 64 x 64 system with 64 right-hand sides took 90 us split, 45 us whole).
 */
constexpr int64_t kTrsmGrain = int64_t{1} << 20;

/**
 * X = T^-1 R for every matrix of the stacks. The work splits over the team by (matrix, block of
 * right-hand-side columns): the columns of X are independent, so a single large system uses every
 * thread too. Each piece copies its matrix of T (n^2 moves beside n^2 k / 2 multiply-adds) and
 * solves its columns of X in place in the output, where R's were copied.
 */
template <typename T>
void triangularSolve(const Stack& triangle, const Stack& rhs, bool upper, bool unit, T* out) {
  const int64_t batch = triangle.batch, n = triangle.n, k = rhs.n;
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(threadCount(), k / 16));
  parallelRanges(batch * blocks, batch * n * n * k, [&](int64_t first, int64_t last) {
    std::vector<T> t(static_cast<size_t>(n) * n);
    int64_t loaded = -1;
    for (int64_t piece = first; piece < last; piece++) {
      const int64_t b = piece / blocks, block = piece % blocks;
      const int64_t c0 = k * block / blocks, c1 = k * (block + 1) / blocks;
      if (b != loaded) {
        toRowMajorCopy(triangle.view, b, n, n, t.data());
        loaded = b;
      }
      T* x = out + b * n * k;
      const T* r = rhs.view.data<T>() + rhs.view.offset + b * rhs.view.strides[0];
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = c0; j < c1; j++) x[i * k + j] = r[i * rhs.view.strides[1] + j * rhs.view.strides[2]];
      trsm(upper, unit, static_cast<int>(n), static_cast<int>(c1 - c0), t.data(), x + c0, static_cast<int>(k));
    }
  }, kTrsmGrain);
}

}  // namespace

// triangularSolve(dtype, t, tLayout, r, rLayout, upper, unit, out): X with T X = R for every
// matrix of the [batch, n, n] view T and the [batch, n, k] view R, into out [batch, n, k]
// (contiguous), as trsm: only T's upper (else lower) triangle is read, and its diagonal not at all
// with `unit`. A zero pivot gives Infinity or NaN, no error. Returns true.
Napi::Value TriangularSolve(const Napi::CallbackInfo& info) {
  const char* op = "triangularSolve";
  checkArgs(info, 8, op);
  const int dtype = dtypeArg(info, 0, op, kFloatDTypes);
  const Stack triangle = stackArg(info, 1, dtype, true, op);
  Stack rhs;
  rhs.view = viewArg(info, 3, 4, dtype, op, "r");
  if (rhs.view.rank != 3) throwRange(info.Env(), op, "r must be a [batch, n, k] stack (rank 3), got rank " + std::to_string(rhs.view.rank));
  rhs.batch = rhs.view.shape[0];
  rhs.m = rhs.view.shape[1];
  rhs.n = rhs.view.shape[2];
  if (rhs.batch != triangle.batch || rhs.m != triangle.n || rhs.n < 1) {
    throwRange(info.Env(), op,
               "r must be [" + std::to_string(triangle.batch) + ", " + std::to_string(triangle.n) + ", k >= 1] for t [" +
                   std::to_string(triangle.batch) + ", " + std::to_string(triangle.n) + ", " + std::to_string(triangle.n) + "], got [" +
                   std::to_string(rhs.batch) + ", " + std::to_string(rhs.m) + ", " + std::to_string(rhs.n) + "]");
  }
  const bool upper = intArg(info, 5, op, "upper", 0, 1) == 1;
  const bool unit = intArg(info, 6, op, "unit", 0, 1) == 1;
  const Output out = outputArg(info, 7, dtype, rhs.batch * rhs.m * rhs.n, op);
  if (dtype == kFloat32)
    triangularSolve(triangle, rhs, upper, unit, out.data<float>());
  else
    triangularSolve(triangle, rhs, upper, unit, out.data<double>());
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace flint
