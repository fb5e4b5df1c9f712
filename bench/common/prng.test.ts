/**
 * Every language must generate the same inputs: the TypeScript generator against the Python one
 * (when /usr/bin/python3 has NumPy) and the C one (when a C compiler exists).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { initScale, labels, symmetric, symmetricArray } from './prng.js';

const peersDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'peers');
const python = process.env.FLINT_BENCH_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const hasCompiler = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

describe('shared inputs', () => {
  it('are exact multiples of 2^-23 in [-1, 1), spread over the range', () => {
    const values = symmetricArray(7, 10000);
    let min = 1;
    let max = -1;
    for (const v of values) {
      expect(Number.isInteger(v * 2 ** 23)).toBe(true);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeLessThan(-0.99);
    expect(max).toBeGreaterThan(0.99);
    expect(symmetric(7, 0)).not.toBe(symmetric(8, 0));
  });

  it.skipIf(!hasNumpy)('match the Python generator bit for bit', () => {
    const script = [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(peersDir)})`,
      'from bench_common import symmetric, labels, init_scale',
      'print(json.dumps({"s": [float(v) for v in symmetric(123, 50, init_scale(300))], "l": [int(v) for v in labels(9, 50, 10)]}))',
    ].join('\n');
    const result = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { s: number[]; l: number[] };
    expect(parsed.s).toEqual([...symmetricArray(123, 50, initScale(300))]);
    expect(parsed.l).toEqual([...labels(9, 50, 10)]);
  });

  it.skipIf(!hasCompiler)('match the C generator bit for bit', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flint-prng-'));
    try {
      const source = path.join(dir, 'p.c');
      writeFileSync(
        source,
        '#include <stdio.h>\n#include "prng.h"\nint main(void){for(int i=0;i<50;i++)printf("%.9g\\n",bench_symmetric(700,i));return 0;}\n',
      );
      const binary = path.join(dir, 'p');
      expect(spawnSync('cc', ['-O2', `-I${peersDir}`, '-o', binary, source]).status).toBe(0);
      // %.9g round-trips a float32 exactly.
      const lines = spawnSync(binary, [], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .map((line) => Math.fround(Number(line)));
      expect(lines).toEqual([...symmetricArray(700, 50)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
