import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { axesSubset, broadcastPair, distinctOperand, floatOperand, intOperand, shapes, type ValueOptions } from '../generators.js';
import { type CompositeCase, smoothCase } from './composite-case.js';

// The special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts), torch's
// elementwise conveniences (ops/torch-elementwise.ts), statistics, splits and combinatorics.
// The special functions' derivatives are rules (lgamma' = digamma, ...), so these cases check
// the rules against finite differences of the values, to second order.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
const one = (values: ValueOptions) => shapes(0, 2).chain((s) => floatOperand(s, values).map((x) => ({ operands: [x] })));
const two = (a: ValueOptions, b: ValueOptions) =>
  broadcastPair(2).chain(([sa, sb]) => fc.tuple(floatOperand(sa, a), floatOperand(sb, b)).map((operands) => ({ operands })));
/** Broadcasting operands: integers in [min, max] (not differentiated; the case makes them half-integers) and floats. */
const integerAndFloat = (min: number, max: number, values: ValueOptions) =>
  broadcastPair(2).chain(([sa, sb]) => fc.tuple(intOperand(sa, min, max), floatOperand(sb, values)).map((operands) => ({ operands })));
/** An integer operand as the half-integer above it, in float64. */
const halfInteger = (t: Tensor): Tensor => t.astype('float64').add(0.5);
type Reduction = { axes: number[]; keepdims: boolean };
const reductionOf = (p: never): Reduction => p as unknown as Reduction;

