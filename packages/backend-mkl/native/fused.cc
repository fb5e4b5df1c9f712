// Fused elementwise kernels (jit's 'elementwise' fusion groups): a small register program run over
// the output in chunks of kChunk elements. Each chunk loads its inputs (strided and broadcast views
// read in place) into registers, runs the ops one after another over the chunk (loops the compiler
// vectorizes), and stores the outputs; chunks are split over the cores. Every value is float32
// (bool as 0 and 1), rounded to float32 after each op as the op-by-op kernels round it, so a fused
// chain computes exactly what the eager kernels of elementwise.cc compute.
#include <cmath>

#include "common.h"
#include "float_ops.h"
#include "ops.h"
#include "vector_math.h"

namespace flint {

namespace {

// 128 floats per register keeps an optimizer update's 26 registers (13 KB) in the L1 cache; at 512
// they spilled to L2 and Adam's update of a 784x512 parameter took 15% longer (64 was slower again:
// the per-op loop overhead).
constexpr int64_t kChunk = 128;
constexpr int kMaxRegisters = 512;

enum FusedOp : int {
  // unary
  kFNeg = 0, kFAbs, kFSign, kFExp, kFLog, kFLog1p, kFExpm1, kFSqrt, kFRsqrt, kFSin, kFCos, kFTan, kFTanh, kFLogistic,
  kFErf, kFFloor, kFCeil, kFRound, kFReciprocal, kFNot, kFToBool, kFCopy, kFRelu, kFAsin, kFAcos, kFAtan,
  // binary
  kFAdd = 32, kFSub, kFMul, kFDiv, kFPow, kFMax, kFMin, kFEqual, kFNotEqual, kFLess, kFLessEqual, kFGreater,
  kFGreaterEqual, kFAnd, kFOr, kFReluGrad,
  // ternary
  kFWhere = 48,
  // binary, numbered after the select
  kFAtan2 = 49,
  kFOpLimit = 50
};

bool knownOp(int op) { return (op >= kFNeg && op <= kFAtan) || (op >= kFAdd && op <= kFReluGrad) || op == kFWhere || op == kFAtan2; }

struct Instruction {
  int op, dst, a, b, c;
};

struct Input {
  View view;
  bool contiguous = false;
  bool scalar = false;  // every stride zero: one value fills the chunk
};

/** Loads elements [start, start + count) (row-major over the view's shape) of `in` as floats. */
void load(const Input& in, int64_t start, int64_t count, float* to) {
  const View& v = in.view;
  const bool flags = v.dtype == kBool;
  if (in.scalar) {
    const float value = flags ? static_cast<float>(v.data<uint8_t>()[v.offset]) : v.data<float>()[v.offset];
    for (int64_t i = 0; i < count; i++) to[i] = value;
    return;
  }
  if (in.contiguous) {
    if (flags) {
      const uint8_t* from = v.data<uint8_t>() + v.offset + start;
      for (int64_t i = 0; i < count; i++) to[i] = static_cast<float>(from[i]);
    } else {
      std::memcpy(to, v.data<float>() + v.offset + start, static_cast<size_t>(count) * sizeof(float));
    }
    return;
  }
  // The multi-index of `start`, then runs along the last dim with an odometer over the others.
  const int rank = v.rank;
  int64_t index[kMaxRank];
  int64_t rest = start;
  int64_t offset = v.offset;
  for (int d = rank - 1; d >= 0; d--) {
    index[d] = rest % v.shape[d];
    rest /= v.shape[d];
    offset += index[d] * v.strides[d];
  }
  const int64_t inner = v.shape[rank - 1];
  const int64_t step = v.strides[rank - 1];
  int64_t done = 0;
  while (done < count) {
    const int64_t run = std::min(inner - index[rank - 1], count - done);
    if (flags) {
      const uint8_t* from = v.data<uint8_t>() + offset;
      for (int64_t i = 0; i < run; i++) to[done + i] = static_cast<float>(from[i * step]);
    } else {
      const float* from = v.data<float>() + offset;
      for (int64_t i = 0; i < run; i++) to[done + i] = from[i * step];
    }
    done += run;
    offset += run * step;
    index[rank - 1] += run;
    for (int d = rank - 1; d > 0 && index[d] == v.shape[d]; d--) {
      offset -= v.shape[d] * v.strides[d];
      index[d] = 0;
      index[d - 1]++;
      offset += v.strides[d - 1];
    }
  }
}

inline float signOf(float v) { return v > 0 ? 1.0f : v < 0 ? -1.0f : v; }

template <typename F>
inline void map1(float* d, const float* a, int64_t n, F f) {
  for (int64_t i = 0; i < n; i++) d[i] = f(a[i]);
}
template <typename F>
inline void map2(float* d, const float* a, const float* b, int64_t n, F f) {
  for (int64_t i = 0; i < n; i++) d[i] = f(a[i], b[i]);
}

// Transcendental ops through libmvec where the build has it, as the eager kernels compute them
// (native/elementwise.cc), so that a fused program agrees with them bit for bit.
#ifdef FLINT_VECTOR_MATH
#define FLINT_FUSED_MATH(name, scalar) vectorRun<FLINT_MVEC(name)>(a, d, n)
#else
#define FLINT_FUSED_MATH(name, scalar) map1(d, a, n, scalar)
#endif

void execute(const Instruction& in, float* r, int64_t n) {
  float* d = r + in.dst * kChunk;
  const float* a = r + in.a * kChunk;
  const float* b = r + in.b * kChunk;
  const float* c = r + in.c * kChunk;
  switch (in.op) {
    case kFNeg: return map1(d, a, n, [](float x) { return -x; });
    case kFAbs: return map1(d, a, n, [](float x) { return std::fabs(x); });
    case kFSign: return map1(d, a, n, signOf);
    case kFExp: return FLINT_FUSED_MATH(expf, [](float x) { return std::exp(x); });
    case kFLog: return FLINT_FUSED_MATH(logf, [](float x) { return std::log(x); });
    case kFLog1p: return FLINT_FUSED_MATH(log1pf, [](float x) { return std::log1p(x); });
    case kFExpm1: return FLINT_FUSED_MATH(expm1f, [](float x) { return std::expm1(x); });
    case kFSqrt: return map1(d, a, n, [](float x) { return std::sqrt(x); });
    case kFRsqrt: return map1(d, a, n, [](float x) { return 1.0f / std::sqrt(x); });
    case kFSin: return FLINT_FUSED_MATH(sinf, [](float x) { return std::sin(x); });
    case kFCos: return FLINT_FUSED_MATH(cosf, [](float x) { return std::cos(x); });
    case kFTan: return FLINT_FUSED_MATH(tanf, [](float x) { return std::tan(x); });
    case kFTanh: return FLINT_FUSED_MATH(tanhf, [](float x) { return std::tanh(x); });
    case kFLogistic: return map1(d, a, n, logistic<float>);
    case kFErf: return FLINT_FUSED_MATH(erff, [](float x) { return std::erf(x); });
    case kFFloor: return map1(d, a, n, [](float x) { return std::floor(x); });
    case kFCeil: return map1(d, a, n, [](float x) { return std::ceil(x); });
    case kFRound: return map1(d, a, n, [](float x) { return std::nearbyint(x); });
    case kFReciprocal: return map1(d, a, n, [](float x) { return 1.0f / x; });
    case kFNot: return map1(d, a, n, [](float x) { return x == 0.0f ? 1.0f : 0.0f; });
    case kFToBool: return map1(d, a, n, [](float x) { return x != 0.0f || x != x ? 1.0f : 0.0f; });
    case kFCopy: return map1(d, a, n, [](float x) { return x; });
    case kFRelu: return map1(d, a, n, [](float x) { return x < 0.0f ? 0.0f : x; });
    case kFAsin: return FLINT_FUSED_MATH(asinf, [](float x) { return std::asin(x); });
    case kFAcos: return FLINT_FUSED_MATH(acosf, [](float x) { return std::acos(x); });
    case kFAtan: return FLINT_FUSED_MATH(atanf, [](float x) { return std::atan(x); });
    case kFAdd: return map2(d, a, b, n, [](float x, float y) { return x + y; });
    case kFSub: return map2(d, a, b, n, [](float x, float y) { return x - y; });
    case kFMul: return map2(d, a, b, n, [](float x, float y) { return x * y; });
    case kFDiv: return map2(d, a, b, n, [](float x, float y) { return x / y; });
    case kFPow: return map2(d, a, b, n, [](float x, float y) { return std::pow(x, y); });
    case kFMax: return map2(d, a, b, n, maxPropagatingNaN<float>);
    case kFMin: return map2(d, a, b, n, minPropagatingNaN<float>);
    case kFEqual: return map2(d, a, b, n, [](float x, float y) { return x == y ? 1.0f : 0.0f; });
    case kFNotEqual: return map2(d, a, b, n, [](float x, float y) { return x != y ? 1.0f : 0.0f; });
    case kFLess: return map2(d, a, b, n, [](float x, float y) { return x < y ? 1.0f : 0.0f; });
    case kFLessEqual: return map2(d, a, b, n, [](float x, float y) { return x <= y ? 1.0f : 0.0f; });
    case kFGreater: return map2(d, a, b, n, [](float x, float y) { return x > y ? 1.0f : 0.0f; });
    case kFGreaterEqual: return map2(d, a, b, n, [](float x, float y) { return x >= y ? 1.0f : 0.0f; });
    case kFAnd: return map2(d, a, b, n, [](float x, float y) { return x != 0.0f && y != 0.0f ? 1.0f : 0.0f; });
    case kFOr: return map2(d, a, b, n, [](float x, float y) { return x != 0.0f || y != 0.0f ? 1.0f : 0.0f; });
    case kFReluGrad: return map2(d, a, b, n, [](float x, float y) { return x <= 0.0f ? 0.0f : y; });
    case kFAtan2: return map2(d, a, b, n, [](float y, float x) { return std::atan2(y, x); });
    case kFWhere:
      for (int64_t i = 0; i < n; i++) d[i] = a[i] != 0.0f ? b[i] : c[i];
      return;
    default:
      return;
  }
}

struct Target {
  char* base;
  int dtype;
  int reg;
};

}  // namespace

// fused(program, literals, ...inputs as (data, layout) pairs, ...outputs): program is an
// Int32Array [inputCount, outputCount, registerCount, instructionCount, rank, ...shape,
// ...inputDtypes, ...(outputRegister, outputDtype) pairs, ...(op, dst, a, b, c) per instruction].
// Registers: the inputs first, then one per literal (filled with literals[i]), then op results.
// Inputs are float32 or bool views of the program's shape; outputs contiguous float32 or bool.
Napi::Value Fused(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 2) throwType(env, "fused", "expected a program and literals");
  const std::vector<int64_t> p = paramsArg(info, 0, "fused", "program", -1);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throwType(env, "fused", "literals must be a Float64Array");
  const Napi::Float64Array literalArray = info[1].As<Napi::Float64Array>();
  const int64_t literalCount = static_cast<int64_t>(literalArray.ElementLength());
  if (p.size() < 5) throwRange(env, "fused", "the program header is incomplete");
  const int64_t inputCount = p[0], outputCount = p[1], registerCount = p[2], instructionCount = p[3], rank = p[4];
  if (inputCount < 0 || outputCount < 1 || instructionCount < 0 || rank < 0 || rank > kMaxRank || registerCount > kMaxRegisters ||
      registerCount < inputCount + literalCount || inputCount > kMaxRegisters || literalCount > kMaxRegisters ||
      instructionCount > kMaxRegisters || outputCount > kMaxRegisters)
    throwRange(env, "fused", "program header out of range");
  const size_t expectedLength =
      static_cast<size_t>(5 + rank + inputCount + 2 * outputCount + 5 * instructionCount);
  if (p.size() != expectedLength) throwRange(env, "fused", "program length does not match its header");
  if (info.Length() != static_cast<size_t>(2 + 2 * inputCount + outputCount))
    throwType(env, "fused", "expected " + std::to_string(2 + 2 * inputCount + outputCount) + " arguments");
  int64_t shape[kMaxRank];
  int64_t size = 1;
  for (int64_t d = 0; d < rank; d++) {
    shape[d] = p[5 + d];
    if (shape[d] < 0 || (size != 0 && shape[d] > kMaxElements / size)) throwRange(env, "fused", "bad shape");
    size *= shape[d];
  }
  size_t at = static_cast<size_t>(5 + rank);
  std::vector<Input> inputs(static_cast<size_t>(inputCount));
  for (int64_t i = 0; i < inputCount; i++) {
    const int64_t dtype = p[at++];
    if (dtype != kFloat32 && dtype != kBool) throwType(env, "fused", "inputs must be float32 or bool");
    Input& in = inputs[static_cast<size_t>(i)];
    in.view = viewArg(info, static_cast<size_t>(2 + 2 * i), static_cast<size_t>(3 + 2 * i), static_cast<int>(dtype), "fused", "input");
    bool same = in.view.rank == rank;
    for (int d = 0; same && d < rank; d++) same = in.view.shape[d] == shape[d];
    if (!same) throwRange(env, "fused", "every input must have the program's shape");
    in.contiguous = in.view.contiguous();
    in.scalar = true;
    for (int d = 0; d < rank; d++) in.scalar = in.scalar && (in.view.strides[d] == 0 || shape[d] == 1);
    if (rank == 0) in.contiguous = true;
  }
  std::vector<Target> targets;
  for (int64_t o = 0; o < outputCount; o++) {
    const int64_t reg = p[at++];
    const int64_t dtype = p[at++];
    if (reg < 0 || reg >= registerCount) throwRange(env, "fused", "output register out of range");
    if (dtype != kFloat32 && dtype != kBool) throwType(env, "fused", "outputs must be float32 or bool");
    const Output out = outputArg(info, static_cast<size_t>(2 + 2 * inputCount + o), static_cast<int>(dtype), size, "fused");
    targets.push_back({out.base, static_cast<int>(dtype), static_cast<int>(reg)});
  }
  std::vector<Instruction> program;
  for (int64_t k = 0; k < instructionCount; k++) {
    Instruction in{static_cast<int>(p[at]), static_cast<int>(p[at + 1]), static_cast<int>(p[at + 2]), static_cast<int>(p[at + 3]),
                   static_cast<int>(p[at + 4])};
    at += 5;
    if (!knownOp(in.op)) throwRange(env, "fused", "unknown op " + std::to_string(in.op));
    if (in.dst < inputCount + literalCount || in.dst >= registerCount) throwRange(env, "fused", "destination register out of range");
    for (const int r : {in.a, in.b, in.c})
      if (r < 0 || r >= registerCount) throwRange(env, "fused", "operand register out of range");
    program.push_back(in);
  }
  std::vector<float> literals(static_cast<size_t>(literalCount));
  for (int64_t l = 0; l < literalCount; l++) literals[static_cast<size_t>(l)] = static_cast<float>(literalArray[static_cast<size_t>(l)]);
  if (size == 0) return env.Undefined();

