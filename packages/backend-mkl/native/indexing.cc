// Selection and indexing on strided views of any dtype: where, argmax/argmin along an axis,
// gather and scatter-add along an axis. Index values are data, so each one is checked before
// any memory is touched: an index out of range makes the call return false (the TypeScript side
// then runs the portable kernel, which defines that case), never a stray read or write.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common.h"
#include "ops.h"

namespace flint {

namespace {

/** where by element size: a select copies bits, so one loop per width serves every dtype. */
template <typename T>
void whereLoop(const View& c, const View& a, const View& b, T* out) {
  int64_t outStrides[kMaxRank];
  contiguousStrides(a.rank, a.shape, outStrides);
  const int64_t* strides[4] = {c.strides, a.strides, b.strides, outStrides};
  const StridedLoop<4> loop(a.rank, a.shape, strides);
  const uint8_t* cond = c.data<uint8_t>();
  const T* left = a.data<T>();
  const T* right = b.data<T>();
  const int64_t start[4] = {c.offset, a.offset, b.offset, 0};
  loop.forEachRun(start, [&](const int64_t* at, const int64_t* step, int64_t n) {
    const uint8_t* k = cond + at[0];
    const T* p = left + at[1];
    const T* q = right + at[2];
    T* o = out + at[3];
    const int64_t sk = step[0], sp = step[1], sq = step[2];
    // ReLU's and max pooling's backward passes select between a gradient and a broadcast zero:
    // a scalar branch of its own lets the compiler vectorize the select as for contiguous runs.
    if (sk == 1 && sp == 1 && sq == 1)
      for (int64_t i = 0; i < n; i++) o[i] = k[i] != 0 ? p[i] : q[i];
    else if (sk == 1 && sp == 1 && sq == 0) {
      const T r = q[0];
      for (int64_t i = 0; i < n; i++) o[i] = k[i] != 0 ? p[i] : r;
    } else if (sk == 1 && sp == 0 && sq == 1) {
      const T l = p[0];
      for (int64_t i = 0; i < n; i++) o[i] = k[i] != 0 ? l : q[i];
    } else
      for (int64_t i = 0; i < n; i++) o[i] = k[i * sk] != 0 ? p[i * sp] : q[i * sq];
  });
}

template <typename T>
bool isNaN(T v) {
  return v != v;
}

/**
 * Index of the first maximum (minimum) along `axis`, NaN counting as the extreme (the first NaN
 * wins), as the portable kernel and PyTorch define it.
 */
template <typename T, bool IsMax>
void argReduceLoop(const View& x, int axis, int32_t* out) {
  View rest;
  rest.rank = 0;
  for (int d = 0; d < x.rank; d++) {
    if (d == axis) continue;
    rest.shape[rest.rank] = x.shape[d];
    rest.strides[rest.rank] = x.strides[d];
    rest.rank++;
  }
  int64_t outStrides[kMaxRank];
  contiguousStrides(rest.rank, rest.shape, outStrides);
  const int64_t* strides[2] = {rest.strides, outStrides};
  const StridedLoop<2> loop(rest.rank, rest.shape, strides);
  const int64_t length = x.shape[axis];
  const int64_t axisStride = x.strides[axis];
  const T* in = x.data<T>();
  const int64_t start[2] = {x.offset, 0};
  loop.forEachRun(
      start,
      [&](const int64_t* at, const int64_t* step, int64_t n) {
        const T* base = in + at[0];
        int32_t* o = out + at[1];
        const int64_t s = step[0];
        // The run's best values stay in a small buffer while the axis is walked row by row, so a
        // leading axis streams its rows instead of striding through memory per output.
        constexpr int64_t kChunk = 256;
        T best[kChunk];
        for (int64_t first = 0; first < n; first += kChunk) {
          const int64_t count = std::min(kChunk, n - first);
          for (int64_t j = 0; j < count; j++) {
            best[j] = base[(first + j) * s];
            o[first + j] = 0;
          }
          // Selects without branches (bitwise | and &, not || and &&): random data mispredict
          // half of the branches, and the select vectorizes where the row is contiguous.
          for (int64_t i = 1; i < length; i++) {
            const T* row = base + i * axisStride + first * s;
            int32_t* index = o + first;
            const auto step = [&](int64_t j, T v) {
              const T b = best[j];
              const bool better = IsMax ? v > b : v < b;
              const bool take = better | (isNaN(v) & !isNaN(b));
              best[j] = take ? v : b;
              index[j] = take ? static_cast<int32_t>(i) : index[j];
            };
            if (s == 1)
              for (int64_t j = 0; j < count; j++) step(j, row[j]);
            else
              for (int64_t j = 0; j < count; j++) step(j, row[j * s]);
          }
        }
      },
      4096);
}

template <bool IsMax>
void argReduceAny(const View& x, int axis, int32_t* out) {
  switch (x.dtype) {
    case kFloat32:
      return argReduceLoop<float, IsMax>(x, axis, out);
    case kFloat64:
      return argReduceLoop<double, IsMax>(x, axis, out);
    case kInt32:
      return argReduceLoop<int32_t, IsMax>(x, axis, out);
    default:
      return argReduceLoop<uint8_t, IsMax>(x, axis, out);
  }
}

/** outer, size, inner of a shape split at `axis`. */
void splitAt(const View& v, int axis, int64_t& outer, int64_t& size, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int d = 0; d < axis; d++) outer *= v.shape[d];
  size = v.shape[axis];
  for (int d = axis + 1; d < v.rank; d++) inner *= v.shape[d];
}

bool indicesInRange(const int32_t* indices, int64_t count, int64_t size) {
  // One unsigned comparison per index and no early exit, so the check vectorizes.
  // Sizes are below 2^31, and a negative index becomes a large unsigned one.
  const uint32_t limit = static_cast<uint32_t>(size);
  uint32_t bad = 0;
  for (int64_t j = 0; j < count; j++) bad |= static_cast<uint32_t>(static_cast<uint32_t>(indices[j]) >= limit);
  return bad == 0;
}

template <typename T>
void gatherLoop(const T* data, const int32_t* indices, int64_t count, int64_t outer, int64_t size, int64_t inner, T* out) {
  // Each (outer, j) pair writes its own output row whatever the indices hold, so the flat range of
  // pairs splits over threads even when `outer` is 1 (max pooling's derivatives gather a small
  // table by one index per output).
  parallelRanges(outer * count, outer * count * inner, [&](int64_t first, int64_t last) {
    int64_t o = first / count;
    int64_t j = first % count;
    while (first < last) {
      const int64_t n = std::min(count - j, last - first);
      T* target = out + (o * count + j) * inner;
      const T* source = data + o * size * inner;
      const int32_t* at = indices + j;
      if (inner == 1) {
        for (int64_t k = 0; k < n; k++) target[k] = source[at[k]];
      } else {
        for (int64_t k = 0; k < n; k++)
          std::memcpy(target + k * inner, source + static_cast<int64_t>(at[k]) * inner, static_cast<size_t>(inner) * sizeof(T));
      }
      first += n;
      j = 0;
      o++;
    }
  });
}

template <typename T>
T wrappingAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  else return a + b;
}

