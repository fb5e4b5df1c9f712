// Convolution through oneDNN primitives (float32 and bfloat16), cached per shape; pooling is in
// pool.cc. Each returns false, without touching the output, for a configuration it leaves to the
// portable kernels (negative padding, layouts oneDNN refuses).
#include <algorithm>
#include <cmath>

#include "common.h"
#include "dnnl_context.h"
#include "ops.h"
#include "vector_math.h"
#include "post_ops.h"

namespace flint {

using dnnl::memory;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

std::mutex& dnnlMutex() {
  static std::mutex mutex;
  return mutex;
}

namespace {

memory::format_tag plainTag(int rank) {
  switch (rank) {
    case 3:
      return memory::format_tag::abc;
    case 4:
      return memory::format_tag::abcd;
    case 5:
      return memory::format_tag::abcde;
    default:
      return memory::format_tag::abcdef;
  }
}

/**
 * A user-layout memory bound to `data`, and the layout the primitive wants: when they differ, a
 * cached reorder moves data between them through a cached buffer.
 */
struct Staged {
  memory::desc user;
  memory::desc wanted;
  bool reorders = false;
  dnnl::reorder reorder;
  memory staging;

  void prepare(const memory::desc& userDesc, const memory::desc& wantedDesc, bool toUser) {
    user = userDesc;
    wanted = wantedDesc;
    reorders = user != wanted;
    if (!reorders) return;
    staging = memory(wanted, cpuEngine());
    reorder = toUser ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), wanted, cpuEngine(), user))
                     : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), wanted));
  }

  /** The memory the primitive reads: the user's data itself, or the staged copy of it. */
  memory input(void* data) {
    memory userMemory(user, cpuEngine(), data);
    if (!reorders) return userMemory;
    reorder.execute(cpuStream(), userMemory, staging);
    return staging;
  }

  /** The memory the primitive writes; `finish` moves it into the user's data. */
  memory output(void* data) { return reorders ? staging : memory(user, cpuEngine(), data); }
  void finish(void* data) {
    if (!reorders) return;
    memory userMemory(user, cpuEngine(), data);
    reorder.execute(cpuStream(), staging, userMemory);
  }
};

struct ConvEntry {
  dnnl::convolution_forward primitive;
  Staged src, weights, dst;
  std::vector<memory::desc> operandDescs;  // binary post-ops' operands, in order
};

PrimitiveCache<ConvEntry>& convCache() {
  static PrimitiveCache<ConvEntry> cache(256);
  return cache;
}

struct WeightGradEntry {
  dnnl::convolution_backward_weights primitive;
  Staged src, diffDst, diffWeights;
};

PrimitiveCache<WeightGradEntry>& weightGradCache() {
  static PrimitiveCache<WeightGradEntry> cache(256);
  return cache;
}

struct DataGradEntry {
  dnnl::convolution_backward_data primitive;
  Staged diffDst, weights, diffSrc;
};

PrimitiveCache<DataGradEntry>& dataGradCache() {
  static PrimitiveCache<DataGradEntry> cache(256);
  return cache;
}

/**
 * The high padding of one spatial dim that gives a forward convolution of `input` elements
 * (low padding `padLow`, windows spanning `extent`, stride `stride`) exactly `outputs` outputs,
 * as oneDNN's backward passes need their shapes to agree (it pads each side on its own). It only
 * decides which output positions exist: positions past the input read zeros either way. Short of
 * one stride below zero, the last window ends before the input does (stride 2 over an even size
 * without padding), and 0 gives the same outputs. Negative when the forward would drop trailing
 * input, which the callers leave to the portable kernel.
 */
int64_t agreeingPadHigh(int64_t input, int64_t padLow, int64_t extent, int64_t stride, int64_t outputs) {
  const int64_t padHigh = (outputs - 1) * stride + extent - input - padLow;
  return padHigh < 0 && padHigh > -stride ? 0 : padHigh;
}

