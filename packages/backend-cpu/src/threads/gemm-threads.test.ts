import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concat, conv1d, conv2d, type DType, matmul, random, slice, type Tensor, type TypedArray, transpose, vjp } from '@flint/api';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import {
  gemmPoolBytes,
  gemmThreadsStarted,
  setGemmThreading,
  threadedAGatherJobs,
  threadedJobs,
  threadedPatchJobs,
  threadedRawACopies,
} from '../kernels/gemm.js';

const uniform = (seed: number, shape: number[], dtype: DType = 'float32') =>
  random.uniform(random.key(seed), shape, { dtype, minval: -1, maxval: 1 });

/**
 * `compute`'s result on one thread and on three (two workers), with every product threaded that
 * the WebAssembly kernel computes (16384 multiply-adds or more; smaller ones run a JavaScript
 * kernel that sums in another order), and the jobs the threads ran (of them, `aGathers` packing a
 * strided A up front, `patchJobs` packing
 * convolution patches). A job that fails retires the pool and its product is recomputed on one
 * thread, which would match trivially: the pool must still be running afterwards.
 */
async function singleAndThreaded(
  compute: () => Tensor,
): Promise<{ single: TypedArray; threaded: TypedArray; jobs: number; patchJobs: number; aGathers: number }> {
  setGemmThreading(1);
  const single = compute().dataSync();
  setGemmThreading(3, 1);
  expect(await gemmThreadsStarted()).toBe(2);
  const before = threadedJobs();
  const patchesBefore = threadedPatchJobs();
  const gathersBefore = threadedAGatherJobs();
  const threaded = compute().dataSync();
  expect(await gemmThreadsStarted(), 'the pool retired during the threaded run').toBe(2);
  return {
    single,
    threaded,
    jobs: threadedJobs() - before,
    patchJobs: threadedPatchJobs() - patchesBefore,
    aGathers: threadedAGatherJobs() - gathersBefore,
  };
}

afterAll(() => setGemmThreading(undefined));

