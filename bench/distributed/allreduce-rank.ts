// One rank of Flint's all-reduce benchmark (run by bench/distributed/run.ts under flint-run):
// sums a float32 tensor over the job with `distributed.allReduce` (async, the headline),
// `distributed.allReduceSync`, and the transport's in-place `allReduce` on the host array (what
// MPI alone costs under Flint), timed as allreduce.c times MPI_Allreduce. Rank 0 prints one JSON
// line per form.
//
//   flint-run --nproc 2 bench/distributed/allreduce-rank.ts <megabytes> <iterations> <warmup>
import { distributed, type Tensor, tensor } from '@flint/api';
import '@flint/backend-cpu';
import '../../packages/distributed-mpi/src/index.js';

const [megabytes = 64, iterations = 10, warmup = 2] = process.argv.slice(2).map(Number);
const group = distributed.init();
const count = Math.floor((megabytes * 1024 * 1024) / 4);
const expected = (group.worldSize * (group.worldSize + 1)) / 2;
const filled = () => new Float32Array(count).fill(group.rank + 1);

type Form = 'allReduce' | 'allReduceSync' | 'transport';

async function reduceOnce(form: Form, input: Float32Array): Promise<{ seconds: number; sample: Float32Array }> {
  const source: Tensor | undefined = form === 'transport' ? undefined : tensor(input, { shape: [count] });
  distributed.barrier();
  const start = performance.now();
  let result: Float32Array;
  if (source === undefined) {
    group.allReduce(input, 'sum');
    result = input;
  } else {
    const reduced = form === 'allReduce' ? await distributed.allReduce(source, 'sum') : distributed.allReduceSync(source, 'sum');
    // A tensor collective is done when its result can be read.
    result = (await reduced.data()) as Float32Array;
    reduced.dispose();
    source.dispose();
  }
  const elapsed = (performance.now() - start) / 1000;
  const [slowest = elapsed] = distributed.allReduceValues([elapsed], 'max');
  return {
    seconds: slowest,
    sample: Float32Array.of(result[0] ?? Number.NaN, result[count >> 1] ?? Number.NaN, result[count - 1] ?? Number.NaN),
  };
}

for (const form of ['allReduce', 'allReduceSync', 'transport'] as const) {
  const seconds: number[] = [];
  let correct = true;
  for (let i = 0; i < warmup + iterations; i++) {
    const { seconds: s, sample } = await reduceOnce(form, filled());
    if (i >= warmup) seconds.push(s);
    correct &&= sample.every((v) => v === expected);
  }
  if (group.rank === 0) {
    seconds.sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({ system: `flint-${form}`, ranks: group.worldSize, bytes: count * 4, iterations, correct, seconds })}\n`,
    );
  }
}
distributed.destroy();