/** A convolution's dilations as oneDNN counts them: the gaps between taps (dilation - 1). */
memory::dims gapsOf(const memory::dims& dilation) {
  memory::dims gaps(dilation.size());
  for (size_t d = 0; d < dilation.size(); d++) gaps[d] = dilation[d] - 1;
  return gaps;
}

/**
 * A float32 convolution as oneDNN's backward passes are made from it: src, weights and dst dims
 * (their layouts left to oneDNN), the forward's geometry (dilation counted as gaps), and the
 * forward convolution each backward pass takes as its hint. The passes throw dnnl::error where
 * oneDNN refuses the problem.
 */
struct BackwardProblem {
  memory::dims src, weights, dst, strides, gaps, padLow, padHigh;

  memory::desc any(const memory::dims& dims) const { return memory::desc(dims, memory::data_type::f32, memory::format_tag::any); }

  dnnl::convolution_forward::primitive_desc hint() const {
    const dnnl::convolution_forward::desc forward(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any(src),
                                                  any(weights), any(dst), strides, gaps, padLow, padHigh);
    return dnnl::convolution_forward::primitive_desc(forward, cpuEngine());
  }

  dnnl::convolution_backward_data::primitive_desc dataPass() const {
    const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, any(src), any(weights), any(dst), strides,
                                                     gaps, padLow, padHigh);
    return dnnl::convolution_backward_data::primitive_desc(desc, cpuEngine(), hint());
  }

  dnnl::convolution_backward_weights::primitive_desc weightsPass() const {
    const dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, any(src), any(weights), any(dst), strides,
                                                        gaps, padLow, padHigh);
    return dnnl::convolution_backward_weights::primitive_desc(desc, cpuEngine(), hint());
  }
};

/**
 * The view's first element and its strides in elements when oneDNN can read it in place (every
 * dim of more than one element has a positive stride), else a contiguous copy in `storage`.
 */
const float* stridedOrCopy(const View& view, std::vector<char>& storage, memory::dims& strides) {
  bool inPlace = true;
  for (int d = 0; d < view.rank; d++) inPlace = inPlace && (view.shape[d] == 1 || view.strides[d] > 0);
  strides.assign(static_cast<size_t>(view.rank), 0);
  if (inPlace) {
    int64_t dense = 1;
    for (int d = view.rank - 1; d >= 0; d--) {
      strides[d] = view.shape[d] == 1 ? dense : view.strides[d];
      dense *= view.shape[d];
    }
    return view.data<float>() + view.offset;
  }
  int64_t dense = 1;
  for (int d = view.rank - 1; d >= 0; d--) {
    strides[d] = dense;
    dense *= view.shape[d];
  }
  return static_cast<const float*>(contiguousOrCopy(view, storage));
}

/**
 * A float32 convolution whose kernel is spatially larger than its output is how autodiff writes
 * a weight gradient: out[b, o, p] = sum over c, k of x[b, c, p * stride + k * dilation - padLow]
 * w[o, c, k] is, read with x's two leading dims swapped (c as the batch, b as the input channel)
 * and w's too (c as the batch, o as the output channel), oneDNN's convolution_backward_weights
 * with the roles of stride and dilation exchanged, diff_weights [o, b, p] being `out` transposed.
 * oneDNN's forward convolution takes such kernels for ordinary ones and runs them several times
 * slower. Returns false (output untouched) when oneDNN refuses the case. The caller holds the lock.
 */
