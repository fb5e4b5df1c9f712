// Gradient checks on cuda (test/gradcheck/cross-backend.ts): every differentiable primitive's and
// composite op's VJP, JVP and backward() in float64 equal the portable CPU backend's, whose rules
// the finite-difference suites check. Runs on a GPU, or on the CPU emulation (the cuda-emulation
// project of vitest.config.ts); skipped with the reason elsewhere. The device check runs the same
// comparison on the GPU.
import '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';
import { compositeCases } from '../../../test/gradcheck/cases/composites.js';
import { primitiveCases } from '../../../test/gradcheck/cases/index.js';
import { compareGradients } from '../../../test/gradcheck/cross-backend.js';
import type { OpCase } from '../../../test/gradcheck/harness.js';
import { cudaUnavailable } from './cuda-availability.test-support.js';

describe.skipIf(cudaUnavailable('gradient checks') !== undefined)('gradients on cuda equal the CPU backend’s', () => {
  it('every differentiable primitive', async () => {
    const { checked, failures } = await compareGradients('cuda', 'cpu', primitiveCases, { samples: 3 });
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  // The composite cases in groups, each with its own time budget: on the CPU emulation of a
  // 2-core machine all of them together take about a minute, the default test timeout.
  const GROUP = 40;
  // FLINT_GRADIENT_CASE_STRIDE=k keeps every k-th case: the reordered-schedule and vendor-library
  // projects (vitest.config.ts) check a sample, the default emulation every case, so that the
  // same 213 comparisons are not run three times over.
  const stride = Number(process.env.FLINT_GRADIENT_CASE_STRIDE ?? '1');
  const composites = (compositeCases as unknown as OpCase<never>[]).filter((_, i) => i % stride === 0);
  for (let start = 0; start < composites.length; start += GROUP) {
    const group = composites.slice(start, start + GROUP);
    it(`composite ops ${start + 1}-${start + group.length} of ${composites.length}`, { timeout: 180_000 }, async () => {
      const { checked, failures } = await compareGradients('cuda', 'cpu', group, { samples: 2 });
      expect(failures).toEqual([]);
      expect(checked).toBeGreaterThan(0);
    });
  }
});
