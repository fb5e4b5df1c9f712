import { distributed, keep, noGrad, type optim, type Tensor, ValueError, zeros } from '@flint/api';
import type { LightningModule } from '../module.js';
import type { BatchSource } from '../trainer/batches.js';
import { shardLoader } from './shard.js';
import type { Strategy } from './strategy.js';

/** Options of `DDPStrategy` (Lightning's and torch DDP's names, camelCased). */
export interface DDPStrategyOptions {
  /** The most megabytes of gradients one all-reduce carries (default 25, as torch's DDP). */
  readonly bucketCapMb?: number;
  /** How long a collective waits for the other ranks before the job fails (default: FLINT_DISTRIBUTED_TIMEOUT, else 300 s). */
  readonly timeoutSeconds?: number;
  /** The transport (default: the one whose launcher started the process: 'mpi' under flint-run or mpirun). */
  readonly transport?: string;
  /** The seed every rank's DistributedSampler shares (default: the Trainer's `seed`, else 0). */
  readonly seed?: number;
}

const LAUNCH_HINT = 'launch the script with `pnpm exec flint-run --nproc <devices> script.ts` (or `mpirun -np <devices x numNodes>`)';

/**
 * Distributed data parallel (Lightning's DDPStrategy, torch's DistributedDataParallel): one
 * process per device, each with a full copy of the model and its own shard of the data. After
 * backward, gradients are averaged over all ranks in buckets, so every rank takes the same
 * optimizer step and the weights stay identical. Rank 0 logs and writes checkpoints; values
 * logged with `syncDist` are reduced over ranks; a stop on any rank stops all; an error on any
 * rank ends the job.
 *
 * @example
 * // launched with: pnpm exec flint-run --nproc 2 train.ts
 * import '@flint/distributed-mpi';
 * const trainer = new Trainer({ strategy: 'ddp', devices: 2, maxEpochs: 10 });
 * await trainer.fit(model, loader);
 */
export class DDPStrategy implements Strategy {
  readonly name = 'ddp';
  readonly bucketCapMb: number;
  readonly timeoutSeconds: number | undefined;
  readonly transport: string | undefined;
  private seed: number;
  private group: distributed.Transport | undefined;

  constructor(options: DDPStrategyOptions = {}) {
    const bucket = options.bucketCapMb ?? 25;
    if (!(typeof bucket === 'number' && bucket > 0))
      throw new ValueError(`DDPStrategy: bucketCapMb must be a positive number, got ${String(bucket)}`);
    if (options.timeoutSeconds !== undefined && !(typeof options.timeoutSeconds === 'number' && options.timeoutSeconds > 0))
      throw new ValueError(`DDPStrategy: timeoutSeconds must be a positive number, got ${String(options.timeoutSeconds)}`);
    if (options.seed !== undefined && !(Number.isInteger(options.seed) && options.seed >= 0))
      throw new ValueError(`DDPStrategy: seed must be a non-negative integer, got ${String(options.seed)}`);
    this.bucketCapMb = bucket;
    this.timeoutSeconds = options.timeoutSeconds;
    this.transport = options.transport;
    this.seed = options.seed ?? -1;
  }

  /** @internal The Trainer's seed, when the strategy was given none. */
  useSeed(seed: number | undefined): void {
    if (this.seed === -1) this.seed = seed === undefined ? 0 : Math.abs(seed);
  }

  private requireGroup(): distributed.Transport {
    if (this.group === undefined) throw new ValueError('DDPStrategy: not set up; the Trainer calls setup at the start of fit');
    return this.group;
  }

  get globalRank(): number {
    return this.group?.rank ?? distributed.environmentRank().rank;
  }

  get worldSize(): number {
    return this.group?.worldSize ?? distributed.environmentRank().worldSize;
  }

  get isGlobalZero(): boolean {
    return this.globalRank === 0;
  }

