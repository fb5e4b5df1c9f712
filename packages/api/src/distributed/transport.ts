// The transport SPI: what a host transport (Open MPI) implements. Transports move host typed
// arrays; the tensor-level collectives in collectives.ts read tensors into host memory, call the
// transport, and build the results, unless the tensor's backend has device collectives
// (device-collectives.ts: NCCL for CUDA tensors), which run on its buffers instead.

import type { TypedArray } from '../core/dtype.js';

/** How a reduction combines the ranks' values ('mean' is a sum divided by the world size). */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';

/** The reductions a transport implements itself ('mean' is built on 'sum'). */
export type TransportReduceOp = Exclude<ReduceOp, 'mean'>;

/** Where this process sits in the job. */
export interface RankInfo {
  /** This process's index among all processes, 0 .. worldSize-1. */
  readonly rank: number;
  /** The number of processes in the job. */
  readonly worldSize: number;
  /** This process's index among the processes on its machine. */
  readonly localRank: number;
  /** The number of processes on this machine. */
  readonly localWorldSize: number;
}

/**
 * One process's connection to the others. Every call is collective: all ranks make the same
 * calls in the same order with arrays of the same length and dtype. Calls block until all ranks
 * have joined, or throw a `DistributedError` once `timeoutSeconds` have passed (a rank died or
 * stopped calling), after which the transport is broken and the job should end (`abort`).
 */
export interface Transport extends RankInfo {
  /** The transport's name: 'mpi', 'local'. */
  readonly name: string;
  /** How long a collective waits for the other ranks (seconds); device collectives inherit it. */
  readonly timeoutSeconds?: number;
  /** Reduces `data` over all ranks, in place. */
  allReduce(data: TypedArray, op: TransportReduceOp): void;
  /** Overwrites `data` on every rank with the root's. */
  broadcast(data: TypedArray, root: number): void;
  /** Every rank's `data`, concatenated in rank order (worldSize times as long). */
  allGather(data: TypedArray): TypedArray;
  /** Reduces `data` (worldSize equal blocks) over all ranks; this rank's block of the result. */
  reduceScatter(data: TypedArray, op: TransportReduceOp): TypedArray;
  /** Returns once every rank has called it. */
  barrier(): void;
  /** Ends every process of the job at once (after a fatal error on this rank), with `code`. */
  abort(code: number): never;
  /** Leaves the job cleanly; the transport cannot be used afterwards. */
  finalize(): void;
}

/** Options a transport is created with. */
export interface TransportOptions {
  /** How long a collective waits for the other ranks before failing (seconds). */
  readonly timeoutSeconds: number;
}

/** Whether a provider can run here, and if not, why and how to fix it. */
export type TransportAvailability = { readonly available: true } | { readonly available: false; readonly reason: string };

/**
 * A kind of transport, registered by its package (`import '@flint/distributed-mpi'`): it says
 * whether it can run here and whether this process was started by its launcher.
 */
export interface TransportProvider {
  readonly name: string;
  /** Whether the transport's system libraries are installed and loadable. */
  availability(): TransportAvailability;
  /** Whether this process was started by this transport's launcher (mpirun, flint-run). */
  launched(): boolean;
  /** Joins the job (MPI_Init); called once per process. */
  create(options: TransportOptions): Transport;
}
