// An NCCL for the CPU emulation: libnccl.so.2 with the entry points the addon opens
// (native/libraries.cc), for ranks that are processes on one machine, each holding its "device"
// buffers in host memory (native/emulation/runtime.cc). Tests point FLINT_CUDA_LIBRARY_PATH at it
// so that DDP on the emulated 'cuda' backend sends its gradients through the addon's NCCL code
// (native/nccl.cc, src/distributed/nccl.ts) as on GPUs.
//
// The ranks meet on a Unix socket named by the unique id; rank 0 is the hub. Each collective
// runs when it is called (the emulated streams finish work as it is queued): every other rank
// sends rank 0 its call and its input, rank 0 checks that the calls agree, reduces in rank order
// (so every run gives the same bits) and sends each rank its result. A peer that dies closes its
// socket: the collective then fails with ncclRemoteError, and the addon reports it; a peer that
// stops answering fails it after FLINT_EMU_NCCL_TIMEOUT seconds (default 60). Unlike NCCL's, these
// collectives are done when their call returns: the addon's watchdog (deadlines on queued
// collectives) has nothing to follow here, and ncclCommAbort only cuts the sockets, so that a
// collective running on another thread ends with an error instead of using a freed communicator.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "emulated_device.h"
#include "vendor_emulation.h"
#include "../elementwise_math.cuh"

// Its buffers are the emulated runtime's host memory, read directly: the attach only marks it as
// one of the emulation's libraries (libraries.cc opens no other under the emulation).
FLINT_EMULATED_LIBRARY_ATTACH

namespace {

constexpr int kSuccess = 0;
constexpr int kInvalidArgument = 4;
constexpr int kInvalidUsage = 5;
constexpr int kRemoteError = 6;
constexpr int kSystemError = 2;
constexpr char kMagic[] = "flint-emu-nccl:";

enum Kind : int32_t { kAllReduce, kBroadcast, kAllGather, kReduceScatter };
enum DataType : int32_t { kInt8, kUint8, kInt32, kUint32, kInt64, kUint64, kFloat16, kFloat32, kFloat64, kBfloat16 };
enum Op : int32_t { kSum, kProd, kMax, kMin, kAvg };

struct Header {
  int32_t kind;
  int32_t dtype;
  int32_t op;
  int32_t root;
  int64_t count;
};

size_t itemSize(int dtype) {
  switch (dtype) {
    case kInt8:
    case kUint8:
      return 1;
    case kFloat16:
    case kBfloat16:
      return 2;
    case kInt32:
    case kUint32:
    case kFloat32:
      return 4;
    default:
      return 8;
  }
}

double timeoutSeconds() {
  const char* value = std::getenv("FLINT_EMU_NCCL_TIMEOUT");
  return value != nullptr && *value != '\0' ? std::atof(value) : 60.0;
}

}  // namespace

struct ncclComm {
  int rank = 0;
  int size = 1;
  std::vector<int> peers;  // rank 0: a socket per other rank; others: peers[0], the socket to rank 0
  // Read by the addon's watchdog thread while a collective may be failing on another.
  std::atomic<int> asyncError{kSuccess};
};

