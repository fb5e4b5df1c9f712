// Distributed data-parallel training: collectives on tensors over a transport that a backend
// package supplies (Open MPI for CPU tensors: `import '@flint/distributed-mpi'`; NCCL on the
// device for CUDA tensors, registered by `import '@flint/backend-cuda'`), the rank
// environment of launchers (flint-run, mpirun), and the sampler that shards data among ranks.
// See docs/distributed.md.

export {
  allGather,
  allGatherSync,
  allReduce,
  allReduceCoalesced,
  allReduceCoalescedSync,
  allReduceSync,
  allReduceValues,
  barrier,
  broadcast,
  broadcastSync,
  type CoalescedOptions,
  canReduceSync,
  reduceScatter,
  reduceScatterSync,
} from './collectives.js';
export {
  type DeviceCollectives,
  type DeviceCollectivesProvider,
  deviceCollectivesAvailability,
  registerDeviceCollectives,
} from './device-collectives.js';
export { defaultTimeoutSeconds, environmentRank } from './environment.js';
export { DistributedError, MPI_NOT_INSTALLED } from './errors.js';
export { LocalTransport } from './local-transport.js';
export {
  destroy,
  type InitOptions,
  init,
  isInitialized,
  processGroup,
  rank,
  registeredTransports,
  registerTransport,
  transportAvailability,
  worldSize,
} from './process-group.js';
export { DistributedSampler, type DistributedSamplerOptions } from './sampler.js';
export type {
  RankInfo,
  ReduceOp,
  Transport,
  TransportAvailability,
  TransportOptions,
  TransportProvider,
  TransportReduceOp,
} from './transport.js';