/** The indices in consecutive chunks, each with the least and greatest index it holds. */
struct IndexChunks {
  static constexpr int64_t kSize = 2048;
  std::vector<int32_t> low, high;
};

/**
 * Adds, in order of j, every update whose index lies in [low, high) to row `o` of `out`,
 * skipping the chunks of indices that cannot reach that range.
 */
template <typename T>
void scatterAddRange(const int32_t* indices, int64_t count, const IndexChunks& chunks, const T* updates, int64_t o, int64_t size,
                     int64_t inner, T* out, int64_t low, int64_t high) {
  T* target = out + o * size * inner;
  const T* source = updates + o * count * inner;
  for (size_t c = 0; c < chunks.low.size(); c++) {
    if (chunks.high[c] < low || chunks.low[c] >= high) continue;
    const int64_t first = static_cast<int64_t>(c) * IndexChunks::kSize;
    const int64_t last = std::min(count, first + IndexChunks::kSize);
    if (inner == 1) {
      for (int64_t j = first; j < last; j++) {
        const int64_t at = indices[j];
        if (at >= low && at < high) target[at] = wrappingAdd(target[at], source[j]);
      }
      continue;
    }
    for (int64_t j = first; j < last; j++) {
      const int64_t at = indices[j];
      if (at < low || at >= high) continue;
      T* to = target + at * inner;
      const T* from = source + j * inner;
      for (int64_t i = 0; i < inner; i++) to[i] = wrappingAdd(to[i], from[i]);
    }
  }
}