bool weightGradConv(const View& x, const View& w, const Output& out, const memory::dims& dstDims, const memory::dims& strides,
                    const memory::dims& padLow, const memory::dims& dilation, bool serial) {
  const int spatial = x.rank - 2;
  memory::dims xStrides, wStrides;
  std::vector<char> xStorage, wStorage;
  const float* xData = stridedOrCopy(x, xStorage, xStrides);
  const float* wData = stridedOrCopy(w, wStorage, wStrides);
  const int64_t batch = x.shape[0], channels = x.shape[1], outChannels = w.shape[0];
  memory::dims srcDims{channels, batch}, srcStrides{xStrides[1], xStrides[0]};
  memory::dims diffDstDims{channels, outChannels}, diffDstStrides{wStrides[1], wStrides[0]};
  memory::dims weightDims{outChannels, batch};
  memory::dims bwStrides(spatial), bwDilation(spatial), bwPadHigh(spatial);
  int64_t outVolume = 1;
  for (int d = 0; d < spatial; d++) {
    const int64_t input = x.shape[2 + d], taps = w.shape[2 + d], outLength = dstDims[2 + d];
    srcDims.push_back(input);
    srcStrides.push_back(xStrides[2 + d]);
    diffDstDims.push_back(taps);
    diffDstStrides.push_back(wStrides[2 + d]);
    weightDims.push_back(outLength);
    outVolume *= outLength;
    bwStrides[d] = dilation[d];
    bwDilation[d] = strides[d] - 1;
    // The forward oneDNN is told of: `taps` outputs at stride bwStrides, windows of `outLength`
    // at dilation `strides`.
    bwPadHigh[d] = agreeingPadHigh(input, padLow[d], (outLength - 1) * strides[d] + 1, bwStrides[d], taps);
    if (bwPadHigh[d] < 0) return false;
  }
  memory::dims weightStrides(static_cast<size_t>(x.rank));
  weightStrides[0] = outVolume;
  weightStrides[1] = outChannels * outVolume;
  for (int64_t d = spatial - 1, step = 1; d >= 0; d--) {
    weightStrides[2 + d] = step;
    step *= weightDims[2 + d];
  }
  std::string key = "bw";
  for (int d = 0; d < x.rank; d++) appendKey(key, {srcDims[d], srcStrides[d], diffDstDims[d], diffDstStrides[d], weightDims[d]});
  appendKey(key, {serial ? 1 : 0});
  for (int d = 0; d < spatial; d++) appendKey(key, {strides[d], padLow[d], dilation[d]});
  WeightGradEntry* entry = weightGradCache().find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<WeightGradEntry>();
    const auto f32 = memory::data_type::f32;
    try {
      const auto pd = BackwardProblem{srcDims, weightDims, diffDstDims, bwStrides, bwDilation, padLow, bwPadHigh}.weightsPass();
      made->primitive = dnnl::convolution_backward_weights(pd);
      made->src.prepare(memory::desc(srcDims, f32, srcStrides), pd.src_desc(), false);
      made->diffDst.prepare(memory::desc(diffDstDims, f32, diffDstStrides), pd.diff_dst_desc(), false);
      made->diffWeights.prepare(memory::desc(weightDims, f32, weightStrides), pd.diff_weights_desc(), true);
    } catch (const dnnl::error&) {
      return false;
    }
    entry = weightGradCache().insert(key, std::move(made));
  }
  const memory src = entry->src.input(const_cast<float*>(xData));
  const memory diffDst = entry->diffDst.input(const_cast<float*>(wData));
  const memory diffWeights = entry->diffWeights.output(out.base);
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWeights}});
  entry->diffWeights.finish(out.base);
  cpuStream().wait();
  return true;
}

}  // namespace