namespace {

/** Cuts every socket of the communicator, so that peers blocked on it fail at once instead of waiting for the timeout. */
void cut(ncclComm* comm) {
  for (int fd : comm->peers)
    if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

int fail(ncclComm* comm, int code, const std::string& why) {
  std::fprintf(stderr, "[flint-cuda emulated NCCL] rank %d: %s\n", comm != nullptr ? comm->rank : -1, why.c_str());
  if (comm != nullptr) {
    cut(comm);
    comm->asyncError.store(code);
  }
  return code;
}

/** Waits until `fd` is readable (or writable), up to the timeout; false on timeout or error. */
bool ready(int fd, bool writing) {
  pollfd p{fd, static_cast<short>(writing ? POLLOUT : POLLIN), 0};
  int result;
  do {
    result = poll(&p, 1, static_cast<int>(timeoutSeconds() * 1000));
  } while (result < 0 && errno == EINTR);
  return result == 1 && (p.revents & (writing ? POLLOUT : POLLIN)) != 0;
}

bool sendAll(int fd, const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    if (!ready(fd, true)) return false;
    const ssize_t sent = send(fd, p, bytes, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    p += sent;
    bytes -= static_cast<size_t>(sent);
  }
  return true;
}

bool receiveAll(int fd, void* data, size_t bytes) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    if (!ready(fd, false)) return false;
    const ssize_t got = recv(fd, p, bytes, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;  // 0: the peer closed (it exited or died)
    p += got;
    bytes -= static_cast<size_t>(got);
  }
  return true;
}

std::string socketPath(const char* id) { return std::string("/tmp/") + (id + sizeof(kMagic) - 1) + ".sock"; }

/** The type integers are summed and multiplied in: their unsigned twin, so that they wrap as NCCL's do. */
template <typename T, bool = std::is_integral<T>::value>
struct Wrapping {
  using type = T;
};
template <typename T>
struct Wrapping<T, true> {
  using type = typename std::make_unsigned<T>::type;
};

template <typename T>
T combine(T a, T b, int op) {
  using Wide = typename Wrapping<T>::type;
  switch (op) {
    case kSum:
    case kAvg:
      return static_cast<T>(static_cast<Wide>(a) + static_cast<Wide>(b));
    case kProd:
      return static_cast<T>(static_cast<Wide>(a) * static_cast<Wide>(b));
    case kMax:
      return flint_math::maxPropagating(a, b);
    default:
      return flint_math::minPropagating(a, b);
  }
}

/** Folds `inputs` (one per rank, `count` elements of T) into `out` in rank order. */
template <typename T>
void reduceTyped(void* out, const std::vector<const void*>& inputs, int64_t count, int op) {
  T* o = static_cast<T*>(out);
  for (int64_t i = 0; i < count; i++) {
    T acc = static_cast<const T*>(inputs[0])[i];
    for (size_t r = 1; r < inputs.size(); r++) acc = combine(acc, static_cast<const T*>(inputs[r])[i], op);
    if (op == kAvg) acc = static_cast<T>(acc / static_cast<T>(inputs.size()));
    o[i] = acc;
  }
}

/** The half types reduce in float and round once, as NCCL's kernels do. */
template <typename H>
void reduceHalf(void* out, const std::vector<const void*>& inputs, int64_t count, int op) {
  H* o = static_cast<H*>(out);
  for (int64_t i = 0; i < count; i++) {
    float acc = static_cast<float>(static_cast<const H*>(inputs[0])[i]);
    for (size_t r = 1; r < inputs.size(); r++) acc = combine(acc, static_cast<float>(static_cast<const H*>(inputs[r])[i]), op);
    if (op == kAvg) acc /= static_cast<float>(inputs.size());
    o[i] = H(acc);
  }
}

bool reduce(void* out, const std::vector<const void*>& inputs, int64_t count, int dtype, int op) {
  switch (dtype) {
    case kInt8:
      reduceTyped<int8_t>(out, inputs, count, op);
      return true;
    case kUint8:
      reduceTyped<uint8_t>(out, inputs, count, op);
      return true;
    case kInt32:
      reduceTyped<int32_t>(out, inputs, count, op);
      return true;
    case kFloat32:
      reduceTyped<float>(out, inputs, count, op);
      return true;
    case kFloat64:
      reduceTyped<double>(out, inputs, count, op);
      return true;
    case kFloat16:
      reduceHalf<flint_math::Float16>(out, inputs, count, op);
      return true;
    case kBfloat16:
      reduceHalf<flint_math::BFloat16>(out, inputs, count, op);
      return true;
    default:
      return false;
  }
}

/** One collective on every rank: `inputCount` elements in, `outputCount` out. */
int collective(ncclComm* comm, Header call, const void* input, int64_t inputCount, void* output, int64_t outputCount) {
  if (comm == nullptr) return kInvalidArgument;
  if (comm->asyncError.load() != kSuccess) return comm->asyncError.load();
  const size_t item = itemSize(call.dtype);
  const size_t inBytes = static_cast<size_t>(inputCount) * item;
  const size_t outBytes = static_cast<size_t>(outputCount) * item;
  if (comm->rank != 0) {
    if (!sendAll(comm->peers[0], &call, sizeof call) || !sendAll(comm->peers[0], input, inBytes) ||
        !receiveAll(comm->peers[0], output, outBytes))
      return fail(comm, kRemoteError, "rank 0 closed the connection or stopped answering (it exited, died or hung)");
    return kSuccess;
  }
  // Rank 0: everyone's inputs, in rank order.
  std::vector<std::vector<char>> received(static_cast<size_t>(comm->size));
  std::vector<const void*> inputs{input};
  for (int r = 1; r < comm->size; r++) {
    Header theirs{};
    if (!receiveAll(comm->peers[r], &theirs, sizeof theirs))
      return fail(comm, kRemoteError, "rank " + std::to_string(r) + " closed the connection or stopped answering (it exited, died or hung)");
    if (theirs.kind != call.kind || theirs.dtype != call.dtype || theirs.count != call.count || theirs.op != call.op ||
        theirs.root != call.root)
      return fail(comm, kInvalidUsage, "rank " + std::to_string(r) + " called a different collective than rank 0 (kind, type, count, op or root differ)");
    received[r].resize(inBytes);
    if (!receiveAll(comm->peers[r], received[r].data(), inBytes))
      return fail(comm, kRemoteError, "rank " + std::to_string(r) + " closed the connection mid-collective");
    inputs.push_back(received[r].data());
  }
  // Each rank's result.
  std::vector<std::vector<char>> results(static_cast<size_t>(comm->size), std::vector<char>(outBytes));
  switch (call.kind) {
    case kAllReduce:
      if (!reduce(results[0].data(), inputs, call.count, call.dtype, call.op)) return fail(comm, kInvalidArgument, "unsupported data type");
      for (int r = 1; r < comm->size; r++) results[r] = results[0];
      break;
    case kBroadcast:
      for (int r = 0; r < comm->size; r++) std::memcpy(results[r].data(), inputs[call.root], outBytes);
      break;
    case kAllGather:
      for (int r = 0; r < comm->size; r++)
        for (int s = 0; s < comm->size; s++) std::memcpy(results[r].data() + s * inBytes, inputs[s], inBytes);
      break;
    case kReduceScatter: {
      std::vector<char> total(inBytes);
      if (!reduce(total.data(), inputs, inputCount, call.dtype, call.op)) return fail(comm, kInvalidArgument, "unsupported data type");
      for (int r = 0; r < comm->size; r++) std::memcpy(results[r].data(), total.data() + r * outBytes, outBytes);
      break;
    }
    default:
      return fail(comm, kInvalidArgument, "unknown collective");
  }
  for (int r = 1; r < comm->size; r++) {
    if (!sendAll(comm->peers[r], results[r].data(), outBytes))
      return fail(comm, kRemoteError, "rank " + std::to_string(r) + " closed the connection before its result was sent");
  }
  if (outBytes > 0) std::memmove(output, results[0].data(), outBytes);
  return kSuccess;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int ncclGetVersion(int* version) {
  *version = 22105;  // reported as 2.21.5: avg is available (2.10+)
  return kSuccess;
}

__attribute__((visibility("default"))) const char* ncclGetErrorString(int result) {
  switch (result) {
    case kSuccess:
      return "no error";
    case kSystemError:
      return "unhandled system error (emulated NCCL)";
    case kInvalidArgument:
      return "invalid argument (emulated NCCL)";
    case kInvalidUsage:
      return "invalid usage (emulated NCCL: the ranks' calls differ)";
    case kRemoteError:
      return "remote process exited or there was a network error (emulated NCCL)";
    default:
      return "unknown error (emulated NCCL)";
  }
}

__attribute__((visibility("default"))) int ncclGetUniqueId(char* id) {
  std::memset(id, 0, 128);
  std::random_device device;
  char token[64];
  std::snprintf(token, sizeof token, "flint-emu-nccl-%08x%08x-%d", device(), device(), static_cast<int>(getpid()));
  std::snprintf(id, 128, "%s%s", kMagic, token);
  return kSuccess;
}

// ncclUniqueId is passed by value (a 128-byte struct); this struct has its layout.
struct UniqueId {
  char internal[128];
};

__attribute__((visibility("default"))) int ncclCommInitRank(ncclComm** out, int size, UniqueId id, int rank) {
  if (std::strncmp(id.internal, kMagic, sizeof(kMagic) - 1) != 0 || size < 1 || rank < 0 || rank >= size) return kInvalidArgument;
  ncclComm* comm = new ncclComm();
  comm->rank = rank;
  comm->size = size;
  const std::string path = socketPath(id.internal);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds());
  if (rank == 0) {
    const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path.c_str());
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, size) != 0) {
      delete comm;
      return kSystemError;
    }
    comm->peers.assign(static_cast<size_t>(size), -1);
    for (int joined = 1; joined < size; joined++) {
      const int fd = ready(listener, false) ? accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
      int32_t theirs = -1;
      if (fd < 0 || !receiveAll(fd, &theirs, sizeof theirs) || theirs < 1 || theirs >= size || comm->peers[theirs] != -1) {
        if (fd >= 0) close(fd);
        for (int peer : comm->peers)
          if (peer >= 0) close(peer);
        close(listener);
        unlink(path.c_str());
        delete comm;
        return kSystemError;
      }
      comm->peers[theirs] = fd;
    }
    close(listener);
    unlink(path.c_str());
  } else {
    int fd = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) break;
      close(fd);
      fd = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int32_t mine = rank;
    if (fd < 0 || !sendAll(fd, &mine, sizeof mine)) {
      if (fd >= 0) close(fd);
      delete comm;
      return kSystemError;
    }
    comm->peers.push_back(fd);
  }
  *out = comm;
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclCommDestroy(ncclComm* comm) {
  if (comm == nullptr) return kInvalidArgument;
  for (int fd : comm->peers)
    if (fd >= 0) close(fd);
  delete comm;
  return kSuccess;
}

