import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { broadcastPair, floatOperand, intOperand, type Operand, shapes, type ValueOptions } from '../generators.js';
import type { CompositeCase } from './composites.js';

// The special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts) and torch's
// elementwise conveniences (ops/torch-elementwise.ts).
// The special functions' derivatives are rules (lgamma' = digamma, ...), so these cases check
// the rules against finite differences of the values, to second order.

function specialCase(
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params?: unknown }>,
  apply: (xs: Tensor[], p: never) => Tensor,
  smooth = true,
): CompositeCase {
  return {
    name,
    ops,
    covers: [],
    sample: sample.map((s) => ({ operands: s.operands, params: (s.params ?? null) as never })),
    apply,
    numRuns: 6,
    smooth,
  };
}

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
const one = (values: ValueOptions) => shapes(0, 2).chain((s) => floatOperand(s, values).map((x) => ({ operands: [x] })));
const two = (a: ValueOptions, b: ValueOptions) =>
  broadcastPair(2).chain(([sa, sb]) => fc.tuple(floatOperand(sa, a), floatOperand(sb, b)).map((operands) => ({ operands })));

export const specialCases: CompositeCase[] = [
  specialCase('lgamma, digamma and polygamma (x > 0)', ['lgamma', 'digamma', 'polygamma'], one({ min: 0.3, max: 6 }), (xs) =>
    flint
      .lgamma(at(xs, 0))
      .add(flint.digamma(at(xs, 0)).mul(2))
      .add(flint.polygamma(1, at(xs, 0)).mul(0.5))
      .add(flint.polygamma(2, at(xs, 0)).mul(0.1)),
  ),
  specialCase(
    'lgamma, digamma and polygamma (negative, between the poles)',
    ['lgamma', 'digamma', 'polygamma'],
    one({ min: -2.8, max: -0.2, avoid: [-2, -1], gap: 0.2 }),
    (xs) =>
      flint
        .lgamma(at(xs, 0))
        .add(flint.digamma(at(xs, 0)).mul(0.1))
        .add(flint.polygamma(1, at(xs, 0)).mul(0.01)),
  ),
  specialCase('mvlgamma', ['mvlgamma'], one({ min: 1.6, max: 4 }), (xs) => flint.mvlgamma(at(xs, 0), 3)),
  specialCase('erfc, erfcx, ndtr and logNdtr', ['erfc', 'erfcx', 'ndtr', 'logNdtr'], one({ min: -3, max: 3 }), (xs) =>
    flint
      .erfc(at(xs, 0))
      .add(flint.erfcx(at(xs, 0)).mul(0.1))
      .add(flint.ndtr(at(xs, 0)))
      .add(flint.logNdtr(at(xs, 0))),
  ),
  specialCase('ndtri', ['ndtri'], one({ min: 0.02, max: 0.98 }), (xs) => flint.ndtri(at(xs, 0))),
  // i0e and i1e take |x|: kept away from 0, their kink.
  specialCase('i0, i0e, i1 and i1e', ['i0', 'i0e', 'i1', 'i1e'], one({ min: -9, max: 9, avoid: [0], gap: 0.1 }), (xs) =>
    flint
      .i0(at(xs, 0))
      .mul(0.01)
      .add(flint.i0e(at(xs, 0)))
      .add(flint.i1(at(xs, 0)).mul(0.01))
      .add(flint.i1e(at(xs, 0))),
  ),
  specialCase('logaddexp and logaddexp2 (broadcasting)', ['logaddexp', 'logaddexp2'], two({}, {}), (xs) =>
    flint.logaddexp(at(xs, 0), at(xs, 1)).add(flint.logaddexp2(at(xs, 0), at(xs, 1))),
  ),
  specialCase('xlogy and xlog1py (broadcasting)', ['xlogy', 'xlog1py'], two({}, { min: 0.3, max: 3 }), (xs) =>
    flint.xlogy(at(xs, 0), at(xs, 1)).add(flint.xlog1py(at(xs, 0), at(xs, 1))),
  ),
  specialCase('hypot (broadcasting)', ['hypot'], two({ avoid: [0], gap: 0.2 }, {}), (xs) => flint.hypot(at(xs, 0), at(xs, 1))),
  // copysign(a, b) is ±|a|: a away from its kink at 0; b carries no derivative, so integer signs.
  specialCase(
    'copysign (broadcasting)',
    ['copysign'],
    broadcastPair(2).chain(([sa, sb]) =>
      fc.tuple(floatOperand(sa, { avoid: [0], gap: 0.1 }), intOperand(sb, -2, 2)).map((operands) => ({ operands })),
    ),
    (xs) => flint.copysign(at(xs, 0), at(xs, 1)),
  ),
  specialCase(
    'heaviside (the values at x == 0)',
    ['heaviside'],
    shapes(0, 2).chain((s) => fc.tuple(intOperand(s, -1, 1), floatOperand(s)).map((operands) => ({ operands }))),
    (xs) => flint.heaviside(at(xs, 0), at(xs, 1)).mul(at(xs, 1)),
  ),
  specialCase('sinc, deg2rad, rad2deg and nanToNum', ['sinc', 'deg2rad', 'rad2deg', 'nanToNum'], one({ min: -3, max: 3 }), (xs) =>
    flint
      .sinc(at(xs, 0))
      .add(flint.deg2rad(at(xs, 0)))
      .add(flint.rad2deg(at(xs, 0)).mul(0.01))
      .add(flint.nanToNum(at(xs, 0).mul(at(xs, 0)))),
  ),
  specialCase('logit and entr', ['logit', 'entr'], one({ min: 0.05, max: 0.95 }), (xs) =>
    flint
      .logit(at(xs, 0))
      .add(flint.logit(at(xs, 0), 0.01))
      .add(flint.entr(at(xs, 0))),
  ),
  // a / b in (1.1, 1.8): away from the jumps of fmod and remainder, with a derivative for b.
  specialCase('fmod and remainder (broadcasting)', ['fmod', 'remainder'], two({ min: 0.9, max: 1.3 }, { min: 0.75, max: 0.8 }), (xs) => {
    const [a, b] = [at(xs, 0), at(xs, 1)];
    return flint
      .fmod(a, b)
      .add(flint.fmod(a.neg(), b).mul(2))
      .add(flint.fmod(a, b.neg()).mul(3))
      .add(flint.remainder(a, b))
      .add(flint.remainder(a.neg(), b).mul(0.5));
  }),
  specialCase('floatPower (broadcasting)', ['floatPower'], two({ min: 0.3, max: 2 }, {}), (xs) => flint.floatPower(at(xs, 0), at(xs, 1))),
];
