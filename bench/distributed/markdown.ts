// The Markdown report of bench/distributed/run.ts.
import type { AllReduceRow, CnnRow, Scaling } from './figures.js';

export interface Report {
  readonly date: string;
  readonly host: string;
  readonly quick: boolean;
  readonly machine: { readonly cpus: number; readonly model: string; readonly node: string };
  readonly mpi: string;
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly megabytes: number;
  readonly allReduce: readonly AllReduceRow[];
  readonly cnn: readonly CnnRow[];
  readonly scaling: readonly Scaling[];
  readonly skipped: readonly string[];
}

const ms = (seconds: number) => `${(seconds * 1e3).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function renderMarkdown(report: Report): string {
  const lines: string[] = [];
  lines.push(`# Distributed figures, ${report.date} on ${report.host}${report.quick ? ' (quick)' : ''}`, '');
  lines.push(
    `Machine: ${report.machine.cpus} CPUs (${report.machine.model}), Node ${report.machine.node}, ${report.mpi}. ` +
      `Load average (1 min) ${fixed(report.loadAverage.start)} at the start, ${fixed(report.loadAverage.end)} at the end: ` +
      'figures taken while other work runs are slower than the machine can do.',
    '',
    'Command: `pnpm exec tsx bench/distributed/run.ts` (see docs/distributed.md).',
    '',
  );
  lines.push('## All-reduce (sum) of float32, 2 local ranks', '');
  lines.push(
    "Time per call: the slowest rank's, median over the samples. Algorithm bandwidth = bytes / time; " +
      "bus bandwidth = algorithm bandwidth x 2(n-1)/n (nccl-tests' definitions). Ratio: the C program's " +
      "blocking MPI_Allreduce time over this row's (1 = as fast as plain MPI). The second size is the MNIST CNN's " +
      'gradients, the one bucket DDP reduces per step.',
  );
  for (const bytes of [...new Set(report.allReduce.map((r) => r.bytes))]) {
    const rows = report.allReduce.filter((r) => r.bytes === bytes);
    lines.push('', `### ${fixed(bytes / (1024 * 1024), bytes < 1024 * 1024 ? 3 : 0)} MB (${bytes} bytes)`, '');
    lines.push(
      '| system | median | min .. max | n | algbw GB/s | busbw GB/s | vs C MPI_Allreduce | correct |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const reference = rows.find((r) => r.system === 'c-mpi-blocking');
    for (const row of rows) {
      const ratio = reference === undefined ? 'n/a' : `${fixed(reference.medianSeconds / row.medianSeconds, 3)}x`;
      lines.push(
        `| ${row.system} | ${ms(row.medianSeconds)} | ${ms(Math.min(...row.seconds))} .. ${ms(Math.max(...row.seconds))} | ${row.seconds.length} | ${fixed(row.algorithmBandwidth, 3)} | ${fixed(row.busBandwidth, 3)} | ${ratio} | ${row.correct} |`,
      );
    }
  }
  lines.push(
    '',
    "Rows: `c-mpi-blocking` is MPI_Allreduce; `c-mpi-polled` is MPI_Iallreduce waited for as Flint's addon " +
      'waits (MPI_Test: 2000 spins, then sleeps doubling to 2 ms); `c-mpi-yield` the same with sched_yield instead ' +
      "of sleeping. `flint-allReduce` is `await distributed.allReduce(t, 'sum')` until the result is read, " +
      "`flint-allReduceSync` the synchronous form, `flint-transport` the MPI transport's in-place all-reduce of the host array.",
    '',
  );
  lines.push(`## MNIST CNN training step (examples/mnist/model.ts, crossEntropy, Adam)`, '');
  lines.push(
    'The machine has 2 cores: two ranks share them with their thread pools, so each rank runs with ' +
      "`FLINT_CPU_THREADS=1`, against one rank with 1 and with 2 threads. Time per step: the slowest rank's, " +
      'median; the DDP rows include the gradient all-reduce (DDPStrategy.syncGradients).',
    '',
  );
  lines.push(
    '| configuration | per-rank batch | global batch | median step | min .. max | samples/s |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const row of report.cnn) {
    lines.push(
      `| ${row.label} | ${row.perRankBatch} | ${row.ranks * row.perRankBatch} | ${ms(row.medianSeconds)} | ${ms(Math.min(...row.seconds))} .. ${ms(Math.max(...row.seconds))} | ${fixed(row.samplesPerSecond, 0)} |`,
    );
  }
  lines.push('', '| 2-rank run | against | speedup (samples/s) | efficiency |', '| --- | --- | --- | --- |');
  for (const s of report.scaling) lines.push(`| ${s.run} | ${s.baseline} | ${fixed(s.speedup)}x | ${fixed(s.efficiency * 100, 0)}% |`);
  if (report.skipped.length > 0) {
    lines.push('', '## Skipped', '');
    for (const reason of report.skipped) lines.push(`- ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}