// conv(dtype, x, xLayout, w, wLayout, out, params): float32 or bfloat16 (Uint16Array bits);
// x [N, C, ...spatial], w [O, C/groups, ...kernel], out contiguous [N, O, ...outSpatial];
// params [groups, ...strides, ...padLow, ...padHigh, ...kernelDilation]. Two more arguments,
// postOps and operands (float32 only; see post_ops.h; layout 0 operands hold one value per output
// channel), apply an epilogue before the result is stored. Returns false when it leaves the case
// to the caller.
Napi::Value Conv(const Napi::CallbackInfo& info) {
  if (info.Length() != 9) checkArgs(info, 7, "conv");
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, "conv", (1u << kFloat32) | (1u << kBFloat16));
  const View x = viewArg(info, 1, 2, dtype, "conv", "input");
  const View w = viewArg(info, 3, 4, dtype, "conv", "kernel");
  const int rank = x.rank;
  if (rank < 3 || rank > 5) throwRange(env, "conv", "input must have 1 to 3 spatial dims");
  if (w.rank != rank) throwRange(env, "conv", "kernel rank differs from input rank");
  const int spatial = rank - 2;
  const std::vector<int64_t> params = paramsArg(info, 6, "conv", "params", 1 + 4 * spatial);
  const int64_t groups = params[0];
  const int64_t batch = x.shape[0], channels = x.shape[1], outChannels = w.shape[0];
  if (groups < 1 || channels % groups != 0 || outChannels % groups != 0 || w.shape[1] * groups != channels) {
    throwRange(env, "conv", "groups must divide the input and output channels, and kernel dim 1 must be channels / groups");
  }
  memory::dims strides(spatial), padLow(spatial), padHigh(spatial), dilation(spatial);
  memory::dims srcDims{batch, channels}, dstDims{batch, outChannels};
  bool negativePadding = false;
  int64_t outSize = batch * outChannels;
  for (int d = 0; d < spatial; d++) {
    strides[d] = params[1 + d];
    padLow[d] = params[1 + spatial + d];
    padHigh[d] = params[1 + 2 * spatial + d];
    dilation[d] = params[1 + 3 * spatial + d];
    if (strides[d] < 1 || dilation[d] < 1) throwRange(env, "conv", "strides and dilations must be at least 1");
    negativePadding = negativePadding || padLow[d] < 0 || padHigh[d] < 0;
    const int64_t count = windowCount(x.shape[2 + d], padLow[d], padHigh[d], w.shape[2 + d], strides[d], dilation[d]);
    srcDims.push_back(x.shape[2 + d]);
    dstDims.push_back(count);
    if (count != 0 && outSize > kMaxElements / count) throwRange(env, "conv", "the output would have 2^31 elements or more");
    outSize *= count;
  }
  const Output out = outputArg(info, 5, dtype, outSize, "conv");
  const bool fused = info.Length() == 9;
  PostOpList postOps;
  if (fused) {
    if (dtype != kFloat32) throwType(env, "conv", "post-ops take float32 only");
    postOps = postOpsArg(info, 7, "conv", outChannels, outSize);
  }
  if (out.size == 0) return Napi::Boolean::New(env, true);
  // An empty sum followed by post-ops is left to the caller's generic path.
  if (fused && (x.size == 0 || w.size == 0)) return Napi::Boolean::New(env, false);
  if (x.size == 0 || w.size == 0) {  // every output is an empty sum
    std::memset(out.base, 0, static_cast<size_t>(out.size) * itemSize(dtype));
    return Napi::Boolean::New(env, true);
  }
  bool negativeLow = false;
  for (int d = 0; d < spatial; d++) negativeLow = negativeLow || padLow[d] < 0;
  if (negativeLow) return Napi::Boolean::New(env, false);

  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const double work = static_cast<double>(out.size) * static_cast<double>(w.size / outChannels);
  const bool serial = work < kParallelWork;
  const SerialScope scope(serial);
  int64_t taps = 1;
  for (int d = 2; d < rank; d++) taps *= w.shape[d];
  // A weight gradient recomputes its high padding (weightGradConv): autodiff's is negative where
  // the forward's last window ends before the input does (stride 2 over an even size, unpadded).
  if (!fused && groups == 1 && dtype == kFloat32 && taps > out.size / (batch * outChannels) &&
      weightGradConv(x, w, out, dstDims, strides, padLow, dilation, serial)) {
    return Napi::Boolean::New(env, true);
  }
  if (negativePadding) return Napi::Boolean::New(env, false);
  std::string key;
  for (int d = 0; d < rank; d++) appendKey(key, {x.shape[d], w.shape[d]});
  appendKey(key, {groups, serial ? 1 : 0, dtype});
  for (int d = 0; d < spatial; d++) appendKey(key, {strides[d], padLow[d], padHigh[d], dilation[d]});
  if (fused) key += "post:" + postOps.key;
  ConvEntry* entry = convCache().find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<ConvEntry>();
    memory::dims weightDims;
    if (groups > 1) weightDims = {groups, outChannels / groups};
    else weightDims = {outChannels};
    for (int d = 1; d < rank; d++) weightDims.push_back(w.shape[d]);
    const memory::dims dnnlDilation = gapsOf(dilation);
    // bfloat16 data accumulate in float32 inside oneDNN and are rounded once on store.
    const auto type = dtype == kBFloat16 ? memory::data_type::bf16 : memory::data_type::f32;
    // A float32 1x1 convolution without post-ops takes the user's plain NCHW arrays: left free
    // (format_tag::any), oneDNN picks NHWC kernels and reorders x and the output around them,
    // and for a 1x1 filter the reorders cost more than the convolution (x [16, 64, 56, 56] by
    // w [128, 64, 1, 1], stride 2: 4.6 ms reordering x, 2.7 ms convolving, 2.3 ms reordering
    // back). On plain arrays it runs as a GEMM: 1.2 to 2x faster over five ResNet-like shapes.
    const bool plain = taps == 1 && !fused && dtype == kFloat32;
    const memory::desc anySrc(srcDims, type, plain ? plainTag(rank) : memory::format_tag::any);
    const memory::desc anyWeights(weightDims, type, memory::format_tag::any);
    const memory::desc anyDst(dstDims, type, plain ? plainTag(rank) : memory::format_tag::any);
    try {
      const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                                 anySrc, anyWeights, anyDst, strides, dnnlDilation, padLow, padHigh);
      // Post-ops: a per-channel operand is [1, O, 1, ...], a full one the output's shape, both plain.
      dnnl::primitive_attr attr;
      if (fused) {
        memory::dims channelDims(static_cast<size_t>(rank), 1);
        channelDims[1] = outChannels;
        const auto operandDesc = [&](int layout) {
          return memory::desc(layout == 0 ? channelDims : dstDims, type, plainTag(rank));
        };
        attr.set_post_ops(makePostOps(postOps.ops, operandDesc, made->operandDescs));
      }
      const dnnl::convolution_forward::primitive_desc pd(desc, attr, cpuEngine());
      made->primitive = dnnl::convolution_forward(pd);
      made->src.prepare(memory::desc(srcDims, type, plainTag(rank)), pd.src_desc(), false);
      made->weights.prepare(memory::desc(weightDims, type, plainTag(static_cast<int>(weightDims.size()))), pd.weights_desc(), false);
      made->dst.prepare(memory::desc(dstDims, type, plainTag(rank)), pd.dst_desc(), true);
    } catch (const dnnl::error&) {
      return Napi::Boolean::New(env, false);
    }
    entry = convCache().insert(key, std::move(made));
  }
  std::vector<char> xStorage, wStorage;
  void* xData = const_cast<void*>(contiguousOrCopy(x, xStorage));
  void* wData = const_cast<void*>(contiguousOrCopy(w, wStorage));
  const memory src = entry->src.input(xData);
  const memory weights = entry->weights.input(wData);
  const memory dst = entry->dst.output(out.base);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (fused) addPostOpArguments(postOps, entry->operandDescs, args);
  entry->primitive.execute(cpuStream(), args);
  entry->dst.finish(out.base);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

