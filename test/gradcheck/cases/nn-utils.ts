import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import * as nn from '../../../packages/api/src/nn/index.js';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { floatOperand } from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';
import { selfWeightedSums } from './weighted-sums.js';

// nn.utils (packages/api/src/nn/utils): the sequence utilities, gathers whose indices the host
// computes from the lengths, and the forward passes of the weight-norm and spectral-norm
// parametrizations. They are not ops of the coverage list (`ops` stays empty), but are checked
// the same way: finite differences, JVP against VJP, the tape, vmap and second derivatives.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;

const { rnn, parametrizations } = nn.utils;

export const nnUtilsCases: CompositeCase[] = [
  composite(
    'nn.utils.rnn: padSequence, unpadSequence, packPaddedSequence (unsorted), padPackedSequence, packSequence, unpackSequence',
    [],
    fc.tuple(floatOperand([3, 2]), floatOperand([1, 2]), floatOperand([2, 2])).map((operands) => ({ operands })),
    (xs) => {
      const sequences = [at(xs, 0), at(xs, 1), at(xs, 2)];
      const padded = rnn.padSequence(sequences, { batchFirst: true, paddingValue: 0.5 });
      const packed = rnn.packPaddedSequence(padded, [3, 1, 2], { batchFirst: true, enforceSorted: false });
      const [back] = rnn.padPackedSequence(packed, { paddingValue: -1, totalLength: 4 });
      return selfWeightedSums([
        rnn.padSequence(sequences, { paddingSide: 'left' }),
        ...rnn.unpadSequence(padded, [3, 1, 2], { batchFirst: true }),
        packed.data,
        back,
        rnn.packSequence([at(xs, 0), at(xs, 2), at(xs, 1)]).data,
        ...rnn.unpackSequence(rnn.packSequence(sequences, { enforceSorted: false })),
      ]);
    },
    { smooth: true, numRuns: 3 },
  ),
  composite(
    'nn.utils.parametrizations: weight norm (axis 0, 1, whole) and spectral norm (evaluation mode, given u and v)',
    [],
    fc
      .tuple(floatOperand([3, 1]), floatOperand([3, 2], { min: 0.5, max: 2 }), floatOperand([]), floatOperand([3]), floatOperand([2]))
      .map((operands) => ({ operands })),
    (xs) => {
      const v = at(xs, 1);
      const byRow = new parametrizations.WeightNorm(0).forward(at(xs, 0), v);
      const byColumn = new parametrizations.WeightNorm(1).forward(at(xs, 0).reshape([3]).narrow(0, 0, 2).reshape([1, 2]), v);
      const whole = new parametrizations.WeightNorm(null).forward(at(xs, 2), v);
      const backend = backendOf(v)?.name;
      const spectral = new parametrizations.SpectralNorm(
        flint.ones([3, 2], { dtype: 'float64', ...(backend === undefined ? {} : { backend }) }),
      );
      spectral.eval();
      // u and v kept away from orthogonality to the weight, where σ vanishes.
      spectral.setBuffer('_u', at(xs, 3).add(3));
      spectral.setBuffer('_v', at(xs, 4).add(3));
      return selfWeightedSums([byRow, byColumn, whole, spectral.forward(v.add(1))]);
    },
    { smooth: true, numRuns: 2 },
  ),
  composite(
    'nn.utils.parametrizations: orthogonal (householder on a tall matrix, cayley on a wide one, matrix_exp on a square one)',
    [],
    fc.tuple(floatOperand([3, 2]), floatOperand([2, 3]), floatOperand([3, 3])).map((operands) => ({ operands })),
    (xs) => {
      const backend = backendOf(at(xs, 0))?.name;
      const on = { dtype: 'float64' as const, ...(backend === undefined ? {} : { backend }) };
      const base = flint.tensor(
        [
          [0.6, 0, -0.8],
          [0.8, 0, 0.6],
          [0, 1, 0],
        ],
        on,
      );
      const parts = (['householder', 'cayley', 'matrix_exp'] as const).map((map, i) => {
        const x = at(xs, i);
        const orthogonal = new parametrizations.Orthogonal(flint.zeros(x.shape, on), map);
        // A base that is not the identity (registration would complete the weight at random).
        orthogonal.setBuffer('base', base);
        // The householder map's sign comes from X's diagonal truncated: keep it away from integers.
        return orthogonal.forward(
          i === 0
            ? x.mul(0.2).add(
                flint.tensor(
                  [
                    [-1.5, 0],
                    [0, 1.5],
                    [0, 0],
                  ],
                  on,
                ),
              )
            : x,
        );
      });
      return selfWeightedSums(parts);
    },
    { smooth: true, numRuns: 2 },
  ),
];
