#!/usr/bin/env node
// Runs the whole test suite with vitest and closes with one plain summary line
// ("tests: N passed, N failed, N skipped") that CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { ensureSystemPackages, TEST_PACKAGES } from './system-packages.mjs';

mkdirSync('.tmp', { recursive: true });
ensureSystemPackages((message) => process.stderr.write(`[test] ${message}\n`), TEST_PACKAGES);

// Lint and formatting first: biome over the whole workspace (biome.json says what it covers).
const lint = spawnSync('pnpm', ['exec', 'biome', 'check', '.'], { stdio: 'inherit' });
if (lint.status !== 0) console.error('biome check failed: run `npm run format` and fix the remaining lint');

// Type checks (vitest runs the tests without one): the packages' sources with their unit tests, then test/,
// examples/ and bench/, which each have a tsconfig of their own.
const TYPE_CHECKED_PROJECTS = ['tsconfig.tests.json', 'test/tsconfig.json', 'examples/tsconfig.json', 'bench/tsconfig.json'];
const typeErrors = TYPE_CHECKED_PROJECTS.filter((project) => {
  const check = spawnSync('pnpm', ['exec', 'tsc', '--noEmit', '-p', project], { stdio: 'inherit' });
  if (check.status !== 0) console.error(`type check failed: \`pnpm exec tsc --noEmit -p ${project}\` reports the errors above`);
  return check.status !== 0;
});

const report = '.tmp/vitest-report.json';
const args = ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const result = spawnSync('pnpm', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  failed = json.numFailedTests;
  skipped = json.numPendingTests + json.numTodoTests;
  if (json.numFailedTestSuites > 0 && failed === 0) failed = json.numFailedTestSuites;
} catch {
  failed = Math.max(failed, 1);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(result.status === 0 && failed === 0 && lint.status === 0 && typeErrors.length === 0 ? 0 : 1);
