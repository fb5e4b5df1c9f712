import '@flint/backend-cpu';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { gradcheckBackends } from './backends.js';
import { compositeCases } from './cases/composites.js';
import { seeds } from './generators.js';
import { checkSample } from './harness.js';

// The same checks as primitives.test.ts, for composite ops through the public API.

const OVERRIDE = process.env.FLINT_GRADCHECK_RUNS === undefined ? undefined : Number(process.env.FLINT_GRADCHECK_RUNS);

const { used, skipped } = await gradcheckBackends();
if (Object.keys(skipped).length > 0) console.info(`gradcheck: skipped backends ${JSON.stringify(skipped)}`);

for (const backend of used) {
  describe(`gradcheck composite ops on ${backend}`, () => {
    for (const c of compositeCases) {
      it(c.name, () => {
        fc.assert(
          fc.property(c.sample, seeds, (sample, seed) => {
            checkSample(c, sample, seed, backend);
          }),
          { numRuns: OVERRIDE ?? c.numRuns ?? 6 },
        );
      });
    }
  });
}