  setup(devices: number, numNodes: number): void {
    if (this.group !== undefined) return;
    const expected = devices * numNodes;
    const environment = distributed.environmentRank();
    if (environment.worldSize !== expected) {
      throw new ValueError(
        `Trainer: strategy 'ddp' with devices ${devices} and numNodes ${numNodes} needs ${expected} processes, but this process is rank ${environment.rank} of ${environment.worldSize}: ${LAUNCH_HINT}`,
      );
    }
    this.group = distributed.init({
      ...(this.transport === undefined ? {} : { transport: this.transport }),
      ...(this.timeoutSeconds === undefined ? {} : { timeoutSeconds: this.timeoutSeconds }),
    });
    if (this.group.worldSize !== expected)
      throw new ValueError(
        `Trainer: strategy 'ddp' expected ${expected} processes, the '${this.group.name}' transport has ${this.group.worldSize}`,
      );
    if (this.seed === -1) this.seed = 0;
  }

  async broadcastModule(module: LightningModule<never[], unknown>): Promise<void> {
    const group = this.requireGroup();
    if (group.worldSize === 1) return;
    const parameters = [...module.parameters()];
    // CUDA tensors broadcast on the device (NCCL) and CPU tensors read synchronously; other
    // backends (webgpu) are read asynchronously first.
    const sync = distributed.canReduceSync(parameters.map((p) => p.value));
    for (const parameter of parameters) {
      const synced = sync ? noGrad(() => distributed.broadcastSync(parameter.value, 0)) : await distributed.broadcast(parameter.value, 0);
      const old = parameter.value;
      parameter.value = keep(synced);
      old.dispose();
    }
  }

  shardSource(source: BatchSource, kind: 'train' | 'val'): BatchSource {
    const group = this.requireGroup();
    return shardLoader(source, kind, group.rank, group.worldSize, Math.max(this.seed, 0));
  }

  gradientSyncIsAsync(params: readonly optim.ParameterLike[]): boolean {
    const group = this.requireGroup();
    if (group.worldSize === 1 || params.length === 0) return false;
    return !distributed.canReduceSync(params.map((p) => p.grad ?? p.value));
  }

  /**
   * Averages the gradients over the ranks in buckets: synchronously where every gradient reduces
   * on its device (NCCL) or reads synchronously (cpu, mkl), else reading them with `await data()`
   * (webgpu) and resolving once the averaged gradients are in place.
   */
  syncGradients(params: readonly optim.ParameterLike[]): void | Promise<void> {
    const group = this.requireGroup();
    if (group.worldSize === 1 || params.length === 0) return;
    const wait = this.gradientSyncIsAsync(params);
    // A parameter some rank did not use has no gradient there: agree first on which have one,
    // so that every rank packs the same buckets.
    const present = distributed.allReduceValues(
      params.map((p) => (p.grad === null ? 0 : 1)),
      'max',
    );
    const holders = params.filter((_, i) => present[i] === 1);
    const grads: Tensor[] = noGrad(() =>
      holders.map((p) => p.grad ?? zeros(p.value.shape, { dtype: p.value.dtype, backend: p.value.backend })),
    );
    const install = (synced: readonly Tensor[]) => {
      holders.forEach((holder, i) => {
        const old = holder.grad;
        holder.grad = keep(synced[i] as Tensor);
        if (old !== null) old.dispose();
        else (grads[i] as Tensor).dispose();
      });
    };
    const options = { bucketCapMb: this.bucketCapMb };
    if (!wait) {
      install(noGrad(() => distributed.allReduceCoalescedSync(grads, 'mean', options)));
      return;
    }
    return distributed.allReduceCoalesced(grads, 'mean', options).then(install);
  }

  reduceValues(values: readonly number[], op: distributed.ReduceOp): number[] {
    return distributed.allReduceValues(values, op);
  }

  reduceStop(stop: boolean): boolean {
    const group = this.requireGroup();
    if (group.worldSize === 1) return stop;
    return (distributed.allReduceValues([stop ? 1 : 0], 'max')[0] as number) > 0;
  }

  failed(error: unknown): void {
    const group = this.group;
    if (group === undefined || group.worldSize === 1) return;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[flint ddp] rank ${group.rank} of ${group.worldSize} failed; ending every rank of the job:\n${message}\n`);
    group.abort(1);
  }
}
