import { ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../loggers/logger.js';
import { checkpoint } from '../operators/checkpoint.js';
import { earlyStopping } from '../operators/early-stopping.js';
import { logTo } from '../operators/log-to.js';
import { lrMonitor } from '../operators/lr-monitor.js';
import { progressBar } from '../operators/progress-bar.js';
import { Callback } from './callback.js';
import { EarlyStopping } from './early-stopping.js';
import { formatCheckpointName } from './filename.js';
import { ModelCheckpoint } from './model-checkpoint.js';
import { renderProgressLine } from './progress-bar.js';
import { drive, events, RecordingControl } from './test-events.test-support.js';

describe('formatCheckpointName', () => {
  it("fills templates as Lightning's ModelCheckpoint does", () => {
    expect(formatCheckpointName('{epoch}-{step}', { epoch: 3, step: 120 })).toBe('epoch=3-step=120');
    expect(formatCheckpointName('best-{val/loss:.2f}-{epoch:d}', { 'val/loss': 0.12345, epoch: 2 })).toBe('best-val_loss=0.12-epoch=2');
    expect(formatCheckpointName('{epoch}', { epoch: 1 }, false)).toBe('1');
    expect(() => formatCheckpointName('{val_acc}', { epoch: 1 })).toThrow(/names 'val_acc', which is not among the metrics \(epoch\)/);
  });
});

describe('ModelCheckpoint', () => {
  it('keeps the k best by the monitored metric and removes the others', () => {
    const control = new RecordingControl();
    const callback = new ModelCheckpoint({ monitor: 'val_loss', saveTopK: 2, filename: '{epoch}-{val_loss:.1f}', saveLast: true });
    const { input } = drive(callback.operator());
    input.next(events.fitStart(control));
    input.next(events.validationEnd(control, 0, 10, { val_loss: 0.9 }, true)); // sanity check: ignored
    const scores = [0.8, 0.5, 0.7, 0.3];
    for (const [epoch, val_loss] of scores.entries()) input.next(events.validationEnd(control, epoch, (epoch + 1) * 10, { val_loss }));
    const ranked = control.saved.filter((s) => !s.path.endsWith('last.ckpt')).map((s) => s.path);
    expect(ranked).toEqual([
      '/ckpt/epoch=0-val_loss=0.8.ckpt',
      '/ckpt/epoch=1-val_loss=0.5.ckpt',
      '/ckpt/epoch=2-val_loss=0.7.ckpt',
      '/ckpt/epoch=3-val_loss=0.3.ckpt',
    ]);
    expect(control.removed).toEqual(['/ckpt/epoch=0-val_loss=0.8.ckpt', '/ckpt/epoch=2-val_loss=0.7.ckpt']);
    expect(control.saved.filter((s) => s.path === '/ckpt/last.ckpt')).toHaveLength(4);
    expect(callback.bestModelPath).toBe('/ckpt/epoch=3-val_loss=0.3.ckpt');
    expect(callback.bestModelScore).toBe(0.3);
    expect([...callback.bestKModels.keys()].sort()).toEqual(['/ckpt/epoch=1-val_loss=0.5.ckpt', '/ckpt/epoch=3-val_loss=0.3.ckpt']);
    // Each checkpoint carries the bookkeeping as it is once that checkpoint counts.
    const last = control.saved.at(-2);
    expect(last?.states[callback.stateKey]).toMatchObject({ bestModelPath: '/ckpt/epoch=3-val_loss=0.3.ckpt', bestModelScore: 0.3 });
  });

  it('without a monitor keeps only the latest, saving at epoch end when there is no validation', () => {
    const control = new RecordingControl('/runs/checkpoints');
    const { input } = drive(checkpoint());
    input.next(events.fitStart(control, 0));
    input.next(events.epochEnd(control, 0, 4));
    input.next(events.epochEnd(control, 1, 8));
    expect(control.saved.map((s) => s.path)).toEqual(['/runs/checkpoints/epoch=0-step=4.ckpt', '/runs/checkpoints/epoch=1-step=8.ckpt']);
    expect(control.removed).toEqual(['/runs/checkpoints/epoch=0-step=4.ckpt']);
  });

  it('saves every N optimizer steps when asked', () => {
    const control = new RecordingControl();
    const { input } = drive(checkpoint({ everyNTrainSteps: 2, saveTopK: -1, dirpath: '/d' }));
    input.next(events.fitStart(control));
    for (let step = 1; step <= 5; step++) input.next(events.batchEnd(control, step));
    input.next(events.batchEnd(control, 6, {}, { optimizerStepped: false }));
    expect(control.saved.map((s) => s.path)).toEqual(['/d/epoch=0-step=2.ckpt', '/d/epoch=0-step=4.ckpt']);
    expect(control.removed).toEqual([]);
  });

  it('names the missing metric', () => {
    const control = new RecordingControl();
    const { input, errors } = drive(checkpoint({ monitor: 'val_acc' }));
    input.next(events.fitStart(control));
    input.next(events.validationEnd(control, 0, 4, { val_loss: 1 }));
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/could not find 'val_acc' among the logged metrics \(val_loss\)/);
  });

  it('restores its ranking from a resumed checkpoint written to the same folder', () => {
    const callback = new ModelCheckpoint({ monitor: 'val_loss', dirpath: '/ckpt' });
    const restored = {
      [callback.stateKey]: {
        dirpath: '/ckpt',
        bestModelPath: '/ckpt/a.ckpt',
        bestModelScore: 0.2,
        lastModelPath: '',
        bestKModels: [['/ckpt/a.ckpt', 0.2]],
      },
    };
    const control = new RecordingControl('/ckpt', restored);
    const { input } = drive(callback.operator());
    input.next(events.fitStart(control));
    input.next(events.validationEnd(control, 5, 60, { val_loss: 0.4 }));
    expect(control.saved).toEqual([]);
    expect(callback.bestModelScore).toBe(0.2);
  });

  it('rejects inconsistent options', () => {
    expect(() => new ModelCheckpoint({ saveTopK: 3 })).toThrow(/needs a monitor/);
    expect(() => new ModelCheckpoint({ mode: 'low' as 'min' })).toThrow(ValueError);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` checks without an improvement of at least minDelta', () => {
    const control = new RecordingControl();
    const callback = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.05 });
    const { input } = drive(callback.operator());
    input.next(events.fitStart(control));
    for (const [epoch, loss] of [0.5, 0.4, 0.38, 0.37].entries())
      input.next(events.validationEnd(control, epoch, epoch, { val_loss: loss }));
    expect(control.stopReason).toMatch(/Monitored metric val_loss did not improve in the last 2 records. Best score: 0.400/);
    expect(callback.stoppedEpoch).toBe(3);
    expect(callback.stateDict()).toMatchObject({ wait: 2, bestScore: 0.4 });
  });

  it('stops at once on thresholds and on non-finite values', () => {
    const cases: [Partial<ConstructorParameters<typeof EarlyStopping>[0]>, number, RegExp][] = [
      [{ stoppingThreshold: 0.1 }, 0.05, /Stopping threshold reached: val_loss = 0.05 < 0.1/],
      [{ divergenceThreshold: 5 }, 7, /Divergence threshold reached: val_loss = 7 > 5/],
      [{}, Number.NaN, /val_loss = NaN is not finite/],
    ];
    for (const [options, value, expected] of cases) {
      const control = new RecordingControl();
      const { input } = drive(earlyStopping({ monitor: 'val_loss', ...options }));
      input.next(events.fitStart(control));
      input.next(events.validationEnd(control, 0, 1, { val_loss: value }));
      expect(control.stopReason).toMatch(expected);
    }
  });

  it('checks at epoch end when there is no validation, in max mode', () => {
    const control = new RecordingControl();
    const { input } = drive(earlyStopping({ monitor: 'acc', mode: 'max', patience: 1 }));
    input.next(events.fitStart(control, 0));
    input.next(events.epochEnd(control, 0, 1, { acc: 0.5 }));
    input.next(events.epochEnd(control, 1, 2, { acc: 0.6 }));
    expect(control.stopReason).toBeUndefined();
    input.next(events.epochEnd(control, 2, 3, { acc: 0.55 }));
    expect(control.stopReason).toMatch(/did not improve/);
  });

  it('fails on a missing metric unless strict is off', () => {
    const control = new RecordingControl();
    const strict = drive(earlyStopping({ monitor: 'val_loss' }));
    strict.input.next(events.fitStart(control));
    strict.input.next(events.validationEnd(control, 0, 1, { other: 1 }));
    expect((strict.errors[0] as Error).message).toMatch(/could not find 'val_loss'/);
    const lax = drive(earlyStopping({ monitor: 'val_loss', strict: false }));
    lax.input.next(events.fitStart(control));
    lax.input.next(events.validationEnd(control, 0, 1, { other: 1 }));
    expect(lax.errors).toEqual([]);
  });
});

describe('logTo', () => {
  function recordingLogger() {
    const calls: string[] = [];
    const logger: Logger = {
      name: 'rec',
      version: 0,
      logHyperparams: (p) => calls.push(`hparams ${JSON.stringify(p)}`),
      logMetrics: (m, step) => calls.push(`${step} ${JSON.stringify(m)}`),
      save: () => calls.push('save'),
      finalize: (status) => calls.push(`finalize ${status}`),
    };
    return { calls, logger };
  }

  it('logs hyperparameters, due step metrics, validation and epoch metrics, then finalizes', () => {
    const { calls, logger } = recordingLogger();
    const control = new RecordingControl();
    const { input } = drive(logTo(logger));
    input.next(events.fitStart(control));
    input.next(events.batchEnd(control, 1, { train_loss: 0.5 }));
    input.next(events.batchEnd(control, 2, { train_loss: 0.4 }, { shouldLog: false }));
    input.next(events.validationEnd(control, 0, 2, { val_loss: 0.9 }, true));
    input.next(events.validationEnd(control, 0, 2, { val_loss: 0.7 }));
    input.next(events.epochEnd(control, 0, 2, { train_loss_epoch: 0.45 }));
    input.complete();
    expect(calls).toEqual([
      'hparams {"lr":0.1}',
      '1 {"train_loss":0.5,"epoch":0}',
      '2 {"val_loss":0.7,"epoch":0}',
      '2 {"train_loss_epoch":0.45,"epoch":0}',
      'save',
      'finalize success',
    ]);
  });

  it("finalizes with 'failed' on an error and 'aborted' when the subscriber leaves", () => {
    const failed = recordingLogger();
    const a = drive(logTo(failed.logger));
    a.input.error(new Error('boom'));
    expect(failed.calls).toEqual(['finalize failed']);
    const aborted = recordingLogger();
    const b = drive(logTo(aborted.logger));
    b.subscription.unsubscribe();
    expect(aborted.calls).toEqual(['finalize aborted']);
  });
});

describe('lrMonitor', () => {
  it('adds learning rates to step metrics (or epoch metrics)', () => {
    const control = new RecordingControl();
    const step = drive(lrMonitor());
    step.input.next(events.batchEnd(control, 1, { loss: 1 }));
    expect(step.output[0]).toMatchObject({ metrics: { loss: 1, 'lr-SGD': 0.1 } });
    const epoch = drive(lrMonitor({ loggingInterval: 'epoch' }));
    epoch.input.next(events.batchEnd(control, 1, { loss: 1 }));
    epoch.input.next(events.epochEnd(control, 0, 1));
    expect(epoch.output[0]).toMatchObject({ metrics: { loss: 1 } });
    expect(epoch.output[1]).toMatchObject({ metrics: { 'lr-SGD': 0.05 } });
  });
});

describe('progressBar', () => {
  it('renders epoch, counts, rate, time left and metrics', () => {
    const line = renderProgressLine({ epoch: 1, maxEpochs: 10, done: 50, total: 100, elapsedSeconds: 5, metrics: { loss: 0.25 } });
    expect(line).toBe('Epoch 2/10:  50%|██████████          | 50/100 [00:05<00:05, 10.00it/s, loss=0.25]');
  });

  it('draws on a terminal and is quiet elsewhere', () => {
    const control = new RecordingControl();
    let tty = '';
    const onTerminal = drive(progressBar({ output: { isTTY: true, write: (t: string) => (tty += t) }, refreshMs: 0 }));
    let pipe = '';
    const onPipe = drive(progressBar({ output: { isTTY: false, write: (t: string) => (pipe += t) } }));
    for (const target of [onTerminal, onPipe]) {
      target.input.next(events.fitStart(control, 0, 2));
      target.input.next({ type: 'epochStart', control, epoch: 0, step: 0 });
      target.input.next(events.batchEnd(control, 1, {}));
      target.input.next(events.batchEnd(control, 2, {}));
      target.input.next(events.epochEnd(control, 0, 2));
      target.input.complete();
    }
    expect(pipe).toBe('');
    expect(tty).toContain('Epoch 1/3: 100%|');
    expect(tty).toContain('2/2 [');
    expect(tty).toMatch(/loss=0\.75/);
    expect(tty.endsWith('\n')).toBe(true);
  });
});

describe('Callback', () => {
  it('calls the hook of each event type', () => {
    const seen: string[] = [];
    class Recorder extends Callback {
      override onFitStart() {
        seen.push('fitStart');
      }
      override onTrainBatchEnd(event: { step: number }) {
        seen.push(`batch ${event.step}`);
      }
      override onTrainEpochEnd() {
        seen.push('epochEnd');
      }
    }
    const control = new RecordingControl();
    const { input, output } = drive(new Recorder().operator());
    input.next(events.fitStart(control));
    input.next(events.batchEnd(control, 1));
    input.next(events.epochEnd(control, 0, 1));
    expect(seen).toEqual(['fitStart', 'batch 1', 'epochEnd']);
    expect(output).toHaveLength(3);
  });
});
