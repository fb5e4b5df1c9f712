import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import * as F from '../../../packages/api/src/nn/functional/index.js';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { distinctOperand, floatOperand } from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';
import { selfWeightedSums } from './weighted-sums.js';

// The pooling family beyond the plain pools (cases in composites.ts): max pooling's values with
// `returnIndices` and max unpooling at those indices (packages/api/src/ops/max-pool-indices.ts,
// max-unpool.ts), fractional max pooling (nn/functional/fractional-max-pool.ts) and power-average
// pooling (nn/functional/lp-pool.ts). Inputs are distinct, so
// that no finite-difference step moves a maximum; lpPool's are positive, away from the zero sums
// where its root has no derivative.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;

export const poolingCases: CompositeCase[] = [
  composite(
    'maxPool with returnIndices, then maxUnpool at the indices',
    ['maxPool1d', 'maxPool2d', 'maxPool3d', 'maxUnpool1d', 'maxUnpool2d', 'maxUnpool3d'],
    fc
      .integer({ min: 4, max: 5 })
      .chain((size) =>
        fc
          .tuple(distinctOperand([1, 2, size, size]), floatOperand([1, 2, 2, 2]), distinctOperand([2, 2, 3, 3], 0.1))
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const x = at(xs, 0);
      const flat = flint.reshape(x, [1, 2, -1]);
      // Overlapping windows: a maximum can be reported by two windows, which unpooling averages.
      const overlapping = flint.maxPool2d(x, 3, { stride: 2, padding: 1, returnIndices: true });
      const tiled = flint.maxPool1d(flat, 2, { returnIndices: true });
      const volume = flint.maxPool3d(at(xs, 2), 2, { stride: 1, returnIndices: true });
      return selfWeightedSums([
        overlapping.values,
        F.maxUnpool2d(overlapping.values.mul(2), overlapping.indices, 3, { stride: 2, padding: 1, outputSize: x.shape }),
        F.maxUnpool2d(at(xs, 1), flint.maxPool2d(x, 2, { returnIndices: true }).indices, 2, { outputSize: x.shape }),
        F.maxUnpool1d(tiled.values, tiled.indices, 2),
        volume.values,
        F.maxUnpool3d(volume.values, volume.indices, 2, { stride: 1 }),
      ]);
    },
    { numRuns: 3 },
  ),
  composite(
    'fractionalMaxPool2d, fractionalMaxPool3d (given offsets, and a key)',
    ['fractionalMaxPool2d', 'fractionalMaxPool3d'],
    fc
      .tuple(fc.integer({ min: 5, max: 6 }), fc.array(fc.double({ min: 0, max: 0.99, noNaN: true }), { minLength: 7, maxLength: 7 }))
      .chain(([size, offsets]) =>
        fc
          .tuple(distinctOperand([1, 2, size, size + 1]), distinctOperand([1, 1, 4, 3, 4], 0.1))
          .map((operands) => ({ operands, params: { offsets } })),
      ),
    (xs, p) => {
      const { offsets } = p as unknown as { offsets: number[] };
      const on = { dtype: 'float64' as const, backend: backendOf(at(xs, 0))?.name };
      const samples2d = flint.tensor(offsets.slice(0, 4), { ...on, shape: [1, 2, 2] });
      const samples3d = flint.tensor(offsets.slice(4), { ...on, shape: [1, 1, 3] });
      const pooled = F.fractionalMaxPool2d(at(xs, 0), 2, { outputSize: [3, 4], randomSamples: samples2d, returnIndices: true });
      return selfWeightedSums([
        pooled.values,
        F.fractionalMaxPool2d(at(xs, 0), [3, 2], { outputRatio: 0.6, key: flint.random.key(offsets.length, { backend: on.backend }) }),
        F.fractionalMaxPool3d(at(xs, 1), 2, { outputSize: [2, 2, 3], randomSamples: samples3d }),
      ]);
    },
    { numRuns: 3 },
  ),
  composite(
    'lpPool1d, lpPool2d, lpPool3d',
    ['lpPool1d', 'lpPool2d', 'lpPool3d'],
    fc
      .integer({ min: 3, max: 4 })
      .chain((size) =>
        fc
          .tuple(floatOperand([1, 2, size, size], { min: 0.3, max: 2 }), floatOperand([1, 2, 3, 3], { min: 0.3, max: 2 }))
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const x = at(xs, 0);
      return selfWeightedSums([
        F.lpPool2d(x, 2, 2, { ceilMode: true }),
        F.lpPool2d(x, 3, [2, 3], { stride: 1 }),
        F.lpPool1d(flint.reshape(x, [2, -1]), 1.5, 3, { stride: 2 }),
        F.lpPool3d(at(xs, 1), 2, 2, { stride: 1 }),
      ]);
    },
    { numRuns: 3, smooth: true },
  ),
];
