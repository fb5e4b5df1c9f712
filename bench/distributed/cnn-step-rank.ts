// One rank of the data-parallel MNIST CNN benchmark (run by bench/distributed/run.ts): times the
// training step of the examples' CNN (examples/mnist/model.ts; crossEntropy, Adam) on synthetic
// 28x28 digits. With several ranks, the gradients are averaged between backward and the optimizer
// step by the Trainer's own DDPStrategy (buckets of 25 MB, MPI), as in `strategy: 'ddp'`. Rank 0
// prints one JSON line: the per-step time (the slowest rank's, each step), median over the steps.
//
//   [flint-run --nproc 2] bench/distributed/cnn-step-rank.ts <perRankBatch> <steps> <warmup>
import { distributed, manualSeed, nn, optim, randint, randn } from '@flint/api';
import '@flint/backend-cpu';
import '../../packages/distributed-mpi/src/index.js';
import { DDPStrategy } from '@flint/lightning';
import { MnistCnn } from '../../examples/mnist/model.js';

const [batch = 64, steps = 20, warmup = 3] = process.argv.slice(2).map(Number);
const group = distributed.init();
const strategy = group.worldSize > 1 ? new DDPStrategy() : undefined;
strategy?.setup(group.worldSize, 1);

manualSeed(0);
const model = new MnistCnn();
const parameters = [...model.parameters()];
const optimizer = new optim.Adam(parameters, { lr: 1e-3 });
// Each rank its own shard of synthetic digits: the step's cost does not depend on the values.
manualSeed(100 + group.rank);
const images = randn([batch, 1, 28, 28]);
const labels = randint(0, 10, [batch], { dtype: 'int32' });

const seconds: number[] = [];
let lastLoss = Number.NaN;
for (let step = 0; step < warmup + steps; step++) {
  distributed.barrier();
  const start = performance.now();
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(images), labels);
  loss.backward();
  strategy?.syncGradients(parameters);
  optimizer.step();
  lastLoss = loss.item() as number;
  loss.dispose();
  const elapsed = (performance.now() - start) / 1000;
  const [slowest = elapsed] = distributed.allReduceValues([elapsed], 'max');
  if (step >= warmup) seconds.push(slowest);
}
if (group.rank === 0) {
  seconds.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({ ranks: group.worldSize, perRankBatch: batch, threads: process.env.FLINT_CPU_THREADS ?? 'default', steps, lastLoss, seconds })}\n`,
  );
}
distributed.destroy();
