import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conv2d, type DType, matmul, random, slice, type Tensor, transpose } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { gemmThreadsStarted, setGemmThreading, threadedJobs } from '../kernels/gemm.js';

const uniform = (seed: number, shape: number[], dtype: DType = 'float32') =>
  random.uniform(random.key(seed), shape, { dtype, minval: -1, maxval: 1 });

/** `compute`'s result on one thread and on three (two workers), with every product threaded. */
async function singleAndThreaded(compute: () => Tensor): Promise<{ single: number[]; threaded: number[]; jobs: number }> {
  setGemmThreading(1);
  const single = Array.from(compute().dataSync());
  setGemmThreading(3, 1);
  expect(await gemmThreadsStarted()).toBe(2);
  const before = threadedJobs();
  const threaded = Array.from(compute().dataSync());
  return { single, threaded, jobs: threadedJobs() - before };
}

afterAll(() => setGemmThreading(undefined));

describe('threaded float gemm', () => {
  // Each thread runs the same micro-kernel over the same k-blocks in the same order, so the
  // threaded result equals the single-threaded one bit for bit.
  it('matches one thread on odd float32 sizes (257 x 63 @ 63 x 129)', async () => {
    const a = uniform(1, [257, 63]);
    const b = uniform(2, [63, 129]);
    const { single, threaded, jobs } = await singleAndThreaded(() => matmul(a, b));
    expect(jobs).toBe(1);
    expect(threaded).toEqual(single);
    expect(single.length).toBe(257 * 129);
  });

  it('matches one thread in float64, with k spanning several k-blocks (130 x 600 @ 600 x 37)', async () => {
    const a = uniform(3, [130, 600], 'float64');
    const b = uniform(4, [600, 37], 'float64');
    const { single, threaded, jobs } = await singleAndThreaded(() => matmul(a, b));
    expect(jobs).toBe(1);
    expect(threaded).toEqual(single);
  });

  it('matches one thread for a batch, one job per batch element', async () => {
    const a = uniform(5, [3, 65, 70]);
    const b = uniform(6, [3, 70, 33]);
    const { single, threaded, jobs } = await singleAndThreaded(() => matmul(a, b));
    expect(jobs).toBe(3);
    expect(threaded).toEqual(single);
  });

  it('matches one thread for a transposed A (copied raw, packed by each thread) and a strided A (packed up front)', async () => {
    const a = uniform(7, [90, 120]);
    const b = uniform(8, [90, 50]);
    const transposed = await singleAndThreaded(() => matmul(transpose(a), b));
    expect(transposed.jobs).toBe(1);
    expect(transposed.threaded).toEqual(transposed.single);
    const wide = uniform(9, [100, 200]);
    const strided = await singleAndThreaded(() => matmul(slice(wide, [0, 0], [100, 200], [1, 4]), uniform(10, [50, 40])));
    expect(strided.jobs).toBe(1);
    expect(strided.threaded).toEqual(strided.single);
  });

  it('matches one thread for a convolution (its gemm packs B from the image)', async () => {
    const x = uniform(11, [2, 5, 17, 19]);
    const w = uniform(12, [24, 5, 3, 3]);
    const { single, threaded, jobs } = await singleAndThreaded(() => conv2d(x, w, { padding: 1 }));
    expect(jobs).toBeGreaterThan(0);
    expect(threaded).toEqual(single);
  });

  it('stays single-threaded below the size threshold', async () => {
    setGemmThreading(3);
    expect(await gemmThreadsStarted()).toBe(2);
    const before = threadedJobs();
    matmul(uniform(13, [40, 40]), uniform(14, [40, 40])).dataSync();
    expect(threadedJobs()).toBe(before);
  });
});

describe('worker threads and the process', () => {
  const script = `
    import '@flint/backend-cpu';
    import { matmul, random } from '@flint/api';
    import { gemmThreadsStarted, threadedJobs } from './packages/backend-cpu/src/kernels/gemm.ts';
    const workers = await gemmThreadsStarted();
    const a = random.uniform(random.key(1), [384, 384]);
    const c = matmul(a, a).dataSync();
    console.log(JSON.stringify({ workers, jobs: threadedJobs(), finite: c.every(Number.isFinite) }));
  `;
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  // The child runs the sources, as vitest does: tsx maps the package names through tsconfig paths.
  const directory = mkdtempSync(join(tmpdir(), 'flint-threads-'));
  const tsconfig = join(directory, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        baseUrl: root,
        paths: { '@flint/api': ['packages/api/src/index.ts'], '@flint/backend-cpu': ['packages/backend-cpu/src/index.ts'] },
      },
    }),
  );
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const child = (env: Record<string, string>) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env },
      encoding: 'utf8',
      // A worker that kept the process alive would hit this guard instead of exiting.
      timeout: 50_000,
    });
    const last = result.stdout.trim().split('\n').at(-1) ?? '';
    return { status: result.status, signal: result.signal, stderr: result.stderr, output: last };
  };

  it('a program that ran a threaded matmul exits by itself', () => {
    const result = child({ FLINT_CPU_THREADS: '2' });
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.output)).toEqual({ workers: 1, jobs: 1, finite: true });
  });

  it('FLINT_CPU_THREADS=1 starts no worker', () => {
    const result = child({ FLINT_CPU_THREADS: '1' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.output)).toEqual({ workers: 0, jobs: 0, finite: true });
  });
});
