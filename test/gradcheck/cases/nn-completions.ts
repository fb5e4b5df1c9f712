import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import * as F from '../../../packages/api/src/nn/functional/index.js';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { distinctOperand, floatOperand, shapes, tripletOperands } from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';

// The nn.functional ops that completed its list against torch.nn.functional: the shrinkage
// activations, rrelu, channelShuffle, pdist and the triplet loss with a distance function.
// Inputs stay away from the activations' kinks (±lambd, 0), pdist's rows are distinct (a zero
// distance has no derivative), and the triplet margin keeps every hinge open.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
/** A key where the data lives (random.key otherwise takes the default backend). */
const keyBeside = (x: Tensor, seed: number): Tensor => {
  const backend = backendOf(x)?.name;
  return flint.random.key(seed, backend === undefined ? {} : { backend });
};
const one = (values: Parameters<typeof floatOperand>[1]) =>
  shapes()
    .chain((s) => floatOperand(s, values))
    .map((x) => ({ operands: [x] }));

export const nnCompletionCases: CompositeCase[] = [
  composite(
    'shrinkage activations',
    ['hardshrink', 'softshrink', 'tanhshrink'],
    one({ avoid: [-0.5, 0.5], gap: 0.05 }),
    (xs) =>
      F.hardshrink(at(xs, 0))
        .mul(2)
        .add(F.softshrink(at(xs, 0)))
        .add(F.tanhshrink(at(xs, 0)).mul(3)),
    { smooth: false },
  ),
  composite(
    'rrelu (evaluation slope, and a keyed training draw)',
    ['rrelu'],
    one({ avoid: [0], gap: 0.05 }),
    (xs) => {
      const x = at(xs, 0);
      return F.rrelu(x, 0.1, 0.3).add(F.rrelu(x, 0.1, 0.3, { training: true, key: keyBeside(x, 7) }).mul(2));
    },
    { smooth: false },
  ),
  composite(
    'featureAlphaDropout with a key',
    ['featureAlphaDropout'],
    floatOperand([3, 4, 2]).map((x) => ({ operands: [x] })),
    (xs) => F.featureAlphaDropout(at(xs, 0), 0.4, { training: true, key: keyBeside(at(xs, 0), 3) }),
  ),
  composite(
    'channelShuffle',
    ['channelShuffle'],
    floatOperand([2, 6, 3]).map((x) => ({ operands: [x] })),
    (xs) => F.channelShuffle(at(xs, 0), 3),
  ),
  composite(
    'pdist',
    ['pdist'],
    fc.integer({ min: 2, max: 4 }).chain((n) => distinctOperand([n, 3], 0.3).map((x) => ({ operands: [x] }))),
    (xs) =>
      F.pdist(at(xs, 0))
        .mul(F.pdist(at(xs, 0), 3))
        .add(F.pdist(at(xs, 0), 1.5)),
  ),
  composite(
    'tripletMarginWithDistanceLoss',
    ['tripletMarginWithDistanceLoss'],
    tripletOperands,
    (xs) => {
      const anchor = at(xs, 0);
      const positive = anchor.add(at(xs, 1));
      const negative = anchor.sub(at(xs, 2)).sub(0.5);
      // Shifted away from the origin: the cosine's gradient grows as a norm shrinks.
      const cosineDistance = (a: Tensor, b: Tensor) => F.cosineSimilarity(a.add(2), b.add(3)).neg().add(1);
      return F.tripletMarginWithDistanceLoss(anchor, positive, negative, { margin: 10, swap: true }).add(
        F.tripletMarginWithDistanceLoss(anchor, positive, negative, {
          margin: 10,
          distanceFunction: cosineDistance,
          reduction: 'sum',
        }),
      );
    },
    { smooth: false },
  ),
];
