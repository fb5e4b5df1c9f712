// Backend conformance: every primitive's table of cases, run on every registered backend through
// `bind`, against the float64 references in ./reference. Every backend package of the workspace
// (packages/backend-*) is imported, so a new backend is checked with no change here; backends that
// cannot start on this machine are reported with their reason and skipped.
import '@flint/backend-cpu';
import { fileURLToPath } from 'node:url';
import { type Aval, DTYPES, FlintError, type Primitive, primitiveName, RULES } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
import { selectedBackends } from '../support/backend-selection.js';
import { importWorkspaceBackends, startSelectedBackends } from '../support/workspace-backends.js';
import { CASES } from './cases/index.js';
import type { PrimitiveTable } from './cases/types.js';
import { ALL_PRIMITIVES, caseDTypes, resolve, runCase } from './harness.js';
import { REFERENCE } from './reference/index.js';
import { Summary } from './summary.js';

const importFailures = await importWorkspaceBackends();
const discovered = await startSelectedBackends();
const summary = new Summary();
// A run limited to some backends (FLINT_TEST_BACKENDS) writes its own summary beside the full one.
const summaryName = `conformance-summary${[...(selectedBackends() ?? [])].map((name) => `-${name}`).join('')}.txt`;
const backendNames = discovered.map((d) => d.name);

describe('conformance tables', () => {
  it('finds at least one registered backend', () => {
    expect(backendNames.length).toBeGreaterThan(0);
  });

  // A backend without its hardware must still import and report itself unavailable (DESIGN.md).
  it('imports every workspace backend package without throwing', () => {
    expect(Object.fromEntries(importFailures)).toEqual({});
  });

  it('has a table with cases for every member of the Primitive enum', () => {
    const missing = ALL_PRIMITIVES.filter((p) => {
      const table = (CASES as Partial<Record<Primitive, PrimitiveTable<Primitive>>>)[p];
      return table === undefined || table.cases.length === 0;
    });
    expect(missing.map(primitiveName)).toEqual([]);
  });

  it('has a reference implementation for every member of the Primitive enum', () => {
    const missing = ALL_PRIMITIVES.filter((p) => typeof REFERENCE[p] !== 'function');
    expect(missing.map(primitiveName)).toEqual([]);
  });

  // The tables say which dtypes each primitive accepts; the api's abstract evaluation must refuse
  // the others before any kernel sees them.
  it.each(ALL_PRIMITIVES.map((p) => [primitiveName(p), p] as const))(
    'abstract evaluation of %s refuses dtypes outside its table',
    (_name, p) => {
      const table = CASES[p] as PrimitiveTable<Primitive>;
      const first = table.cases[0];
      if (!first) throw new Error('no cases');
      const accepted: string[] = [];
      for (const dtype of DTYPES.filter((d) => !table.dtypes.includes(d))) {
        const avals: Aval[] = resolve(first.inputs, dtype).map((spec) => ({ shape: spec.shape, dtype: spec.dtype ?? dtype }));
        const params = resolve(first.params, dtype);
        try {
          (RULES[p] as { abstractEval(inputs: readonly Aval[], params: unknown): Aval }).abstractEval(avals, params);
          accepted.push(dtype);
        } catch (error) {
          if (!(error instanceof FlintError)) throw error;
        }
      }
      expect(accepted, `${primitiveName(p)} accepted dtypes its table excludes`).toEqual([]);
    },
  );
});

for (const found of discovered) {
  const backend = found.backend;
  if (!backend) {
    summary.markUnavailable(found.name, found.reason ?? 'unknown reason');
    console.log(`conformance: backend '${found.name}' is unavailable and skipped: ${found.reason}`);
    describe.skip(`backend '${found.name}' (unavailable: ${found.reason})`, () => {
      it('runs the conformance tables', () => {});
    });
    continue;
  }
  const unlisted = DTYPES.filter((d) => !backend.capabilities.dtypes.includes(d));
  summary.markDTypesSkipped(found.name, unlisted);
  describe(`backend '${found.name}'`, () => {
    for (const dtype of unlisted) {
      it.skip(`${dtype} cases (skipped: '${found.name}' does not list ${dtype} in capabilities.dtypes)`, () => {});
    }
    it.each(ALL_PRIMITIVES.map((p) => [primitiveName(p), p] as const))('%s matches the reference', async (_name, p) => {
      const table = CASES[p] as PrimitiveTable<Primitive>;
      const tally = summary.tally(p, found.name);
      let ran = 0;
      for (const kase of table.cases) {
        for (const dtype of caseDTypes(table, kase, backend.capabilities.dtypes)) {
          const result = await runCase(backend, p, table, kase, dtype);
          ran++;
          if (result.failure === null) tally.passed++;
          else {
            tally.failed++;
            tally.failures.push(`${result.label}: ${result.failure}`);
          }
        }
      }
      expect(ran, 'no case ran: the backend claims none of the dtypes the table covers').toBeGreaterThan(0);
      expect(tally.failures, tally.failures.join('\n')).toEqual([]);
    });
  });
}

afterAll(() => {
  // Written under the ignored .tmp/ folder, so a test run leaves the work tree clean.
  const text = summary.write(fileURLToPath(new URL(`../../.tmp/${summaryName}`, import.meta.url)), ALL_PRIMITIVES, backendNames);
  console.log(text);
});
