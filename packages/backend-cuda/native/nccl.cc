// Collectives on device buffers through NCCL (opened with dlopen, libraries.cc), queued on the
// backend's one stream, so they are ordered after the kernels that made their inputs and before
// those that use their outputs, and JavaScript never waits for them.
//
// No hangs: ncclCommInitRank runs on a helper thread and is given up on after the timeout, and
// a watchdog thread follows every queued collective with an event: one that has not completed by
// its deadline, or an asynchronous NCCL error, aborts the communicator (which ends its kernels),
// and from then on every NCCL call and every read fails with that reason.
//
// In validation-only mode (tests without a GPU) the communicator is simulated: every argument
// check runs and outputs are allocated, but nothing is sent.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "boundary.h"
#include "libraries.h"
#include "ops.h"

namespace flint_cuda {

namespace {

using Clock = std::chrono::steady_clock;

enum Collective : int { kAllReduce, kBroadcast, kAllGather, kReduceScatter, kCollectiveCount };
const char* const kCollectiveNames[] = {"ncclAllReduce", "ncclBroadcast", "ncclAllGather", "ncclReduceScatter"};
// The op codes match ncclRedOp_t: sum, prod, max, min, avg.
enum Reduction : int { kSum, kProd, kMax, kMin, kAvg, kReductionCount };

struct Pending {
  cudaEvent_t event;
  Clock::time_point deadline;
  std::string call;
};

/** The process's communicator (one per process, as the backend has one device and one stream). */
struct Communicator {
  std::mutex mutex;
  ncclComm_t comm = nullptr;
  bool simulated = false;
  bool initialized = false;
  int rank = 0;
  int size = 0;
  double timeoutSeconds = 300;
  int groupDepth = 0;
  std::string failure;  // set once, never cleared: the job should end
  std::vector<Pending> pending;
  std::thread watchdog;
  std::atomic<bool> stopping{false};
  std::condition_variable wake;
};

Communicator& communicator() {
  static Communicator* instance = new Communicator();  // never destroyed: the watchdog may outlive static destructors
  return *instance;
}

std::string ncclText(ncclResult_t result) {
  const Nccl* api = nccl();
  const char* text = api != nullptr ? api->GetErrorString(result) : nullptr;
  return std::string(text != nullptr ? text : "unknown NCCL error") + " (ncclResult " + std::to_string(result) + ")";
}

[[noreturn]] void throwNccl(const Napi::Env& env, const std::string& call, const std::string& message, const char* code) {
  Napi::Error failure = Napi::Error::New(env, "flint-cuda " + call + ": " + message);
  failure.Set("ncclError", Napi::String::New(env, code));
  failure.Set("call", Napi::String::New(env, call));
  throw failure;
}

void checkNccl(const Napi::Env& env, const std::string& call, ncclResult_t result) {
  if (result != kNcclSuccess && result != kNcclInProgress) throwNccl(env, call, ncclText(result), "NCCL");
}

/** Records why collectives stopped and aborts the communicator (under the communicator's mutex). */
void failLocked(Communicator& c, const std::string& why) {
  if (!c.failure.empty()) return;
  c.failure = why;
  if (c.comm != nullptr && nccl() != nullptr) nccl()->CommAbort(c.comm);
  c.comm = nullptr;
}

void watch(int device) {
  Communicator& c = communicator();
  cudaSetDevice(device);
  std::unique_lock<std::mutex> lock(c.mutex);
  while (!c.stopping) {
    c.wake.wait_for(lock, std::chrono::milliseconds(20));
    if (c.comm != nullptr && c.failure.empty()) {
      ncclResult_t asyncError = kNcclSuccess;
      nccl()->CommGetAsyncError(c.comm, &asyncError);
      if (asyncError != kNcclSuccess && asyncError != kNcclInProgress)
        failLocked(c, "NCCL reported an asynchronous error: " + ncclText(asyncError));
    }
    const Clock::time_point now = Clock::now();
    std::vector<Pending> still;
    for (const Pending& p : c.pending) {
      const cudaError_t done = cudaEventQuery(p.event);
      if (done == cudaErrorNotReady && c.failure.empty() && now < p.deadline) {
        still.push_back(p);
        continue;
      }
      if (done == cudaErrorNotReady && c.failure.empty()) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", c.timeoutSeconds);
        failLocked(c, p.call + ": timed out after " + seconds +
                          " s waiting for the other ranks (a rank died, crashed, or stopped calling collectives); the communicator was aborted");
      }
      if (done == cudaErrorNotReady) {
        // Aborted: its kernels end shortly; keep following the event so it is destroyed only then.
        still.push_back(p);
        continue;
      }
      cudaEventDestroy(p.event);
    }
    c.pending.swap(still);
  }
}

/** Follows the work queued so far with an event the watchdog checks against the deadline. */
void follow(const Napi::Env& env, Communicator& c, const std::string& call) {
  cudaEvent_t event = nullptr;
  checkCuda(env, call, cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  const cudaError_t recorded = cudaEventRecord(event, state().stream);
  if (recorded != cudaSuccess) {
    cudaEventDestroy(event);
    throwCuda(env, call, recorded);
  }
  const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.timeoutSeconds));
  std::lock_guard<std::mutex> lock(c.mutex);
  c.pending.push_back({event, Clock::now() + timeout, call});
}

