// The emulation's NVRTC (native/emulation/nvrtc.cc) compiles each fused kernel with the host
// compiler, and most of such a compile is parsing emulated_device.h, so the emulation build
// precompiles that header (CMakeLists.txt, jit-pch/) with the flags the run-time command uses.
// GCC drops a precompiled header whose flags differ without a word, and the kernels still compile,
// three times slower: this checks that a fused kernel's compile really used it. Runs in the
// cuda-emulation project of vitest.config.ts; skipped with the reason elsewhere, and on a GPU
// (whose NVRTC is NVIDIA's).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jit, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { cudaUnavailable } from '../cuda-availability.test-support.js';

function unavailable(): string | undefined {
  if (process.env.FLINT_CUDA_ADDON?.includes('build-emulation')) return cudaUnavailable('emulated NVRTC tests');
  const reason = 'the emulated addon is not loaded (FLINT_CUDA_ADDON names no build-emulation addon)';
  console.log(`backend-cuda: emulated NVRTC tests skipped: ${reason}`);
  return reason;
}
const reason = unavailable();

describe.skipIf(reason !== undefined)('the emulated NVRTC', () => {
  it("compiles a fused kernel with the build's precompiled emulated_device.h", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flint-emulated-nvrtc-'));
    const trace = join(folder, 'includes.txt');
    const compiler = join(folder, 'traced-cxx');
    // -H lists each header the compile reads, a precompiled one marked with "!".
    writeFileSync(compiler, `#!/bin/sh\n${process.env.CXX || 'c++'} -H "$@" 2>>'${trace}'\n`, { mode: 0o755 });
    const previous = process.env.CXX;
    process.env.CXX = compiler;
    try {
      const inputs = [0.5, -1.25, 2, 3.5, -0.75, 1];
      const x = tensor(inputs, { shape: [2, 3], backend: 'cuda' });
      const fused = jit((t: Tensor) => t.mul(2.5).add(1).tanh().mul(t));
      const got = Array.from(await (fused(x) as Tensor).data());
      const expected = inputs.map((v) => Math.fround(Math.tanh(v * 2.5 + 1) * v));
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i] as number, 5);
    } finally {
      if (previous === undefined) delete process.env.CXX;
      else process.env.CXX = previous;
    }
    const included = readFileSync(trace, 'utf8');
    rmSync(folder, { recursive: true });
    expect(included, 'the compile read no header: did the fused kernel compile at all?').toMatch(/emulated_device\.h/);
    expect(included).toMatch(/^! \S*\/jit-pch\/emulated_device\.h\.gch$/m);
    // Nothing read the header's text: the system headers it includes came in with it.
    expect(included).not.toMatch(/^\.+ \S*native\/emulation\/emulated_device\.h$/m);
  });
});
