// Random programs traced by jit on the CUDA backend: every fused kernel NVRTC compiles must agree
// with eager evaluation, op by op. Needs the backend and NVRTC: on a GPU with NVRTC, or on the
// CPU emulation (the cuda-emulation project of vitest.config.ts), whose NVRTC is the host
// compiler; skipped with the reason elsewhere.
import { type DType, jit, type Tensor, tensor } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { programData, programForTest, resultsAgree, stepArbitrary } from '../../../../test/support/random-programs.test-support.js';
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

/**
 * Random programs in `dtype`, jit against eager within `tolerance`: returns the kernels compiled,
 * and checks that fused kernels ran.
 */
async function checkPrograms(dtype: DType, tolerance: number, numRuns: number, seed: number): Promise<number> {
  const before = (cuda as CudaBackend).deviceMemory();
  let compiled = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArbitrary({ select: true, infinity: true }), { minLength: 1, maxLength: 8 }),
      fc.constantFrom(1, 3, 33),
      fc.nat(1000),
      async (steps, n, sample) => {
        const make = (shape: number[], s: number) =>
          tensor(
            programData(
              shape.reduce((p, q) => p * q, 1),
              sample + s,
            ),
            { shape, backend: 'cuda' },
          ).cast(dtype);
        // x is every other column of a wider tensor: a view the kernel reads with stride 2 (its
        // dims coalesce to one), where the others are contiguous or broadcast.
        const x = make([n, 2 * n], 1).slice([0, 0], [n, 2 * n], [1, 2]);
        const [y, row, w]: [Tensor, Tensor, Tensor] = [make([n, n], 2), make([n], 3), make([n, n], 4).mul(0.5)];
        const f = programForTest(steps);
        const jitted = jit(f);
        compiled += jitted.lower(x, y, row, w).compiledKernels;
        return resultsAgree(jitted(x, y, row, w), f(x, y, row, w), tolerance);
      },
    ),
    { numRuns, seed },
  );
  expect((cuda as CudaBackend).deviceMemory().jitLaunches).toBeGreaterThan(before.jitLaunches);
  return compiled;
}

describe.skipIf(cuda === null)('random programs on cuda: jit agrees with eager', () => {
  it('float32 programs', async () => {
    expect(await checkPrograms('float32', 1e-5, 12, 20261130)).toBeGreaterThan(5);
  });

  // Each fused op computes in float and rounds to the half dtype, as the addon's own kernels do
  // op by op, so the fused results are the eager ones bit for bit.
  it.each(['float16', 'bfloat16'] as const)('%s programs, bit for bit', async (dtype) => {
    expect(await checkPrograms(dtype, 0, 8, 20261201)).toBeGreaterThan(3);
  });
});
