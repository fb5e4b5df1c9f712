// Flint's Open MPI transport: collectives on host typed arrays over MPI_COMM_WORLD.
//
// Every collective is started non-blocking (MPI_I*) and then polled with MPI_Test until it
// completes or its deadline passes, so that a rank that died or stopped calling makes the others
// fail with an error instead of waiting forever. Calls come only from the JavaScript main thread
// (MPI_THREAD_FUNNELED). Every argument that crosses Node-API is checked: no input crashes the
// process.
#include <dlfcn.h>
#include <mpi.h>
#include <napi.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace {

bool g_initialized = false;
bool g_finalized = false;
bool g_broken = false;

struct Buffer {
  void* data = nullptr;
  size_t length = 0;
  MPI_Datatype type = MPI_DATATYPE_NULL;
  size_t element_size = 0;
};

Napi::Error Error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

std::string MpiMessage(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

void RequireReady(Napi::Env env, const char* op) {
  if (!g_initialized || g_finalized) throw Error(env, "NOT_INITIALIZED", std::string(op) + ": MPI is not initialized (call init first)");
  if (g_broken)
    throw Error(env, "BROKEN", std::string(op) + ": an earlier collective failed or timed out; this job must end (abort)");
}

Buffer ReadBuffer(Napi::Env env, const Napi::Value& value, const char* op, const char* name) {
  if (!value.IsTypedArray()) throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": " + name + " must be a typed array");
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  Buffer buffer;
  switch (array.TypedArrayType()) {
    case napi_float32_array:
      buffer.type = MPI_FLOAT;
      buffer.element_size = 4;
      break;
    case napi_float64_array:
      buffer.type = MPI_DOUBLE;
      buffer.element_size = 8;
      break;
    case napi_int32_array:
      buffer.type = MPI_INT;
      buffer.element_size = 4;
      break;
    case napi_uint8_array:
      buffer.type = MPI_UNSIGNED_CHAR;
      buffer.element_size = 1;
      break;
    default:
      throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": " + name + " must be a Float32Array, Float64Array, Int32Array or Uint8Array");
  }
  buffer.length = array.ElementLength();
  if (buffer.length > static_cast<size_t>(INT32_MAX))
    throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": " + name + " has more than 2^31-1 elements");
  Napi::ArrayBuffer backing = array.ArrayBuffer();
  buffer.data = static_cast<uint8_t*>(backing.Data()) + array.ByteOffset();
  return buffer;
}

MPI_Op ReadOp(Napi::Env env, const Napi::Value& value, const char* op) {
  if (!value.IsString()) throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": op must be a string");
  std::string name = value.As<Napi::String>().Utf8Value();
  if (name == "sum") return MPI_SUM;
  if (name == "max") return MPI_MAX;
  if (name == "min") return MPI_MIN;
  if (name == "prod") return MPI_PROD;
  throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": op must be 'sum', 'max', 'min' or 'prod', got '" + name + "'");
}

double ReadTimeout(Napi::Env env, const Napi::Value& value, const char* op) {
  if (!value.IsNumber()) throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": timeoutMs must be a number");
  double timeout = value.As<Napi::Number>().DoubleValue();
  if (!(timeout > 0)) throw Error(env, "INVALID_ARGUMENT", std::string(op) + ": timeoutMs must be positive");
  return timeout;
}

