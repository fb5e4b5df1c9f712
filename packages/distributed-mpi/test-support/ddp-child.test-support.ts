// One process of the DDP tests: trains a tiny regression with the Trainer and prints each
// step's loss and the final weights as JSON lines.
//
//   ddp <perRankBatch>          strategy 'ddp' (run under flint-run with 2 ranks)
//   single <batch> <ranks>      one process, the order a DDP run over <ranks> ranks sees
//   kill <perRankBatch>         like ddp, but rank 1 is killed (SIGKILL) at its third step; with
//                               FLINT_TEST_CHECKPOINT_DIR set, a checkpoint (last.ckpt) is written
//                               after every step, and rank 0 prints each completed step's weights
//   hang <perRankBatch>         like ddp, but rank 1 stops answering at its third step
//   async <perRankBatch>        like ddp, on a backend that reads only asynchronously (as webgpu)
//
// FLINT_TEST_BACKEND=cuda runs any mode on the 'cuda' backend, whose gradients go through NCCL (on
// GPUs, or on the CPU emulation with its NCCL, as backend-cuda's tests run it).
import {
  type Backend,
  DataLoader,
  distributed,
  getBackend,
  nn,
  optim,
  registerBackend,
  setBackend,
  type Tensor,
  TensorDataset,
  tensor,
} from '@flint/api';
import '@flint/backend-cpu';
import '@flint/distributed-mpi';
import { checkpoint, LightningModule, Trainer } from '@flint/lightning';

const [mode = 'ddp', batchArgument = '4', ranksArgument = '2'] = process.argv.slice(2);
const batchSize = Number(batchArgument);
const checkpointDir = mode === 'kill' ? process.env.FLINT_TEST_CHECKPOINT_DIR : undefined;

/** The cuda backend's addon, when FLINT_TEST_BACKEND=cuda (for its NCCL status). */
let cuda: { ncclStatus(): { initialized: boolean; worldSize: number } } | undefined;
if (process.env.FLINT_TEST_BACKEND === 'cuda') {
  const { loadAddon } = await import('@flint/backend-cuda');
  setBackend('cuda');
  const loaded = loadAddon();
  if ('addon' in loaded) cuda = loaded.addon;
}
if (mode === 'async') {
  // The cpu backend without readSync: DDP must read gradients and weights with `await data()`.
  const cpu = getBackend('cpu');
  const asyncCpu: Backend = {
    name: 'async-cpu',
    capabilities: { ...cpu.capabilities, syncRead: false },
    kernels: cpu.kernels,
    fromTypedArray: (data, shape, dtype) => cpu.fromTypedArray(data, shape, dtype),
    read: (handle) => cpu.read(handle),
    dispose: (handle) => cpu.dispose(handle),
    memory: () => cpu.memory(),
  };
  registerBackend({ name: 'async-cpu', priority: -100, create: () => asyncCpu });
  setBackend('async-cpu');
}
const SEED = 11;
const SAMPLES = 32;

class Regression extends LightningModule {
  readonly layer = this.registerModule('layer', new nn.Linear(3, 1));

  forward(x: Tensor): Tensor {
    return this.layer.forward(x);
  }

  override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.mseLoss(this.forward(x), y);
    this.log('train_loss', loss, { syncDist: true });
    return loss;
  }

  override onTrainBatchEnd(): void {
    if (checkpointDir !== undefined && distributed.rank() === 0) {
      // What a checkpoint of this step must hold, to compare with the file the killed job leaves.
      const weights = Object.fromEntries(Object.entries(this.stateDict()).map(([name, t]) => [name, Array.from(t.dataSync())]));
      process.stdout.write(`${JSON.stringify({ completed: this.globalStep, weights })}\n`);
    }
    if (this.globalStep !== 3 || distributed.rank() !== 1) return;
    if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
    if (mode === 'hang') {
      const until = Date.now() + 120_000;
      while (Date.now() < until) {
        // A rank stuck in computation: it makes no further collective calls.
      }
    }
  }

  override configureOptimizers() {
    return new optim.SGD(this.parameters(), { lr: 0.05, momentum: 0.9 });
  }
}

// Fixed data: y = x . w + noise, the same in every process.
const inputs: number[][] = [];
const targets: number[][] = [];
for (let i = 0; i < SAMPLES; i++) {
  const x = [Math.sin(i), Math.cos(1.7 * i), ((i % 7) - 3) / 3];
  inputs.push(x);
  targets.push([0.5 * x[0]! - 1.5 * x[1]! + 2 * x[2]! + 0.1 * Math.sin(3 * i)]);
}
const dataset = new TensorDataset(tensor(inputs), tensor(targets));
const single = mode === 'single';
const loader = single
  ? new DataLoader(dataset, {
      batchSize,
      sampler: new distributed.DistributedSampler(SAMPLES, { numReplicas: 1, rank: 0, seed: SEED }),
    })
  : new DataLoader(dataset, { batchSize, shuffle: true, generator: 1234 });
void ranksArgument;

const trainer = new Trainer({
  maxEpochs: 2,
  seed: SEED,
  logger: false,
  enableProgressBar: false,
  enableCheckpointing: false,
  numSanityValSteps: 0,
  ...(single ? {} : { strategy: 'ddp' as const, devices: 2 }),
});
const model = new Regression();
// fit$ applies no callbacks: checkpointing is piped in as an operator.
const events = trainer.fit$(model, loader);
const run = checkpointDir === undefined ? events : events.pipe(checkpoint({ dirpath: checkpointDir, everyNTrainSteps: 1, saveLast: true }));
run.subscribe({
  next: (event) => {
    if (event.type === 'batchEnd') process.stdout.write(`${JSON.stringify({ step: event.step, loss: event.metrics.train_loss })}\n`);
  },
  error: (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
  complete: async () => {
    const entries = await Promise.all(Object.entries(model.stateDict()).map(async ([name, t]) => [name, Array.from(await t.data())]));
    // On cuda: whether the gradients went through an NCCL communicator (the device collectives).
    const nccl = cuda === undefined ? undefined : (({ initialized, worldSize }) => ({ initialized, worldSize }))(cuda.ncclStatus());
    process.stdout.write(
      `${JSON.stringify({ done: true, rank: distributed.rank(), backend: model.layer.weight.value.backend, weights: Object.fromEntries(entries), nccl })}\n`,
    );
    distributed.destroy();
  },
});
