// Times the MNIST CNN training step (examples/mnist/model.ts, batch 64, crossEntropy, Adam) on the
// CPU backend: the benchmark behind the portable backend's fast paths.
//
//   cd examples && node --import tsx bench/mnist-step.ts [steps] [backend module]
import { DataLoader, manualSeed, nn, optim } from '@flint/api';
import { loadMnist } from '@flint/api/node';
import { MnistCnn } from '../mnist/model.js';

const steps = Number(process.argv[2] ?? 30);
await import(process.argv[3] ?? '@flint/backend-cpu');

manualSeed(0);
const train = await loadMnist({ split: 'train' });
const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });
const model = new MnistCnn();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });

const times: number[] = [];
// CPU time per step too: on a machine shared with other work, wall time swings with the load.
const cpuTimes: number[] = [];
let step = 0;
let lastLoss = 0;
for (const [images, labels] of loader) {
  if (step >= steps) break;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(images), labels);
  loss.backward();
  optimizer.step();
  lastLoss = loss.item() as number;
  times.push(performance.now() - start);
  const cpu = process.cpuUsage(cpuStart);
  cpuTimes.push((cpu.user + cpu.system) / 1000);
  loss.dispose();
  images.dispose();
  labels.dispose();
  step++;
}
const warm = times.slice(5).sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)] ?? Number.NaN;
const best = warm[0] ?? Number.NaN;
const cpuWarm = cpuTimes.slice(5).sort((a, b) => a - b);
const cpuMedian = cpuWarm[Math.floor(cpuWarm.length / 2)] ?? Number.NaN;
console.log(
  `steps ${times.length}, wall median ${median.toFixed(1)} ms, best ${best.toFixed(1)} ms; CPU median ${cpuMedian.toFixed(1)} ms; last loss ${lastLoss.toFixed(4)}`,
);