// Polls `request` until it completes or `timeout_ms` passes. Open MPI's non-blocking collectives
// progress only inside MPI calls, so the poll must stay frequent: a large all-reduce has many
// rounds, and sleeping between polls (as this once did, up to 2 ms) made a 64 MB all-reduce 20x
// slower than MPI_Allreduce. It spins briefly (collectives on one machine finish in microseconds),
// then yields the core between polls, so a rank sharing a core with its peer lets it run; after a
// second of waiting (a slow peer, not a collective in flight) it polls every 50 microseconds.
void Wait(Napi::Env env, MPI_Request* request, int start_code, double timeout_ms, const char* op) {
  if (start_code != MPI_SUCCESS) {
    g_broken = true;
    throw Error(env, "MPI_ERROR", std::string(op) + ": " + MpiMessage(start_code));
  }
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::duration<double, std::milli>(timeout_ms);
  int done = 0;
  long polls = 0;
  for (;;) {
    int code = MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (code != MPI_SUCCESS) {
      g_broken = true;
      throw Error(env, "MPI_ERROR", std::string(op) + ": " + MpiMessage(code));
    }
    if (done) return;
    if (++polls < 2000) continue;
    if (std::chrono::steady_clock::now() >= deadline) {
      g_broken = true;
      throw Error(env, "TIMEOUT",
                  std::string(op) + ": timed out after " + std::to_string(static_cast<long>(timeout_ms / 1000)) +
                      " s waiting for the other ranks (a rank died, crashed, or stopped calling collectives)");
    }
    if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

// Node loads addons with RTLD_LOCAL, which hides libmpi's symbols from the plugins Open MPI
// dlopens itself (its transports): open libmpi again, globally, before MPI_Init.
void PromoteMpiSymbols() {
  Dl_info where;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &where) != 0 && where.dli_fname != nullptr)
    dlopen(where.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_finalized) throw Error(env, "FINALIZED", "init: MPI was finalized; it cannot be initialized again in this process");
  if (!g_initialized) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
      PromoteMpiSymbols();
      int provided = 0;
      int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      if (code != MPI_SUCCESS) throw Error(env, "MPI_ERROR", "init: MPI_Init_thread failed: " + MpiMessage(code));
    }
    // Errors come back as codes (and so as JavaScript exceptions) instead of ending the process.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    g_initialized = true;
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm local;
  int local_rank = 0, local_size = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
    MPI_Comm_rank(local, &local_rank);
    MPI_Comm_size(local, &local_size);
    MPI_Comm_free(&local);
  }
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int version_length = 0;
  MPI_Get_library_version(version, &version_length);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("worldSize", size);
  out.Set("localRank", local_rank);
  out.Set("localWorldSize", local_size);
  out.Set("version", std::string(version, static_cast<size_t>(version_length)));
  return out;
}

Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "allReduce";
  RequireReady(env, op);
  Buffer buffer = ReadBuffer(env, info[0], op, "data");
  MPI_Op reduce = ReadOp(env, info[1], op);
  double timeout = ReadTimeout(env, info[2], op);
  MPI_Request request;
  int code = MPI_Iallreduce(MPI_IN_PLACE, buffer.data, static_cast<int>(buffer.length), buffer.type, reduce, MPI_COMM_WORLD, &request);
  Wait(env, &request, code, timeout, op);
  return env.Undefined();
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "broadcast";
  RequireReady(env, op);
  Buffer buffer = ReadBuffer(env, info[0], op, "data");
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (!info[1].IsNumber()) throw Error(env, "INVALID_ARGUMENT", "broadcast: root must be a number");
  int root = info[1].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= size) throw Error(env, "INVALID_ARGUMENT", "broadcast: root " + std::to_string(root) + " is not a rank");
  double timeout = ReadTimeout(env, info[2], op);
  MPI_Request request;
  int code = MPI_Ibcast(buffer.data, static_cast<int>(buffer.length), buffer.type, root, MPI_COMM_WORLD, &request);
  Wait(env, &request, code, timeout, op);
  return env.Undefined();
}

Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "allGather";
  RequireReady(env, op);
  Buffer send = ReadBuffer(env, info[0], op, "data");
  Buffer receive = ReadBuffer(env, info[1], op, "out");
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (receive.type != send.type || receive.length != send.length * static_cast<size_t>(size))
    throw Error(env, "INVALID_ARGUMENT", "allGather: out must be of data's type and worldSize times its length");
  double timeout = ReadTimeout(env, info[2], op);
  MPI_Request request;
  int code = MPI_Iallgather(send.data, static_cast<int>(send.length), send.type, receive.data, static_cast<int>(send.length), send.type,
                            MPI_COMM_WORLD, &request);
  Wait(env, &request, code, timeout, op);
  return env.Undefined();
}

Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "reduceScatter";
  RequireReady(env, op);
  Buffer send = ReadBuffer(env, info[0], op, "data");
  Buffer receive = ReadBuffer(env, info[1], op, "out");
  MPI_Op reduce = ReadOp(env, info[2], op);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (receive.type != send.type || receive.length * static_cast<size_t>(size) != send.length)
    throw Error(env, "INVALID_ARGUMENT", "reduceScatter: out must be of data's type and 1/worldSize of its length");
  double timeout = ReadTimeout(env, info[3], op);
  MPI_Request request;
  int code = MPI_Ireduce_scatter_block(send.data, receive.data, static_cast<int>(receive.length), send.type, reduce, MPI_COMM_WORLD,
                                       &request);
  Wait(env, &request, code, timeout, op);
  return env.Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "barrier";
  RequireReady(env, op);
  double timeout = ReadTimeout(env, info[0], op);
  MPI_Request request;
  int code = MPI_Ibarrier(MPI_COMM_WORLD, &request);
  Wait(env, &request, code, timeout, op);
  return env.Undefined();
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (g_initialized && !g_finalized) MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  // A broken job cannot finalize (the pending collective never completes): leave that to abort.
  if (g_initialized && !g_finalized && !g_broken) MPI_Finalize();
  g_finalized = true;
  return info.Env().Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("allReduce", Napi::Function::New(env, AllReduce));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("allGather", Napi::Function::New(env, AllGather));
  exports.Set("reduceScatter", Napi::Function::New(env, ReduceScatter));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  return exports;
}

}  // namespace

NODE_API_MODULE(flint_mpi, Module)
