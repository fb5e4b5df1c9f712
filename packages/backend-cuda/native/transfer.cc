// Moving data between JavaScript and the device. Uploads are staged through pinned host blocks
// and copied on the stream, so they never wait for earlier kernels; reads copy into a pinned
// block on the stream, record an event, and wait for it on a libuv worker thread, so the
// JavaScript thread never blocks: the promise settles when the event completes.
#include <cstring>

#include "boundary.h"
#include "libraries.h"
#include "ops.h"

namespace flint_cuda {

namespace {

napi_typedarray_type arrayTypeOf(int dtype) {
  switch (dtype) {
    case kFloat32:
      return napi_float32_array;
    case kFloat64:
      return napi_float64_array;
    case kInt32:
      return napi_int32_array;
    case kFloat16:
    case kBFloat16:
      return napi_uint16_array;  // bit patterns
    default:
      return napi_uint8_array;
  }
}

const char* arrayNameOf(int dtype) {
  switch (dtype) {
    case kFloat32:
      return "Float32Array";
    case kFloat64:
      return "Float64Array";
    case kInt32:
      return "Int32Array";
    case kFloat16:
    case kBFloat16:
      return "Uint16Array (bit patterns)";
    default:
      return "Uint8Array";
  }
}

Napi::Value newTypedArray(const Napi::Env& env, int dtype, size_t elements, const void* data) {
  const size_t bytes = elements * static_cast<size_t>(itemSizeOf(dtype));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), data, bytes);
  napi_value array = nullptr;
  if (napi_create_typedarray(env, arrayTypeOf(dtype), elements, buffer, 0, &array) != napi_ok) {
    throw Napi::Error::New(env, "flint-cuda read: could not create the result array");
  }
  return Napi::Value(env, array);
}

/** Copies a validated strided view into `out` on the host (validation-only mode's reads). */
void hostGather(const View& view, char* out) {
  const int size = itemSizeOf(view.dtype);
  int64_t index[kMaxRank] = {};
  for (int64_t i = 0; i < view.size; i++) {
    int64_t offset = view.offset;
    for (int d = 0; d < view.rank; d++) offset += index[d] * view.strides[d];
    std::memcpy(out + i * size, view.base + offset * size, static_cast<size_t>(size));
    for (int d = view.rank - 1; d >= 0; d--) {
      if (++index[d] < view.shape[d]) break;
      index[d] = 0;
    }
  }
}

/** Waits for `event` off the JavaScript thread, then settles the promise on it. */
class EventWaiter : public Napi::AsyncWorker {
 public:
  EventWaiter(const Napi::Env& env, cudaEvent_t event, const char* call)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), event_(event), call_(call), device_(state().device) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    // A worker thread starts on device 0: make the backend's device current before waiting.
    error_ = cudaSetDevice(device_);
    if (error_ == cudaSuccess) error_ = cudaEventSynchronize(event_);
  }

  void OnOK() override {
    std::lock_guard<std::recursive_mutex> lock(addonMutex());
    Napi::Env env = Env();
    releaseEvent(event_);
    // After an aborted NCCL collective the stream's results cannot be trusted: say why instead.
    const std::string collectivesFailed = ncclFailure();
    if (error_ == cudaSuccess && !collectivesFailed.empty()) {
      settleFailure();
      Napi::Error failure = Napi::Error::New(env, std::string("flint-cuda ") + call_ + ": NCCL collectives failed: " + collectivesFailed);
      failure.Set("ncclError", Napi::String::New(env, "FAILED"));
      deferred_.Reject(failure.Value());
      return;
    }
    if (error_ != cudaSuccess) {
      settleFailure();
      try {
        throwCuda(env, call_, error_);
      } catch (const Napi::Error& failure) {
        deferred_.Reject(failure.Value());
      }
      return;
    }
    deferred_.Resolve(result(env));
  }

 protected:
  virtual Napi::Value result(const Napi::Env& env) { return env.Undefined(); }
  virtual void settleFailure() {}

 private:
  Napi::Promise::Deferred deferred_;
  cudaEvent_t event_;
  const char* call_;
  int device_;
  cudaError_t error_ = cudaSuccess;
};

class ReadWaiter : public EventWaiter {
 public:
  ReadWaiter(const Napi::Env& env, cudaEvent_t event, void* pinned, size_t blockBytes, int dtype, size_t elements)
      : EventWaiter(env, event, "read"), pinned_(pinned), blockBytes_(blockBytes), dtype_(dtype), elements_(elements) {}

 protected:
  Napi::Value result(const Napi::Env& env) override {
    Napi::Value array = newTypedArray(env, dtype_, elements_, pinned_);
    state().pinned.release(pinned_, blockBytes_, nullptr);
    return array;
  }
  void settleFailure() override { state().pinned.release(pinned_, blockBytes_, nullptr); }

 private:
  void* pinned_;
  size_t blockBytes_;
  int dtype_;
  size_t elements_;
};

}  // namespace

