import { zerosLike } from '../ops/creation.js';
import { add, equal, mul, neg, sub, where } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkFiniteNumber, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { onFirstStep, type Scalar, scalarAdd, scalarDiv, scalarMaximum, scalarMul, scalarPow, scalarSub } from './scalar.js';

/** ASGD's hyperparameters. */
export interface ASGDHyper {
  lr: number;
  /** Decay term. */
  lambd: number;
  /** Power of the eta update. */
  alpha: number;
  /** The step at which averaging starts. */
  t0: number;
  weightDecay: number;
  maximize: boolean;
}

const ASGD_DEFAULTS: ASGDHyper = { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0, maximize: false };

// torch.optim.ASGD (single-tensor path): g += wd * p; p = p (1 - lambd eta) - eta g;
// ax = p while mu = 1, else ax += (p - ax) mu; then, for the next step,
// eta = lr / (1 + lambd lr t)^alpha and mu = 1 / max(1, t - t0).
// The update uses the eta and mu the previous step stored (eta starts at lr, mu at 1).
export const asgdRule: UpdateRule<ASGDHyper> = {
  name: 'ASGD',
  validate(h) {
    checkNonNegative('ASGD', 'lr', h.lr);
    checkFiniteNumber('ASGD', 'lambd', h.lambd);
    checkFiniteNumber('ASGD', 'alpha', h.alpha);
    checkFiniteNumber('ASGD', 't0', h.t0);
    checkNonNegative('ASGD', 'weightDecay', h.weightDecay);
    checkBoolean('ASGD', 'maximize', h.maximize);
  },
  bufferNames: () => ['ax'],
  initBuffers: (param) => ({ ax: zerosLike(param) }),
  initScalars: (h) => ({ eta: h.lr, mu: 1 }),
  advanceScalars: (_scalars, step, h, lr) => ({
    eta: scalarDiv(lr, scalarPow(scalarAdd(1, scalarMul(scalarMul(h.lambd, lr), step)), h.alpha)),
    mu: scalarDiv(1, scalarMaximum(1, scalarSub(step, h.t0))),
  }),
  apply({ param, grad, buffers, previousScalars, step, lr, hyper: h }) {
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    // PyTorch sets eta to the group's lr when the state is created, i.e. at the first step; a
    // functional learning-rate schedule is only known here.
    const eta = onFirstStep(
      step,
      () => lr,
      () => previousScalars.eta as Scalar,
    );
    const mu = previousScalars.mu as Scalar;
    const next = add(mul(param, scalarSub(1, scalarMul(h.lambd, eta))), mul(g, scalarMul(eta, -1)));
    const averaged = () => add(buffers.ax as Tensor, mul(sub(next, buffers.ax as Tensor), mu));
    const ax = typeof mu === 'number' ? (mu === 1 ? next : averaged()) : where(equal(mu, 1), next, averaged());
    return { update: sub(next, param), buffers: { ax } };
  },
};

/** Options of `ASGD` / `asgd` (PyTorch's defaults: lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6). */
export type ASGDOptions = Partial<ASGDHyper> & StepOptions;

/**
 * Averaged stochastic gradient descent (Polyak and Juditsky), as torch.optim.ASGD: SGD with a
 * decaying step size that keeps, in the state buffer `ax`, the running average of the iterates
 * from step `t0` on (read it with `stateDict()`; the parameters themselves follow plain SGD).
 *
 * @example
 * const optimizer = new optim.ASGD(model.parameters(), { lr: 0.01, t0: 100 });
 */
export class ASGD extends Optimizer<ASGDHyper> {
  constructor(params: ParamsInput<ASGDHyper>, options: ASGDOptions = {}) {
    super(params, { ...ASGD_DEFAULTS, ...options }, asgdRule);
  }
}

/** ASGD in functional form; `state.buffers.ax` holds the averaged parameters. @example const opt = optim.asgd({ lr: 0.01 }); */
export function asgd(options: Omit<ASGDOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(asgdRule, { ...ASGD_DEFAULTS, ...options });
}