namespace {

const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

}  // namespace

// info(): versions and capabilities, for the backend's description and tests.
Napi::Value DnnlInfo(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  const dnnl_version_t* version = dnnl_version();
  result.Set("onednn", std::to_string(version->major) + "." + std::to_string(version->minor) + "." + std::to_string(version->patch));
  result.Set("blas", FLINT_BLAS_VENDOR);
  result.Set("threads", threadCount());
  result.Set("maxThreads", initialThreadCount());
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  result.Set("isa", isaName(isa));
  result.Set("bfloat16", isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx);
#ifdef FLINT_VECTOR_MATH
  result.Set("vectorMath", true);
#else
  result.Set("vectorMath", false);
#endif
  return result;
}

}  // namespace flint

namespace flint {

// convBackwardData(dtype, w, wLayout, dy, dyLayout, out, geometry): the input gradient dx (out,
// contiguous [N, C, ...input]) of the forward convolution of a [N, C, ...input] input with the
// float32 filter w [K, C / groups, ...kernel] whose output gradient is dy [N, K, ...], through
// oneDNN's convolution_backward_data, cached per shape; geometry [groups, ...strides, ...padLow,
// ...dilations, ...inputSize]. Autodiff writes this as a convolution with input
// dilation, which oneDNN's forward convolution does not take; src/kernels/conv.ts recognises it
// (the api's strided-backend/conv-gradients.ts). Returns false, leaving out alone, when oneDNN
// refuses the case; bad arguments throw.
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "convBackwardData");
  const char* op = "convBackwardData";
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View w = viewArg(info, 1, 2, dtype, op, "filter");
  const View dy = viewArg(info, 3, 4, dtype, op, "dy");
  const int rank = w.rank;
  if (rank < 3 || rank > 5) throwRange(env, op, "the filter must have 1 to 3 spatial dims");
  if (dy.rank != rank) throwRange(env, op, "dy must have the filter's rank");
  if (dy.shape[1] != w.shape[0]) throwRange(env, op, "dy must have one channel per filter (the filter's dim 0)");
  const int spatial = rank - 2;
  const std::vector<int64_t> geometry = paramsArg(info, 6, op, "geometry", 1 + 4 * spatial);
  const int64_t groups = geometry[0];
  if (groups < 1 || w.shape[0] % groups != 0 || w.shape[1] > kMaxElements / groups) {
    throwRange(env, op, "groups must be positive and divide the filters (the filter's dim 0)");
  }
  memory::dims strides(spatial), padLow(spatial), padHigh(spatial), dilation(spatial);
  memory::dims srcDims{dy.shape[0], w.shape[1] * groups};
  int64_t outSize = dy.shape[0] * w.shape[1] * groups;
  for (int d = 0; d < spatial; d++) {
    strides[d] = geometry[1 + d];
    padLow[d] = geometry[1 + spatial + d];
    dilation[d] = geometry[1 + 2 * spatial + d];
    const int64_t input = geometry[1 + 3 * spatial + d];
    if (strides[d] < 1 || dilation[d] < 1 || padLow[d] < 0 || input < 1) {
      throwRange(env, op, "strides, dilations and input sizes must be positive and padding not negative");
    }
    padHigh[d] = agreeingPadHigh(input, padLow[d], (w.shape[2 + d] - 1) * dilation[d] + 1, strides[d], dy.shape[2 + d]);
    if (padHigh[d] < 0) return Napi::Boolean::New(env, false);
    srcDims.push_back(input);
    if (outSize > kMaxElements / input) throwRange(env, op, "the output would have 2^31 elements or more");
    outSize *= input;
  }
  const Output out = outputArg(info, 5, dtype, outSize, op);
  if (out.size == 0 || w.size == 0 || dy.size == 0) return Napi::Boolean::New(env, false);

  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const double work = static_cast<double>(dy.size) * static_cast<double>(w.size / w.shape[0]);
  const SerialScope scope(work < kParallelWork);
  memory::dims wStrides, dyStrides;
  std::vector<char> wStorage, dyStorage;
  const float* wData = stridedOrCopy(w, wStorage, wStrides);
  const float* dyData = stridedOrCopy(dy, dyStorage, dyStrides);
  memory::dims weightDims(w.shape, w.shape + rank), dstDims(dy.shape, dy.shape + rank);
  if (groups > 1) {
    // oneDNN's grouped weights are [groups, K / groups, C / groups, ...]: the filter's dim 0 split.
    weightDims.insert(weightDims.begin(), groups);
    weightDims[1] /= groups;
    wStrides.insert(wStrides.begin(), wStrides[0] * weightDims[1]);
  }
  std::string key = "bd";
  for (int d = 0; d < rank; d++) appendKey(key, {srcDims[d], dstDims[d], dyStrides[d]});
  for (size_t d = 0; d < weightDims.size(); d++) appendKey(key, {weightDims[d], wStrides[d]});
  appendKey(key, {work < kParallelWork ? 1 : 0});
  for (int d = 0; d < spatial; d++) appendKey(key, {strides[d], padLow[d], padHigh[d], dilation[d]});
  DataGradEntry* entry = dataGradCache().find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<DataGradEntry>();
    const auto f32 = memory::data_type::f32;
    try {
      const auto pd = BackwardProblem{srcDims, weightDims, dstDims, strides, gapsOf(dilation), padLow, padHigh}.dataPass();
      made->primitive = dnnl::convolution_backward_data(pd);
      made->diffDst.prepare(memory::desc(dstDims, f32, dyStrides), pd.diff_dst_desc(), false);
      made->weights.prepare(memory::desc(weightDims, f32, wStrides), pd.weights_desc(), false);
      made->diffSrc.prepare(memory::desc(srcDims, f32, plainTag(rank)), pd.diff_src_desc(), true);
    } catch (const dnnl::error&) {
      return Napi::Boolean::New(env, false);
    }
    entry = dataGradCache().insert(key, std::move(made));
  }
  const memory diffDst = entry->diffDst.input(const_cast<float*>(dyData));
  const memory weights = entry->weights.input(const_cast<float*>(wData));
  const memory diffSrc = entry->diffSrc.output(out.base);
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diffSrc}});
  entry->diffSrc.finish(out.base);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

}  // namespace flint

