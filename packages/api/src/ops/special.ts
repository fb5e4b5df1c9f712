import { logSoftmax, softmax } from '../nn/functional/activations.js';
import { i0, i0e, i1, i1e } from './bessel.js';
import { besselJ0, besselJ1, besselY0, besselY1, sphericalBesselJ0 } from './bessel-j-y.js';
import { erf, expm1, log1p, round, sigmoid } from './elementwise.js';
import { erfinv } from './erfinv.js';
import { erfc, erfcx, logNdtr, ndtr, ndtri } from './error-functions.js';
import { digamma, lgamma, mvlgamma, polygamma } from './gamma.js';
import { gammainc, gammaincc } from './incomplete-gamma.js';
import {
  modifiedBesselI0,
  modifiedBesselI1,
  modifiedBesselK0,
  modifiedBesselK1,
  scaledModifiedBesselK0,
  scaledModifiedBesselK1,
} from './modified-bessel.js';
import {
  chebyshevPolynomialT,
  chebyshevPolynomialU,
  chebyshevPolynomialV,
  chebyshevPolynomialW,
  hermitePolynomialH,
  hermitePolynomialHe,
  laguerrePolynomialL,
  legendrePolynomialP,
} from './orthogonal-polynomials.js';
import { logSumExp } from './reduce.js';
import { entr, logit, sinc, xlog1py, xlogy } from './torch-elementwise.js';
import { exp2 } from './transcendental.js';
import { zeta } from './zeta.js';

/**
 * PyTorch's `torch.special` under its names, camelCased (`special.logNdtr` is
 * torch.special.log_ndtr, `special.besselJ0` torch.special.bessel_j0): the special functions of
 * ops/gamma.ts, ops/error-functions.ts, ops/erfinv.ts, the Bessel functions (ops/bessel.ts,
 * ops/bessel-j-y.ts, ops/modified-bessel.ts), the incomplete gamma functions, the Hurwitz zeta function, the orthogonal polynomials, and the elementwise ops torch.special repeats (`expit` is `sigmoid`, `gammaln`
 * is `lgamma`, `psi` is `digamma`, `multigammaln` is `mvlgamma`). The common ones are also
 * exported at the top level, as in torch (`lgamma`, `digamma`, `erfc`, `logit`, `xlogy`, ...).
 *
 * @example
 * special.gammaln(tensor([0.5]));  // [0.5724]
 * special.ndtri(tensor([0.975]));  // [1.96]
 */
export const special = {
  digamma,
  psi: digamma,
  polygamma,
  gammaln: lgamma,
  gammainc,
  gammaincc,
  multigammaln: mvlgamma,
  entr,
  erf,
  erfc,
  erfcx,
  erfinv,
  ndtr,
  ndtri,
  logNdtr,
  i0,
  i0e,
  i1,
  i1e,
  besselJ0,
  besselJ1,
  besselY0,
  besselY1,
  modifiedBesselI0,
  modifiedBesselI1,
  modifiedBesselK0,
  modifiedBesselK1,
  scaledModifiedBesselK0,
  scaledModifiedBesselK1,
  sphericalBesselJ0,
  chebyshevPolynomialT,
  chebyshevPolynomialU,
  chebyshevPolynomialV,
  chebyshevPolynomialW,
  hermitePolynomialH,
  hermitePolynomialHe,
  laguerrePolynomialL,
  legendrePolynomialP,
  logit,
  expit: sigmoid,
  exp2,
  expm1,
  log1p,
  logsumexp: logSumExp,
  logSumExp,
  softmax,
  logSoftmax,
  round,
  sinc,
  xlogy,
  xlog1py,
  zeta,
} as const;
