// Selection and indexing on strided views of any dtype: where, argmax/argmin along an axis,
// gather and scatter-add along an axis. Index values are data, so each one is checked before
// any memory is touched: an index out of range makes the call return false (the TypeScript side
// then runs the portable kernel, which defines that case), never a stray read or write.
#include <cmath>

#include "common.h"
#include "ops.h"

namespace flint {

namespace {

void contiguousStridesOf(const View& view, int64_t* strides) {
  int64_t stride = 1;
  for (int d = view.rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= view.shape[d];
  }
}

/** where by element size: a select copies bits, so one loop per width serves every dtype. */
template <typename T>
void whereLoop(const View& c, const View& a, const View& b, T* out) {
  int64_t outStrides[kMaxRank];
  contiguousStridesOf(a, outStrides);
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
  contiguousStridesOf(rest, outStrides);
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
          for (int64_t i = 1; i < length; i++) {
            const T* row = base + i * axisStride;
            for (int64_t j = 0; j < count; j++) {
              const T v = row[(first + j) * s];
              const T b = best[j];
              const bool better = IsMax ? v > b : v < b;
              if (better || (isNaN(v) && !isNaN(b))) {
                best[j] = v;
                o[first + j] = static_cast<int32_t>(i);
              }
            }
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
  bool ok = true;
  for (int64_t j = 0; j < count; j++) ok = ok && indices[j] >= 0 && indices[j] < size;
  return ok;
}

template <typename T>
void gatherLoop(const T* data, const int32_t* indices, int64_t count, int64_t outer, int64_t size, int64_t inner, T* out) {
  const auto row = [&](int64_t o) {
    T* target = out + o * count * inner;
    const T* source = data + o * size * inner;
    for (int64_t j = 0; j < count; j++) {
      const T* from = source + static_cast<int64_t>(indices[j]) * inner;
      if (inner == 1) target[j] = *from;
      else std::memcpy(target + j * inner, from, static_cast<size_t>(inner) * sizeof(T));
    }
  };
  if (outer > 1 && outer * count * inner >= 65536 && threadCount() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < outer; o++) row(o);
  } else {
    for (int64_t o = 0; o < outer; o++) row(o);
  }
}

template <typename T>
T wrappingAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  else return a + b;
}

template <typename T>
void scatterAddLoop(const int32_t* indices, int64_t count, const T* updates, int64_t outer, int64_t size, int64_t inner, T* out) {
  // Rows of different `outer` never collide, so they may run in parallel; within one row, repeated
  // indices accumulate in order.
  const auto row = [&](int64_t o) {
    T* target = out + o * size * inner;
    const T* source = updates + o * count * inner;
    for (int64_t j = 0; j < count; j++) {
      T* to = target + static_cast<int64_t>(indices[j]) * inner;
      const T* from = source + j * inner;
      for (int64_t i = 0; i < inner; i++) to[i] = wrappingAdd(to[i], from[i]);
    }
  };
  if (outer > 1 && outer * count * inner >= 65536 && threadCount() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < outer; o++) row(o);
  } else {
    for (int64_t o = 0; o < outer; o++) row(o);
  }
}

}  // namespace

// where(dtype, cond, condLayout, a, aLayout, b, bLayout, out): cond bool; a, b and out of dtype;
// all three views of one shape.
Napi::Value Where(const Napi::CallbackInfo& info) {
  checkArgs(info, 8, "where");
  const int dtype = dtypeArg(info, 0, "where", 0x1f);
  const View c = viewArg(info, 1, 2, kBool, "where", "condition");
  const View a = viewArg(info, 3, 4, dtype, "where", "lhs");
  const View b = viewArg(info, 5, 6, dtype, "where", "rhs");
  bool same = a.rank == b.rank && a.rank == c.rank;
  for (int d = 0; same && d < a.rank; d++) same = a.shape[d] == b.shape[d] && a.shape[d] == c.shape[d];
  if (!same) throwRange(info.Env(), "where", "condition, lhs and rhs must have the same shape");
  const Output out = outputArg(info, 7, dtype, a.size, "where");
  if (a.size == 0) return info.Env().Undefined();
  switch (itemSize(dtype)) {
    case 8:
      whereLoop<uint64_t>(c, a, b, out.data<uint64_t>());
      break;
    case 4:
      whereLoop<uint32_t>(c, a, b, out.data<uint32_t>());
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
  copyToContiguous(target, out.base);
  const void* u = contiguousOrCopy(updates, updateStorage);
  switch (dtype) {
    case kFloat32:
      scatterAddLoop(indices, idx.size, static_cast<const float*>(u), outer, size, inner, out.data<float>());
      break;
    case kFloat64:
      scatterAddLoop(indices, idx.size, static_cast<const double*>(u), outer, size, inner, out.data<double>());
      break;
    case kInt32:
      scatterAddLoop(indices, idx.size, static_cast<const int32_t*>(u), outer, size, inner, out.data<int32_t>());
      break;
    default:
      scatterAddLoop(indices, idx.size, static_cast<const uint8_t*>(u), outer, size, inner, out.data<uint8_t>());
      break;
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace flint
