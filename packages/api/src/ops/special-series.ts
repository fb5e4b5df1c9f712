import type { Tensor } from '../tensor/tensor.js';
import { add, log1p, mul, pow } from './elementwise.js';
import { chebyshev, polynomial } from './special-support.js';
import { RECIPROCAL_GAMMA_NEAR_1, RECIPROCAL_GAMMA_NEAR_2, STIRLING } from './special-tables.js';

// Series that more than one special function evaluates, each written once: log Γ near 1 and 2
// and Stirling's series (lgamma in ops/gamma.ts, the incomplete gamma functions), the leading terms
// of the Hurwitz zeta sum (polygamma in ops/gamma.ts, zeta), and n! for series coefficients.

/** n! as a float64 (Infinity past 170). */
export function factorial(n: number): number {
  let f = 1;
  for (let k = 2; k <= n; k++) f *= k;
  return f;
}

/**
 * log(1 / Γ(center + z)) = -log Γ(center + z) for |z| <= 1/2, as log1p(z q(z)), q the Chebyshev
 * series of (1/Γ(center + z) - 1) / z (special-tables.ts): 1/Γ is entire, so q converges quickly,
 * and log1p keeps full relative precision at the zeros of log Γ, 1 and 2 (z = 0).
 */
export function logReciprocalGammaNear(center: 1 | 2, z: Tensor): Tensor {
  return log1p(mul(z, chebyshev(mul(z, 2), center === 1 ? RECIPROCAL_GAMMA_NEAR_1 : RECIPROCAL_GAMMA_NEAR_2)));
}

/**
 * Stirling's series sum over k of B_2k / (2k (2k - 1)) r^(2k - 1) at r = 1/s: log Γ(s) -
 * ((s - 1/2) log s - s + log(2 pi) / 2), for s >= 10 (7 terms hold float64's precision there, 3
 * float32's).
 */
export function stirlingSeries(r: Tensor): Tensor {
  return mul(r, polynomial(mul(r, r), STIRLING.slice(0, r.dtype === 'float64' ? 7 : 3)));
}

/** The first `count` terms of the Hurwitz zeta sum, q^-x + (q + 1)^-x + ... + (q + count - 1)^-x. */
export function hurwitzLeadingTerms(q: Tensor, minusX: Tensor | number, count: number): Tensor {
  let total = pow(q, minusX);
  for (let k = 1; k < count; k++) total = add(total, pow(add(q, k), minusX));
  return total;
}
