import { describe, expect, it } from 'vitest';
import type { Json } from '../core/json.js';
import type { TrainerEvent } from './events.js';
import { type CheckpointHost, type LoopDriver, loopObservable } from './loop-driver.js';

function fakeHost(log: string[], restored: Record<string, Json> = {}): CheckpointHost {
  return {
    defaultCheckpointDir: '/tmp/ckpt',
    writeCheckpoint: async (path, states) => {
      log.push(`write ${path} ${JSON.stringify(states)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`written ${path}`);
      return true;
    },
    removeCheckpoint: async (path) => {
      log.push(`remove ${path}`);
    },
    restoredCallbackState: (key) => restored[key],
    position: () => ({ epoch: 0, step: 7 }),
  };
}

/** A toy loop: 10 steps, each emitting a batchEnd and waiting at the boundary. */
async function toyLoop(driver: LoopDriver, log: string[], host: CheckpointHost): Promise<void> {
  driver.attach(host);
  for (let step = 1; step <= 10; step++) {
    log.push(`step ${step}`);
    driver.emit({
      type: 'batchEnd',
      epoch: 0,
      step,
      batchIdx: step - 1,
      loss: 1 / step,
      metrics: {},
      progressBarMetrics: {},
      learningRates: {},
      batchSize: 1,
      samplesPerSecond: 1,
      optimizerStepped: true,
      optimizerSkipped: false,
      skippedSteps: 0,
      gradScale: null,
      shouldLog: false,
    });
    if (!(await driver.boundary())) {
      log.push(driver.cancelled ? 'cancelled' : `stopped: ${driver.stopReason}`);
      return;
    }
  }
  log.push('finished');
}

describe('loopObservable', () => {
  it('is cold: nothing runs until subscription, and each subscription runs the loop again', async () => {
    const log: string[] = [];
    const host = fakeHost(log);
    const stream = loopObservable((driver) => toyLoop(driver, log, host));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual([]);
    const losses: number[] = [];
    await new Promise<void>((resolve) =>
      stream.subscribe({ next: (e) => e.type === 'batchEnd' && losses.push(e.loss ?? 0), complete: resolve }),
    );
    expect(losses).toHaveLength(10);
    await new Promise<void>((resolve) => stream.subscribe({ complete: resolve }));
    expect(log.filter((l) => l === 'finished')).toHaveLength(2);
  });

  it('stops at the next step boundary when the subscriber leaves', async () => {
    const log: string[] = [];
    const host = fakeHost(log);
    let settled: Promise<void> | undefined;
    const stream = loopObservable(
      (driver) => toyLoop(driver, log, host),
      (outcome) => {
        settled = outcome;
      },
    );
    const subscription = stream.subscribe((event) => {
      if (event.type === 'batchEnd' && event.step === 3) subscription.unsubscribe();
    });
    await settled;
    expect(log).toEqual(['step 1', 'step 2', 'step 3', 'cancelled']);
  });

  it('waits at the boundary for checkpoint writes, then emits checkpointSaved', async () => {
    const log: string[] = [];
    const host = fakeHost(log);
    const events: TrainerEvent[] = [];
    const stream = loopObservable((driver) => toyLoop(driver, log, host));
    await new Promise<void>((resolve) =>
      stream.subscribe({
        next: (event) => {
          events.push(event);
          if (event.type === 'batchEnd' && event.step === 2) {
            event.control.registerState('cb', () => ({ best: 1 }));
            void event.control.saveCheckpoint('/tmp/a.ckpt', { monitor: 'loss', score: 0.5 });
            event.control.removeCheckpoint('/tmp/old.ckpt');
          }
          if (event.type === 'batchEnd' && event.step === 4) event.control.requestStop('enough');
        },
        complete: resolve,
      }),
    );
    expect(log).toEqual([
      'step 1',
      'step 2',
      'write /tmp/a.ckpt {"cb":{"best":1}}',
      'remove /tmp/old.ckpt',
      'written /tmp/a.ckpt',
      'step 3',
      'step 4',
      'stopped: enough',
    ]);
    const saved = events.find((e) => e.type === 'checkpointSaved');
    expect(saved).toMatchObject({ type: 'checkpointSaved', path: '/tmp/a.ckpt', step: 7, monitor: 'loss', score: 0.5 });
    expect(events.map((e) => e.type)).toEqual(['batchEnd', 'batchEnd', 'checkpointSaved', 'batchEnd', 'batchEnd']);
    expect(JSON.stringify(events[0])).not.toContain('control');
  });

  it('reports a failed write, and a failure of the loop, as the stream error', async () => {
    const log: string[] = [];
    const host = { ...fakeHost(log), writeCheckpoint: async () => Promise.reject(new Error('disk full')) };
    const stream = loopObservable((driver) => toyLoop(driver, log, host));
    const error = await new Promise<unknown>((resolve) =>
      stream.subscribe({
        next: (event) => {
          if (event.type === 'batchEnd' && event.step === 1) void event.control.saveCheckpoint('/x');
        },
        error: resolve,
      }),
    );
    expect((error as Error).message).toBe('disk full');
    expect(log).toEqual(['step 1']);
  });

  it('returns the state a resumed checkpoint stored for a key', async () => {
    const host = fakeHost([], { early: { wait: 2 } });
    let seen: Json | undefined;
    const stream = loopObservable((driver) => toyLoop(driver, [], host));
    await new Promise<void>((resolve) =>
      stream.subscribe({
        next: (event) => {
          if (event.type === 'batchEnd' && event.step === 1) seen = event.control.registerState('early', () => null);
        },
        complete: resolve,
      }),
    );
    expect(seen).toEqual({ wait: 2 });
  });
});
