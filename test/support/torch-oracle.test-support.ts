// Shared by the tests of the special functions, statistics and splits (the `.test-support` name
// keeps it out of the published package): evaluates PyTorch expressions on given inputs in one
// Python process, returning values and gradients, compares them NaN- and sign-aware, and declares
// the describe block of such comparisons (skipped, saying why, where PyTorch is missing).

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PYTHON, torchUnavailable } from './python-torch.test-support.js';

export { torchUnavailable };

/**
 * `describe(title, body)` for the comparisons against PyTorch where /usr/bin/python3 has torch.
 * Where it has not, that block is skipped (its title saying why), and a second one under the same
 * title runs a single test named after the reason, so that the report shows what did not run.
 */
export function describeAgainstTorch(title: string, body: () => void): void {
  const reason = torchUnavailable();
  describe.skipIf(reason !== '')(`${title}${reason === '' ? '' : ` (skipped: ${reason})`}`, body);
  describe.skipIf(reason === '')(title, () => {
    it(`is skipped: ${reason}`, () => {
      expect(reason).not.toBe('');
    });
  });
}

/** One input of a PyTorch expression: values (NaN and ±Infinity allowed), shape and dtype. */
export interface TorchInput {
  readonly values: readonly number[];
  readonly shape?: readonly number[];
  /** A torch dtype name (default 'float64'). */
  readonly dtype?: string;
}

/** A PyTorch expression over named inputs (and `torch`), optionally differentiated. */
export interface TorchCase {
  readonly expression: string;
  readonly inputs: Readonly<Record<string, TorchInput>>;
  /** Inputs whose gradient of sum(output * cotangent) to return (floating inputs only). */
  readonly gradients?: readonly string[];
  /** The cotangent (default all ones). */
  readonly cotangent?: readonly number[];
}

/** One output tensor of a case: its shape and values. */
export interface TorchTensor {
  readonly shape: number[];
  readonly values: number[];
}

export interface TorchResult {
  /** The outputs: one for a tensor, several for a tuple or list. */
  readonly outputs: TorchTensor[];
  readonly gradients: Record<string, number[]>;
}

const SCRIPT = `
import json, math, sys, torch
torch.set_default_dtype(torch.float64)
def decode(v):
    return float(v) if isinstance(v, str) else v
def encode(t):
    t = t.detach().to(torch.float64) if t.dtype != torch.bool else t.to(torch.float64)
    return {'shape': list(t.shape), 'values': [v if math.isfinite(v) else str(v) for v in t.reshape(-1).tolist()]}
results = []
for case in json.load(sys.stdin):
    env = {'torch': torch, 'math': math}
    for name, spec in case['inputs'].items():
        t = torch.tensor([decode(v) for v in spec['values']], dtype=getattr(torch, spec.get('dtype', 'float64')))
        t = t.reshape(spec['shape']) if spec.get('shape') is not None else t
        if name in case.get('gradients', []):
            t.requires_grad_(True)
        env[name] = t
    out = eval(case['expression'], env)
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    gradients = {}
    if case.get('gradients'):
        first = outputs[0]
        cot = case.get('cotangent')
        cot = torch.ones_like(first) if cot is None else torch.tensor([decode(v) for v in cot], dtype=first.dtype).reshape(first.shape)
        (first * cot).sum().backward()
        gradients = {name: encode(env[name].grad)['values'] for name in case['gradients']}
    results.append({'outputs': [encode(o) for o in outputs], 'gradients': gradients})
print(json.dumps(results))
`;

// JSON has no NaN, Infinity or -0: they travel as the strings Python's float() reads.
const encodeValue = (v: number): number | string =>
  Object.is(v, -0) ? '-0.0' : Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
const decodeValue = (v: number | string): number =>
  typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;

/** Runs every case through PyTorch in one process (call only where `torchUnavailable()` is ''). */
export function runTorch(cases: readonly TorchCase[]): TorchResult[] {
  const payload = cases.map((c) => ({
    expression: c.expression,
    inputs: Object.fromEntries(
      Object.entries(c.inputs).map(([name, input]) => [
        name,
        { values: input.values.map(encodeValue), shape: input.shape ?? null, dtype: input.dtype ?? 'float64' },
      ]),
    ),
    gradients: c.gradients ?? [],
    cotangent: c.cotangent?.map(encodeValue) ?? null,
  }));
  const run = spawnSync(PYTHON, ['-c', SCRIPT], {
    input: JSON.stringify(payload),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (run.status !== 0) throw new Error(`PyTorch failed: ${run.stderr}`);
  const raw = JSON.parse(run.stdout) as {
    outputs: { shape: number[]; values: (number | string)[] }[];
    gradients: Record<string, (number | string)[]>;
  }[];
  return raw.map((r) => ({
    outputs: r.outputs.map((o) => ({ shape: o.shape, values: o.values.map(decodeValue) })),
    gradients: Object.fromEntries(Object.entries(r.gradients).map(([k, v]) => [k, v.map(decodeValue)])),
  }));
}

/** Tolerances of `expectValuesClose`: |actual - expected| <= atol + rtol |expected|. */
export interface Tolerance {
  readonly rtol: number;
  readonly atol?: number;
}

/**
 * Every value close to the expected one; NaN matches NaN, infinities match only the same
 * infinity, and a zero's sign is not compared. Failures name the input that gave them.
 */
export function expectValuesClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  inputs?: ArrayLike<number | string>,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const failures: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Number.isFinite(a) && Math.abs(a - e) <= (tolerance.atol ?? 0) + tolerance.rtol * Math.abs(e);
    if (!ok) failures.push(`${inputs === undefined ? `#${i}` : `x = ${inputs[i]}`}: ${a} vs ${e}`);
  }
  expect(failures.slice(0, 8), `${what}: ${failures.length} value(s) off`).toEqual([]);
}