/** The communicator, ready and not failed; throws otherwise. */
Communicator& ready(const Napi::Env& env, const char* op) {
  requireReady(env, op);
  Communicator& c = communicator();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (!c.failure.empty()) throwNccl(env, op, c.failure, "FAILED");
  if (!c.initialized) throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": no NCCL communicator (call ncclInit first)");
  return c;
}

int ncclDTypeOf(int dtype) {
  switch (dtype) {
    case kFloat32:
      return kNcclFloat32;
    case kFloat64:
      return kNcclFloat64;
    case kInt32:
      return kNcclInt32;
    case kFloat16:
      return kNcclFloat16;
    case kBFloat16:
      return kNcclBfloat16;
    default:
      return kNcclUint8;  // uint8, and bool as 0/1 bytes (reduced with max: any, min: all)
  }
}

bool isFloatingDType(int dtype) { return dtype == kFloat32 || dtype == kFloat64 || dtype == kFloat16 || dtype == kBFloat16; }

void checkReduction(const Napi::Env& env, const char* op, int reduction, int dtype) {
  if (dtype == kBool && reduction != kMax && reduction != kMin)
    throwType(env, op, "bool buffers reduce with max (any) or min (all) only");
  if (reduction == kAvg && !isFloatingDType(dtype)) throwType(env, op, std::string("avg needs a floating dtype, got ") + dtypeName(dtype));
  if (reduction == kAvg && !state().validationOnly && nccl() != nullptr && nccl()->version < 21000)
    throwType(env, op, "avg needs NCCL 2.10 or newer, found " + ncclStatus().version);
}

}  // namespace

std::string ncclFailure() {
  Communicator& c = communicator();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.failure;
}

/** ncclLibrary(): whether libnccl loads ({ found, path, version } or { found: false, reason }). */
Napi::Value NcclLibrary(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  checkArgs(info, 0, "ncclLibrary");
  const LibraryStatus& status = ncclStatus();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("found", Napi::Boolean::New(info.Env(), status.found));
  if (status.found) {
    result.Set("path", Napi::String::New(info.Env(), status.path));
    result.Set("version", Napi::String::New(info.Env(), status.version));
  } else {
    result.Set("reason", Napi::String::New(info.Env(), status.reason));
  }
  return result;
}

/** ncclUniqueId(): the 128-byte id rank 0 makes and every rank passes to ncclInit. */
Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "ncclGetUniqueId";
  const Napi::Env env = info.Env();
  checkArgs(info, 0, op);
  requireReady(env, op);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, kNcclUniqueIdBytes);
  if (state().validationOnly) {
    for (int i = 0; i < kNcclUniqueIdBytes; i++) out[i] = static_cast<uint8_t>(i);
    return out;
  }
  const Nccl* api = nccl();
  if (api == nullptr) throwNccl(env, op, "libnccl.so.2 " + ncclStatus().reason, "UNAVAILABLE");
  ncclUniqueId id;
  checkNccl(env, op, api->GetUniqueId(&id));
  std::memcpy(out.Data(), id.internal, kNcclUniqueIdBytes);
  return out;
}

