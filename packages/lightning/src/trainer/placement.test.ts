// Where a run puts the module and the default backend, and that it puts them back: the Trainer
// makes its accelerator the default backend and moves the module there for the run, and when the
// run ends (done or failed) the default backend and the module's parameters are where they were,
// as Lightning's teardown moves a model back to the CPU.
import '@flint/backend-cpu';
import { getBackend, optim, setBackend, type Tensor } from '@flint/api';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';
import type { StepOutput } from '../module.js';
import { Regressor, regressionLoader } from '../test-support/regression.test-support.js';
import type { OptimizerConfig } from './optimizer-config.js';
import type { TrainerOptions } from './options.js';
import { seedGlobalRandom } from './rng.js';
import { Trainer } from './trainer.js';

// An asynchronous backend (as webgpu): moving a module off it has to wait for its data.
registerAsyncCpuBackend('cpu-async');

const quiet: TrainerOptions = { logger: false, enableProgressBar: false, enableCheckpointing: false, maxSteps: 3 };

/** A Regressor that records where its parameters and the default backend are during each step. */
class Recording extends Regressor {
  readonly seen: string[] = [];
  failAt = -1;
  optimizer: optim.Adam | undefined;
  override configureOptimizers(): OptimizerConfig {
    const config = super.configureOptimizers();
    // Without a scheduler option, Regressor configures one bare Adam.
    if (!(config instanceof optim.Adam)) throw new Error('Recording expects the Regressor to configure a bare Adam');
    this.optimizer = config;
    return config;
  }
  override trainingStep(batch: [Tensor, Tensor], batchIdx: number): StepOutput {
    this.seen.push(`${this.parameters()[0]?.value.backend}/${getBackend().name}`);
    if (batchIdx === this.failAt) throw new Error('planted failure');
    return super.trainingStep(batch, batchIdx);
  }
}

async function weights(model: Regressor): Promise<number[]> {
  return Array.from((await model.parameters()[0]?.value.data()) as Float32Array);
}

afterEach(() => {
  setBackend('cpu');
});

describe("the Trainer's accelerator placement", () => {
  it('runs on the accelerator, then leaves the module and the default backend where they were', async () => {
    setBackend('cpu-async');
    seedGlobalRandom(61);
    const model = new Recording();
    const before = await weights(model);
    await lastValueFrom(new Trainer({ ...quiet, accelerator: 'cpu' }).fit$(model, regressionLoader()));
    expect(model.seen).toEqual(['cpu/cpu', 'cpu/cpu', 'cpu/cpu']);
    expect(getBackend().name).toBe('cpu-async');
    expect(model.parameters().every((p) => p.value.backend === 'cpu-async')).toBe(true);
    // The optimizer's state came home with the module, as Lightning's teardown moves optimizers.
    const buffers = [...(model.optimizer?.state.values() ?? [])].flatMap((s) => Object.values(s.buffers));
    expect(buffers.length).toBeGreaterThan(0);
    expect(buffers.every((t) => t.backend === 'cpu-async')).toBe(true);
    // The trained values came back, not the ones from before the run.
    expect(await weights(model)).not.toEqual(before);
  });

  it('puts them back after a run that fails, and after validation', async () => {
    setBackend('cpu-async');
    seedGlobalRandom(62);
    const model = new Recording();
    model.failAt = 1;
    const trainer = new Trainer({ ...quiet, accelerator: 'cpu' });
    await expect(lastValueFrom(trainer.fit$(model, regressionLoader()))).rejects.toThrow(/planted failure/);
    expect(model.seen).toEqual(['cpu/cpu', 'cpu/cpu']);
    expect(getBackend().name).toBe('cpu-async');
    expect(model.parameters().every((p) => p.value.backend === 'cpu-async')).toBe(true);

    const seenDuringValidation: string[] = [];
    model.validationStep = () => {
      seenDuringValidation.push(`${model.parameters()[0]?.value.backend}/${getBackend().name}`);
    };
    await trainer.validate(model, regressionLoader({ samples: 16 }));
    expect(seenDuringValidation).toEqual(['cpu/cpu', 'cpu/cpu']);
    expect(getBackend().name).toBe('cpu-async');
    expect(model.parameters().every((p) => p.value.backend === 'cpu-async')).toBe(true);
  });

  it('keeps the accelerator the default until the last of two overlapping runs ends', async () => {
    setBackend('cpu-async');
    seedGlobalRandom(63);
    const [long, short] = [new Recording(), new Recording()];
    // The short run starts first: its end must not take the default from the long one.
    await Promise.all([
      lastValueFrom(new Trainer({ ...quiet, accelerator: 'cpu', maxSteps: 2 }).fit$(short, regressionLoader())),
      lastValueFrom(new Trainer({ ...quiet, accelerator: 'cpu', maxSteps: 6 }).fit$(long, regressionLoader())),
    ]);
    expect(short.seen).toHaveLength(2);
    // The long run's later steps came after the short run ended: the default stayed on the accelerator.
    expect(long.seen).toEqual(new Array(6).fill('cpu/cpu'));
    expect(getBackend().name).toBe('cpu-async');
    for (const model of [long, short]) expect(model.parameters().every((p) => p.value.backend === 'cpu-async')).toBe(true);
  });

  it('puts them back when a teardown hook fails after predict', async () => {
    setBackend('cpu-async');
    seedGlobalRandom(64);
    const model = new Recording();
    model.teardown = () => {
      throw new Error('planted teardown failure');
    };
    const trainer = new Trainer({ ...quiet, accelerator: 'cpu' });
    await expect(trainer.predict(model, regressionLoader({ samples: 8 }))).rejects.toThrow(/planted teardown failure/);
    expect(getBackend().name).toBe('cpu-async');
    expect(model.parameters().every((p) => p.value.backend === 'cpu-async')).toBe(true);
  });

  it('takes an optimizer kept from an earlier fit to the accelerator and home again', async () => {
    setBackend('cpu-async');
    seedGlobalRandom(65);
    class Reusing extends Recording {
      kept: ReturnType<Regressor['configureOptimizers']> | undefined;
      override configureOptimizers() {
        this.kept ??= super.configureOptimizers();
        return this.kept;
      }
    }
    const model = new Reusing();
    for (let fit = 0; fit < 2; fit++) {
      await lastValueFrom(new Trainer({ ...quiet, accelerator: 'cpu' }).fit$(model, regressionLoader()));
      const buffers = [...(model.optimizer?.state.values() ?? [])].flatMap((s) => Object.values(s.buffers));
      expect(buffers.length).toBeGreaterThan(0);
      expect(buffers.every((t) => t.backend === 'cpu-async')).toBe(true);
    }
    expect(model.seen).toEqual(new Array(6).fill('cpu/cpu'));
  });
});