namespace flint {

// convBackwardWeights(dtype, x, xLayout, dy, dyLayout, out, geometry): the filter gradient dw
// (out, contiguous [K, C / groups, ...filter]) of the forward convolution of the float32 input
// x [N, C, ...] whose output gradient is dy [N, K, ...], through oneDNN's
// convolution_backward_weights, cached per shape; geometry [groups, ...strides, ...padLow,
// ...dilations, ...filterSize]. src/kernels/conv.ts sends grouped convolutions' filter
// gradients here (the api's strided-backend/conv-gradients.ts recognises them); conv's own
// weightGradConv serves one group. Returns false, leaving out alone, when oneDNN refuses the
// case; bad arguments throw.
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  checkArgs(info, 7, "convBackwardWeights");
  const char* op = "convBackwardWeights";
  const Napi::Env env = info.Env();
  const int dtype = dtypeArg(info, 0, op, 1u << kFloat32);
  const View x = viewArg(info, 1, 2, dtype, op, "x");
  const View dy = viewArg(info, 3, 4, dtype, op, "dy");
  const int rank = x.rank;
  if (rank < 3 || rank > 5) throwRange(env, op, "x must have 1 to 3 spatial dims");
  if (dy.rank != rank) throwRange(env, op, "dy must have x's rank");
  if (dy.shape[0] != x.shape[0]) throwRange(env, op, "x and dy must have the same batch (dim 0)");
  const int spatial = rank - 2;
  const std::vector<int64_t> geometry = paramsArg(info, 6, op, "geometry", 1 + 4 * spatial);
  const int64_t groups = geometry[0];
  const int64_t channels = x.shape[1], filters = dy.shape[1];
  if (groups < 1 || channels % groups != 0 || filters % groups != 0) {
    throwRange(env, op, "groups must be positive and divide x's channels and dy's (dim 1)");
  }
  memory::dims strides(spatial), padLow(spatial), padHigh(spatial), dilation(spatial);
  // oneDNN's grouped weights are [groups, K / groups, C / groups, ...]: dw's dim 0 split.
  memory::dims weightDims = groups > 1 ? memory::dims{groups, filters / groups, channels / groups} : memory::dims{filters, channels};
  int64_t outSize = filters * (channels / groups);
  for (int d = 0; d < spatial; d++) {
    strides[d] = geometry[1 + d];
    padLow[d] = geometry[1 + spatial + d];
    dilation[d] = geometry[1 + 2 * spatial + d];
    const int64_t taps = geometry[1 + 3 * spatial + d];
    if (strides[d] < 1 || dilation[d] < 1 || padLow[d] < 0 || taps < 1) {
      throwRange(env, op, "strides, dilations and filter sizes must be positive and padding not negative");
    }
    padHigh[d] = agreeingPadHigh(x.shape[2 + d], padLow[d], (taps - 1) * dilation[d] + 1, strides[d], dy.shape[2 + d]);
    if (padHigh[d] < 0) return Napi::Boolean::New(env, false);
    weightDims.push_back(taps);
    if (outSize > kMaxElements / taps) throwRange(env, op, "the output would have 2^31 elements or more");
    outSize *= taps;
  }
  const Output out = outputArg(info, 5, dtype, outSize, op);
  if (out.size == 0 || x.size == 0 || dy.size == 0) return Napi::Boolean::New(env, false);