/** ncclInit(id: Uint8Array(128), rank, worldSize, timeoutSeconds): joins the communicator. */
Napi::Value NcclInit(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "ncclCommInitRank";
  const Napi::Env env = info.Env();
  checkArgs(info, 4, op);
  requireReady(env, op);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[0].As<Napi::Uint8Array>().ElementLength() != kNcclUniqueIdBytes)
    throwType(env, op, "id must be a Uint8Array of 128 bytes (ncclUniqueId)");
  const int size = static_cast<int>(intArg(info, 2, op, "worldSize", 1, 1 << 20));
  const int rank = static_cast<int>(intArg(info, 1, op, "rank", 0, size - 1));
  if (!info[3].IsNumber()) throwType(env, op, "timeoutSeconds must be a number");
  const double timeoutSeconds = info[3].As<Napi::Number>().DoubleValue();
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 1e7)) throwRange(env, op, "timeoutSeconds must be in (0, 1e7]");
  Communicator& c = communicator();
  {
    std::lock_guard<std::mutex> guard(c.mutex);
    if (c.initialized) throw Napi::Error::New(env, std::string("flint-cuda ") + op + ": already initialized (call ncclDestroy first)");
    if (!c.failure.empty()) throwNccl(env, op, c.failure, "FAILED");
  }
  if (state().validationOnly) {
    std::lock_guard<std::mutex> guard(c.mutex);
    c.simulated = true;
    c.initialized = true;
    c.rank = rank;
    c.size = size;
    c.timeoutSeconds = timeoutSeconds;
    return env.Undefined();
  }
  const Nccl* api = nccl();
  if (api == nullptr) throwNccl(env, op, "libnccl.so.2 " + ncclStatus().reason, "UNAVAILABLE");
  ncclUniqueId id;
  std::memcpy(id.internal, info[0].As<Napi::Uint8Array>().Data(), kNcclUniqueIdBytes);
  // ncclCommInitRank blocks until every rank joins: wait for it on a helper thread, up to the timeout.
  struct Joined {
    ncclComm_t comm = nullptr;
    ncclResult_t result = kNcclSuccess;
  };
  auto joined = std::make_shared<std::promise<Joined>>();
  std::future<Joined> future = joined->get_future();
  const int device = state().device;
  std::thread([api, id, size, rank, device, joined] {
    Joined out;
    cudaSetDevice(device);
    out.result = api->CommInitRank(&out.comm, size, id, rank);
    joined->set_value(out);
  }).detach();
  if (future.wait_for(std::chrono::duration<double>(timeoutSeconds)) != std::future_status::ready) {
    std::lock_guard<std::mutex> guard(c.mutex);
    failLocked(c, std::string(op) + ": timed out after " + std::to_string(static_cast<int64_t>(timeoutSeconds)) +
                      " s waiting for the other ranks to join (a rank died, or not every rank called it)");
    throwNccl(env, op, c.failure, "TIMEOUT");
  }
  const Joined result = future.get();
  checkNccl(env, op, result.result);
  std::lock_guard<std::mutex> guard(c.mutex);
  c.comm = result.comm;
  c.initialized = true;
  c.simulated = false;
  c.rank = rank;
  c.size = size;
  c.timeoutSeconds = timeoutSeconds;
  c.stopping = false;
  if (!c.watchdog.joinable()) c.watchdog = std::thread(watch, device);
  return env.Undefined();
}

/**
 * ncclCollective(kind, op, dtype, buffer, layout, root): one collective on a contiguous view,
 * into a fresh buffer (allReduce and broadcast: the same size; allGather: worldSize times;
 * reduceScatter: 1 / worldSize). Returns the new buffer's handle.
 */
