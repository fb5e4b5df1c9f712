// Random programs traced by jit on the WebGPU backend: every fused kernel (chains over broadcast
// and transposed views, reductions with prologues, matmuls with epilogues, several outputs) must
// agree with eager evaluation. Skipped without an adapter. Small sizes: SwiftShader is slow.
import { initBackend, jit, type Tensor, tensor } from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { programForTest, stepArbitrary } from '../../../../test/support/random-programs.test-support.js';
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

async function close(a: readonly Tensor[], b: readonly Tensor[]): Promise<boolean> {
  for (let i = 0; i < a.length; i++) {
    const x = await (a[i] as Tensor).data();
    const y = await (b[i] as Tensor).data();
    for (let k = 0; k < y.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : !(p === q || Math.abs(p - q) <= 1e-5 * Math.max(1, Math.abs(q)))) return false;
    }
  }
  return true;
}

/** Deterministic pseudo-normal-ish values from a seed. */
function data(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 1.5);
}

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
              data(
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
          return close(jitted(x, y, row, w), f(x, y, row, w));
        },
      ),
      { numRuns: 16, seed: 20261130 },
    );
    expect(compiled).toBeGreaterThan(10);
    // Every fused group of these programs is one the generator handles.
    expect((started as WebGpuBackend).fusedKernels.unsupported).toBe(unsupportedBefore);
  });
});
