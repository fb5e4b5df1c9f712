// One of two processes of ddp-nccl.test.ts's failure test: they join an NCCL communicator on the
// 'cuda' backend, the id passing through a file (a host transport of two ranks without MPI), then
// rank 1 exits and rank 0 calls an all-reduce, which must fail with NCCL's error naming the call
// instead of hanging. Prints one JSON line.
//
//   tsx nccl-peer.test-support.ts <rank> <id file>
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type distributed, tensor } from '@flint/api';
import type { CudaHandle } from '../handle.js';
import { createCudaBackend } from '../index.js';
import { createNcclCollectives } from './nccl.js';

const rank = Number(process.argv[2]);
const idFile = process.argv[3] as string;
const cuda = createCudaBackend();

/** A host transport of rank `rank` of 2 whose broadcast (the NCCL id, from rank 0) goes through `idFile`. */
const host = {
  name: 'file',
  rank,
  worldSize: 2,
  localRank: rank,
  localWorldSize: 2,
  timeoutSeconds: 20,
  broadcast(data: Uint8Array, root: number) {
    if (root !== 0) throw new Error('only rank 0 broadcasts here');
    if (rank === 0) {
      writeFileSync(`${idFile}.tmp`, data);
      renameSync(`${idFile}.tmp`, idFile);
      return;
    }
    const until = Date.now() + 20_000;
    while (!existsSync(idFile)) {
      if (Date.now() > until) throw new Error('no id from rank 0');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    data.set(readFileSync(idFile));
  },
} as unknown as distributed.Transport;

const nccl = createNcclCollectives(cuda, host, { timeoutSeconds: 20 });
if (rank === 1) {
  process.stdout.write(`${JSON.stringify({ rank, joined: true })}\n`);
  process.exit(0);
}
const x = tensor([1, 2, 3], { dtype: 'float32', backend: 'cuda' });
try {
  const out = nccl.allReduce(x._handle as CudaHandle, [3], 'float32', 'sum');
  await cuda.read(out);
  process.stdout.write(`${JSON.stringify({ rank, error: null })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ rank, error: `${(error as Error).name}: ${(error as Error).message}` })}\n`);
}
process.exit(0);
