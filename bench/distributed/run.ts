// Distributed figures in one run (issue 11): the all-reduce of a float32 buffer between 2 local
// ranks, Flint's `distributed.allReduce` against a plain C MPI program, and the MNIST CNN step on
// 1 and 2 ranks. Writes <out>.json and <out>.md (default bench/results/<date>-<host>-distributed).
//
//   pnpm exec tsx bench/distributed/run.ts [--quick] [--out PREFIX]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AllReduceRow, allReduceRow, type CnnRow, cnnRow, median, scaling } from './figures.js';
import { renderMarkdown } from './markdown.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const LAUNCHER = join(ROOT, 'packages', 'distributed-mpi', 'bin', 'flint-run.mjs');
// flint-run's own mpirun arguments for one machine, so the C program runs over the same transports.
const LOCAL_MPI = [
  '--bind-to',
  'none',
  '--oversubscribe',
  '--host',
  'localhost:2',
  '--mca',
  'btl',
  'self,vader,tcp',
  '--mca',
  'btl_tcp_if_include',
  'lo',
  '--mca',
  'oob_tcp_if_include',
  'lo',
  '--mca',
  'btl_vader_single_copy_mechanism',
  'none',
  ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : []),
];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outIndex = argv.indexOf('--out');
const date = new Date().toISOString().slice(0, 10);
const host =
  os
    .hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-') || 'host';
const outPrefix =
  outIndex >= 0 && argv[outIndex + 1] !== undefined
    ? argv[outIndex + 1]!
    : quick
      ? join(HERE, '..', '.build', 'results', `${date}-${host}-distributed`)
      : join(HERE, '..', 'results', `${date}-${host}-distributed`);

const megabytes = quick ? 4 : 64;
const cIterations = quick ? 3 : 10;
const flintIterations = quick ? 2 : 5;
const batch = quick ? 8 : 64;
const cnnSteps = quick ? 3 : 20;
const cnnWarmup = quick ? 1 : 3;
// The MNIST CNN's parameters (conv 1->16, 16->32, 800->128, 128->10, with biases) as float32 MB.
const CNN_GRADIENT_MEGABYTES = ((16 * 9 + 16 + 32 * 16 * 9 + 32 + 800 * 128 + 128 + 128 * 10 + 10) * 4) / (1024 * 1024);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 600_000): Run {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return { code: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

function loadAverage(): number {
  return os.loadavg()[0] ?? Number.NaN;
}

const skipped: string[] = [];
const allReduce: AllReduceRow[] = [];
const loadAtStart = loadAverage();

// The plain C MPI program.
const mpicc = run('sh', ['-c', 'command -v mpicc']).stdout.trim();
const binary = join(ROOT, 'bench', '.build', 'distributed', 'allreduce');
let haveC = false;
if (mpicc === '') skipped.push('c-mpi: mpicc not found (apt-get install libopenmpi-dev openmpi-bin)');
else {
  mkdirSync(dirname(binary), { recursive: true });
  const build = run(mpicc, ['-O2', '-o', binary, join(HERE, 'allreduce.c')]);
  if (build.code !== 0) skipped.push(`c-mpi: mpicc failed: ${build.stderr.trim()}`);
  else haveC = true;
}
if (!existsSync(LAUNCHER)) skipped.push(`flint: ${LAUNCHER} is missing`);

// The 64 MB buffer, and one the size of the CNN's gradients (DDP's one bucket per step).
const sizes = [
  { megabytes, cIterations, flintIterations },
  { megabytes: CNN_GRADIENT_MEGABYTES, cIterations: 20, flintIterations: quick ? 3 : 10 },
];
for (const size of sizes) {
  console.log(`all-reduce of ${size.megabytes.toFixed(3)} MB float32 over 2 ranks (load average ${loadAverage().toFixed(2)})`);
  const mb = String(size.megabytes);
  if (haveC) {
    for (const wait of ['blocking', 'polled', 'yield']) {
      const job = run('mpirun', ['-np', '2', ...LOCAL_MPI, binary, mb, String(size.cIterations), '2', wait]);
      const line = jsonLines(job.stdout)[0];
      if (job.code !== 0 || line === undefined) skipped.push(`c-mpi-${wait} ${mb} MB: exit ${job.code}: ${job.stderr.trim().slice(-400)}`);
      else {
        allReduce.push(allReduceRow(line));
        console.log(`  ${line.system}: ${(median(line.seconds as number[]) * 1e3).toFixed(2)} ms`);
      }
    }
  }
  // Flint through flint-run.
  if (existsSync(LAUNCHER)) {
    const script = join(HERE, 'allreduce-rank.ts');
    const job = run('node', [LAUNCHER, '--nproc', '2', '--timeout', '600', script, mb, String(size.flintIterations), '1']);
    const lines = jsonLines(job.stdout);
    if (job.code !== 0 || lines.length === 0) skipped.push(`flint all-reduce ${mb} MB: exit ${job.code}: ${job.stderr.trim().slice(-400)}`);
    for (const line of lines) {
      allReduce.push(allReduceRow(line));
      console.log(`  ${line.system}: ${(median(line.seconds as number[]) * 1e3).toFixed(2)} ms`);
    }
  }
}

// The MNIST CNN step: 1 rank with 1 and 2 threads, 2 ranks of 1 thread each (the machine's 2
// cores are shared by the ranks and their thread pools) with the same global batch and with the
// same per-rank batch.
const cnn: CnnRow[] = [];
const cnnConfigs = [
  { label: '1 rank, 1 thread', ranks: 1, perRankBatch: batch, threads: '1' },
  { label: '1 rank, 2 threads', ranks: 1, perRankBatch: batch, threads: '2' },
  { label: '2 ranks x 1 thread, same global batch', ranks: 2, perRankBatch: batch / 2, threads: '1' },
  { label: '2 ranks x 1 thread, same per-rank batch', ranks: 2, perRankBatch: batch, threads: '1' },
] as const;
console.log(`MNIST CNN step, batch ${batch}`);
for (const config of cnnConfigs) {
  const script = [join(HERE, 'cnn-step-rank.ts'), String(config.perRankBatch), String(cnnSteps), String(cnnWarmup)];
  const args =
    config.ranks === 1 ? ['--import', 'tsx', ...script] : [LAUNCHER, '--nproc', String(config.ranks), '--timeout', '600', ...script];
  const job = run('node', args, { FLINT_CPU_THREADS: config.threads });
  const line = jsonLines(job.stdout)[0];
  if (job.code !== 0 || line === undefined) {
    skipped.push(`cnn ${config.label}: exit ${job.code}: ${job.stderr.trim().slice(-400)}`);
    continue;
  }
  const row = cnnRow(config.label, line);
  cnn.push(row);
  console.log(`  ${config.label}: ${(row.medianSeconds * 1e3).toFixed(1)} ms/step, ${row.samplesPerSecond.toFixed(0)} samples/s`);
}

const report = {
  date,
  host,
  quick,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
  mpi: run('mpirun', ['--version']).stdout.split('\n')[0] ?? '',
  loadAverage: { start: loadAtStart, end: loadAverage() },
  megabytes,
  allReduce,
  cnn,
  scaling: scaling(cnn),
  skipped,
};
mkdirSync(dirname(outPrefix), { recursive: true });
writeFileSync(`${outPrefix}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${outPrefix}.md`, renderMarkdown(report));
for (const reason of skipped) console.log(`skipped: ${reason}`);
console.log(`wrote ${relative(process.cwd(), outPrefix)}.md and .json`);
