// Kernels for emulation.test.ts: each checks one rule of the CPU emulation's grid
// (native/emulation/grid.cc), or breaks one, and main() prints a line per check.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace {

/** A block reduction as the addon's kernels do it: shuffles within warps, shared memory across them. */
__global__ void blockSum(const int* in, int* out, int n) {
  __shared__ int partial[32];
  int v = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += in[blockIdx.x * n + i];
  for (int delta = 16; delta > 0; delta /= 2) v += __shfl_down_sync(0xffffffffu, v, delta);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0;
    for (int delta = 16; delta > 0; delta /= 2) v += __shfl_down_sync(0xffffffffu, v, delta);
    if (threadIdx.x == 0) out[blockIdx.x] = v;
  }
}

/** Each lane's value after shuffles of every kind, to compare with CUDA's rules. */
__global__ void shuffles(int* out) {
  const int lane = threadIdx.x;
  out[lane] = __shfl_down_sync(0xffffffffu, lane, 5);
  out[32 + lane] = __shfl_up_sync(0xffffffffu, lane, 3);
  out[64 + lane] = __shfl_xor_sync(0xffffffffu, lane, 6);
  out[96 + lane] = __shfl_sync(0xffffffffu, lane, 7);
  out[128 + lane] = __shfl_down_sync(0xffffffffu, lane, 1, 8);
  out[160 + lane] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
}

/** Writes its coordinates, over a 2-D grid of 2-D blocks. */
__global__ void coordinates(int* out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  out[y * gridDim.x * blockDim.x + x] = y * 1000 + x;
}

/** Half of a warp waits at a full-mask shuffle, the other half at the block's barrier: a hang on a GPU. */
__global__ void divergentBarrier(int* out) {
  int v = static_cast<int>(threadIdx.x);
  if (threadIdx.x < 16) v = __shfl_down_sync(0xffffffffu, v, 1);
  else __syncthreads();
  out[threadIdx.x] = v;
}

/** Lanes 16 and up leave before a full-mask shuffle. */
__global__ void shuffleAfterExit(int* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<int>(threadIdx.x), 1);
}

/** Block 1 writes its shared array, blocks 0 and 2 read theirs without writing: poison, not zeros or block 1's values. */
__global__ void uninitializedShared(int* out) {
  __shared__ int scratch[32];
  if (blockIdx.x == 1) scratch[threadIdx.x] = 7;
  __syncthreads();
  out[blockIdx.x * 32 + threadIdx.x] = scratch[threadIdx.x];
}

/** A full-mask shuffle in a block of 20 threads: lanes 20 to 31 do not exist. */
__global__ void maskPastPartialWarp(int* out) { out[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<int>(threadIdx.x), 1); }

/**
 * The order threads run in: each takes a ticket, waits at a warp shuffle, and takes another.
 * out[2 t] and out[2 t + 1] are global thread t's two tickets.
 */
__global__ void tickets(int* out, int* counter) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  out[2 * t] = atomicAdd(counter, 1);
  __shfl_sync(0xffffffffu, 0, 0);
  out[2 * t + 1] = atomicAdd(counter, 1);
}

/**
 * Two block sums (of 1s, then of 2s) through the same shared array, with no barrier between the
 * first sum's reads and the second's writes: a write-after-read race, right only when every warp
 * has read the first sum before any warp writes the second.
 */
__global__ void reusedPartials(int* out) {
  __shared__ int partial[32];
  const int warps = blockDim.x / 32;
  int sums[2];
  for (int round = 0; round < 2; round++) {
    int v = round + 1;
    for (int delta = 16; delta > 0; delta /= 2) v += __shfl_down_sync(0xffffffffu, v, delta);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    sums[round] = 0;
    for (int w = 0; w < warps; w++) sums[round] += partial[w];
    // (the missing __syncthreads)
  }
  out[2 * threadIdx.x] = sums[0];
  out[2 * threadIdx.x + 1] = sums[1];
}

void report(const char* check, cudaError_t error) { std::printf("%s %s\n", check, cudaGetErrorName(error)); }

}  // namespace

int main() {
  int* device = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&device), 4096 * sizeof(int));
  std::vector<int> host(4096);

  // blockSum over 3 blocks of 256 threads, each summing 1000 values.
  std::vector<int> values(3000);
  for (int i = 0; i < 3000; i++) values[i] = i % 97 - 40;
  int* in = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&in), values.size() * sizeof(int));
  cudaMemcpyAsync(in, values.data(), values.size() * sizeof(int), cudaMemcpyHostToDevice, nullptr);
  blockSum<<<3, 256, 0, nullptr>>>(in, device, 1000);
  report("blockSum", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 3 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("blockSum values %d %d %d\n", host[0], host[1], host[2]);

  shuffles<<<1, 32>>>(device);
  report("shuffles", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 192 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("shuffles values");
  for (int i = 0; i < 192; i++) std::printf(" %d", host[i]);
  std::printf("\n");

  coordinates<<<dim3(3, 2), dim3(4, 5)>>>(device);
  report("coordinates", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 120 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("coordinates values");
  for (int i = 0; i < 120; i++) std::printf(" %d", host[i]);
  std::printf("\n");

  int* counter = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&counter), sizeof(int));
  cudaMemsetAsync(counter, 0, sizeof(int), nullptr);
  tickets<<<2, 64>>>(device, counter);
  report("tickets", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 256 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("tickets values");
  for (int i = 0; i < 256; i++) std::printf(" %d", host[i]);
  std::printf("\n");

  reusedPartials<<<1, 128>>>(device);
  report("reusedPartials", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 256 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("reusedPartials values");
  for (int i = 0; i < 256; i++) std::printf(" %d", host[i]);
  std::printf("\n");

  uninitializedShared<<<3, 32>>>(device);
  report("uninitializedShared", cudaGetLastError());
  cudaMemcpyAsync(host.data(), device, 96 * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
  std::printf("uninitializedShared values");
  for (int i = 0; i < 96; i++) std::printf(" %d", host[i]);
  std::printf("\n");
  maskPastPartialWarp<<<1, 20>>>(device);
  report("maskPastPartialWarp", cudaGetLastError());

  divergentBarrier<<<1, 32>>>(device);
  report("divergentBarrier", cudaGetLastError());
  blockSum<<<1, 64>>>(in, device, 64);
  report("afterFailure", cudaGetLastError());
  shuffleAfterExit<<<1, 32>>>(device);
  report("shuffleAfterExit", cudaGetLastError());
  blockSum<<<1, 2048>>>(in, device, 1000);
  report("tooManyThreads", cudaGetLastError());
  report("errorIsCleared", cudaGetLastError());
  report("copyPastTheEnd", cudaMemcpyAsync(host.data(), device, 4097 * sizeof(int), cudaMemcpyDeviceToHost, nullptr));
  report("copyFromHost", cudaMemcpyAsync(host.data(), host.data() + 8, 4, cudaMemcpyDeviceToHost, nullptr));
  report("freeTwice", (cudaFree(in), cudaFree(in)));
  return 0;
}
