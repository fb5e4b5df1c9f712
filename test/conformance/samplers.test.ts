// The random samplers on every backend against the CPU backend: a key gives the same uniform bits
// everywhere (the RandomUniform primitive is conformance-checked), so each sampler's transform of
// them must agree up to the backend's float32 rounding, and its discrete draws exactly.
import '@flint/backend-cpu';
import { random, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { importWorkspaceBackends, startSelectedBackends } from '../support/workspace-backends.js';

await importWorkspaceBackends();
const backends = (await startSelectedBackends()).filter((found) => found.name !== 'cpu');

type Sampler = (key: Tensor, backend: string) => Tensor;

const SAMPLERS: Record<string, { readonly sample: Sampler; readonly exact: boolean }> = {
  gumbel: { sample: (k) => random.gumbel(k, [256]), exact: false },
  laplace: { sample: (k) => random.laplace(k, [256]), exact: false },
  truncatedNormal: { sample: (k) => random.truncatedNormal(k, -1, 3, [256]), exact: false },
  gamma: { sample: (k) => random.gamma(k, 2.5, [256]), exact: false },
  dirichlet: { sample: (k, b) => random.dirichlet(k, tensor([0.5, 1, 4], { backend: b }), [64]), exact: false },
  categorical: {
    sample: (k, b) => random.categorical(k, tensor([0, 1, 2, 3], { dtype: 'float32', backend: b }), { shape: [256] }),
    exact: true,
  },
  choice: { sample: (k) => random.choice(k, 50, [20], { replace: false }), exact: true },
  poisson: { sample: (k, b) => random.poisson(k, tensor([0.5, 3, 30, 400], { backend: b }), [64, 4]), exact: true },
  // Both of its routes: inversion below a mean of 10 and BTRS's rejection rounds above.
  binomial: { sample: (k, b) => random.binomial(k, tensor([5, 40, 400], { backend: b }), 0.3, [64, 3]), exact: true },
};

/** Element-wise agreement within a relative tolerance of float32 transcendental rounding. */
function expectClose(actual: Float32Array | number[], expected: Float32Array | number[], exact: boolean): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let mismatches = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (exact) mismatches += a === e ? 0 : 1;
    else worst = Math.max(worst, Math.abs(a - e) / Math.max(1, Math.abs(e)));
  }
  if (exact) expect(mismatches, 'discrete draws that differ from the CPU backend').toBe(0);
  else expect(worst, 'largest relative difference from the CPU backend').toBeLessThan(2e-4);
}

describe.each(backends)('random samplers on $name', ({ name, backend, reason }) => {
  for (const [sampler, { sample, exact }] of Object.entries(SAMPLERS)) {
    it.skipIf(backend === undefined)(
      `${sampler} matches the CPU backend${backend === undefined ? ` (skipped: ${reason})` : ''}`,
      async () => {
        const expected = await sample(random.key(5, { backend: 'cpu' }), 'cpu').data();
        const actual = await sample(random.key(5, { backend: name }), name).data();
        expectClose(Array.from(actual), Array.from(expected), exact);
      },
    );
  }
});

it('runs on at least the CPU backend', () => {
  expect(random.gumbel(random.key(5), [4]).shape).toEqual([4]);
});
