// The entry points for reductions, arg-reductions, scans and argsort.
#include "boundary.h"
#include "ops.h"

namespace flint_cuda {

namespace {

/** Appends dim `d` of a view to a coalesced (shape, strides) group, merging with the last dim where it can. */
void appendDim(int32_t* shape, int64_t* strides, int32_t& rank, int64_t dim, int64_t stride) {
  if (dim == 1) return;
  if (rank > 0 && strides[rank - 1] == stride * dim) {
    shape[rank - 1] = static_cast<int32_t>(shape[rank - 1] * dim);
    strides[rank - 1] = stride;
    return;
  }
  shape[rank] = static_cast<int32_t>(dim);
  strides[rank] = stride;
  rank++;
}

Reduction reductionOf(const View& x, const std::vector<bool>& reduced) {
  Reduction r{};
  r.offset = x.offset;
  r.outer = 1;
  r.inner = 1;
  for (int d = 0; d < x.rank; d++) {
    if (reduced[d]) {
      r.inner *= x.shape[d];
      appendDim(r.reducedShape, r.reducedStrides, r.reducedRank, x.shape[d], x.strides[d]);
    } else {
      r.outer *= x.shape[d];
      appendDim(r.keptShape, r.keptStrides, r.keptRank, x.shape[d], x.strides[d]);
    }
  }
  return r;
}

/** The view with `axis` moved last: the shape and strides in that order, and the permutation. */
void axisLast(const View& x, int axis, int64_t* shape, int64_t* strides, int* perm) {
  int k = 0;
  for (int d = 0; d < x.rank; d++) {
    if (d == axis) continue;
    perm[k] = d;
    shape[k] = x.shape[d];
    strides[k] = x.strides[d];
    k++;
  }
  perm[k] = axis;
  shape[k] = x.shape[axis];
  strides[k] = x.strides[axis];
}

}  // namespace

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "reduce";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kReduceOpCount - 1));
  const int dtype = dtypeArg(info, 1, op, kAllDTypes);
  const View x = viewArg(info, 2, 3, dtype, op, "input");
  const std::vector<int64_t> axes = paramsArg(info, 4, op, "axes", -1);
  std::vector<bool> reduced(static_cast<size_t>(x.rank), false);
  int64_t previous = -1;
  for (const int64_t axis : axes) {
    if (axis <= previous || axis >= x.rank) throwRange(env, op, "axes must be increasing and within the input's rank");
    reduced[static_cast<size_t>(axis)] = true;
    previous = axis;
  }
  const Reduction r = reductionOf(x, reduced);
  Output out(env, op, dtype, r.outer);
  Scratch scratch(env, op, reduceScratchBytes(dtype, r));
  if (launching()) checkCuda(env, op, launchReduce(code, dtype, out.data(), x.base, r, scratch.data(), state().stream));
  return out.commit(env);
}

Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "argReduce";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kArgReduceOpCount - 1));
  const int dtype = dtypeArg(info, 1, op, kAllDTypes);
  const View x = viewArg(info, 2, 3, dtype, op, "input");
  if (x.rank == 0) throwRange(env, op, "the input must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 4, op, "axis", 0, x.rank - 1));
  std::vector<bool> reduced(static_cast<size_t>(x.rank), false);
  reduced[static_cast<size_t>(axis)] = true;
  Reduction r = reductionOf(x, reduced);
  // The kernel walks the one reduced axis with its own stride (size 1 is dropped by coalescing).
  r.reducedRank = 1;
  r.reducedShape[0] = static_cast<int32_t>(x.shape[axis]);
  r.reducedStrides[0] = x.strides[axis];
  Output out(env, op, kInt32, r.outer);
  if (launching()) checkCuda(env, op, launchArgReduce(code, dtype, out.as<int32_t>(), x.base, r, state().stream));
  return out.commit(env);
}

