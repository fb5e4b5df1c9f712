const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * The error function in float64, to a few ulps. JavaScript has no Math.erf, so the reference
 * sums the series erf(x) = 2/sqrt(pi) * e^(-x^2) * sum_n (2^n x^(2n+1)) / (1*3*...*(2n+1)),
 * whose terms are all positive: no cancellation at any x. Past |x| = 6, erf(x) rounds to +/-1.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === 0) return x; // keeps the sign of zero
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  const twoA2 = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 500; n++) {
    term *= twoA2 / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-18) break;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
  return x < 0 ? -r : r;
}
