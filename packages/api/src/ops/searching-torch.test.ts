import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import * as flint from '@flint/api';
import { type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../test/support/python-torch.test-support.js';

// The searching and counting ops against PyTorch: every case runs in Flint and, in one Python
// process, in torch on the same inputs; the results must match exactly (positions, counts) or to
// float rounding (histograms and weight sums). Skipped, with the reason in the suite's name, where
// /usr/bin/python3 cannot import torch.

interface Encoded {
  readonly shape: number[];
  readonly dtype: 'float32' | 'float64' | 'int32' | 'bool';
  readonly data: number[];
}

interface Case {
  readonly name: string;
  readonly inputs: Encoded[];
  /** Python expression over `xs` (the inputs as torch tensors) giving a tensor or a tuple of tensors. */
  readonly torch: string;
  readonly flint: (xs: Tensor[]) => Tensor | readonly Tensor[];
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const next = seeded(2024);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const ints = (shape: number[], low: number, high: number): Encoded => ({
  shape,
  dtype: 'int32',
  data: Array.from({ length: sizeOf(shape) }, () => low + Math.floor(next() * (high - low + 1))),
});
const floats = (shape: number[], dtype: 'float32' | 'float64' = 'float32', low = -3, high = 3): Encoded => ({
  shape,
  dtype,
  data: Array.from({ length: sizeOf(shape) }, () => {
    const v = low + next() * (high - low);
    return dtype === 'float32' ? Math.fround(v) : v;
  }),
});
/** Rows sorted along the last axis. */
const sortedRows = (e: Encoded): Encoded => {
  const n = e.shape[e.shape.length - 1] as number;
  const data: number[] = [];
  for (let i = 0; i < e.data.length; i += n) data.push(...e.data.slice(i, i + n).sort((a, b) => a - b));
  return { ...e, data };
};
const mask = (shape: number[], p = 0.5): Encoded => ({
  shape,
  dtype: 'bool',
  data: Array.from({ length: sizeOf(shape) }, () => (next() < p ? 1 : 0)),
});
const withZeros = (e: Encoded, p = 0.4): Encoded => ({ ...e, data: e.data.map((v) => (next() < p ? 0 : v)) });

const toFlint = (e: Encoded): Tensor => tensor(e.data, { shape: e.shape, dtype: e.dtype });
const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;

const CASES: Case[] = [];
for (const right of [false, true]) {
  const py = right ? 'True' : 'False';
  CASES.push(
    {
      name: `searchsorted 1-d with ties, right ${right}`,
      inputs: [sortedRows(ints([40], 0, 12)), ints([5, 7], -2, 14)],
      torch: `torch.searchsorted(xs[0], xs[1], right=${py})`,
      flint: (xs) => flint.searchsorted(at(xs, 0), at(xs, 1), { right }),
    },
    {
      name: `searchsorted float rows [3, 17], right ${right}`,
      inputs: [sortedRows(floats([3, 17])), floats([3, 9], 'float32', -4, 4)],
      torch: `torch.searchsorted(xs[0], xs[1], right=${py})`,
      flint: (xs) => flint.searchsorted(at(xs, 0), at(xs, 1), { right }),
    },
    {
      name: `searchsorted batched [2, 2, 5] int, side ${right ? 'right' : 'left'}`,
      inputs: [sortedRows(ints([2, 2, 5], 0, 4)), ints([2, 2, 6], -1, 5)],
      torch: `torch.searchsorted(xs[0], xs[1], side='${right ? 'right' : 'left'}')`,
      flint: (xs) => flint.searchsorted(at(xs, 0), at(xs, 1), { side: right ? 'right' : 'left' }),
    },
    {
      name: `searchsorted with a sorter, right ${right}`,
      inputs: [floats([2, 11]), floats([2, 4])],
      torch: `torch.searchsorted(xs[0], xs[1], right=${py}, sorter=torch.argsort(xs[0], dim=-1, stable=True))`,
      flint: (xs) => flint.searchsorted(at(xs, 0), at(xs, 1), { right, sorter: flint.argsort(at(xs, 0), -1) }),
    },
    {
      name: `bucketize, right ${right}`,
      inputs: [floats([4, 6], 'float64', -5, 5), sortedRows(ints([9], -4, 4))],
      torch: `torch.bucketize(xs[0], xs[1], right=${py})`,
      flint: (xs) => flint.bucketize(at(xs, 0), at(xs, 1), { right }),
    },
  );
}
CASES.push(
  {
    name: 'countNonzero over every axis and over two',
    inputs: [withZeros(ints([3, 4, 5], -2, 2))],
    torch: '(torch.count_nonzero(xs[0]), torch.count_nonzero(xs[0], dim=(0, 2)))',
    flint: (xs) => [flint.countNonzero(at(xs, 0)), flint.countNonzero(at(xs, 0), [0, 2])],
  },
  {
    name: 'histc with a range',
    inputs: [floats([200], 'float32', -2, 5)],
    torch: 'torch.histc(xs[0], bins=13, min=-1, max=4)',
    flint: (xs) => flint.histc(at(xs, 0), { bins: 13, min: -1, max: 4 }),
  },
  {
    name: 'histc over the data range',
    inputs: [floats([300], 'float64', -2, 5)],
    torch: 'torch.histc(xs[0], bins=7)',
    flint: (xs) => flint.histc(at(xs, 0), { bins: 7 }),
  },
  {
    name: 'bincount',
    inputs: [ints([50], 0, 9)],
    torch: '(torch.bincount(xs[0]), torch.bincount(xs[0], minlength=15))',
    flint: (xs) => [flint.bincount(at(xs, 0)), flint.bincount(at(xs, 0), { minlength: 15 })],
  },
  {
    name: 'bincount with weights',
    inputs: [ints([30], 0, 6), floats([30], 'float64')],
    torch: 'torch.bincount(xs[0], weights=xs[1])',
    flint: (xs) => flint.bincount(at(xs, 0), { weights: at(xs, 1) }),
  },
  {
    name: 'nonzero of a 3-d tensor, as a matrix and as a tuple',
    inputs: [withZeros(floats([3, 4, 2]), 0.6)],
    torch: '(torch.nonzero(xs[0]),) + torch.nonzero(xs[0], as_tuple=True)',
    flint: (xs) => [flint.nonzero(at(xs, 0)), ...flint.nonzero(at(xs, 0), { asTuple: true })],
  },
  {
    name: 'argwhere of a bool matrix',
    inputs: [mask([5, 6], 0.3)],
    torch: 'torch.argwhere(xs[0])',
    flint: (xs) => flint.argwhere(at(xs, 0)),
  },
  {
    name: 'maskedSelect with broadcasting',
    inputs: [floats([4, 1, 5]), mask([3, 5])],
    torch: 'torch.masked_select(xs[0], xs[1])',
    flint: (xs) => flint.maskedSelect(at(xs, 0), at(xs, 1)),
  },
  {
    name: 'unique with inverse and counts',
    inputs: [ints([6, 7], -3, 5)],
    torch: 'torch.unique(xs[0], return_inverse=True, return_counts=True)',
    flint: (xs) => {
      const u = flint.unique(at(xs, 0), { returnInverse: true, returnCounts: true });
      return [u.values, u.inverseIndices, u.counts];
    },
  },
  {
    name: 'unique of floats',
    inputs: [{ ...floats([40]), data: floats([40]).data.map((v) => Math.round(v * 2) / 2) }],
    torch: 'torch.unique(xs[0], return_counts=True)',
    flint: (xs) => {
      const u = flint.unique(at(xs, 0), { returnCounts: true });
      return [u.values, u.counts];
    },
  },
  {
    name: 'unique rows (dim 0)',
    inputs: [ints([12, 3], 0, 1)],
    torch: 'torch.unique(xs[0], dim=0, return_inverse=True, return_counts=True)',
    flint: (xs) => {
      const u = flint.unique(at(xs, 0), { axis: 0, returnInverse: true, returnCounts: true });
      return [u.values, u.inverseIndices, u.counts];
    },
  },
  {
    name: 'unique slices along the last axis of a 3-d tensor',
    inputs: [ints([2, 2, 9], 0, 1)],
    torch: 'torch.unique(xs[0], dim=2, return_inverse=True, return_counts=True)',
    flint: (xs) => {
      const u = flint.unique(at(xs, 0), { axis: 2, returnInverse: true, returnCounts: true });
      return [u.values, u.inverseIndices, u.counts];
    },
  },
  {
    name: 'uniqueConsecutive',
    inputs: [ints([30], 0, 2)],
    torch: 'torch.unique_consecutive(xs[0], return_inverse=True, return_counts=True)',
    flint: (xs) => {
      const u = flint.uniqueConsecutive(at(xs, 0), { returnInverse: true, returnCounts: true });
      return [u.values, u.inverseIndices, u.counts];
    },
  },
  {
    name: 'uniqueConsecutive along axis 1',
    inputs: [{ shape: [2, 6], dtype: 'int32', data: [1, 1, 2, 2, 2, 1, 0, 0, 3, 3, 3, 0] }],
    torch: 'torch.unique_consecutive(xs[0], dim=1, return_inverse=True, return_counts=True)',
    flint: (xs) => {
      const u = flint.uniqueConsecutive(at(xs, 0), { axis: 1, returnInverse: true, returnCounts: true });
      return [u.values, u.inverseIndices, u.counts];
    },
  },
);

const SCRIPT = `
import json, sys, torch
DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int64, 'bool': torch.bool}
out = []
for case in json.load(sys.stdin):
    xs = [torch.tensor(e['data'], dtype=DTYPES[e['dtype']]).reshape(e['shape']) for e in case['inputs']]
    try:
        result = eval(case['torch'])
        if not isinstance(result, tuple): result = (result,)
        out.append([{'shape': list(r.shape), 'data': r.double().flatten().tolist()} for r in result])
    except Exception as error:
        out.append({'error': str(error)})
print(json.dumps(out))
`;

const reason = torchUnavailable();

describe.skipIf(reason !== '')(`searching and counting ops match PyTorch${reason === '' ? '' : ` (skipped: ${reason})`}`, () => {
  const run =
    reason === '' ? spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(CASES), encoding: 'utf8', maxBuffer: 1 << 26 }) : null;
  const results = run !== null && run.status === 0 ? (JSON.parse(run.stdout) as unknown[]) : [];

  test('the torch script ran', () => {
    expect(run?.status, run?.stderr).toBe(0);
  });

  CASES.forEach((c, k) => {
    test(c.name, () => {
      const expected = results[k] as { shape: number[]; data: number[] }[] | { error: string } | undefined;
      if (expected === undefined || !Array.isArray(expected)) throw new Error(`torch failed: ${JSON.stringify(expected)}`);
      const got = c.flint(c.inputs.map(toFlint));
      const list = Array.isArray(got) ? (got as readonly Tensor[]) : [got as Tensor];
      expect(list.length).toBe(expected.length);
      list.forEach((t, i) => {
        const want = expected[i] as { shape: number[]; data: number[] };
        expect(t.shape, `${c.name}: shape of result ${i}`).toEqual(want.shape);
        const data = Array.from(t.dataSync(), Number);
        if (t.dtype === 'float32' || t.dtype === 'float64') {
          data.forEach((v, j) => {
            expect(Math.abs(v - (want.data[j] as number)), `${c.name}: element ${j}`).toBeLessThanOrEqual(1e-9);
          });
        } else expect(data, `${c.name}: result ${i}`).toEqual(want.data);
      });
    });
  });
});