Napi::Value NcclCollective(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "ncclCollective";
  const Napi::Env env = info.Env();
  checkArgs(info, 6, op);
  Communicator& c = ready(env, op);
  const int kind = static_cast<int>(intArg(info, 0, op, "kind", 0, kCollectiveCount - 1));
  const char* call = kCollectiveNames[kind];
  const int reduction = static_cast<int>(intArg(info, 1, op, "op", 0, kReductionCount - 1));
  const int dtype = dtypeArg(info, 2, call, (1u << kDTypeCount) - 1);
  if (kind == kAllReduce || kind == kReduceScatter) checkReduction(env, call, reduction, dtype);
  const View input = viewArg(info, 3, 4, dtype, call, "input");
  if (!input.contiguous()) throwRange(env, call, "input must be a contiguous view (pack it first)");
  const int root = static_cast<int>(intArg(info, 5, call, "root", 0, c.size - 1));
  int64_t outElements = input.size;
  if (kind == kAllGather) {
    if (input.size > kMaxElements / c.size)
      throwRange(env, call, "the gathered result (" + std::to_string(input.size) + " x " + std::to_string(c.size) +
                                " elements) has 2^31 elements or more");
    outElements = input.size * c.size;
  }
  if (kind == kReduceScatter) {
    if (input.size % c.size != 0)
      throwRange(env, call, "input has " + std::to_string(input.size) + " elements, which do not divide evenly among " +
                                std::to_string(c.size) + " ranks");
    outElements = input.size / c.size;
  }
  Output out(env, call, dtype, outElements);
  if (launching() && !c.simulated && outElements > 0) {
    const Nccl* api = nccl();
    const void* in = input.base + input.offset * itemSizeOf(dtype);
    const int type = ncclDTypeOf(dtype);
    cudaStream_t stream = state().stream;
    ncclResult_t result = kNcclSuccess;
    switch (kind) {
      case kAllReduce:
        result = api->AllReduce(in, out.data(), static_cast<size_t>(input.size), type, reduction, c.comm, stream);
        break;
      case kBroadcast:
        result = api->Broadcast(in, out.data(), static_cast<size_t>(input.size), type, root, c.comm, stream);
        break;
      case kAllGather:
        result = api->AllGather(in, out.data(), static_cast<size_t>(input.size), type, c.comm, stream);
        break;
      default:
        result = api->ReduceScatter(in, out.data(), static_cast<size_t>(outElements), type, reduction, c.comm, stream);
        break;
    }
    checkNccl(env, call, result);
    if (c.groupDepth == 0) follow(env, c, call);
  }
  return out.commit(env);
}

/** ncclGroup(begin): ncclGroupStart / ncclGroupEnd, so several collectives launch as one. */
Napi::Value NcclGroup(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "ncclGroup";
  const Napi::Env env = info.Env();
  checkArgs(info, 1, op);
  const bool begin = boolArg(info, 0, op, "begin");
  Communicator& c = ready(env, begin ? "ncclGroupStart" : "ncclGroupEnd");
  if (!begin && c.groupDepth == 0) throw Napi::Error::New(env, "flint-cuda ncclGroupEnd: no group was started");
  const bool real = launching() && !c.simulated;
  if (begin) {
    if (real) checkNccl(env, "ncclGroupStart", nccl()->GroupStart());
    c.groupDepth++;
    return env.Undefined();
  }
  c.groupDepth--;
  if (real) {
    checkNccl(env, "ncclGroupEnd", nccl()->GroupEnd());
    if (c.groupDepth == 0) follow(env, c, "ncclGroupEnd");
  }
  return env.Undefined();
}

/** ncclStatus(): { initialized, rank, worldSize, simulated, failure? }. */
Napi::Value NcclStatus(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  checkArgs(info, 0, "ncclStatus");
  Communicator& c = communicator();
  std::lock_guard<std::mutex> guard(c.mutex);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("initialized", Napi::Boolean::New(info.Env(), c.initialized));
  result.Set("simulated", Napi::Boolean::New(info.Env(), c.simulated));
  result.Set("rank", Napi::Number::New(info.Env(), c.rank));
  result.Set("worldSize", Napi::Number::New(info.Env(), c.size));
  result.Set("pending", Napi::Number::New(info.Env(), static_cast<double>(c.pending.size())));
  if (!c.failure.empty()) result.Set("failure", Napi::String::New(info.Env(), c.failure));
  return result;
}

/** ncclDestroy(): waits for queued collectives, then destroys the communicator (after a failure: nothing left to do). */
Napi::Value NcclDestroy(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "ncclCommDestroy";
  const Napi::Env env = info.Env();
  checkArgs(info, 0, op);
  Communicator& c = communicator();
  ncclComm_t comm = nullptr;
  {
    std::lock_guard<std::mutex> guard(c.mutex);
    comm = c.comm;
    c.comm = nullptr;
    c.initialized = false;
    c.simulated = false;
    c.groupDepth = 0;
  }
  if (comm != nullptr) {
    if (state().stream != nullptr) cudaStreamSynchronize(state().stream);
    checkNccl(env, op, nccl()->CommDestroy(comm));
  }
  return env.Undefined();
}

}  // namespace flint_cuda
