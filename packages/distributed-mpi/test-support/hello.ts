import { distributed, tensor } from '@flint/api';
import '@flint/backend-cpu';
import '@flint/distributed-mpi';
const g = distributed.init();
const t = distributed.allReduceSync(tensor([g.rank + 1, 10]), 'sum');
console.log(JSON.stringify({ rank: g.rank, size: g.worldSize, local: g.localRank, sum: Array.from(t.dataSync()) }));
distributed.destroy();
