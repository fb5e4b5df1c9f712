// The emulation's NVRTC (native/emulation/nvrtc.cc) compiles each fused kernel with the host
// compiler, and most of such a compile is parsing emulated_device.h, so the emulation build
// precompiles that header (CMakeLists.txt, jit-pch/) with the flags the run-time command uses.
// GCC drops a precompiled header whose flags differ without a word, and the kernels still compile,
// three times slower: this checks that a fused kernel's compile really used it, and that a kernel
// compiled once (by any process of the build) is not compiled again. Runs in the cuda-emulation
// project of vitest.config.ts; skipped with the reason elsewhere, and on a GPU (whose NVRTC is
// NVIDIA's).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { jit, type Tensor, tensor } from '@flint/api';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cudaUnavailable } from '../cuda-availability.test-support.js';
import { DTYPE_CODES } from '../native/codes.js';
import { loadAddon } from '../native/load.js';

function unavailable(): string | undefined {
  if (process.env.FLINT_CUDA_ADDON?.includes('build-emulation')) return cudaUnavailable('emulated NVRTC tests');
  const reason = 'the emulated addon is not loaded (FLINT_CUDA_ADDON names no build-emulation addon)';
  console.log(`backend-cuda: emulated NVRTC tests skipped: ${reason}`);
  return reason;
}
const reason = unavailable();

/**
 * Runs `run` with $CXX set to a script in `folder` that calls the compiler with `flags`, appends a
 * line to runs.txt per compile and its stderr to stderr.txt.
 */
function withTracedCompiler<T>(folder: string, flags: string, run: () => T): T {
  const compiler = join(folder, 'traced-cxx');
  const script = `#!/bin/sh\necho compile >> '${join(folder, 'runs.txt')}'\n${process.env.CXX || 'c++'} ${flags} "$@" 2>>'${join(folder, 'stderr.txt')}'\n`;
  writeFileSync(compiler, script, { mode: 0o755 });
  const previous = process.env.CXX;
  process.env.CXX = compiler;
  try {
    return run();
  } finally {
    if (previous === undefined) delete process.env.CXX;
    else process.env.CXX = previous;
  }
}

/** How many compiles the traced compiler of `folder` ran. */
const compiles = (folder: string): number =>
  existsSync(join(folder, 'runs.txt')) ? readFileSync(join(folder, 'runs.txt'), 'utf8').split('\n').filter(Boolean).length : 0;

describe.skipIf(reason !== undefined)('the emulated NVRTC', () => {
  it("compiles a fused kernel with the build's precompiled emulated_device.h", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flint-emulated-nvrtc-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const inputs = [0.5, -1.25, 2, 3.5, -0.75, 1];
    // -H lists each header the compile reads, a precompiled one marked with "!". The compiler's
    // path is new on every run, so no library cached by an earlier one (named by the command)
    // serves. (Its library stays in the cache, a few KiB a run: other workers' kernels share its
    // name, so it cannot be told apart to remove.)
    const result = withTracedCompiler(folder, '-H', () => {
      const x = tensor(inputs, { shape: [2, 3], backend: 'cuda' });
      const fused = jit((t: Tensor) => t.mul(2.5).add(1).tanh().mul(t));
      return fused(x) as Tensor;
    });
    const got = Array.from(await result.data());
    const expected = inputs.map((v) => Math.fround(Math.tanh(v * 2.5 + 1) * v));
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i] as number, 5);
    const included = readFileSync(join(folder, 'stderr.txt'), 'utf8');
    expect(included, 'the compile read no header: did the fused kernel compile at all?').toMatch(/emulated_device\.h/);
    expect(included).toMatch(/^! \S*\/jit-pch\/emulated_device\.h\.gch$/m);
    // Nothing read the header's text: the system headers it includes came in with it.
    expect(included).not.toMatch(/^\.+ \S*native\/emulation\/emulated_device\.h$/m);
  });

  it("keeps each compiled kernel in the build's jit-cache/ and compiles a source only once", () => {
    tensor([1], { backend: 'cuda' }).dispose(); // starts the device
    const loaded = loadAddon();
    if ('reason' in loaded) throw new Error(loaded.reason);
    const addon = loaded.addon;
    const cache = join(dirname(dirname(process.env.FLINT_CUDA_ADDON as string)), 'jit-cache');
    // Only this test compiles kernels named `copied`, so it removes the ones it made.
    const libraries = () => (existsSync(cache) ? readdirSync(cache).filter((name) => /^copied-[0-9a-f]{16}\.so$/.test(name)) : []);
    const before = new Set(libraries());
    onTestFinished(() => {
      for (const name of libraries()) if (!before.has(name)) rmSync(join(cache, name), { force: true });
    });
    const folder = mkdtempSync(join(tmpdir(), 'flint-emulated-nvrtc-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const f32 = Int32Array.of(DTYPE_CODES.float32);
    // A source no earlier run compiled (the nonce), so that its first compile cannot be a hit.
    const nonce = `${process.pid}-${Date.now()}-${Math.random()}`;
    const source = (comment: string) => `// ${comment}
struct FlintJitParams { long long total; int rank; int shape[16]; long long strides[8][16]; long long offsets[8]; };
extern "C" __global__ void copied(FlintJitParams p, float* out0, const float* in0) {
  for (long long i = threadIdx.x; i < p.total; i += blockDim.x) out0[i] = in0[i];
}`;
    const compile = (text: string) => addon.jitCompile(text, 'copied', f32, f32, 0, 1, Int32Array.of(1), Int32Array.of(4));
    // The traced compiler's path stays the same within the test, so its command does too.
    const counted = withTracedCompiler(folder, '', () => {
      compile(source(nonce));
      const first = compiles(folder);
      compile(source(nonce));
      const second = compiles(folder);
      compile(source(`${nonce}, changed`));
      return [first, second, compiles(folder)];
    });
    expect(counted).toEqual([1, 1, 2]);
    expect(libraries().length).toBe(before.size + 2);
  });
});