/**
 * out = target, then every update added at its index in order of j (repeated indices accumulate
 * in that order). `target` is null when `out` already holds it; `fill` (when `target` is null)
 * means `out` is to be filled with target[0] first, for a target that is one broadcast value.
 */
template <typename T>
void scatterAddLoop(const int32_t* indices, int64_t count, const T* updates, int64_t outer, int64_t size, int64_t inner, const T* target,
                    const T* fill, T* out) {
  IndexChunks chunks;
  const int64_t chunkCount = (count + IndexChunks::kSize - 1) / IndexChunks::kSize;
  chunks.low.resize(static_cast<size_t>(chunkCount));
  chunks.high.resize(static_cast<size_t>(chunkCount));
  parallelRanges(chunkCount, count, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; c++) {
      const int32_t* at = indices + c * IndexChunks::kSize;
      const int64_t n = std::min(IndexChunks::kSize, count - c * IndexChunks::kSize);
      int32_t low = at[0], high = at[0];
      for (int64_t j = 1; j < n; j++) {
        low = std::min(low, at[j]);
        high = std::max(high, at[j]);
      }
      chunks.low[static_cast<size_t>(c)] = low;
      chunks.high[static_cast<size_t>(c)] = high;
    }
  });
  // Each task owns a slice [low, high) of the scattered axis in every row of `outer`: it copies
  // (or fills) the target's slice, then applies in order of j the updates that land in it, so no
  // element has two writers and repeated indices accumulate in the serial loop's order (the same
  // bits). Indices that come roughly in order (a pool's windows) leave each task few chunks to scan.
  const int64_t work = outer * size * inner + outer * count * inner;
  const int threads = threadCount();
  const bool parallel = threads > 1 && work >= 65536;
  const auto slice = [&](int64_t o, int64_t low, int64_t high) {
    const int64_t at = (o * size + low) * inner;
    if (target != nullptr) std::memcpy(out + at, target + at, static_cast<size_t>((high - low) * inner) * sizeof(T));
    else if (fill != nullptr) std::fill(out + at, out + at + (high - low) * inner, *fill);
    scatterAddRange(indices, count, chunks, updates, o, size, inner, out, low, high);
  };
  // Rows of different `outer` never collide: many rows are shared out whole.
  if (parallel && outer >= 4 * int64_t{threads}) {
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < outer; o++) slice(o, 0, size);
    return;
  }
  const int64_t parts = parallel ? std::max<int64_t>(1, std::min<int64_t>(threads, size)) : 1;
  if (parts == 1) {
    for (int64_t o = 0; o < outer; o++) slice(o, 0, size);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < parts; p++)
    for (int64_t o = 0; o < outer; o++) slice(o, size * p / parts, size * (p + 1) / parts);
}

}  // namespace

