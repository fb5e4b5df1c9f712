import '@flint/backend-cpu';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { gradcheckBackends } from './backends.js';
import { primitiveCases } from './cases/index.js';
import { seeds } from './generators.js';
import { checkSample } from './harness.js';

// Property-based gradient checks of every primitive's JVP, VJP and batching rules (see harness.ts
// for the list of checks), on every backend that holds float64.

// FLINT_GRADCHECK_RUNS overrides every case's run count (for a long soak).
const OVERRIDE = process.env.FLINT_GRADCHECK_RUNS === undefined ? undefined : Number(process.env.FLINT_GRADCHECK_RUNS);
const RUNS = 20;

const { used, skipped } = await gradcheckBackends();
if (Object.keys(skipped).length > 0) console.info(`gradcheck: skipped backends ${JSON.stringify(skipped)}`);

for (const backend of used) {
  describe(`gradcheck primitives on ${backend}`, () => {
    for (const c of primitiveCases) {
      it(c.name, () => {
        fc.assert(
          fc.property(c.sample, seeds, (sample, seed) => {
            checkSample(c, sample, seed, backend);
          }),
          { numRuns: OVERRIDE ?? c.numRuns ?? RUNS },
        );
      });
    }
  });
}
