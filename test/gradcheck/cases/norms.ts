import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { axesSubset, floatOperand, type Operand, shapes } from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';

// Norms (ops/linalg-norms.ts). Values stay away from 0, where |x| and the p-norms have kinks (the
// zero subgradient is checked exactly in linalg-norms.test.ts); max/min-based orders get offsets
// that keep the competing magnitudes or sums apart, so no sample sits on a tie.

type NormParams = { axes: number[]; keepdims: boolean; ord: number };

/** A norm case: one operand, not smooth (the norms have kinks). */
const normCase = (
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params: unknown }>,
  apply: (x: Tensor, p: NormParams) => Tensor,
): CompositeCase => composite(name, ops, sample, (xs, p: NormParams) => apply(xs[0] as Tensor, p), { smooth: false });

const vectorSample = (ords: readonly number[]) =>
  shapes(0, 3, 1).chain((shape) =>
    fc
      .tuple(floatOperand(shape, { avoid: [0], gap: 0.3 }), axesSubset(shape.length, false), fc.boolean(), fc.constantFrom(...ords))
      .map(([x, axes, keepdims, ord]) => ({ operands: [x], params: { axes, keepdims, ord } })),
  );

/** Positive values, each at least 6 more than every value at a lower flat index: no ties in |x| or in sums along any axis. */
function spread(x: Tensor): Tensor {
  // Built from x (not arange) so it lives on x's backend and follows vmap.
  const offsets = flint
    .cumsum(flint.onesLike(flint.reshape(x, [-1])), 0)
    .mul(6)
    .reshape(x.shape);
  return x.add(offsets);
}

const matrixSample = (ords: readonly (number | 'fro')[]) =>
  shapes(2, 3, 1).chain((shape) =>
    fc
      .tuple(floatOperand(shape, { min: 0.3, max: 2 }), fc.boolean(), fc.constantFrom(...ords))
      .map(([x, keepdims, ord]) => ({ operands: [x], params: { axes: [-2, -1], keepdims, ord } })),
  );

export const normCases: CompositeCase[] = [
  normCase('linalg.vectorNorm (p)', ['vectorNorm'], vectorSample([2, 1, 3, 0.5, -1.5]), (x, p) =>
    flint.linalg.vectorNorm(x, { ord: p.ord, axis: p.axes, keepdims: p.keepdims }),
  ),
  normCase(
    'linalg.vectorNorm (±Infinity)',
    ['vectorNorm'],
    vectorSample([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]).map((s) => ({
      ...s,
      operands: s.operands.map((o) => ({ ...o, data: o.data.map(Math.abs) })),
    })),
    (x, p) => flint.linalg.vectorNorm(spread(x), { ord: p.ord, axis: p.axes, keepdims: p.keepdims }),
  ),
  normCase('linalg.matrixNorm', ['matrixNorm'], matrixSample(['fro', 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]), (x, p) =>
    flint.linalg.matrixNorm(spread(x), { ord: p.ord, keepdims: p.keepdims }),
  ),
  normCase('linalg.norm', ['linalgNorm'], matrixSample(['fro', 1, Number.POSITIVE_INFINITY]), (x, p) =>
    flint.linalg.norm(spread(x), { ord: p.ord, axis: [-1, -2], keepdims: p.keepdims }),
  ),
  normCase('norm', ['norm'], vectorSample([2, 3]), (x, p) => flint.norm(x, p.ord, p.axes, p.keepdims)),
];