// where(dtype, cond, condLayout, a, aLayout, b, bLayout, out): cond bool; a, b and out of dtype
// (any: elements move as bits); all three views of one shape.
Napi::Value Where(const Napi::CallbackInfo& info) {
  checkArgs(info, 8, "where");
  const int dtype = dtypeArg(info, 0, "where", 0x7f);
  const View c = viewArg(info, 1, 2, kBool, "where", "condition");
  const View a = viewArg(info, 3, 4, dtype, "where", "lhs");
  const View b = viewArg(info, 5, 6, dtype, "where", "rhs");
  if (!a.sameShape(b) || !a.sameShape(c)) throwRange(info.Env(), "where", "condition, lhs and rhs must have the same shape");
  const Output out = outputArg(info, 7, dtype, a.size, "where");
  if (a.size == 0) return info.Env().Undefined();
  switch (itemSize(dtype)) {
    case 8:
      whereLoop<uint64_t>(c, a, b, out.data<uint64_t>());
      break;
    case 4:
      whereLoop<uint32_t>(c, a, b, out.data<uint32_t>());
      break;
    case 2:
      whereLoop<uint16_t>(c, a, b, out.data<uint16_t>());
      break;
    default:
      whereLoop<uint8_t>(c, a, b, out.data<uint8_t>());
      break;
  }
  return info.Env().Undefined();
}

// argReduce(isMax, dtype, data, layout, axis, out): out int32, the view's shape without `axis`.
Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  checkArgs(info, 6, "argReduce");
  const bool isMax = intArg(info, 0, "argReduce", "op", 0, 1) == 1;
  const int dtype = dtypeArg(info, 1, "argReduce", 0x1f);
  const View x = viewArg(info, 2, 3, dtype, "argReduce", "input");
  if (x.rank == 0) throwRange(info.Env(), "argReduce", "the input must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 4, "argReduce", "axis", 0, x.rank - 1));
  const int64_t length = x.shape[axis];
  const int64_t outSize = length == 0 ? 0 : x.size / length;
  int64_t expected = 1;
  for (int d = 0; d < x.rank; d++)
    if (d != axis) expected *= x.shape[d];
  const Output out = outputArg(info, 5, kInt32, expected, "argReduce");
  if (length == 0) {
    std::memset(out.base, 0, static_cast<size_t>(out.size) * 4);
    return info.Env().Undefined();
  }
  if (outSize == 0) return info.Env().Undefined();
  if (isMax) argReduceAny<true>(x, axis, out.data<int32_t>());
  else argReduceAny<false>(x, axis, out.data<int32_t>());
  return info.Env().Undefined();
}

// gather(dtype, data, layout, indices, indicesLayout, axis, out): out [...x.shape[:axis],
// indices.size, ...x.shape[axis+1:]] row-major. Returns false (out untouched) when an index is
// out of range.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "gather");
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, "gather", 0x1f);
  const View x = viewArg(info, 1, 2, dtype, "gather", "input");
  const View idx = viewArg(info, 3, 4, kInt32, "gather", "indices");
  if (x.rank == 0) throwRange(env, "gather", "the input must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 5, "gather", "axis", 0, x.rank - 1));
  int64_t outer, size, inner;
  splitAt(x, axis, outer, size, inner);
  const __int128 outSize = static_cast<__int128>(outer) * idx.size * inner;
  if (outSize > kMaxElements) throwRange(env, "gather", "the output would have 2^31 elements or more");
  const Output out = outputArg(info, 6, dtype, static_cast<int64_t>(outSize), "gather");
  std::vector<char> indexStorage, dataStorage;
  const int32_t* indices = static_cast<const int32_t*>(contiguousOrCopy(idx, indexStorage));
  if (!indicesInRange(indices, idx.size, size)) return Napi::Boolean::New(env, false);
  if (out.size == 0) return Napi::Boolean::New(env, true);
  const void* data = contiguousOrCopy(x, dataStorage);
  switch (itemSize(dtype)) {
    case 8:
      gatherLoop(static_cast<const uint64_t*>(data), indices, idx.size, outer, size, inner, out.data<uint64_t>());
      break;
    case 4:
      gatherLoop(static_cast<const uint32_t*>(data), indices, idx.size, outer, size, inner, out.data<uint32_t>());
      break;
    default:
      gatherLoop(static_cast<const uint8_t*>(data), indices, idx.size, outer, size, inner, out.data<uint8_t>());
      break;
  }
  return Napi::Boolean::New(env, true);
}

