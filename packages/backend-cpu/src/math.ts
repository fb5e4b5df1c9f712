// Scalar helpers whose JavaScript built-ins differ from the semantics Flint documents.

/** Round half to even (banker's rounding), as NumPy and PyTorch round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * The error function to about double precision. Small arguments use the series
 * erf(a) = 2/sqrt(pi) e^(-a^2) sum (2a^2)^n a / (1*3*...*(2n+1)), whose terms are all positive (no
 * cancellation); larger ones use the continued fraction of erfc.
 */
export function erf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // NaN stays NaN, and erf(-0) is -0 as in C
  const a = Math.abs(x);
  if (a >= 6) return x > 0 ? 1 : -1;
  const a2 = a * a;
  let r: number;
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (2 * a2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
  } else {
    // erfc(a) = e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated bottom-up.
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - (ONE_OVER_SQRT_PI * Math.exp(-a2)) / f;
  }
  return x < 0 ? -r : r;
}

/** Python's `%` (the sign of the divisor) for floats. */
export function floatMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** Integer power with C int32 wrap-around; negative exponents truncate 1/a^|b| toward zero. */
export function int32Pow(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b & 1 ? -1 : 1) : 0;
  let result = 1;
  let base = a | 0;
  let e = b;
  while (e > 0) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

/** Integer power modulo 256. */
export function uint8Pow(a: number, b: number): number {
  let result = 1;
  let base = a & 255;
  let e = b;
  while (e > 0) {
    if (e & 1) result = (result * base) & 255;
    base = (base * base) & 255;
    e = Math.floor(e / 2);
  }
  return result;
}

/** Float power with C's special cases where JavaScript differs: 1 ** NaN and (-1) ** Infinity are 1. */
export function floatPow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return a ** b;
}