export const specialCases: CompositeCase[] = [
  smoothCase('lgamma, digamma and polygamma (x > 0)', ['lgamma', 'digamma', 'polygamma'], one({ min: 0.3, max: 6 }), (xs) =>
    flint
      .lgamma(at(xs, 0))
      .add(flint.digamma(at(xs, 0)).mul(2))
      .add(flint.polygamma(1, at(xs, 0)).mul(0.5))
      .add(flint.polygamma(2, at(xs, 0)).mul(0.1)),
  ),
  smoothCase(
    'lgamma, digamma and polygamma (negative, between the poles)',
    ['lgamma', 'digamma', 'polygamma'],
    one({ min: -2.8, max: -0.2, avoid: [-2, -1], gap: 0.2 }),
    (xs) =>
      flint
        .lgamma(at(xs, 0))
        .add(flint.digamma(at(xs, 0)).mul(0.1))
        .add(flint.polygamma(1, at(xs, 0)).mul(0.01)),
  ),
  smoothCase('mvlgamma', ['mvlgamma'], one({ min: 1.6, max: 4 }), (xs) => flint.mvlgamma(at(xs, 0), 3)),
  smoothCase('erfc, erfcx, ndtr and logNdtr', ['erfc', 'erfcx', 'ndtr', 'logNdtr'], one({ min: -3, max: 3 }), (xs) =>
    flint
      .erfc(at(xs, 0))
      .add(flint.erfcx(at(xs, 0)).mul(0.1))
      .add(flint.ndtr(at(xs, 0)))
      .add(flint.logNdtr(at(xs, 0))),
  ),
  smoothCase('ndtri', ['ndtri'], one({ min: 0.02, max: 0.98 }), (xs) => flint.ndtri(at(xs, 0))),
  smoothCase('erfinv', ['erfinv'], one({ min: -0.95, max: 0.95 }), (xs) => flint.erfinv(at(xs, 0))),
  // Differentiable in q only (x's derivative is not implemented, as in PyTorch): x is an integer
  // operand, which the checks do not differentiate, made a half-integer.
  smoothCase('zeta (in q, broadcasting)', ['zeta'], integerAndFloat(2, 5, { min: 0.3, max: 4 }), (xs) =>
    flint.zeta(halfInteger(at(xs, 0)), at(xs, 1)),
  ),
  // Differentiable in x only, as zeta in q: a is a half-integer from an integer operand, x across the
  // regions (series, Q's series, continued fraction).
  smoothCase(
    'gammainc and gammaincc (in x, broadcasting)',
    ['gammainc', 'gammaincc'],
    integerAndFloat(0, 4, { min: 0.2, max: 6 }),
    (xs) => {
      const a = halfInteger(at(xs, 0));
      return flint.gammainc(a, at(xs, 1)).add(flint.gammaincc(a.mul(3), at(xs, 1).mul(4)).mul(2));
    },
  ),
  // i0e and i1e take |x|: kept away from 0, their kink.
  smoothCase('i0, i0e, i1 and i1e', ['i0', 'i0e', 'i1', 'i1e'], one({ min: -9, max: 9, avoid: [0], gap: 0.1 }), (xs) =>
    flint
      .i0(at(xs, 0))
      .mul(0.01)
      .add(flint.i0e(at(xs, 0)))
      .add(flint.i1(at(xs, 0)).mul(0.01))
      .add(flint.i1e(at(xs, 0))),
  ),
  smoothCase('logaddexp and logaddexp2 (broadcasting)', ['logaddexp', 'logaddexp2'], two({}, {}), (xs) =>
    flint.logaddexp(at(xs, 0), at(xs, 1)).add(flint.logaddexp2(at(xs, 0), at(xs, 1))),
  ),
  smoothCase('xlogy and xlog1py (broadcasting)', ['xlogy', 'xlog1py'], two({}, { min: 0.3, max: 3 }), (xs) =>
    flint.xlogy(at(xs, 0), at(xs, 1)).add(flint.xlog1py(at(xs, 0), at(xs, 1))),
  ),
  smoothCase('hypot (broadcasting)', ['hypot'], two({ avoid: [0], gap: 0.2 }, {}), (xs) => flint.hypot(at(xs, 0), at(xs, 1))),
  // copysign(a, b) is ±|a|: a away from its kink at 0; b carries no derivative, so integer signs.
  smoothCase(
    'copysign (broadcasting)',
    ['copysign'],
    broadcastPair(2).chain(([sa, sb]) =>
      fc.tuple(floatOperand(sa, { avoid: [0], gap: 0.1 }), intOperand(sb, -2, 2)).map((operands) => ({ operands })),
    ),
    (xs) => flint.copysign(at(xs, 0), at(xs, 1)),
  ),
  smoothCase(
    'heaviside (the values at x == 0)',
    ['heaviside'],
    shapes(0, 2).chain((s) => fc.tuple(intOperand(s, -1, 1), floatOperand(s)).map((operands) => ({ operands }))),
    (xs) => flint.heaviside(at(xs, 0), at(xs, 1)).mul(at(xs, 1)),
  ),
  smoothCase('sinc, deg2rad, rad2deg and nanToNum', ['sinc', 'deg2rad', 'rad2deg', 'nanToNum'], one({ min: -3, max: 3 }), (xs) =>
    flint
      .sinc(at(xs, 0))
      .add(flint.deg2rad(at(xs, 0)))
      .add(flint.rad2deg(at(xs, 0)).mul(0.01))
      .add(flint.nanToNum(at(xs, 0).mul(at(xs, 0)))),
  ),
  smoothCase('logit and entr', ['logit', 'entr'], one({ min: 0.05, max: 0.95 }), (xs) =>
    flint
      .logit(at(xs, 0))
      .add(flint.logit(at(xs, 0), 0.01))
      .add(flint.entr(at(xs, 0))),
  ),
  // a / b in (1.1, 1.8): away from the jumps of fmod and remainder, with a derivative for b.
  smoothCase('fmod and remainder (broadcasting)', ['fmod', 'remainder'], two({ min: 0.9, max: 1.3 }, { min: 0.75, max: 0.8 }), (xs) => {
    const [a, b] = [at(xs, 0), at(xs, 1)];
    return flint
      .fmod(a, b)
      .add(flint.fmod(a.neg(), b).mul(2))
      .add(flint.fmod(a, b.neg()).mul(3))
      .add(flint.remainder(a, b))
      .add(flint.remainder(a.neg(), b).mul(0.5));
  }),
  smoothCase('floatPower (broadcasting)', ['floatPower'], two({ min: 0.3, max: 2 }, {}), (xs) => flint.floatPower(at(xs, 0), at(xs, 1))),
  smoothCase(
    'varMean and stdMean',
    ['varMean', 'stdMean'],
    // std has no derivative at zero spread: distinct values, and every reduced group 2 or more.
    shapes(1, 3, 2).chain((shape) =>
      fc
        .tuple(distinctOperand(shape), axesSubset(shape.length, false), fc.boolean())
        .map(([x, axes, keepdims]) => ({ operands: [x], params: { axes, keepdims } })),
    ),
    (xs, p) => {
      const { axes, keepdims } = reductionOf(p);
      const [v, m] = flint.varMean(at(xs, 0), axes, { keepdims, correction: 0 });
      const [s, m1] = flint.stdMean(at(xs, 0), axes, keepdims);
      return v.add(m.mul(2)).add(s.mul(3)).add(m1);
    },
  ),
  smoothCase(
    'aminmax',
    ['aminmax'],
    shapes(1, 3, 1).chain((shape) =>
      fc
        .tuple(distinctOperand(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }), fc.boolean())
        .map(([x, axis, keepdims]) => ({ operands: [x], params: { axis, keepdims } })),
    ),
    (xs, p) => {
      const options = p as unknown as { axis: number; keepdims: boolean };
      const { min, max } = flint.aminmax(at(xs, 0), options);
      return max.add(min.mul(2));
    },
    false,
  ),
  smoothCase(
    'cov (weighted) and corrcoef',
    ['cov', 'corrcoef'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 3, max: 5 }))
      .chain(([v, n]) => fc.tuple(distinctOperand([v, n]), floatOperand([n], { min: 0.5, max: 2 })).map((operands) => ({ operands }))),
    (xs) => {
      const [x, w] = [at(xs, 0), at(xs, 1)];
      const backend = backendOf(x)?.name;
      const n = x.shape[1] as number;
      const fweights = flint.tensor(
        Int32Array.from({ length: n }, (_, i) => 1 + (i % 2)),
        backend === undefined ? {} : { backend },
      );
      return flint
        .cov(x)
        .add(flint.cov(x, { aweights: w, correction: 0 }))
        .add(flint.cov(x, { fweights, aweights: w }))
        .add(flint.corrcoef(x));
    },
  ),
  smoothCase(
    'trapezoid and cumulativeTrapezoid',
    ['trapezoid', 'cumulativeTrapezoid'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
      .chain(([m, n]) => fc.tuple(floatOperand([m, n]), floatOperand([n])).map((operands) => ({ operands }))),
    (xs) => {
      const [y, x] = [at(xs, 0), at(xs, 1)];
      return flint
        .trapezoid(y, { x })
        .add(flint.trapezoid(y, { dx: 0.5, axis: 0 }).sum())
        .add(flint.cumulativeTrapezoid(y, { x }).sum(-1).mul(2));
    },
  ),
  smoothCase(
    'tensorSplit, unbind and movedim',
    ['tensorSplit', 'unbind', 'movedim'],
    shapes(2, 3, 2, 4).chain((shape) => floatOperand(shape).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = at(xs, 0);
      const pieces = [...flint.tensorSplit(x, 3, 0), ...flint.tensorSplit(x, [1, -1, 9], 1), ...flint.unbind(flint.movedim(x, 0, -1), 0)];
      return flint.concat(
        pieces.map((t, i) =>
          flint
            .sum(t)
            .mul(i + 1)
            .reshape([1]),
        ),
        0,
      );
    },
  ),
  smoothCase(
    'cartesianProd and combinations',
    ['cartesianProd', 'combinations'],
    fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }))
      .chain(([n, m]) => fc.tuple(floatOperand([n]), floatOperand([m])).map((operands) => ({ operands }))),
    (xs) => {
      const [a, b] = [at(xs, 0), at(xs, 1)];
      const product = flint.cartesianProd(a, b);
      const pairs = flint.combinations(a, { r: 2, withReplacement: true });
      return flint.square(flint.concat([product.reshape([-1]), pairs.reshape([-1])], 0));
    },
  ),
];