  const int64_t chunks = (size + kChunk - 1) / kChunk;
  const auto runChunks = [&](int64_t first, int64_t last) {
    std::vector<float> registers(static_cast<size_t>(registerCount * kChunk));
    float* r = registers.data();
    for (int64_t l = 0; l < literalCount; l++) std::fill(r + (inputCount + l) * kChunk, r + (inputCount + l + 1) * kChunk, literals[l]);
    for (int64_t chunk = first; chunk < last; chunk++) {
      const int64_t start = chunk * kChunk;
      const int64_t n = std::min(kChunk, size - start);
      for (int64_t i = 0; i < inputCount; i++) load(inputs[static_cast<size_t>(i)], start, n, r + i * kChunk);
      for (const Instruction& in : program) execute(in, r, n);
      for (const Target& t : targets) {
        const float* from = r + t.reg * kChunk;
        if (t.dtype == kBool) {
          uint8_t* to = reinterpret_cast<uint8_t*>(t.base) + start;
          for (int64_t i = 0; i < n; i++) to[i] = from[i] != 0.0f ? 1 : 0;
        } else {
          std::memcpy(reinterpret_cast<float*>(t.base) + start, from, static_cast<size_t>(n) * sizeof(float));
        }
      }
    }
  };
  const int threads = threadCount();
  // Below this many elements waking the OpenMP worker costs more than the arithmetic (as the
  // eager loops' grain in elementwise.cc).
  if (threads <= 1 || size < 2 * kLoopGrain) {
    runChunks(0, chunks);
  } else {
    const int64_t tasks = std::min<int64_t>(chunks, threads);
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < tasks; task++) runChunks(chunks * task / tasks, chunks * (task + 1) / tasks);
  }
  return env.Undefined();
}

}  // namespace flint