Napi::Value Cumulative(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "cumulative";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  requireReady(env, op);
  const int code = static_cast<int>(intArg(info, 0, op, "op", 0, kScanOpCount - 1));
  const bool reverse = boolArg(info, 1, op, "reverse");
  const int dtype = dtypeArg(info, 2, op, kAllDTypes);
  const View x = viewArg(info, 3, 4, dtype, op, "input");
  if (x.rank == 0) throwRange(env, op, "the input must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 5, op, "axis", 0, x.rank - 1));
  int64_t outStrides[kMaxRank];
  contiguousStrides(x.rank, x.shape, outStrides);
  Lines lines{};
  lines.lines = 1;
  lines.length = x.shape[axis];
  lines.inOffset = x.offset;
  lines.inStride = x.strides[axis];
  lines.outStride = outStrides[axis];
  for (int d = 0; d < x.rank; d++) {
    if (d == axis) continue;
    lines.shape[lines.rank] = static_cast<int32_t>(x.shape[d]);
    lines.inStrides[lines.rank] = x.strides[d];
    lines.outStrides[lines.rank] = outStrides[d];
    lines.rank++;
    lines.lines *= x.shape[d];
  }
  Output out(env, op, dtype, x.size);
  if (launching()) checkCuda(env, op, launchCumulative(code, reverse, dtype, out.data(), x.base, lines, state().stream));
  return out.commit(env);
}

Napi::Value Argsort(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "argsort";
  const Napi::Env env = info.Env();
  checkArgs(info, 5, op);
  requireReady(env, op);
  const bool descending = boolArg(info, 0, op, "descending");
  const int dtype = dtypeArg(info, 1, op, kAllDTypes);
  const View x = viewArg(info, 2, 3, dtype, op, "input");
  if (x.rank == 0) throwRange(env, op, "the input must have at least one dim");
  const int axis = static_cast<int>(intArg(info, 4, op, "axis", 0, x.rank - 1));
  Output out(env, op, kInt32, x.size);
  if (!launching() || x.size == 0) return out.commit(env);
  const cudaStream_t stream = state().stream;
  const size_t keyBytes = static_cast<size_t>(x.size) * static_cast<size_t>(itemSizeOf(dtype));
  const size_t indexBytes = static_cast<size_t>(x.size) * sizeof(int32_t);
  int64_t shape[kMaxRank];
  int64_t strides[kMaxRank];
  int perm[kMaxRank];
  axisLast(x, axis, shape, strides, perm);
  // Keys are packed as contiguous lines with the axis last, sorted, and the positions written back in the input's order.
  Scratch keys(env, op, keyBytes);
  Scratch keyScratch(env, op, keyBytes);
  Scratch sorted(env, op, indexBytes);
  Scratch indexScratch(env, op, indexBytes);
  int64_t packedStrides[kMaxRank];
  contiguousStrides(x.rank, shape, packedStrides);
  {
    const int64_t* walkStrides[2] = {packedStrides, strides};
    const int64_t offsets[2] = {0, x.offset};
    checkCuda(env, op, launchCopy(itemSizeOf(dtype), keys.data(), x.base, makeWalk(x.rank, shape, 2, walkStrides, offsets), stream));
  }
  const int64_t length = x.shape[axis];
  checkCuda(env, op,
            launchArgsort(descending, dtype, static_cast<int32_t*>(sorted.data()), keys.data(), keyScratch.data(),
                          static_cast<int32_t*>(indexScratch.data()), x.size / length, length, stream));
  int64_t outStrides[kMaxRank];
  contiguousStrides(x.rank, x.shape, outStrides);
  int64_t permutedOut[kMaxRank];
  for (int d = 0; d < x.rank; d++) permutedOut[d] = outStrides[perm[d]];
  const int64_t* walkStrides[2] = {permutedOut, packedStrides};
  const int64_t offsets[2] = {0, 0};
  checkCuda(env, op, launchCopy(4, out.data(), sorted.data(), makeWalk(x.rank, shape, 2, walkStrides, offsets), stream));
  return out.commit(env);
}

}  // namespace flint_cuda
