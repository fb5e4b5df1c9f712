import { ValueError } from '@flint/api';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { resolveTrainerOptions, validateTrainerOptions } from './options.js';

describe('Trainer options', () => {
  it("fills in Lightning's defaults", () => {
    const o = resolveTrainerOptions({});
    expect(o).toMatchObject({
      maxEpochs: 1000,
      minEpochs: 0,
      maxSteps: -1,
      accelerator: 'auto',
      devices: 1,
      precision: '32-true',
      gradientClipVal: undefined,
      gradientClipAlgorithm: 'norm',
      accumulateGradBatches: 1,
      valCheckInterval: 1,
      checkValEveryNEpoch: 1,
      logEveryNSteps: 50,
      limitTrainBatches: 1,
      fastDevRun: 0,
      numSanityValSteps: 2,
      enableProgressBar: true,
      enableCheckpointing: true,
      defaultRootDir: '.',
      deterministic: false,
      logger: true,
    });
  });

  it('makes epochs unlimited when only maxSteps is given, and resolves aliases', () => {
    expect(resolveTrainerOptions({ maxSteps: 100 }).maxEpochs).toBe(-1);
    expect(resolveTrainerOptions({ maxSteps: 100, maxEpochs: 3 }).maxEpochs).toBe(3);
    expect(resolveTrainerOptions({ precision: 64 }).precision).toBe('64-true');
    expect(resolveTrainerOptions({ precision: 'bf16' }).precision).toBe('bf16-mixed');
    expect(resolveTrainerOptions({ fastDevRun: true }).fastDevRun).toBe(1);
    expect(resolveTrainerOptions({ devices: 'auto' }).devices).toBe(1);
  });

  it('collects every problem into one ValueError', () => {
    const input = {
      maxEpochs: -3,
      accelerator: 'tpu',
      precision: '8-true',
      gradientClipVal: -1,
      limitTrainBatches: 2.5,
      maxEpoch: 3,
      devices: 4,
    };
    const checked = validateTrainerOptions(input);
    expect(E.isLeft(checked)).toBe(true);
    const problems = E.isLeft(checked) ? checked.left : [];
    expect(problems).toHaveLength(7);
    let error: unknown;
    try {
      resolveTrainerOptions(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValueError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Trainer: 7 problems with the options:/);
    expect(message).toContain("unknown option 'maxEpoch'; did you mean 'maxEpochs'?");
    expect(message).toContain('maxEpochs must be an integer >= 0, got -3');
    expect(message).toContain("accelerator must be one of 'auto', 'cpu', 'mkl', 'cuda', 'webgpu', got \"tpu\"");
    expect(message).toContain('precision must be one of');
    expect(message).toContain('gradientClipVal must be a finite number >= 0, got -1');
    expect(message).toContain('limitTrainBatches must be a fraction in [0, 1] or a whole number of batches, got 2.5');
    expect(message).toContain('devices must be 1');
  });

  it('checks loggers, callbacks and profiler by shape', () => {
    expect(() => resolveTrainerOptions({ logger: [{ logMetrics() {} }] })).toThrow(/logger\[0\]/);
    expect(() => resolveTrainerOptions({ callbacks: [{}] })).toThrow(/callbacks\[0\] is not a Callback/);
    expect(() => resolveTrainerOptions({ profiler: 'advanced' })).toThrow(/profiler must be 'simple'/);
    expect(() => resolveTrainerOptions(null)).toThrow(/expected an object of options/);
  });
});