// scatterAdd(dtype, target, targetLayout, indices, indicesLayout, updates, updatesLayout, axis,
// out): out = target with updates[..., j, ...] added at index indices[j] along `axis` (updates
// read row-major as [outer, indices.size, inner]). Returns false (out untouched) when an
// index is out of range.
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  checkArgs(info, 9, "scatterAdd");
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, "scatterAdd", (1u << kFloat32) | (1u << kFloat64) | (1u << kInt32) | (1u << kUint8));
  const View target = viewArg(info, 1, 2, dtype, "scatterAdd", "target");
  const View idx = viewArg(info, 3, 4, kInt32, "scatterAdd", "indices");
  const View updates = viewArg(info, 5, 6, dtype, "scatterAdd", "updates");
  if (target.rank == 0) throwRange(env, "scatterAdd", "the target must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 7, "scatterAdd", "axis", 0, target.rank - 1));
  int64_t outer, size, inner;
  splitAt(target, axis, outer, size, inner);
  if (static_cast<__int128>(outer) * idx.size * inner != updates.size)
    throwRange(env, "scatterAdd", "updates must have target.shape[:axis] + indices.shape + target.shape[axis+1:] elements");
  const Output out = outputArg(info, 8, dtype, target.size, "scatterAdd");
  std::vector<char> indexStorage, updateStorage;
  const int32_t* indices = static_cast<const int32_t*>(contiguousOrCopy(idx, indexStorage));
  if (!indicesInRange(indices, idx.size, size)) return Napi::Boolean::New(env, false);
  if (out.size == 0) return Napi::Boolean::New(env, true);
  // A contiguous target is copied, and a broadcast value (max pooling's gradient starts as a
  // broadcast zero) filled, slice by slice by the threads that then scatter into it.
  const char* targetData = nullptr;
  const char* fillValue = nullptr;
  bool broadcastValue = true;
  for (int d = 0; d < target.rank; d++) broadcastValue = broadcastValue && (target.strides[d] == 0 || target.shape[d] == 1);
  if (broadcastValue) fillValue = target.base + target.offset * static_cast<int64_t>(itemSize(dtype));
  else if (target.contiguous()) targetData = target.base + target.offset * static_cast<int64_t>(itemSize(dtype));
  else copyToContiguous(target, out.base);
  const void* u = contiguousOrCopy(updates, updateStorage);
  switch (dtype) {
    case kFloat32:
      scatterAddLoop(indices, idx.size, static_cast<const float*>(u), outer, size, inner, reinterpret_cast<const float*>(targetData),
                     reinterpret_cast<const float*>(fillValue), out.data<float>());
      break;
    case kFloat64:
      scatterAddLoop(indices, idx.size, static_cast<const double*>(u), outer, size, inner, reinterpret_cast<const double*>(targetData),
                     reinterpret_cast<const double*>(fillValue), out.data<double>());
      break;
    case kInt32:
      scatterAddLoop(indices, idx.size, static_cast<const int32_t*>(u), outer, size, inner, reinterpret_cast<const int32_t*>(targetData),
                     reinterpret_cast<const int32_t*>(fillValue), out.data<int32_t>());
      break;
    default:
      scatterAddLoop(indices, idx.size, static_cast<const uint8_t*>(u), outer, size, inner, reinterpret_cast<const uint8_t*>(targetData),
                     reinterpret_cast<const uint8_t*>(fillValue), out.data<uint8_t>());
      break;
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace flint
