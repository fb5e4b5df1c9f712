import { logSoftmax, softmax } from '../nn/functional/activations.js';
import { i0, i0e, i1, i1e } from './bessel.js';
import { erf, expm1, log1p, round, sigmoid } from './elementwise.js';
import { erfc, erfcx, logNdtr, ndtr, ndtri } from './error-functions.js';
import { digamma, lgamma, mvlgamma, polygamma } from './gamma.js';
import { logSumExp } from './reduce.js';
import { entr, logit, sinc, xlog1py, xlogy } from './torch-elementwise.js';
import { exp2 } from './transcendental.js';

/**
 * PyTorch's `torch.special` under its names, camelCased (`special.logNdtr` is
 * torch.special.log_ndtr): the special functions of ops/gamma.ts, ops/error-functions.ts and
 * ops/bessel.ts, and the elementwise ops torch.special repeats (`expit` is `sigmoid`, `gammaln`
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
  multigammaln: mvlgamma,
  entr,
  erf,
  erfc,
  erfcx,
  ndtr,
  ndtri,
  logNdtr,
  i0,
  i0e,
  i1,
  i1e,
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
} as const;
