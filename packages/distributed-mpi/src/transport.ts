import { distributed, type TypedArray } from '@flint/api';
import type { MpiAddon } from './native/addon.js';

type Transport = distributed.Transport;
type TransportReduceOp = distributed.TransportReduceOp;

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Collectives over Open MPI's MPI_COMM_WORLD. Created by `distributed.init()` in a process that
 * mpirun (or flint-run) started; each call waits at most `timeoutSeconds` for the other ranks.
 */
export class MpiTransport implements Transport {
  readonly name = 'mpi';
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly localWorldSize: number;
  /** Open MPI's version string. */
  readonly version: string;
  readonly timeoutSeconds: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly addon: MpiAddon,
    options: distributed.TransportOptions,
  ) {
    const info = this.call('init', () => addon.init());
    this.rank = info.rank;
    this.worldSize = info.worldSize;
    this.localRank = info.localRank;
    this.localWorldSize = info.localWorldSize;
    this.version = info.version.trim();
    this.timeoutSeconds = options.timeoutSeconds;
    this.timeoutMs = options.timeoutSeconds * 1000;
  }

  /** Runs a native call, turning its errors into DistributedErrors that say which rank failed and why. */
  private call<T>(op: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      const code = errorCode(error);
      const where = this.worldSize === undefined ? 'MPI' : `MPI rank ${this.rank} of ${this.worldSize}`;
      const message = error instanceof Error ? error.message : String(error);
      const hint =
        code === 'TIMEOUT' ? `; raise the limit with FLINT_DISTRIBUTED_TIMEOUT (seconds) if a step legitimately takes longer` : '';
      throw new distributed.DistributedError(`${where}: ${message.startsWith(op) ? message : `${op}: ${message}`}${hint}`, {
        cause: error,
      });
    }
  }

  allReduce(data: TypedArray, op: TransportReduceOp): void {
    if (this.worldSize === 1 || data.length === 0) return;
    this.call('allReduce', () => this.addon.allReduce(data, op, this.timeoutMs));
  }

  broadcast(data: TypedArray, root: number): void {
    if (this.worldSize === 1 || data.length === 0) return;
    this.call('broadcast', () => this.addon.broadcast(data, root, this.timeoutMs));
  }

  allGather(data: TypedArray): TypedArray {
    const out = new (data.constructor as new (length: number) => TypedArray)(data.length * this.worldSize);
    if (this.worldSize === 1) out.set(data);
    else this.call('allGather', () => this.addon.allGather(data, out, this.timeoutMs));
    return out;
  }

  reduceScatter(data: TypedArray, op: TransportReduceOp): TypedArray {
    if (data.length % this.worldSize !== 0)
      throw new distributed.DistributedError(`reduceScatter: ${data.length} elements do not divide evenly among ${this.worldSize} ranks`);
    const out = new (data.constructor as new (length: number) => TypedArray)(data.length / this.worldSize);
    if (this.worldSize === 1) out.set(data);
    else this.call('reduceScatter', () => this.addon.reduceScatter(data, out, op, this.timeoutMs));
    return out;
  }

  barrier(): void {
    if (this.worldSize === 1) return;
    this.call('barrier', () => this.addon.barrier(this.timeoutMs));
  }

  abort(code: number): never {
    this.addon.abort(code);
    // MPI_Abort does not return; exit anyway if it did.
    process.exit(code);
  }

  finalize(): void {
    this.addon.finalize();
  }
}
