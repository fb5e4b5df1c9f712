// The CPU emulation that runs the addon's kernels on machines without a GPU (native/emulation/,
// scripts/build-emulation.mjs; the cuda-emulation project of vitest.config.ts runs the conformance
// tables and the GPU checks on it). Here: the launch rewriting, and the grid's rules, checked with
// the kernels of emulation-grid.test.cu compiled by the host compiler: values that follow CUDA's
// (block reductions, every shuffle, 2-D grids), shared memory that reads as garbage until written,
// and the failures a GPU would hang on or refuse (threads that can never meet at a barrier, a
// shuffle naming a finished or missing lane, a bad launch geometry, copies outside an allocation),
// reported instead of hanging or passing silently.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { toolkitInclude } from '../../scripts/build-emulation.mjs';
import { emulationSource } from '../../scripts/emulation-source.mjs';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));

describe('emulationSource', () => {
  it('turns each launch into a flint_emu::launch call with the kernel, its arguments and its geometry', () => {
    const source = 'void f() {\n  kernel<T, 4><<<blocksFor(n), kBlock, 0, stream>>>(out,\n      a, g(b, c));\n  x<<<1, 32>>>(y);\n}\n';
    const out = emulationSource(source, '/p/k.cu');
    expect(out).toBe(
      '#line 1 "/p/k.cu"\nvoid f() {\n  ::flint_emu::launch("kernel<T, 4>", [=]() { kernel<T, 4>(out,\n      a, g(b, c)); }, blocksFor(n), kBlock, 0, stream);\n  ::flint_emu::launch("x", [=]() { x(y); }, 1, 32);\n}\n',
    );
    // The lines after the directive are the source's, one for one (compiler messages point into the .cu file).
    expect(out.split('\n').length - 1).toBe(source.split('\n').length);
  });

  it('registers each __shared__ array on the line that declares it', () => {
    expect(emulationSource('  __shared__ T tile[16][65];\n', 'k.cu')).toBe(
      '#line 1 "k.cu"\n  __shared__ T tile[16][65]; static ::flint_emu::SharedArray tileFlintEmuShared(&tile, sizeof(tile));\n',
    );
  });

  it('names what is malformed', () => {
    expect(() => emulationSource('k<<<1, 2>>> ;', 'a.cu')).toThrow(/a\.cu: no argument list after >>>/);
    expect(() => emulationSource('k<<<1, 2>>>(a, (b);', 'a.cu')).toThrow(/unclosed argument list/);
  });
});