Napi::Value Upload(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "upload";
  const Napi::Env env = info.Env();
  checkArgs(info, 2, op);
  requireReady(env, op);
  const int dtype = dtypeArg(info, 0, op, kAllDTypes);
  const TypedArrayArg array = typedArrayArg(info, 1, arrayTypeOf(dtype), op, [dtype] {
    return std::string("data must be a ") + arrayNameOf(dtype) + " for " + dtypeName(dtype);
  });
  const void* data = array.data;
  const size_t count = array.count;  // 0 when detached
  Output out(env, op, dtype, static_cast<int64_t>(count));
  const size_t bytes = count * static_cast<size_t>(itemSizeOf(dtype));
  if (bytes > 0) {
    State& s = state();
    if (!launching()) {
      std::memcpy(out.data(), data, bytes);
    } else {
      size_t blockBytes = 0;
      void* pinned = s.pinned.acquire(bytes, blockBytes);
      if (pinned == nullptr) throw Napi::Error::New(env, "flint-cuda upload: out of pinned host memory for " + std::to_string(bytes) + " bytes");
      std::memcpy(pinned, data, bytes);
      const cudaError_t copied = cudaMemcpyAsync(out.data(), pinned, bytes, cudaMemcpyHostToDevice, s.stream);
      cudaError_t error = copied;
      cudaEvent_t event = nullptr;
      if (error == cudaSuccess) event = acquireEvent(error);
      if (error == cudaSuccess) error = cudaEventRecord(event, s.stream);
      // Without a recorded event the block cannot be known free: wait for the stream instead.
      if (error != cudaSuccess && copied == cudaSuccess) cudaStreamSynchronize(s.stream);
      s.pinned.release(pinned, blockBytes, error == cudaSuccess ? event : nullptr);
      if (error != cudaSuccess && event != nullptr) releaseEvent(event);
      checkCuda(env, "upload (cudaMemcpyAsync)", error);
    }
  }
  return out.commit(env);
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "read";
  const Napi::Env env = info.Env();
  checkArgs(info, 3, op);
  requireReady(env, op);
  const View view = viewArg(info, 0, 2, static_cast<int>(intArg(info, 1, op, "dtype", 0, kDTypeCount - 1)), op, "buffer");
  const size_t itemSize = static_cast<size_t>(itemSizeOf(view.dtype));
  const size_t bytes = static_cast<size_t>(view.size) * itemSize;
  if (bytes == 0 || !launching()) {
    std::vector<char> host(bytes);
    if (bytes > 0) hostGather(view, host.data());
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(newTypedArray(env, view.dtype, static_cast<size_t>(view.size), host.data()));
    return deferred.Promise();
  }
  State& s = state();
  const void* source = view.base + view.offset * static_cast<int64_t>(itemSize);
  Scratch packed(env, op, view.contiguous() ? 0 : bytes);
  if (!view.contiguous()) {
    int64_t outStrides[kMaxRank];
    contiguousStrides(view.rank, view.shape, outStrides);
    const int64_t* strides[2] = {outStrides, view.strides};
    const int64_t offsets[2] = {0, view.offset};
    checkCuda(env, "read (strided copy)",
              launchCopy(static_cast<int>(itemSize), packed.data(), view.base, makeWalk(view.rank, view.shape, 2, strides, offsets), s.stream));
    source = packed.data();
  }
  size_t blockBytes = 0;
  void* pinned = s.pinned.acquire(bytes, blockBytes);
  if (pinned == nullptr) throw Napi::Error::New(env, "flint-cuda read: out of pinned host memory for " + std::to_string(bytes) + " bytes");
  cudaError_t error = cudaMemcpyAsync(pinned, source, bytes, cudaMemcpyDeviceToHost, s.stream);
  cudaEvent_t event = nullptr;
  if (error == cudaSuccess) event = acquireEvent(error);
  if (error == cudaSuccess) error = cudaEventRecord(event, s.stream);
  if (error != cudaSuccess) {
    if (event != nullptr) releaseEvent(event);
    cudaStreamSynchronize(s.stream);
    s.pinned.release(pinned, blockBytes, nullptr);
    throwCuda(env, "read (cudaMemcpyAsync)", error);
  }
  auto* waiter = new ReadWaiter(env, event, pinned, blockBytes, view.dtype, static_cast<size_t>(view.size));
  Napi::Promise promise = waiter->promise();
  waiter->Queue();
  return promise;
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "free";
  const Napi::Env env = info.Env();
  checkArgs(info, 1, op);
  requireReady(env, op);
  const uint64_t handle = handleArg(info, 0, op, "buffer");
  Buffer& buffer = bufferOf(env, handle, op, "buffer");
  // Work already queued that reads the block runs before any later use of it: one stream orders both.
  state().allocator.release(buffer.ptr, buffer.blockBytes);
  state().buffers.erase(handle);
  return env.Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  std::lock_guard<std::recursive_mutex> lock(addonMutex());
  const char* op = "synchronize";
  const Napi::Env env = info.Env();
  checkArgs(info, 0, op);
  requireReady(env, op);
  if (!launching()) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  cudaError_t error = cudaSuccess;
  cudaEvent_t event = acquireEvent(error);
  checkCuda(env, "synchronize (cudaEventCreate)", error);
  error = cudaEventRecord(event, state().stream);
  if (error != cudaSuccess) {
    releaseEvent(event);
    throwCuda(env, "synchronize (cudaEventRecord)", error);
  }
  auto* waiter = new EventWaiter(env, event, "synchronize");
  Napi::Promise promise = waiter->promise();
  waiter->Queue();
  return promise;
}

}  // namespace flint_cuda
