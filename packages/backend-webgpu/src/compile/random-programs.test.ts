// Random programs traced by jit on the WebGPU backend: every fused kernel (chains over broadcast
// and transposed views, reductions with prologues, matmuls with epilogues, several outputs) must
// agree with eager evaluation. Skipped without an adapter. Small sizes: SwiftShader is slow.
import { initBackend, jit, tensor } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { programData, programForTest, resultsAgree, stepArbitrary } from '../../../../test/support/random-programs.test-support.js';
import type { WebGpuBackend } from '../backend.js';
import '../index.js';

const started = await initBackend('webgpu').then(
  (backend) => backend as unknown as WebGpuBackend,
  (error: Error) => {
    console.log(`webgpu random-program tests skipped: ${error.message}`);
    return null;
  },
);
const suite = started === null ? describe.skip : describe;

const step = stepArbitrary({ select: true, infinity: true });

suite('random programs on webgpu: jit agrees with eager', () => {
  it('float32 programs', async () => {
    let compiled = 0;
    const unsupportedBefore = (started as WebGpuBackend).fusedKernels.unsupported;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(1, 3, 8, 33),
        fc.nat(1000),
        async (steps, n, seed) => {
          const make = (shape: number[], s: number) =>
            tensor(
              programData(
                shape.reduce((p, q) => p * q, 1),
                seed + s,
              ),
              { shape, backend: 'webgpu' },
            );
          const x = make([n, n], 1);
          const y = make([n, n], 2);
          const row = make([n], 3);
          const w = make([n, n], 4).mul(0.5);
          const f = programForTest(steps);
          const jitted = jit(f);
          compiled += jitted.lower(x, y, row, w).compiledKernels;
          return resultsAgree(jitted(x, y, row, w), f(x, y, row, w));
        },
      ),
      { numRuns: 16, seed: 20261130 },
    );
    expect(compiled).toBeGreaterThan(10);
    // Every fused group of these programs is one the generator handles.
    expect((started as WebGpuBackend).fusedKernels.unsupported).toBe(unsupportedBefore);
  });
});
