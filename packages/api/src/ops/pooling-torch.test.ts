import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import * as flint from '@flint/api';
import { nn, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../test/support/python-torch.test-support.js';
import { seededRandom } from '../nn/testing.test-support.js';

// The pooling family against PyTorch: max pooling's indices, max unpooling and power-average
// pooling, with padding, dilation and ceil mode at the edges. Each case runs in Flint and, in one
// Python process, in torch on the same float64 inputs; every result must match (indices exactly)
// and so must the gradient of sum(w * first result) with respect to the first input, for a fixed
// w. Skipped, with the reason in the suite's name, where /usr/bin/python3 cannot import torch.

const F = nn.functional;

interface Encoded {
  readonly shape: number[];
  readonly data: number[];
}

interface Case {
  readonly name: string;
  /** float64 inputs; the first is differentiated. */
  readonly inputs: Encoded[];
  /** Python expression over `xs` (torch tensors) giving a tensor or a tuple of tensors. */
  readonly torch: string;
  readonly flint: (xs: Tensor[]) => Tensor[];
  /** Whether to compare the gradient (default true). */
  readonly grad?: boolean;
}

const random = seededRandom(7);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const uniform = (shape: number[], low = -3, high = 3): Encoded => ({
  shape,
  data: Array.from({ length: sizeOf(shape) }, () => low + random() * (high - low)),
});
/** Small integers: many ties, which go to the first maximum in both libraries. */
const ties = (shape: number[]): Encoded => ({ shape, data: Array.from({ length: sizeOf(shape) }, () => Math.floor(random() * 3)) });
/** Some values replaced by -Infinity, so that whole windows can be -Infinity. */
const withNegativeInfinity = (e: Encoded, p: number): Encoded => ({
  ...e,
  data: e.data.map((v) => (random() < p ? Number.NEGATIVE_INFINITY : v)),
});
const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
const pair = (r: { values: Tensor; indices: Tensor }): Tensor[] => [r.values, r.indices];

const CASES: Case[] = [
  {
    name: 'maxPool1d indices: kernel 3, stride 2, padding 1',
    inputs: [uniform([2, 3, 11])],
    torch: 'F.max_pool1d(xs[0], 3, 2, 1, return_indices=True)',
    flint: (xs) => pair(flint.maxPool1d(at(xs, 0), 3, { stride: 2, padding: 1, returnIndices: true })),
  },
  {
    name: 'maxPool1d indices: ceil mode keeps a partial last window',
    inputs: [uniform([1, 2, 9])],
    torch: 'F.max_pool1d(xs[0], 2, ceil_mode=True, return_indices=True)',
    flint: (xs) => pair(flint.maxPool1d(at(xs, 0), 2, { ceilMode: true, returnIndices: true })),
  },
  {
    name: 'maxPool1d indices: dilation 2, padding 1, ceil mode',
    inputs: [uniform([2, 2, 12])],
    torch: 'F.max_pool1d(xs[0], 3, 2, 1, 2, ceil_mode=True, return_indices=True)',
    flint: (xs) => pair(flint.maxPool1d(at(xs, 0), 3, { stride: 2, padding: 1, dilation: 2, ceilMode: true, returnIndices: true })),
  },
  {
    name: 'maxPool2d indices: 2 x 2 windows that tile the input',
    inputs: [uniform([2, 3, 8, 6])],
    torch: 'F.max_pool2d(xs[0], 2, return_indices=True)',
    flint: (xs) => pair(flint.maxPool2d(at(xs, 0), 2, { returnIndices: true })),
  },
  {
    name: 'maxPool2d indices: kernel 3, stride 2, padding 1 (overlapping windows)',
    inputs: [uniform([2, 2, 9, 8])],
    torch: 'F.max_pool2d(xs[0], 3, 2, 1, return_indices=True)',
    flint: (xs) => pair(flint.maxPool2d(at(xs, 0), 3, { stride: 2, padding: 1, returnIndices: true })),
  },
  {
    name: 'maxPool2d indices: kernel [3, 2], stride [2, 1], padding [1, 1], dilation [2, 1], ceil mode',
    inputs: [uniform([1, 2, 10, 7])],
    torch: 'F.max_pool2d(xs[0], (3, 2), (2, 1), (1, 1), (2, 1), ceil_mode=True, return_indices=True)',
    flint: (xs) =>
      pair(flint.maxPool2d(at(xs, 0), [3, 2], { stride: [2, 1], padding: [1, 1], dilation: [2, 1], ceilMode: true, returnIndices: true })),
  },
  {
    name: 'maxPool2d indices: ties go to the first maximum',
    inputs: [ties([2, 2, 7, 7])],
    torch: 'F.max_pool2d(xs[0], 3, 1, 1, return_indices=True)',
    flint: (xs) => pair(flint.maxPool2d(at(xs, 0), 3, { stride: 1, padding: 1, returnIndices: true })),
  },
  {
    name: 'maxPool2d indices: windows of -Infinity and padding report their first tap inside the input',
    inputs: [withNegativeInfinity(uniform([1, 2, 6, 6]), 0.8)],
    torch: 'F.max_pool2d(xs[0], 3, 2, 1, ceil_mode=True, return_indices=True)',
    flint: (xs) => pair(flint.maxPool2d(at(xs, 0), 3, { stride: 2, padding: 1, ceilMode: true, returnIndices: true })),
    grad: false,
  },
  {
    name: 'maxPool2d indices: unbatched input',
    inputs: [uniform([3, 7, 7])],
    torch: 'F.max_pool2d(xs[0], 3, 2, return_indices=True)',
    flint: (xs) => pair(flint.maxPool2d(at(xs, 0), 3, { stride: 2, returnIndices: true })),
  },
  {
    name: 'maxPool3d indices: kernel 2, stride [1, 2, 2], ceil mode',
    inputs: [uniform([1, 2, 5, 5, 6])],
    torch: 'F.max_pool3d(xs[0], 2, (1, 2, 2), ceil_mode=True, return_indices=True)',
    flint: (xs) => pair(flint.maxPool3d(at(xs, 0), 2, { stride: [1, 2, 2], ceilMode: true, returnIndices: true })),
  },
  {
    name: 'maxPool3d indices: kernel 3, stride 2, padding 1, dilation [1, 2, 1]',
    inputs: [uniform([2, 1, 5, 7, 6])],
    torch: 'F.max_pool3d(xs[0], 3, 2, 1, (1, 2, 1), return_indices=True)',
    flint: (xs) => pair(flint.maxPool3d(at(xs, 0), 3, { stride: 2, padding: 1, dilation: [1, 2, 1], returnIndices: true })),
  },
  {
    name: 'MaxPool2d layer with returnIndices',
    inputs: [uniform([1, 3, 6, 6])],
    torch: 'torch.nn.MaxPool2d(2, return_indices=True)(xs[0])',
    flint: (xs) => pair(new nn.MaxPool2d(2, { returnIndices: true }).forward(at(xs, 0))),
  },
  // Max unpooling: the values and the indices of a max pool over the second input.
  {
    name: 'maxUnpool2d after 2 x 2 pooling',
    inputs: [uniform([2, 3, 4, 3]), uniform([2, 3, 8, 6])],
    torch: 'F.max_unpool2d(xs[0], F.max_pool2d(xs[1], 2, return_indices=True)[1], 2)',
    flint: (xs) => [F.maxUnpool2d(at(xs, 0), flint.maxPool2d(at(xs, 1), 2, { returnIndices: true }).indices, 2)],
  },
  {
    name: 'maxUnpool2d restores odd sizes through outputSize',
    inputs: [uniform([1, 2, 3, 3]), uniform([1, 2, 7, 6])],
    torch: 'F.max_unpool2d(xs[0], F.max_pool2d(xs[1], 2, return_indices=True)[1], 2, output_size=[7, 7])',
    flint: (xs) => [F.maxUnpool2d(at(xs, 0), flint.maxPool2d(at(xs, 1), 2, { returnIndices: true }).indices, 2, { outputSize: [7, 7] })],
  },
  {
    name: 'maxUnpool2d of a pool with overlapping windows (values of repeated positions agree)',
    inputs: [uniform([1, 2, 9, 8])],
    torch: 'F.max_unpool2d(*F.max_pool2d(xs[0], 3, 2, 1, return_indices=True), 3, 2, 1, output_size=xs[0].shape)',
    flint: (xs) => {
      const { values, indices } = flint.maxPool2d(at(xs, 0), 3, { stride: 2, padding: 1, returnIndices: true });
      return [F.maxUnpool2d(values, indices, 3, { stride: 2, padding: 1, outputSize: at(xs, 0).shape })];
    },
    // PyTorch gives each repeat of a position its whole gradient (docs/nn.md): not compared.
    grad: false,
  },
  {
    name: 'maxUnpool1d with stride 3, padding 1 and a larger outputSize',
    inputs: [uniform([2, 2, 4]), uniform([2, 2, 11])],
    torch: 'F.max_unpool1d(xs[0], F.max_pool1d(xs[1], 3, 3, 1, return_indices=True)[1], 3, 3, 1, output_size=[12])',
    flint: (xs) => [
      F.maxUnpool1d(at(xs, 0), flint.maxPool1d(at(xs, 1), 3, { stride: 3, padding: 1, returnIndices: true }).indices, 3, {
        stride: 3,
        padding: 1,
        outputSize: [12],
      }),
    ],
  },
  {
    name: 'maxUnpool3d after 2 x 2 x 2 pooling, unbatched',
    inputs: [uniform([2, 2, 2, 3]), uniform([2, 4, 5, 6])],
    torch: 'F.max_unpool3d(xs[0], F.max_pool3d(xs[1], 2, return_indices=True)[1], 2, output_size=[4, 5, 6])',
    flint: (xs) => [F.maxUnpool3d(at(xs, 0), flint.maxPool3d(at(xs, 1), 2, { returnIndices: true }).indices, 2, { outputSize: [4, 5, 6] })],
  },
  {
    name: 'MaxUnpool2d layer, outputSize as a whole shape',
    inputs: [uniform([1, 2, 2, 2]), uniform([1, 2, 5, 5])],
    torch: 'torch.nn.MaxUnpool2d(2)(xs[0], F.max_pool2d(xs[1], 2, return_indices=True)[1], output_size=[1, 2, 5, 5])',
    flint: (xs) => [new nn.MaxUnpool2d(2).forward(at(xs, 0), flint.maxPool2d(at(xs, 1), 2, { returnIndices: true }).indices, [1, 2, 5, 5])],
  },
  // Power-average pooling.
  {
    name: 'lpPool1d p = 2, kernel 3, stride 2',
    inputs: [uniform([2, 3, 10])],
    torch: 'F.lp_pool1d(xs[0], 2, 3, 2)',
    flint: (xs) => [F.lpPool1d(at(xs, 0), 2, 3, { stride: 2 })],
  },
  {
    name: 'lpPool2d p = 1 with negative sums and ceil mode (the partial window averaged over its taps, times the kernel size)',
    inputs: [uniform([1, 2, 5, 7])],
    torch: 'F.lp_pool2d(xs[0], 1, 2, ceil_mode=True)',
    flint: (xs) => [F.lpPool2d(at(xs, 0), 1, 2, { ceilMode: true })],
  },
  {
    name: 'lpPool2d p = 3, kernel [2, 3], stride 1, positive input',
    inputs: [uniform([2, 2, 4, 5], 0.1, 2)],
    torch: 'F.lp_pool2d(xs[0], 3, (2, 3), 1)',
    flint: (xs) => [F.lpPool2d(at(xs, 0), 3, [2, 3], { stride: 1 })],
  },
  {
    name: 'lpPool2d p = 3 of mixed signs: NaN roots of negative sums',
    inputs: [uniform([1, 2, 4, 6])],
    torch: 'F.lp_pool2d(xs[0], 3, 2)',
    flint: (xs) => [F.lpPool2d(at(xs, 0), 3, 2)],
  },
  {
    name: 'lpPool2d p = 0.5, ceil mode with stride 2',
    inputs: [uniform([1, 1, 5, 5], 0.1, 3)],
    torch: 'F.lp_pool2d(xs[0], 0.5, 3, 2, ceil_mode=True)',
    flint: (xs) => [F.lpPool2d(at(xs, 0), 0.5, 3, { stride: 2, ceilMode: true })],
  },
  {
    name: 'lpPool2d p = 2 over a window of zeros: NaN gradient there, as PyTorch',
    inputs: [{ shape: [1, 1, 4, 4], data: [0, 0, 1, 2, 0, 0, 3, 4, 5, 6, 7, 8, -1, -2, -3, 0.5] }],
    torch: 'F.lp_pool2d(xs[0], 2, 2)',
    flint: (xs) => [F.lpPool2d(at(xs, 0), 2, 2)],
  },
  {
    name: 'lpPool3d p = 2, kernel 2, ceil mode (PyTorch 1.13 has no lp_pool3d: its formula, written out)',
    inputs: [uniform([1, 2, 3, 5, 4])],
    torch: '(lambda o: (torch.sign(o) * F.relu(torch.abs(o))).mul(8).pow(1 / 2))(F.avg_pool3d(xs[0].pow(2), 2, 2, 0, True))',
    flint: (xs) => [F.lpPool3d(at(xs, 0), 2, 2, { ceilMode: true })],
  },
  {
    name: 'LPPool1d layer, p = 4, unbatched',
    inputs: [uniform([3, 9])],
    torch: 'torch.nn.LPPool1d(4, 2)(xs[0])',
    flint: (xs) => [new nn.LPPool1d(4, 2).forward(at(xs, 0))],
  },
  // Fractional max pooling with given offsets (PyTorch's _random_samples).
  {
    name: 'fractionalMaxPool2d kernel 3 to [5, 4], indices',
    inputs: [uniform([2, 3, 11, 9]), uniform([2, 3, 2], 0, 1)],
    torch: 'F.fractional_max_pool2d(xs[0], 3, output_size=(5, 4), return_indices=True, _random_samples=xs[1])',
    flint: (xs) => pair(F.fractionalMaxPool2d(at(xs, 0), 3, { outputSize: [5, 4], returnIndices: true, randomSamples: at(xs, 1) })),
  },
  {
    name: 'fractionalMaxPool2d in float32 (the intervals computed in float32), outputRatio [0.5, 0.7]',
    inputs: [uniform([1, 2, 25, 13]), uniform([1, 2, 2], 0, 1)],
    torch: 'F.fractional_max_pool2d(xs[0].float(), 2, output_ratio=(0.5, 0.7), return_indices=True, _random_samples=xs[1].float())',
    flint: (xs) =>
      pair(
        F.fractionalMaxPool2d(at(xs, 0).astype('float32'), 2, {
          outputRatio: [0.5, 0.7],
          returnIndices: true,
          randomSamples: at(xs, 1).astype('float32'),
        }),
      ),
  },
  {
    // Offsets where float32's rounding moves a window start (float64 would give 5, not 6, for the
    // 5th row window, and 1, not 2, for the 2nd column window).
    name: 'fractionalMaxPool2d in float32 at offsets where float64 would pick other windows',
    inputs: [uniform([1, 1, 15, 27]), { shape: [1, 1, 2], data: [0.5199999213218689, 0.15384604036808014] }],
    torch: 'F.fractional_max_pool2d(xs[0].float(), 2, output_size=(10, 20), return_indices=True, _random_samples=xs[1].float())',
    flint: (xs) =>
      pair(
        F.fractionalMaxPool2d(at(xs, 0).astype('float32'), 2, {
          outputSize: [10, 20],
          returnIndices: true,
          randomSamples: at(xs, 1).astype('float32'),
        }),
      ),
  },
  {
    name: 'fractionalMaxPool2d unbatched, output 1 (the last window only) and in - kernel + 1 (stride 1)',
    inputs: [uniform([3, 8, 6]), uniform([1, 3, 2], 0, 1)],
    torch: 'F.fractional_max_pool2d(xs[0], (2, 3), output_size=(1, 4), return_indices=True, _random_samples=xs[1])',
    flint: (xs) => pair(F.fractionalMaxPool2d(at(xs, 0), [2, 3], { outputSize: [1, 4], returnIndices: true, randomSamples: at(xs, 1) })),
  },
  {
    name: 'fractionalMaxPool3d kernel 2 to [3, 4, 3], indices',
    inputs: [uniform([1, 2, 6, 7, 5]), uniform([1, 2, 3], 0, 1)],
    torch: 'F.fractional_max_pool3d(xs[0], 2, output_size=(3, 4, 3), return_indices=True, _random_samples=xs[1])',
    flint: (xs) => pair(F.fractionalMaxPool3d(at(xs, 0), 2, { outputSize: [3, 4, 3], returnIndices: true, randomSamples: at(xs, 1) })),
  },
  {
    name: 'FractionalMaxPool3d layer, kernel [2, 1, 3], outputRatio 0.6',
    inputs: [uniform([2, 2, 7, 5, 8]), uniform([2, 2, 3], 0, 1)],
    torch: 'torch.nn.FractionalMaxPool3d((2, 1, 3), output_ratio=0.6, _random_samples=xs[1])(xs[0])',
    flint: (xs) => [new nn.FractionalMaxPool3d([2, 1, 3], { outputRatio: 0.6, randomSamples: at(xs, 1) }).forward(at(xs, 0))],
  },
];

const SCRIPT = `
import json, math, sys, torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
out = []
for case in json.load(sys.stdin):
    xs = [torch.tensor([float(v) for v in e['data']], dtype=torch.float64).reshape(e['shape']) for e in case['inputs']]
    xs[0].requires_grad_(True)
    try:
        result = eval(case['torch'])
        if not isinstance(result, tuple): result = (result,)
        first = result[0]
        w = torch.cos(torch.arange(first.numel(), dtype=torch.float64)).reshape(first.shape)
        (first * w).sum().backward()
        tensors = list(result) + [xs[0].grad]
        out.append([{'shape': list(r.shape), 'data': [v if math.isfinite(v) else str(v) for v in r.detach().double().flatten().tolist()]} for r in tensors])
    except Exception as error:
        out.append({'error': str(error)})
print(json.dumps(out))
`;

const decode = (v: number | string): number => (typeof v === 'number' ? v : Number(v.replace('inf', 'Infinity')));

const reason = torchUnavailable();

describe.skipIf(reason !== '')(`pooling matches PyTorch${reason === '' ? '' : ` (skipped: ${reason})`}`, () => {
  const encoded = CASES.map((c) => ({ ...c, inputs: c.inputs.map((e) => ({ ...e, data: e.data.map(String) })) }));
  const run =
    reason === '' ? spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(encoded), encoding: 'utf8', maxBuffer: 1 << 26 }) : null;
  const results = run !== null && run.status === 0 ? (JSON.parse(run.stdout) as unknown[]) : [];

  test('the torch script ran', () => {
    expect(run?.status, run?.stderr).toBe(0);
  });

  CASES.forEach((c, k) => {
    test(c.name, () => {
      const expected = results[k] as { shape: number[]; data: (number | string)[] }[] | { error: string } | undefined;
      if (expected === undefined || !Array.isArray(expected)) throw new Error(`torch failed: ${JSON.stringify(expected)}`);
      const xs = c.inputs.map((e) => tensor(Float64Array.from(e.data), { shape: e.shape, dtype: 'float64' }));
      const got = c.flint(xs);
      const first = got[0] as Tensor;
      const w = flint.cos(flint.arange(first.size, { dtype: 'float64' })).reshape(first.shape);
      const gradient = flint.grad((x: Tensor) => flint.sum(flint.mul(c.flint([x, ...xs.slice(1)])[0] as Tensor, w)))(at(xs, 0));
      const compared = c.grad === false ? got : [...got, gradient];
      compared.forEach((t, i) => {
        const want = expected[i] as { shape: number[]; data: (number | string)[] };
        const what = i === got.length ? 'gradient' : `result ${i}`;
        expect(t.shape, `${c.name}: shape of ${what}`).toEqual(want.shape);
        const data = Array.from(t.dataSync(), Number);
        const wanted = want.data.map(decode);
        if (t.dtype === 'int32') {
          expect(data, `${c.name}: ${what}`).toEqual(wanted);
          return;
        }
        data.forEach((v, j) => {
          const e = wanted[j] as number;
          if (Number.isNaN(e) || !Number.isFinite(e)) expect(v, `${c.name}: ${what}, element ${j}`).toBe(e);
          else expect(Math.abs(v - e), `${c.name}: ${what}, element ${j}: ${v} vs ${e}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(e)));
        });
      });
    });
  });
});