  const std::lock_guard<std::mutex> lock(dnnlMutex());
  const double work = static_cast<double>(dy.size) * static_cast<double>(out.size / filters);
  const SerialScope scope(work < kParallelWork);
  memory::dims xStrides, dyStrides;
  std::vector<char> xStorage, dyStorage;
  const float* xData = stridedOrCopy(x, xStorage, xStrides);
  const float* dyData = stridedOrCopy(dy, dyStorage, dyStrides);
  const memory::dims srcDims(x.shape, x.shape + rank), dstDims(dy.shape, dy.shape + rank);
  std::string key = "bw-groups";
  for (int d = 0; d < rank; d++) appendKey(key, {srcDims[d], xStrides[d], dstDims[d], dyStrides[d]});
  for (const int64_t dim : weightDims) appendKey(key, {dim});
  appendKey(key, {work < kParallelWork ? 1 : 0});
  for (int d = 0; d < spatial; d++) appendKey(key, {strides[d], padLow[d], padHigh[d], dilation[d]});
  WeightGradEntry* entry = weightGradCache().find(key);
  if (entry == nullptr) {
    auto made = std::make_unique<WeightGradEntry>();
    const auto f32 = memory::data_type::f32;
    try {
      const auto pd = BackwardProblem{srcDims, weightDims, dstDims, strides, gapsOf(dilation), padLow, padHigh}.weightsPass();
      made->primitive = dnnl::convolution_backward_weights(pd);
      made->src.prepare(memory::desc(srcDims, f32, xStrides), pd.src_desc(), false);
      made->diffDst.prepare(memory::desc(dstDims, f32, dyStrides), pd.diff_dst_desc(), false);
      made->diffWeights.prepare(memory::desc(weightDims, f32, plainTag(static_cast<int>(weightDims.size()))), pd.diff_weights_desc(), true);
    } catch (const dnnl::error&) {
      return Napi::Boolean::New(env, false);
    }
    entry = weightGradCache().insert(key, std::move(made));
  }
  const memory src = entry->src.input(const_cast<float*>(xData));
  const memory diffDst = entry->diffDst.input(const_cast<float*>(dyData));
  const memory diffWeights = entry->diffWeights.output(out.base);
  entry->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWeights}});
  entry->diffWeights.finish(out.base);
  cpuStream().wait();
  return Napi::Boolean::New(env, true);
}

}  // namespace flint
