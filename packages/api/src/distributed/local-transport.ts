import type { TypedArray } from '../core/dtype.js';
import { DistributedError } from './errors.js';
import type { Transport, TransportReduceOp } from './transport.js';

/**
 * The transport of a job of one process: every collective is the identity (a reduction over one
 * rank is its value), so code written for several ranks runs unchanged on one.
 */
export class LocalTransport implements Transport {
  readonly name = 'local';
  readonly rank = 0;
  readonly worldSize = 1;
  readonly localRank = 0;
  readonly localWorldSize = 1;

  allReduce(_data: TypedArray, _op: TransportReduceOp): void {}

  broadcast(_data: TypedArray, root: number): void {
    if (root !== 0) throw new DistributedError(`broadcast: root ${root} is not a rank of this job of 1 process`);
  }

  allGather(data: TypedArray): TypedArray {
    return data.slice();
  }

  reduceScatter(data: TypedArray, _op: TransportReduceOp): TypedArray {
    return data.slice();
  }

  barrier(): void {}

  abort(code: number): never {
    const processLike = (globalThis as { process?: { exit(code: number): never } }).process;
    if (processLike !== undefined) processLike.exit(code);
    throw new DistributedError(`abort(${code}): the job was aborted`);
  }

  finalize(): void {}
}
