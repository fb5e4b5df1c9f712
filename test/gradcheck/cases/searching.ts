import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { floatOperand, intOperand, shapes } from '../generators.js';
import type { CompositeCase } from './composites.js';

// The differentiable searching and counting ops (packages/api/src/ops/nonzero.ts, counting.ts):
// maskedSelect, a gather at the mask's true positions, and bincount's sums of weights, a
// scatter-add. The mask is a parameter, not an operand: a mask batched by vmap would give each
// example its own result size, which vmap refuses; a fixed mask with a batched x is fine. bincount
// takes a static `length`, without which it could not be batched either.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;

export const searchingCases: CompositeCase[] = [
  {
    name: 'maskedSelect',
    ops: ['maskedSelect'],
    covers: [],
    sample: shapes(0, 3).chain((shape) =>
      fc
        .tuple(
          floatOperand(shape),
          fc.array(fc.boolean(), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }),
        )
        .map(([x, mask]) => ({ operands: [x], params: { mask, shape } as never })),
    ),
    apply: (xs, p) => {
      const { mask, shape } = p as unknown as { mask: boolean[]; shape: number[] };
      const x = at(xs, 0);
      return flint.maskedSelect(x, flint.tensor(mask, { shape, dtype: 'bool', backend: backendOf(x)?.name }));
    },
    numRuns: 6,
    smooth: true,
    readsValues: 'its result has one element per true value of the mask',
  },
  {
    name: 'bincount (weights, static length)',
    ops: ['bincount'],
    covers: [],
    sample: fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc
          .tuple(intOperand([n], -1, 4), floatOperand([n]))
          .map(([index, weights]) => ({ operands: [index, weights], params: null as never })),
      ),
    apply: (xs) => flint.bincount(at(xs, 0), { weights: at(xs, 1), length: 4 }),
    numRuns: 6,
    smooth: true,
  },
];