// The addon's watchdog may abort while a collective runs on the JavaScript thread: the sockets are
// cut (the collective fails at once) and the communicator is left allocated, since that thread may
// still read it. A process aborts at most once, so this leaks one small object.
__attribute__((visibility("default"))) int ncclCommAbort(ncclComm* comm) {
  if (comm == nullptr) return kInvalidArgument;
  cut(comm);
  comm->asyncError.store(kRemoteError);
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclCommGetAsyncError(ncclComm* comm, int* error) {
  if (comm == nullptr) return kInvalidArgument;
  *error = comm->asyncError.load();
  return kSuccess;
}

__attribute__((visibility("default"))) int ncclAllReduce(const void* send, void* recv, size_t count, int dtype, int op, ncclComm* comm,
                                                        cudaStream_t) {
  return collective(comm, Header{kAllReduce, dtype, op, 0, static_cast<int64_t>(count)}, send, static_cast<int64_t>(count), recv,
                    static_cast<int64_t>(count));
}

__attribute__((visibility("default"))) int ncclBroadcast(const void* send, void* recv, size_t count, int dtype, int root, ncclComm* comm,
                                                        cudaStream_t) {
  if (comm != nullptr && (root < 0 || root >= comm->size)) return kInvalidArgument;
  return collective(comm, Header{kBroadcast, dtype, 0, root, static_cast<int64_t>(count)}, send, static_cast<int64_t>(count), recv,
                    static_cast<int64_t>(count));
}

__attribute__((visibility("default"))) int ncclAllGather(const void* send, void* recv, size_t count, int dtype, ncclComm* comm,
                                                        cudaStream_t) {
  if (comm == nullptr) return kInvalidArgument;
  return collective(comm, Header{kAllGather, dtype, 0, 0, static_cast<int64_t>(count)}, send, static_cast<int64_t>(count), recv,
                    static_cast<int64_t>(count) * comm->size);
}

__attribute__((visibility("default"))) int ncclReduceScatter(const void* send, void* recv, size_t count, int dtype, int op, ncclComm* comm,
                                                            cudaStream_t) {
  if (comm == nullptr) return kInvalidArgument;
  return collective(comm, Header{kReduceScatter, dtype, op, 0, static_cast<int64_t>(count)}, send,
                    static_cast<int64_t>(count) * comm->size, recv, static_cast<int64_t>(count));
}

// Calls run as they are made and every rank makes them in the same order, so a group needs nothing.
__attribute__((visibility("default"))) int ncclGroupStart() { return kSuccess; }
__attribute__((visibility("default"))) int ncclGroupEnd() { return kSuccess; }

}  // extern "C"