describe('threaded float gemm', () => {
  // Each thread runs the same micro-kernel over the same k-blocks in the same order, so the
  // threaded result equals the single-threaded one bit for bit.
  it('matches one thread on odd float32 sizes (257 x 63 @ 63 x 129)', async () => {
    const a = uniform(1, [257, 63]);
    const b = uniform(2, [63, 129]);
    // Several column tasks per row block, and B too wide for a gather job: A is packed here.
    const { single, threaded, jobs, aGathers } = await singleAndThreaded(() => matmul(a, b));
    expect([jobs, aGathers]).toEqual([1, 0]);
    expect(threaded).toEqual(single);
    expect(single.length).toBe(257 * 129);
  });

  it('matches one thread in float64, with k spanning several k-blocks (130 x 600 @ 600 x 37)', async () => {
    const a = uniform(3, [130, 600], 'float64');
    const b = uniform(4, [600, 37], 'float64');
    // B 37 columns narrow, several column tasks: the threads gather A's panels, then multiply.
    const { single, threaded, jobs, aGathers } = await singleAndThreaded(() => matmul(a, b));
    expect([jobs, aGathers]).toEqual([2, 1]);
    expect(threaded).toEqual(single);
  });

  it('matches one thread for a batch: one job, a product per task', async () => {
    const a = uniform(5, [3, 65, 70]);
    const b = uniform(6, [3, 70, 33]);
    const { single, threaded, jobs } = await singleAndThreaded(() => matmul(a, b));
    expect(jobs).toBe(1);
    expect(threaded).toEqual(single);
  });

  it('matches one thread for attention heads read in place (batch axes that do not merge), in float32 and float64, k over several k-blocks', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      // [batch, tokens, heads * depth] split into heads: [batch, heads, tokens, depth] at strides
      // [tokens * heads * depth, depth, heads * depth, 1], and keys transposed on top.
      const heads = (seed: number, depth: number) =>
        transpose(uniform(seed, [2, 37, 3 * depth], dtype).reshape([2, 37, 3, depth]), [0, 2, 1, 3]);
      const q = heads(15, 300);
      const k = heads(16, 300);
      const scores = await singleAndThreaded(() => matmul(q, transpose(k, [0, 1, 3, 2])));
      expect(scores.jobs, dtype).toBe(1);
      expect(scores.threaded, dtype).toEqual(scores.single);
      expect(scores.single.length).toBe(2 * 3 * 37 * 37);
      // And both against a plain loop over the views' values, row-major.
      const qv = q.dataSync();
      const kv = k.dataSync();
      let worst = 0;
      for (let h = 0; h < 6; h++) {
        for (let i = 0; i < 37; i++) {
          for (let j = 0; j < 37; j++) {
            let sum = 0;
            for (let d = 0; d < 300; d++) sum += (qv[(h * 37 + i) * 300 + d] as number) * (kv[(h * 37 + j) * 300 + d] as number);
            worst = Math.max(worst, Math.abs((scores.single[(h * 37 + i) * 37 + j] as number) - sum));
          }
        }
      }
      expect(worst, dtype).toBeLessThan(dtype === 'float32' ? 1e-4 : 1e-12);
      const v = heads(17, 19);
      const context = await singleAndThreaded(() => matmul(uniform(18, [2, 3, 37, 37], dtype), v));
      expect(context.jobs, dtype).toBe(1);
      expect(context.threaded, dtype).toEqual(context.single);
    }
  });

  it('matches one thread for an operand broadcast over the batch, and for a sparse view left to the products one by one', async () => {
    const a = uniform(19, [5, 40, 30]);
    const w = uniform(20, [30, 21]).broadcastTo([5, 30, 21]);
    const broadcast = await singleAndThreaded(() => matmul(a, w));
    expect(broadcast.jobs).toBe(1);
    expect(broadcast.threaded).toEqual(broadcast.single);
    // Every 8th column of a wide array: its span is 8 times what it reads, too much to copy whole.
    const wide = uniform(21, [4, 40, 240]);
    const sparse = await singleAndThreaded(() => matmul(slice(wide, [0, 0, 0], [4, 40, 240], [1, 1, 8]), uniform(22, [4, 30, 20])));
    expect(sparse.jobs).toBe(4);
    expect(sparse.threaded).toEqual(sparse.single);
  });

  it('matches one thread for a transposed A, copied raw (one column task per row block) or gathered up front by the threads (several), and a sparse strided A (packed up front here)', async () => {
    const a = uniform(7, [90, 120]);
    /** `b`'s product with A transposed, and whether the threads packed A from a raw copy. */
    const transposedTimes = async (b: Tensor) => {
      const rawBefore = threadedRawACopies();
      const result = await singleAndThreaded(() => matmul(transpose(a), b));
      return { ...result, raw: threadedRawACopies() - rawBefore };
    };
    // One panel of B columns: each row block is one task, which packs its A rows itself.
    const narrow = await transposedTimes(uniform(8, [90, 8]));
    expect([narrow.jobs, narrow.raw]).toEqual([1, 1]);
    expect(narrow.threaded).toEqual(narrow.single);
    // Several column tasks per row block: A is packed once, up front, by the threads' gather.
    const wideB = await transposedTimes(uniform(8, [90, 50]));
    expect([wideB.jobs, wideB.raw, wideB.aGathers]).toEqual([2, 0, 1]);
    expect(wideB.threaded).toEqual(wideB.single);
    // Every 4th column: a span four times what A reads, packed by this thread from the view.
    const wide = uniform(9, [100, 200]);
    const strided = await singleAndThreaded(() => matmul(slice(wide, [0, 0], [100, 200], [1, 4]), uniform(10, [50, 40])));
    expect([strided.jobs, strided.aGathers]).toEqual([1, 0]);
    expect(strided.threaded).toEqual(strided.single);
  });

  it('matches one thread for a convolution (the threads pack its patches as B, then multiply)', async () => {
    const x = uniform(11, [2, 5, 17, 19]);
    const w = uniform(12, [24, 5, 3, 3]);
    const { single, threaded, jobs, patchJobs, aGathers } = await singleAndThreaded(() => conv2d(x, w, { padding: 1 }));
    expect([jobs, patchJobs, aGathers]).toEqual([2, 1, 0]);
    expect(threaded).toEqual(single);
    // A strided 1x1 convolution reading a sliver of a large input: this thread packs its patches.
    const sparse = await singleAndThreaded(() => conv2d(uniform(13, [1, 64, 64, 64]), uniform(14, [8, 64, 1, 1]), { stride: 5 }));
    expect([sparse.jobs, sparse.patchJobs, sparse.aGathers]).toEqual([1, 0, 0]);
    expect(sparse.threaded).toEqual(sparse.single);
  });

  it('matches one thread for a float64 input gradient over several k-blocks: a dilated, padded copy of the cotangent, the filter flipped', async () => {
    // The input gradient is a convolution of the stride-2 cotangent (dilated and padded into a
    // copy) with the flipped, transposed filter: 40 channels x 9 taps = 360 patch rows, two k-blocks.
    const x = uniform(21, [2, 8, 13, 12], 'float64');
    const w = uniform(22, [40, 8, 3, 3], 'float64');
    const g = uniform(23, [2, 40, 7, 6], 'float64');
    const [, pullback] = vjp((a: Tensor) => conv2d(a, w, { stride: 2, padding: 1 }), x);
    const { single, threaded, jobs, patchJobs, aGathers } = await singleAndThreaded(() => pullback(g)[0] as Tensor);
    expect([jobs, patchJobs, aGathers]).toEqual([2, 1, 0]);
    expect(threaded).toEqual(single);
  });

  it('matches one thread for a first layer filter gradient: A deep (the transposed cotangent, copied contiguous), gathered by the threads for a B of 9 columns', async () => {
    const x = uniform(26, [6, 1, 20, 20]);
    const w = uniform(27, [8, 1, 3, 3]);
    const g = uniform(28, [6, 8, 20, 20]);
    const [, pullback] = vjp((b: Tensor) => conv2d(x, b, { padding: 1 }), w);
    const { single, threaded, jobs, patchJobs, aGathers } = await singleAndThreaded(() => pullback(g)[0] as Tensor);
    expect([jobs, patchJobs, aGathers]).toEqual([3, 1, 1]);
    expect(threaded).toEqual(single);
  });

  it('bounds the pool memory a convolution stages by its patches and output together: chunks of columns, each its own patch and gemm jobs', async () => {
    // A 1x1 convolution to 512 channels: 16 patch rows and 512 output rows per column, 2^23
    // elements (32 MiB) for 15880 columns, so its 32768 columns take three equal chunks of
    // 10928; by patches alone it took one, and the pool grew by a copy of its whole 64 MiB output.
    const x = uniform(24, [8, 16, 64, 64]);
    const w = uniform(25, [512, 16, 1, 1]);
    const { single, threaded, jobs, patchJobs, aGathers } = await singleAndThreaded(() => conv2d(x, w));
    expect([jobs, patchJobs, aGathers]).toEqual([6, 3, 0]);
    // (toEqual over 16M elements takes minutes.)
    expect(threaded.length).toBe(single.length);
    expect((threaded as Float32Array).findIndex((v, i) => !Object.is(v, single[i]))).toBe(-1);
    expect(gemmPoolBytes()).toBeGreaterThan(16 * 2 ** 20);
    expect(gemmPoolBytes()).toBeLessThan(40 * 2 ** 20);
  });

  it('matches one thread for convolutions and both their gradients: padding, strides, dilation, groups, float64, a transposed input', async () => {
    const convCase = fc.record({
      rank: fc.integer({ min: 1, max: 2 }),
      batch: fc.integer({ min: 1, max: 4 }),
      groups: fc.integer({ min: 1, max: 2 }),
      inPerGroup: fc.integer({ min: 2, max: 8 }),
      outPerGroup: fc.integer({ min: 4, max: 16 }),
      size: fc.integer({ min: 8, max: 20 }),
      kernel: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      padding: fc.integer({ min: 0, max: 2 }),
      dtype: fc.constantFrom<DType>('float32', 'float64'),
      channelsLast: fc.boolean(),
      seed: fc.integer({ min: 1, max: 10_000 }),
    });
    let casesWithPatchJobs = 0;
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        // A 1-d input as long as a 2-d one is large, for products of the same sizes.
        const spatial = c.rank === 1 ? [c.size * 8] : [c.size, c.size];
        const channels = c.groups * c.inPerGroup;
        // Channels last, viewed as [N, C, ...]: the patches' source is strided storage, not a copy.
        const x = c.channelsLast
          ? transpose(uniform(c.seed, [c.batch, ...spatial, channels], c.dtype), [0, c.rank + 1, ...spatial.map((_, i) => i + 1)])
          : uniform(c.seed, [c.batch, channels, ...spatial], c.dtype);
        const w = uniform(c.seed + 1, [c.groups * c.outPerGroup, c.inPerGroup, ...spatial.map(() => c.kernel)], c.dtype);
        const options = { stride: c.stride, dilation: c.dilation, padding: c.padding, groups: c.groups };
        const conv = (a: Tensor, b: Tensor) => (c.rank === 1 ? conv1d(a, b, options) : conv2d(a, b, options));
        const { single, threaded, patchJobs } = await singleAndThreaded(() => {
          const [y, pullback] = vjp(conv, x, w);
          const [gx, gw] = pullback(uniform(c.seed + 2, [...y.shape], c.dtype)) as Tensor[];
          return concat([y.reshape([-1]), (gx as Tensor).reshape([-1]), (gw as Tensor).reshape([-1])]);
        });
        expect(threaded).toEqual(single);
        // The forward product, [outPerGroup, patch rows] x [patch rows, columns]: the threads
        // pack its patches when it is threaded and they are dense enough in its input, as they
        // always are at stride 1 (from stride 3 a 1x1 kernel's sparse grid is left to this thread).
        const window = c.dilation * (c.kernel - 1) + 1;
        const outSize = spatial.reduce((p, s) => p * (Math.floor((s + 2 * c.padding - window) / c.stride) + 1), 1);
        const forward = c.outPerGroup * c.batch * outSize * c.inPerGroup * c.kernel ** c.rank;
        if (c.stride === 1 && forward >= 16384) expect(patchJobs, 'the forward product ran on one thread').toBeGreaterThan(0);
        if (patchJobs > 0) casesWithPatchJobs++;
      }),
      { numRuns: 20 },
    );
    // About half the cases reach the threads with a product or a gradient's (12 of 20 in one run).
    expect(casesWithPatchJobs, 'no case packed patches on the threads').toBeGreaterThan(0);
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
