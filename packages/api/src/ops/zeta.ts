import type { Tensor } from '../tensor/tensor.js';
import type { TensorLike } from './convert.js';
import {
  add,
  equal,
  floor,
  greater,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  mod,
  mul,
  neg,
  pow,
  reciprocal,
  sub,
  where,
} from './elementwise.js';
import { stack } from './movement.js';
import { isinf, isnan } from './predicates.js';
import { hurwitzLeadingTerms } from './special-series.js';
import { computeBinarySpecial, withSecondDerivative } from './special-support.js';
import { EULER_MACLAURIN } from './special-tables.js';
import { unbind } from './tensor-split.js';

// The Hurwitz zeta function ζ(x, q) = sum over k >= 0 of (q + k)^-x (torch.special.zeta) for a
// tensor x, in elementwise ops: the first terms summed, then the Euler-Maclaurin formula at
// a = q + shifts, its coefficients B_2j / (2j)! x (x + 1) ... (x + 2j - 2) built term by term from
// x. A negative q (x an integer) is brought to positive arguments by exact identities rather
// than PyTorch's one term per unit up from q. Differentiable in q (-x ζ(x + 1, q)), not in x, as
// PyTorch.

/** Terms summed before Euler-Maclaurin takes over at a = q + SHIFTS (a >= 9 keeps its error below float64's rounding). */
const SHIFTS = { float64: 9, float32: 6 } as const;
/** Euler-Maclaurin terms kept. */
const TERMS = { float64: 12, float32: 5 } as const;

/** ζ(x, q) for q > 0 and x > 1 (any elementwise shapes that broadcast). */
function hurwitzPositive(x: Tensor, q: Tensor): Tensor {
  const precision = q.dtype === 'float64' ? 'float64' : 'float32';
  const shifts = SHIFTS[precision];
  const total = hurwitzLeadingTerms(q, neg(x), shifts);
  const a = add(q, shifts);
  const r = reciprocal(a);
  const w = mul(r, r);
  // Term j is E_j x (x + 1) ... (x + 2j - 2) a^-2j, E_j = B_2j / (2j)!: each from the one before.
  let term = mul(mul(x, w), EULER_MACLAURIN[0] as number);
  let series = term;
  for (let j = 1; j < TERMS[precision]; j++) {
    const ratio = (EULER_MACLAURIN[j] as number) / (EULER_MACLAURIN[j - 1] as number);
    term = mul(mul(mul(term, mul(add(x, 2 * j - 1), add(x, 2 * j))), w), ratio);
    series = add(series, term);
  }
  // a^(1 - x) [1/(x - 1) + 1/(2a) + series]; 0 where a^(1 - x) underflows (the series may then
  // overflow for huge x, and the tail is negligible there).
  const power = pow(a, sub(1, x));
  const bracket = add(add(reciprocal(sub(x, 1)), mul(r, 0.5)), series);
  return add(total, where(equal(power, 0), 0, mul(power, bracket)));
}

/**
 * ζ(x, q) for q < 0 not an integer and x an integer, from positive arguments: with p = q - floor(q)
 * the terms at q, q + 1, ..., q + m - 1 (m = -floor(q)) are (-1)^x times those of ζ(x, 1 - p) up
 * to ζ(x, 1 - q), so ζ(x, q) = (-1)^x (ζ(x, 1 - p) - ζ(x, 1 - q)) + ζ(x, p); for odd x grouped as
 * ζ(x, 1 - q) + (ζ(x, p) - ζ(x, 1 - p)), exactly ζ(x, 1 - q) at p = 1/2. One call evaluates all
 * three arguments, stacked.
 */
function hurwitz(x: Tensor, q: Tensor): Tensor {
  const negative = less(q, 0);
  const p = sub(q, floor(q));
  const first = where(negative, sub(1, q), q);
  const [z0, zp, zq] = unbind(hurwitzPositive(x, stack([first, where(negative, p, 1), where(negative, sub(1, p), 1)])), 0) as [
    Tensor,
    Tensor,
    Tensor,
  ];
  const odd = equal(mod(x, 2), 1);
  const reflected = where(odd, add(z0, sub(zp, zq)), sub(add(zp, zq), z0));
  return where(negative, reflected, z0);
}

/** PyTorch's domain: Infinity at x = 1 and at integer q <= 0, NaN for x < 1 and for q < 0 with x not an integer. */
function zetaValue(x: Tensor, q: Tensor): Tensor {
  const integerQ = logicalOr(equal(q, floor(q)), isinf(q));
  const pole = logicalOr(equal(x, 1), logicalAnd(lessEqual(q, 0), integerQ));
  const undefinedHere = logicalOr(less(x, 1), logicalAnd(less(q, 0), logicalNot(equal(x, floor(x)))));
  // x = Infinity: the smallest term decides (0 past q = 1, 1 at 1, Infinity below); q = Infinity gives 0.
  const infiniteX = where(greater(q, 1), 0, where(equal(q, 1), 1, Number.POSITIVE_INFINITY));
  const safeX = where(isinf(x), 2, x);
  const finite = where(isinf(x), infiniteX, where(equal(q, Number.POSITIVE_INFINITY), 0, hurwitz(safeX, where(isinf(q), 1, q))));
  const value = where(pole, Number.POSITIVE_INFINITY, where(undefinedHere, Number.NaN, finite));
  return where(logicalOr(isnan(x), isnan(q)), Number.NaN, value);
}

const zetaOf: (x: Tensor, q: Tensor) => Tensor = withSecondDerivative(
  'zeta',
  zetaValue,
  (x, q) => mul(neg(x), zetaOf(add(x, 1), q)),
  'zeta: the derivative with respect to x is not implemented (as in PyTorch); only q is differentiable',
);

/**
 * The Hurwitz zeta function ζ(x, q) = sum over k >= 0 of (q + k)^-x (torch.special.zeta),
 * elementwise with broadcasting; ζ(x, 1) is Riemann's zeta. Infinity at x = 1 and at q = 0, -1,
 * -2, ...; NaN for x < 1, and for q < 0 unless x is an integer, as PyTorch. q = Infinity gives 0
 * (PyTorch: NaN). Differentiable with respect to q (-x ζ(x + 1, q)); differentiating with respect
 * to x is a NotImplementedError, as in PyTorch. Integers compute in float32, float16 and
 * bfloat16 in float32.
 *
 * @example
 * zeta(tensor([2, 4]), 1); // [pi²/6, pi⁴/90] = [1.6449, 1.0823]
 */
export function zeta(x: TensorLike, q: TensorLike): Tensor {
  return computeBinarySpecial('zeta', x, q, zetaOf);
}
