import '@flint/backend-cpu';
import { distributed, narrow, nn, type Tensor, tensor } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher is plain JavaScript, without declarations.
import { findMpirun } from '../bin/flint-run.mjs';
import { shard } from '../test-support/sync-batch-norm-child.test-support.js';
import { mpiProvider } from './index.js';
import { fixture, jsonLines, killAll, LAUNCHER, runNode } from './launch.test-support.js';

// nn.SyncBatchNorm over the job's group (distributed.init under flint-run, 2 ranks of Open MPI):
// each rank's output and input gradient are BatchNorm's over the two shards concatenated.

const status = mpiProvider.availability();
const mpirun = (findMpirun as () => string | undefined)();
const reason = !status.available ? status.reason : mpirun === undefined ? distributed.MPI_NOT_INSTALLED : undefined;
afterAll(killAll);

const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe.skipIf(reason !== undefined)('nn.SyncBatchNorm, 2 ranks on loopback', () => {
  it('equals BatchNorm over the concatenated batch: outputs, input gradients and running statistics', async () => {
    const job = await runNode([LAUNCHER, '--nproc', '2', '--timeout', '30', fixture('sync-batch-norm-child'), 'run'], 60_000);
    expect(job.code, job.stderr).toBe(0);
    const ranks = jsonLines(job.stdout).sort((a, b) => (a.rank as number) - (b.rank as number));
    expect(ranks.map((r) => r.rank)).toEqual([0, 1]);

    const whole = new nn.BatchNorm1d(2, { dtype: 'float64', momentum: 0.5 });
    const x = tensor([...shard(0, 'input'), ...shard(1, 'input')], { dtype: 'float64', shape: [6, 2, 4], requiresGrad: true });
    const output = whole.forward(x);
    const cotangent = tensor([...shard(0, 'cotangent'), ...shard(1, 'cotangent')], { dtype: 'float64', shape: [6, 2, 4] });
    output.mul(cotangent).sum().backward();
    for (const [rank, result] of ranks.entries()) {
      const rows = (t: Tensor): number[] => values(narrow(t, 0, 3 * rank, 3));
      const close = (actual: unknown, expected: number[]): void => {
        const a = actual as number[];
        expect(a).toHaveLength(expected.length);
        for (const [i, v] of a.entries()) expect(v).toBeCloseTo(expected[i] as number, 12);
      };
      close(result.output, rows(output));
      close(result.inputGradient, rows(x.grad as Tensor));
      close(result.runningMean, values(whole.runningMean));
      close(result.runningVar, values(whole.runningVar));
    }
  });
});