const toolkit = toolkitInclude();
const compilerFound = (() => {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const missing = toolkit === null ? "the CUDA toolkit's headers" : !compilerFound ? 'g++' : null;
if (missing !== null) console.log(`backend-cuda: the emulated grid's checks are skipped: ${missing} not found`);

describe.skipIf(missing !== null)('the emulated grid', () => {
  const results = new Map<string, { lines: Map<string, string>; stderr: string }>();
  let folder = '';
  afterAll(() => {
    if (folder !== '') rmSync(folder, { recursive: true, force: true });
  });
  /** Builds the test program once, then runs it once per schedule (FLINT_CUDA_EMULATION_SCHEDULE). */
  const run = (schedule = 'forward') => {
    const known = results.get(schedule);
    if (known !== undefined) return known;
    const binary = folder === '' ? build() : join(folder, 'grid-test');
    const stdoutPath = join(folder, `stdout-${results.size}.txt`);
    const stderrPath = join(folder, `stderr-${results.size}.txt`);
    execFileSync('sh', ['-c', `"${binary}" > "${stdoutPath}" 2> "${stderrPath}"`], {
      env: { ...process.env, FLINT_CUDA_EMULATION_SCHEDULE: schedule },
    });
    const lines = new Map<string, string>();
    for (const line of readFileSync(stdoutPath, 'utf8').trim().split('\n')) {
      const space = line.indexOf(' ');
      const [check, rest] = [line.slice(0, space), line.slice(space + 1)];
      lines.set(rest.startsWith('values ') ? `${check} values` : check, rest.replace(/^values /, ''));
    }
    const result = { lines, stderr: readFileSync(stderrPath, 'utf8') };
    results.set(schedule, result);
    return result;
  };
  /** Compiles emulation-grid.test.cu with the emulation's grid and runtime into a program in `folder`. */
  const build = () => {
    folder = mkdtempSync(join(tmpdir(), 'flint-cuda-emulation-'));
    const input = fileURLToPath(new URL('./emulation-grid.test.cu', import.meta.url));
    const source = join(folder, 'grid-test.cc');
    writeFileSync(source, emulationSource(readFileSync(input, 'utf8'), input));
    const binary = join(folder, 'grid-test');
    const emulation = join(PACKAGE, 'native', 'emulation');
    execFileSync(
      'g++',
      [
        '-std=c++17',
        '-O1',
        '-I',
        emulation,
        '-I',
        toolkit?.include ?? '',
        '-o',
        binary,
        source,
        join(emulation, 'grid.cc'),
        join(emulation, 'runtime.cc'),
      ],
      { stdio: 'pipe' },
    );
    return binary;
  };
  const numbers = (check: string, schedule?: string) => (run(schedule).lines.get(`${check} values`) ?? '').split(' ').map(Number);
  /** Each global thread's [first, second] ticket from the `tickets` kernel (2 blocks of 64 threads). */
  const tickets = (schedule: string) => {
    const values = numbers('tickets', schedule);
    return Array.from({ length: 128 }, (_, t) => [values[2 * t] as number, values[2 * t + 1] as number]);
  };

  it('a block reduction over shuffles and shared memory gives each block its sum', () => {
    expect(run().lines.get('blockSum')).toBe('cudaSuccess');
    const values = Array.from({ length: 3000 }, (_, i) => (i % 97) - 40);
    const sums = [0, 1, 2].map((b) => values.slice(b * 1000, b * 1000 + 1000).reduce((a, v) => a + v, 0));
    expect(numbers('blockSum')).toEqual(sums);
  });

  it('shuffles read the lanes CUDA names, and a lane out of range reads its own value', () => {
    const lanes = Array.from({ length: 32 }, (_, i) => i);
    const width8Down = lanes.map((l) => ((l % 8) + 1 < 8 ? l + 1 : l));
    const ballot = lanes.reduce((bits, l) => (l % 3 === 0 ? bits | (1 << l) : bits), 0);
    expect(numbers('shuffles')).toEqual([
      ...lanes.map((l) => (l + 5 < 32 ? l + 5 : l)),
      ...lanes.map((l) => (l >= 3 ? l - 3 : l)),
      ...lanes.map((l) => l ^ 6),
      ...lanes.map(() => 7),
      ...width8Down,
      ...lanes.map(() => ballot | 0),
    ]);
  });

  it('2-D grids of 2-D blocks see their coordinates', () => {
    expect(numbers('coordinates')).toEqual(Array.from({ length: 120 }, (_, i) => Math.floor(i / 12) * 1000 + (i % 12)));
  });

  it('threads that can never meet fail the launch with a report naming the kernel and the waits, and the next launch runs', () => {
    expect(run().lines.get('divergentBarrier')).toBe('cudaErrorLaunchFailure');
    expect(run().stderr).toContain(
      'kernel divergentBarrier, block (0, 0, 0): no thread can go on: threads 0-15 at a warp shuffle, 16-31 at __syncthreads',
    );
    expect(run().lines.get('afterFailure')).toBe('cudaSuccess');
  });

  it('shared memory a block never wrote reads as 0xff bytes, in the first block and after another block wrote it', () => {
    expect(run().lines.get('uninitializedShared')).toBe('cudaSuccess');
    expect(numbers('uninitializedShared')).toEqual([...Array(32).fill(-1), ...Array(32).fill(7), ...Array(32).fill(-1)]);
  });

  it('a full-mask shuffle in a partial warp fails the launch', () => {
    expect(run().lines.get('maskPastPartialWarp')).toBe('cudaErrorLaunchFailure');
    expect(run().stderr).toContain('mask names lanes past the last thread of warp 0 (20 threads)');
  });

  it('a full-mask shuffle after some lanes finished fails the launch', () => {
    expect(run().lines.get('shuffleAfterExit')).toBe('cudaErrorLaunchFailure');
    expect(run().stderr).toContain("a warp shuffle's mask names lane 16 of warp 0, which has finished");
  });

  it("by default runs a block's threads in ascending order, each up to its next barrier, and blocks one after another", () => {
    expect(run().lines.get('tickets')).toBe('cudaSuccess');
    // Block 0's threads take tickets 0-63, wait at the shuffle, then take 64-127; block 1 follows.
    expect(tickets('forward')).toEqual(Array.from({ length: 128 }, (_, t) => [(t >> 6) * 128 + (t % 64), (t >> 6) * 128 + 64 + (t % 64)]));
  });

  it('FLINT_CUDA_EMULATION_SCHEDULE=reverse runs threads and blocks in descending order', () => {
    expect(tickets('reverse')).toEqual(
      Array.from({ length: 128 }, (_, t) => [(1 - (t >> 6)) * 128 + 63 - (t % 64), (1 - (t >> 6)) * 128 + 64 + 63 - (t % 64)]),
    );
  });

  it('shuffle:<seed> runs them in an order that changes with the seed and repeats with it', () => {
    const [a, again, b] = [tickets('shuffle:1'), tickets('shuffle:1'), tickets('shuffle:2')];
    expect(a).toEqual(again);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(tickets('forward'));
    // Still a schedule: every ticket once, and a thread's second after its warp's first ones.
    expect(a.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    for (let warp = 0; warp < 4; warp++) {
      const lanes = a.slice(warp * 32, warp * 32 + 32);
      expect(Math.min(...lanes.map(([, second]) => second as number))).toBeGreaterThan(
        Math.max(...lanes.map(([first]) => first as number)),
      );
    }
  });

  it('",warps" lets each warp run ahead of the next: its shuffles open without waiting for the other warps', () => {
    expect(tickets('forward,warps')).toEqual(
      Array.from({ length: 128 }, (_, t) => [(t >> 5) * 64 + (t % 32), (t >> 5) * 64 + 32 + (t % 32)]),
    );
  });

  it('a write-after-read race on reused shared memory passes in the default order and fails with ",warps"', () => {
    const right = Array.from({ length: 128 }, () => [128, 256]).flat();
    expect(numbers('reusedPartials', 'forward')).toEqual(right);
    // Warp 0 writes the second sum's partial before warps 1-3 have read the first sum.
    expect(numbers('reusedPartials', 'forward,warps')).not.toEqual(right);
    expect(numbers('reusedPartials', 'reverse,warps')).not.toEqual(right);
  });

  it('an unknown schedule stops the program, naming the variable and what it takes', () => {
    expect(() => run('backwards')).toThrow();
    const stderr = readFileSync(join(folder, `stderr-${results.size}.txt`), 'utf8');
    expect(stderr).toContain(
      'FLINT_CUDA_EMULATION_SCHEDULE=backwards: expected forward, reverse or shuffle[:seed], optionally followed by ,warps',
    );
  });

  it('refuses what the runtime refuses: a block of 2048 threads, copies outside an allocation, a second free', () => {
    const { lines } = run();
    expect(lines.get('tooManyThreads')).toBe('cudaErrorInvalidConfiguration');
    expect(lines.get('errorIsCleared')).toBe('cudaSuccess');
    expect(lines.get('copyPastTheEnd')).toBe('cudaErrorInvalidValue');
    expect(lines.get('copyFromHost')).toBe('cudaErrorInvalidValue');
    expect(lines.get('freeTwice')).toBe('cudaErrorInvalidValue');
  });
});
