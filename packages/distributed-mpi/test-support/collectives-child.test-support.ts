// One rank of the collectives test: runs every collective on small tensors and prints the
// results as one JSON line. Run with flint-run (tsx, this folder's tsconfig).
import { distributed, tensor } from '@flint/api';
import '@flint/backend-cpu';
import '@flint/distributed-mpi';

const group = distributed.init();
const r = group.rank;
const values = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync());
const result = {
  rank: r,
  worldSize: group.worldSize,
  localRank: group.localRank,
  transport: group.name,
  sum: values(distributed.allReduceSync(tensor([r + 1, 10 * (r + 1)], { dtype: 'float32' }), 'sum')),
  mean: values(distributed.allReduceSync(tensor([r + 1, 2], { dtype: 'float32' }), 'mean')),
  max: values(distributed.allReduceSync(tensor([r, -r], { dtype: 'int32' }), 'max')),
  min: values(await distributed.allReduce(tensor([r, -r], { dtype: 'float64' }), 'min')),
  broadcast: values(distributed.broadcastSync(tensor([r, r, r]), 1)),
  gathered: values(distributed.allGatherSync(tensor([r, 100 + r]))),
  gatheredShape: distributed.allGatherSync(tensor([[r]])).shape,
  scattered: values(distributed.reduceScatterSync(tensor([1, 2, 3, 4].map((v) => v * (r + 1))), 'sum')),
  coalesced: distributed
    .allReduceCoalescedSync([tensor([r, 1]), tensor([[r + 1]]), tensor([r], { dtype: 'int32' })], 'sum', { bucketCapMb: 4e-6 })
    .map(values),
};
distributed.barrier();
process.stdout.write(`${JSON.stringify(result)}\n`);
distributed.destroy();
