// One rank of the SyncBatchNorm test: normalizes its shard of a fixed batch with a SyncBatchNorm1d
// over the job's group, back-propagates sum(output * cotangent) and prints its output, its input
// gradient and the running statistics as one JSON line. Run with flint-run (2 ranks).
import { distributed, nn, tensor } from '@flint/api';
import '@flint/backend-cpu';
import '@flint/distributed-mpi';

/** Rank r's rows of the batch every test process builds the same way (3 rows, 2 channels, 4 positions each). */
export function shard(rank: number, what: 'input' | 'cotangent'): number[] {
  return Array.from(
    { length: 24 },
    (_, i) => Math.sin(1.7 * i + 5.3 * rank + (what === 'input' ? 0 : 11)) * (what === 'input' ? 3 : 1) + (what === 'input' ? rank : 0),
  );
}

if (process.argv[2] === 'run') {
  const group = distributed.init();
  const values = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync());
  const layer = new nn.SyncBatchNorm(2, { dtype: 'float64', momentum: 0.5 });
  const x = tensor(shard(group.rank, 'input'), { dtype: 'float64', shape: [3, 2, 4], requiresGrad: true });
  const output = layer.forward(x);
  output
    .mul(tensor(shard(group.rank, 'cotangent'), { dtype: 'float64', shape: [3, 2, 4] }))
    .sum()
    .backward();
  const result = {
    rank: group.rank,
    output: values(output),
    inputGradient: values(x.grad as never),
    runningMean: values(layer.runningMean),
    runningVar: values(layer.runningVar),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  distributed.destroy();
}
