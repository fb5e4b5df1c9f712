import type { distributed, optim } from '@flint/api';
import type { LightningModule } from '../module.js';
import type { BatchSource } from '../trainer/batches.js';

/**
 * How the Trainer spreads training over processes (Lightning's Strategy). The Trainer calls
 * these hooks at fixed points of the loop; the single-process strategy makes them no-ops.
 */
export interface Strategy {
  /** 'single' or 'ddp'. */
  readonly name: string;
  /** This process's rank, and the number of processes (after `setup`). */
  readonly globalRank: number;
  readonly worldSize: number;
  /** Whether this process logs and writes checkpoints (rank 0). */
  readonly isGlobalZero: boolean;
  /** Joins the job and checks it matches `devices` x `numNodes`; called at the start of a fit. */
  setup(devices: number, numNodes: number): void;
  /** Gives every rank rank 0's weights (after the module is on its device); awaited. */
  broadcastModule(module: LightningModule<never[], unknown>): void | Promise<void>;
  /** The source this rank iterates: its shard of a DataLoader's samples. */
  shardSource(source: BatchSource, kind: 'train' | 'val'): BatchSource;
  /**
   * Averages the gradients of `params` over all ranks (after backward, before the optimizer
   * step). Returns a promise exactly when `gradientSyncIsAsync(params)` says so.
   */
  syncGradients(params: readonly optim.ParameterLike[]): void | Promise<void>;
  /**
   * Whether `syncGradients` must be awaited for these parameters (their backend reads
   * asynchronously and no device collective covers it); the Trainer then steps after the await.
   */
  gradientSyncIsAsync?(params: readonly optim.ParameterLike[]): boolean;
  /** Reduces logged values over all ranks (`log(..., { syncDist: true })`). */
  reduceValues(values: readonly number[], op: distributed.ReduceOp): number[];
  /** Whether any rank asked to stop: all ranks stop together. */
  reduceStop(stop: boolean): boolean;
  /** A fit failed on this rank: end the whole job rather than leave the other ranks waiting. */
  failed(error: unknown): void;
}

/** One process: every hook is the identity. */
export class SingleDeviceStrategy implements Strategy {
  readonly name = 'single';
  readonly globalRank = 0;
  readonly worldSize = 1;
  readonly isGlobalZero = true;
  setup(): void {}
  broadcastModule(): void {}
  shardSource(source: BatchSource): BatchSource {
    return source;
  }
  syncGradients(): void {}
  reduceValues(values: readonly number[]): number[] {
    return [...values];
  }
  reduceStop(stop: boolean): boolean {
    return stop;
  }
  failed(): void {}
}
