// DDP on the 'cuda' backend with its gradients through NCCL: 2 ranks started by flint-run (Open
// MPI carries the NCCL id and the host-side collectives), each rank's device collectives going
// through the addon's NCCL code (native/nccl.cc, src/distributed/nccl.ts). On a GPU machine with
// two GPUs this runs on them; in the cuda-emulation project of vitest.config.ts it runs on the CPU
// emulation with its NCCL (native/emulation/nccl.cc, found through FLINT_CUDA_LIBRARY_PATH).
// Skipped with the reason where the backend, NCCL or Open MPI is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher is plain JavaScript, without declarations.
import { findMpirun } from '../../../distributed-mpi/bin/flint-run.mjs';
import { mpiProvider } from '../../../distributed-mpi/src/index.js';
import { fixture, jsonLines, killAll, LAUNCHER, runNode } from '../../../distributed-mpi/src/launch.test-support.js';
import { createCudaBackend } from '../index.js';
import { ncclAvailability } from './nccl.js';

const JOB_MS = 90_000;
const fixturePath = (name: string) => fileURLToPath(new URL(`./${name}.test-support.ts`, import.meta.url));
const ON_CUDA = { FLINT_TEST_BACKEND: 'cuda' };
afterAll(killAll);

function why(): string | undefined {
  let cuda: ReturnType<typeof createCudaBackend>;
  try {
    cuda = createCudaBackend();
  } catch (error) {
    return (error as Error).message;
  }
  const nccl = ncclAvailability(cuda.context.addon);
  if (!nccl.available) return `NCCL: ${nccl.reason}`;
  // NCCL takes one GPU per rank; the emulation's NCCL lets two processes share its one device.
  const emulated = cuda.info.name.startsWith('CPU emulation');
  if (!emulated && cuda.context.addon.probe().devices < 2) return 'two ranks need two GPUs (one found)';
  const mpi = mpiProvider.availability();
  if (!mpi.available) return mpi.reason;
  if ((findMpirun as () => string | undefined)() === undefined) return distributed.MPI_NOT_INSTALLED;
  if (!existsSync(LAUNCHER)) return `the launcher ${LAUNCHER} is missing`;
  return undefined;
}

const reason = why();
if (reason !== undefined) console.log(`backend-cuda: DDP over NCCL skipped: ${reason}`);

describe.skipIf(reason !== undefined)('DDP on cuda through NCCL, 2 ranks', () => {
  it('gives the losses and weights of one process with twice the batch, its gradients through NCCL', { timeout: 120_000 }, async () => {
    const [ddp, single] = await Promise.all([
      runNode([LAUNCHER, '--nproc', '2', '--timeout', '60', fixture('ddp-child'), 'ddp', '4'], JOB_MS, ON_CUDA),
      runNode(['--import', 'tsx', fixture('ddp-child'), 'single', '8'], JOB_MS),
    ]);
    expect(ddp.timedOut).toBe(false);
    expect(ddp.code, `${ddp.stdout.slice(-1500)}\n${ddp.stderr.slice(-3000)}`).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    const reference = jsonLines(single.stdout).filter((l) => 'step' in l);
    expect(reference).toHaveLength(8);
    const lines = jsonLines(ddp.stdout);
    const done = lines.filter((l) => l.done === true);
    expect(done.map((d) => d.rank).sort()).toEqual([0, 1]);
    expect(done.map((d) => d.backend)).toEqual(['cuda', 'cuda']);
    // Both ranks joined an NCCL communicator of 2 (the device collectives, not the host fallback).
    expect(done.map((d) => d.nccl)).toEqual([
      { initialized: true, worldSize: 2 },
      { initialized: true, worldSize: 2 },
    ]);
    for (const l of reference) {
      const both = lines.filter((line) => line.step === l.step).map((line) => line.loss as number);
      expect(both).toHaveLength(2);
      for (const loss of both) expect(loss).toBeCloseTo(l.loss as number, 5);
    }
    const referenceWeights = (jsonLines(single.stdout).find((l) => l.done === true)?.weights ?? {}) as Record<string, number[]>;
    for (const d of done) {
      for (const [name, values] of Object.entries(referenceWeights)) {
        const weights = (d.weights as Record<string, number[]>)[name] ?? [];
        expect(weights).toHaveLength(values.length);
        for (const [i, v] of values.entries()) expect(weights[i]).toBeCloseTo(v, 5);
      }
    }
  });

  it('a rank killed mid-run fails the job instead of hanging it', { timeout: 120_000 }, async () => {
    const job = await runNode([LAUNCHER, '--nproc', '2', '--timeout', '20', fixture('ddp-child'), 'kill', '4'], JOB_MS, ON_CUDA);
    expect(job.timedOut).toBe(false);
    expect(job.code).not.toBe(0);
    expect(jsonLines(job.stdout).some((l) => l.done === true)).toBe(false);
    expect(`${job.stdout}${job.stderr}`).toMatch(/rank 1[\s\S]*(signal 9|Killed)/);
  });

  // mpirun ends the whole job when a rank dies, so the job above cannot show what NCCL reports:
  // here two processes share a communicator without MPI, rank 1 leaves, and rank 0's all-reduce fails.
  it('a collective whose peer has gone fails with NCCL’s error naming the call, instead of hanging', { timeout: 120_000 }, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flint-nccl-peer-'));
    const idFile = join(folder, 'id');
    const peer = fixturePath('nccl-peer');
    const [zero, one] = await Promise.all([
      runNode(['--import', 'tsx', peer, '0', idFile], JOB_MS),
      runNode(['--import', 'tsx', peer, '1', idFile], JOB_MS),
    ]);
    rmSync(folder, { recursive: true, force: true });
    expect(one.code, one.stderr).toBe(0);
    expect(jsonLines(one.stdout)).toEqual([{ rank: 1, joined: true }]);
    expect(zero.timedOut).toBe(false);
    expect(zero.code, zero.stderr).toBe(0);
    const [result] = jsonLines(zero.stdout);
    expect(result?.error).toMatch(/DistributedError: NCCL rank 0 of 2: ncclAllReduce: .*remote process exited/);
  });
});
