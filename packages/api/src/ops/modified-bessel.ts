import type { Tensor } from '../tensor/tensor.js';
import { i0, i1 } from './bessel.js';
import type { TensorLike } from './convert.js';
import { add, div, equal, exp, less, lessEqual, log, mul, sqrt, sub, where } from './elementwise.js';
import { chebyshev, computeWithoutDerivative, type Series } from './special-support.js';
import { K0_REGULAR, K0E_LARGE, K1_REGULAR, K1E_LARGE } from './special-tables.js';

// The modified Bessel functions of torch.special under their names there (modified_bessel_i0,
// modified_bessel_i1, modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0/k1), as
// Cephes forms them: below x = 2, K is I times -log(x/2) (order 0) or log(x/2) (order 1) plus a
// series in x² (log(x/2), not log(x), so that nothing cancels at 2); beyond, sqrt(x) exp(x) K(x)
// is a series in 2/x (special-tables.ts). The I functions are ops/bessel.ts's i0 and i1. PyTorch
// defines no derivatives for these names: their gradients are zero (computeWithoutDerivative).

/** Below this x the series in x², beyond it the one in 2/x. */
const SMALL = 2;

/**
 * K(x) exp(x) for x > 0, written as its parts: `near` the value (unscaled) for x <= 2, `farScaled`
 * sqrt(x) exp(x) K(x) / sqrt(x) beyond.
 */
function secondKind(x: Tensor, order: 0 | 1, regular: Series, large: Series): { inside: Tensor; near: Tensor; farScaled: Tensor } {
  const logHalf = log(mul(x, 0.5));
  const series = chebyshev(sub(mul(mul(x, x), 0.5), 1), regular);
  const near = order === 0 ? sub(series, mul(logHalf, i0(x))) : add(div(series, x), mul(logHalf, i1(x)));
  const farScaled = div(chebyshev(sub(div(4, x), 1), large), sqrt(x));
  return { inside: lessEqual(x, SMALL), near, farScaled };
}

/** Infinity at ±0 and NaN below 0, as PyTorch; `value` elsewhere. */
function secondKindDomain(x: Tensor, value: Tensor): Tensor {
  return where(equal(x, 0), Number.POSITIVE_INFINITY, where(less(x, 0), Number.NaN, value));
}

function kValue(order: 0 | 1, scaled: boolean): (x: Tensor) => Tensor {
  const [regular, large] = order === 0 ? [K0_REGULAR, K0E_LARGE] : [K1_REGULAR, K1E_LARGE];
  return (x) => {
    const { inside, near, farScaled } = secondKind(x, order, regular, large);
    // exp(-x) underflows to 0 past 745, as K does; Infinity gives 0 in both forms.
    const value = scaled ? where(inside, mul(near, exp(x)), farScaled) : where(inside, near, mul(farScaled, exp(mul(x, -1))));
    return secondKindDomain(x, value);
  };
}

/**
 * The modified Bessel function of the first kind of order 0 under torch.special's name
 * (modified_bessel_i0): `i0`'s values (±Infinity gives Infinity; PyTorch: NaN), but, as in
 * PyTorch, no derivative: the gradient is zero (use `i0` to differentiate).
 *
 * @example
 * modifiedBesselI0(tensor([0, 1])); // [1, 1.2661]
 */
export function modifiedBesselI0(x: TensorLike): Tensor {
  return computeWithoutDerivative('modifiedBesselI0', x, (t) => i0(t));
}

/**
 * The modified Bessel function of the first kind of order 1 under torch.special's name
 * (modified_bessel_i1): `i1`'s values, with a zero gradient as in PyTorch (use `i1` to
 * differentiate).
 *
 * @example
 * modifiedBesselI1(tensor([0, 1, -1])); // [0, 0.5652, -0.5652]
 */
export function modifiedBesselI1(x: TensorLike): Tensor {
  return computeWithoutDerivative('modifiedBesselI1', x, (t) => i1(t));
}

/**
 * The modified Bessel function of the second kind of order 0 (torch.special.modified_bessel_k0):
 * Infinity at 0, NaN for x < 0, underflowing to 0 past x ≈ 745 (float64), as PyTorch. The gradient
 * is zero, as PyTorch defines none.
 *
 * @example
 * modifiedBesselK0(tensor([1, 10])); // [0.4210, 1.778e-5]
 */
export function modifiedBesselK0(x: TensorLike): Tensor {
  return computeWithoutDerivative('modifiedBesselK0', x, kValue(0, false));
}

/**
 * The modified Bessel function of the second kind of order 1 (torch.special.modified_bessel_k1),
 * about 1/x near 0; Infinity at 0, NaN for x < 0, as PyTorch. The gradient is zero.
 *
 * @example
 * modifiedBesselK1(tensor([1, 10])); // [0.6019, 1.865e-5]
 */
export function modifiedBesselK1(x: TensorLike): Tensor {
  return computeWithoutDerivative('modifiedBesselK1', x, kValue(1, false));
}

/**
 * `exp(x) K0(x)` (torch.special.scaled_modified_bessel_k0), finite for every x > 0 (about
 * sqrt(pi / (2x)) far out). The gradient is zero, as PyTorch defines none.
 *
 * @example
 * scaledModifiedBesselK0(tensor([1, 800])); // [1.1445, 0.04430]
 */
export function scaledModifiedBesselK0(x: TensorLike): Tensor {
  return computeWithoutDerivative('scaledModifiedBesselK0', x, kValue(0, true));
}

/**
 * `exp(x) K1(x)` (torch.special.scaled_modified_bessel_k1). The gradient is zero.
 *
 * @example
 * scaledModifiedBesselK1(tensor([1, 800])); // [1.6362, 0.04433]
 */
export function scaledModifiedBesselK1(x: TensorLike): Tensor {
  return computeWithoutDerivative('scaledModifiedBesselK1', x, kValue(1, true));
}
