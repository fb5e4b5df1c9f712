import '@flint/backend-cpu';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distributed } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher is plain JavaScript, without declarations.
import { findMpirun } from '../bin/flint-run.mjs';
import { mpiProvider } from './index.js';
import { fixture, jsonLines, killAll, LAUNCHER, runNode } from './launch.test-support.js';

// Two ranks of Open MPI on this machine (loopback and shared memory), started by flint-run.
// Every job has a hard timeout and is killed in afterAll, so nothing can hang the suite.

const status = mpiProvider.availability();
const mpirun = (findMpirun as () => string | undefined)();
const reason = !status.available ? status.reason : mpirun === undefined ? distributed.MPI_NOT_INSTALLED : undefined;
if (reason !== undefined) console.warn(`skipping the Open MPI tests: ${reason}`);

const JOB_MS = 60_000;
afterAll(killAll);

const flintRun = (args: readonly string[], env: Record<string, string> = {}) => runNode([LAUNCHER, ...args], JOB_MS, env);

describe.skipIf(reason !== undefined)('the MPI transport, 2 ranks on loopback', () => {
  it('runs every collective', async () => {
    const job = await flintRun(['--nproc', '2', '--timeout', '30', fixture('collectives-child')]);
    expect(job.timedOut).toBe(false);
    expect(job.code, job.stderr).toBe(0);
    const results = jsonLines(job.stdout).sort((a, b) => (a.rank as number) - (b.rank as number));
    expect(results.map((r) => r.rank)).toEqual([0, 1]);
    for (const r of results) {
      expect(r).toMatchObject({
        worldSize: 2,
        localRank: r.rank,
        transport: 'mpi',
        sum: [3, 30],
        mean: [1.5, 2],
        max: [1, 0],
        min: [0, -1],
        broadcast: [1, 1, 1],
        gathered: [0, 100, 1, 101],
        gatheredShape: [2, 1, 1],
        coalesced: [[1, 2], [3], [1]],
      });
    }
    // Sum of [1,2,3,4] and [2,4,6,8] is [3,6,9,12]: rank 0 gets the first half, rank 1 the second.
    expect(results[0]?.scattered).toEqual([3, 6]);
    expect(results[1]?.scattered).toEqual([9, 12]);
  });

  /** A 2-rank DDP run in `mode` against one process with batch 2B: the same losses and weights. */
  async function expectDdpMatchesOneProcess(mode: 'ddp' | 'async'): Promise<Record<string, unknown>[]> {
    const [ddp, single] = await Promise.all([
      flintRun(['--nproc', '2', '--timeout', '30', fixture('ddp-child'), mode, '4']),
      runNode(['--import', 'tsx', fixture('ddp-child'), 'single', '8'], JOB_MS),
    ]);
    expect(ddp.code, ddp.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    const reference = jsonLines(single.stdout);
    const referenceLosses = reference.filter((l) => 'step' in l);
    expect(referenceLosses).toHaveLength(8);
    const lines = jsonLines(ddp.stdout);
    const done = lines.filter((l) => l.done === true);
    expect(done.map((d) => d.rank).sort()).toEqual([0, 1]);
    // Both ranks print every step's loss (synchronized over ranks with syncDist).
    expect(lines.filter((l) => 'step' in l)).toHaveLength(16);
    const ddpByStep = new Map<number, number[]>();
    for (const l of lines.filter((line) => 'step' in line)) {
      const list = ddpByStep.get(l.step as number) ?? [];
      list.push(l.loss as number);
      ddpByStep.set(l.step as number, list);
    }
    for (const l of referenceLosses) {
      const both = ddpByStep.get(l.step as number) ?? [];
      expect(both).toHaveLength(2);
      for (const loss of both) expect(loss).toBeCloseTo(l.loss as number, 5);
    }
    const referenceWeights = (reference.find((l) => l.done === true)?.weights ?? {}) as Record<string, number[]>;
    expect(Object.keys(referenceWeights).sort()).toEqual(['layer.bias', 'layer.weight']);
    for (const d of done) {
      const weights = d.weights as Record<string, number[]>;
      for (const [name, values] of Object.entries(referenceWeights)) {
        expect(weights[name]).toHaveLength(values.length);
        for (const [i, v] of values.entries()) expect(weights[name]?.[i]).toBeCloseTo(v, 5);
      }
    }
    return done;
  }

  it('DDP with batch B per rank gives the losses and weights of one process with batch 2B', async () => {
    const done = await expectDdpMatchesOneProcess('ddp');
    expect(done.map((d) => d.backend)).toEqual(['cpu', 'cpu']);
  });

  it('DDP on a backend that reads only asynchronously (as webgpu) syncs with await data() and matches too', async () => {
    const done = await expectDdpMatchesOneProcess('async');
    expect(done.map((d) => d.backend)).toEqual(['async-cpu', 'async-cpu']);
  });

  it('a rank killed mid-run makes the job fail instead of hang, and leaves the last checkpoint intact', async () => {
    const checkpoints = mkdtempSync(join(tmpdir(), 'flint-ddp-kill-'));
    try {
      const job = await flintRun(['--nproc', '2', '--timeout', '20', fixture('ddp-child'), 'kill', '4'], {
        FLINT_TEST_CHECKPOINT_DIR: checkpoints,
      });
      expect(job.timedOut).toBe(false);
      expect(job.code).not.toBe(0);
      const lines = jsonLines(job.stdout);
      expect(lines.some((l) => l.done === true)).toBe(false);
      expect(`${job.stdout}${job.stderr}`).toMatch(/rank 1[\s\S]*(signal 9|Killed)/);

      // Rank 0 wrote a checkpoint after every step; without rank 1 (killed after step 3) it cannot finish step 4.
      const completed = new Map(
        lines.filter((l) => 'completed' in l).map((l) => [l.completed as number, l.weights as Record<string, number[]>]),
      );
      expect(completed.size).toBeGreaterThan(0);
      const last = join(checkpoints, 'last.ckpt');
      expect(existsSync(last), `no last.ckpt among ${readdirSync(checkpoints).join(', ')}`).toBe(true);
      const read = await runNode(['--import', 'tsx', fixture('read-checkpoint'), last], JOB_MS);
      expect(read.code, read.stderr).toBe(0);
      const [loaded] = jsonLines(read.stdout);
      const step = loaded?.globalStep as number;
      expect(step).toBeGreaterThanOrEqual(1);
      expect(step).toBeLessThanOrEqual(3);
      // It holds exactly the weights rank 0 had when that step completed.
      const expected = completed.get(step);
      expect(expected, `step ${step} of last.ckpt is not a step rank 0 completed (${[...completed.keys()].join(', ')})`).toBeDefined();
      const weights = loaded?.weights as Record<string, number[]>;
      expect(Object.keys(weights).sort()).toEqual(['layer.bias', 'layer.weight']);
      for (const [name, values] of Object.entries(expected ?? {})) expect(weights[name]).toEqual(values);
    } finally {
      rmSync(checkpoints, { recursive: true, force: true });
    }
  });

  it('a rank that stops answering makes the others fail with a timeout error', async () => {
    const job = await flintRun(['--nproc', '2', '--timeout', '3', fixture('ddp-child'), 'hang', '4']);
    expect(job.timedOut).toBe(false);
    expect(job.code).not.toBe(0);
    expect(jsonLines(job.stdout).some((l) => l.done === true)).toBe(false);
    expect(job.stderr).toMatch(/DistributedError: MPI rank 0 of 2: .*timed out after 3 s waiting for the other ranks/);
  });
});

describe('the MPI transport without a launcher', () => {
  it('registers itself with distributed and reports whether it can run', () => {
    expect(distributed.registeredTransports()).toContain('mpi');
    const availability = distributed.transportAvailability('mpi');
    if (availability.available) expect(status.available).toBe(true);
    else expect(availability.reason).toMatch(/MPI is not installed: apt-get install libopenmpi-dev openmpi-bin|not built|failed to load/);
  });
});
