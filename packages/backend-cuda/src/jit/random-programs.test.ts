// Random programs traced by jit on the CUDA backend: every fused kernel NVRTC compiles must agree
// with eager evaluation, op by op. Needs the backend and NVRTC: on a GPU with NVRTC, or on the
// CPU emulation (the cuda-emulation project of vitest.config.ts), whose NVRTC is the host
// compiler; skipped with the reason elsewhere.
import { jit, type Tensor, tensor } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { programForTest, stepArbitrary } from '../../../../test/support/random-programs.test-support.js';
import type { CudaBackend } from '../backend.js';
import { createCudaBackend } from '../index.js';

let cuda: CudaBackend | null = null;
let reason = '';
try {
  cuda = createCudaBackend();
  const nvrtc = cuda.libraries().nvrtc;
  if (!nvrtc.found) {
    reason = `NVRTC is not available: ${nvrtc.reason ?? 'not found'}`;
    cuda = null;
  }
} catch (error) {
  reason = (error as Error).message;
}
if (cuda === null) console.log(`backend-cuda: jit random-program tests skipped: ${reason}`);

async function close(a: readonly Tensor[], b: readonly Tensor[], tolerance = 1e-5): Promise<boolean> {
  for (let i = 0; i < a.length; i++) {
    const x = await (a[i] as Tensor).data();
    const y = await (b[i] as Tensor).data();
    for (let k = 0; k < y.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : !(p === q || Math.abs(p - q) <= tolerance * Math.max(1, Math.abs(q)))) return false;
    }
  }
  return true;
}

/** Deterministic values in [-1.5, 1.5] from a seed. */
function data(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 1.5);
}

describe.skipIf(cuda === null)('random programs on cuda: jit agrees with eager', () => {
  it('float32 programs', async () => {
    const before = (cuda as CudaBackend).deviceMemory();
    let compiled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary({ select: true, infinity: true }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(1, 3, 33),
        fc.nat(1000),
        async (steps, n, seed) => {
          const make = (shape: number[], s: number) =>
            tensor(
              data(
                shape.reduce((p, q) => p * q, 1),
                seed + s,
              ),
              { shape, backend: 'cuda' },
            );
          const x = make([n, n], 1);
          const y = make([n, n], 2);
          const row = make([n], 3);
          const w = make([n, n], 4).mul(0.5);
          const f = programForTest(steps);
          const jitted = jit(f);
          compiled += jitted.lower(x, y, row, w).compiledKernels;
          return close(jitted(x, y, row, w), f(x, y, row, w));
        },
      ),
      { numRuns: 12, seed: 20261130 },
    );
    const after = (cuda as CudaBackend).deviceMemory();
    expect(compiled).toBeGreaterThan(5);
    expect(after.jitLaunches).toBeGreaterThan(before.jitLaunches);
  });

  // Each fused op computes in float and rounds to the half dtype, as the addon's own kernels do
  // op by op, so the fused results are the eager ones bit for bit.
  it.each(['float16', 'bfloat16'] as const)('%s programs, bit for bit', async (dtype) => {
    const before = (cuda as CudaBackend).deviceMemory();
    let compiled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary({ select: true, infinity: true }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(1, 3, 33),
        fc.nat(1000),
        async (steps, n, seed) => {
          const make = (shape: number[], s: number) =>
            tensor(
              data(
                shape.reduce((p, q) => p * q, 1),
                seed + s,
              ),
              { shape, backend: 'cuda' },
            ).cast(dtype);
          const [x, y, row, w] = [make([n, n], 1), make([n, n], 2), make([n], 3), make([n, n], 4).mul(0.5)];
          const f = programForTest(steps);
          const jitted = jit(f);
          compiled += jitted.lower(x, y, row, w).compiledKernels;
          return close(jitted(x, y, row, w), f(x, y, row, w), 0);
        },
      ),
      { numRuns: 8, seed: 20261201 },
    );
    expect(compiled).toBeGreaterThan(3);
    expect((cuda as CudaBackend).deviceMemory().jitLaunches).toBeGreaterThan(before.jitLaunches);
  });
});
