// The Trainer on the 'cuda' accelerator: a small classifier built on the CPU and fed batches from a
// DataLoader of CPU tensors (which the Trainer moves to the device, as Lightning does) trains for a
// few epochs on cuda to the losses it reaches on the portable CPU backend, in float32 and under
// bf16 autocast (the half matmuls and casts on the device), and its parameters live on the device. Runs on a GPU, or on the
// CPU emulation (the cuda-emulation project of vitest.config.ts); skipped with the reason elsewhere.
import '@flint/backend-cpu';
import { DataLoader, getBackend, manualSeed, nn, optim, setBackend, type Tensor, TensorDataset, tensor } from '@flint/api';
import { LightningModule, Trainer } from '@flint/lightning';
import { describe, expect, it } from 'vitest';
import { cudaUnavailable } from './cuda-availability.test-support.js';

class Classifier extends LightningModule {
  readonly hidden = this.registerModule('hidden', new nn.Linear(6, 16));
  readonly out = this.registerModule('out', new nn.Linear(16, 3));

  forward(x: Tensor): Tensor {
    return this.out.forward(nn.functional.relu(this.hidden.forward(x)));
  }

  override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.crossEntropy(this.forward(x), y);
    this.log('loss', loss);
    return loss;
  }

  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 0.02 });
  }
}

/** Losses of every step, the parameters' backend during the steps and after the run, trained on `accelerator`. */
async function train(
  accelerator: 'cuda' | 'cpu',
  precision: '32-true' | 'bf16-mixed',
): Promise<{ losses: number[]; during: string; after: string }> {
  // The module is built on the CPU (a Trainer makes its accelerator the default backend) and moved by the Trainer.
  setBackend('cpu');
  manualSeed(7);
  const x = Array.from({ length: 48 }, (_, i) => Array.from({ length: 6 }, (_, j) => Math.sin(i * 1.3 + j * 0.7)));
  const y = x.map((row) => (row[0]! + row[1]! > 0.5 ? 0 : row[2]! > 0 ? 1 : 2));
  const loader = new DataLoader(new TensorDataset(tensor(x, { backend: 'cpu' }), tensor(y, { dtype: 'int32', backend: 'cpu' })), {
    batchSize: 16,
  });
  const model = new Classifier();
  const trainer = new Trainer({
    maxEpochs: 4,
    accelerator,
    precision,
    logger: false,
    enableProgressBar: false,
    enableCheckpointing: false,
  });
  const losses: number[] = [];
  let during = '';
  await new Promise<void>((resolve, reject) => {
    trainer.fit$(model, loader).subscribe({
      next: (event) => {
        if (event.type === 'batchEnd') losses.push(event.metrics.loss as number);
        during = model.parameters()[0]?.value.backend ?? '';
      },
      error: reject,
      complete: resolve,
    });
  });
  return { losses, during, after: model.parameters()[0]?.value.backend ?? '' };
}

describe.skipIf(cudaUnavailable('Trainer tests') !== undefined)("the Trainer on the 'cuda' accelerator", () => {
  it('trains in float32 as on the CPU backend, with its parameters on the device until the run ends', async () => {
    const [onCuda, onCpu] = [await train('cuda', '32-true'), await train('cpu', '32-true')];
    expect(onCuda.during).toBe('cuda');
    // As Lightning's teardown, the run hands the module back where it was built.
    expect(onCuda.after).toBe('cpu');
    expect(getBackend().name).toBe('cpu');
    expect(onCuda.losses).toHaveLength(12);
    for (const [i, loss] of onCpu.losses.entries()) expect(onCuda.losses[i]).toBeCloseTo(loss, 4);
    expect(onCuda.losses.at(-1)).toBeLessThan(onCuda.losses[0] as number);
  });

  it('trains under bf16 autocast as on the CPU backend', async () => {
    const [onCuda, onCpu] = [await train('cuda', 'bf16-mixed'), await train('cpu', 'bf16-mixed')];
    expect(onCuda.during).toBe('cuda');
    expect(onCuda.losses).toHaveLength(12);
    for (const [i, loss] of onCpu.losses.entries()) expect(onCuda.losses[i]).toBeCloseTo(loss, 2);
    expect(onCuda.losses.at(-1)).toBeLessThan(onCuda.losses[0] as number);
  });
});
