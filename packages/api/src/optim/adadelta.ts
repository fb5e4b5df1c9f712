import { ValueError } from '../core/errors.js';
import { zerosLike } from '../ops/creation.js';
import { add, div, mul, neg, sqrt } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkFiniteNumber, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { scalarMul } from './scalar.js';

/** Adadelta's hyperparameters. */
export interface AdadeltaHyper {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

const ADADELTA_DEFAULTS: AdadeltaHyper = { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };

// torch.optim.Adadelta: g += wd * p; s = rho s + (1 - rho) g^2;
// delta = sqrt(u + eps) / sqrt(s + eps) * g; u = rho u + (1 - rho) delta^2; p -= lr * delta.
export const adadeltaRule: UpdateRule<AdadeltaHyper> = {
  name: 'Adadelta',
  validate(h) {
    checkNonNegative('Adadelta', 'lr', h.lr);
    const rho = checkFiniteNumber('Adadelta', 'rho', h.rho);
    if (rho < 0 || rho > 1) throw new ValueError(`Adadelta: rho must be in [0, 1], got ${rho}`);
    checkNonNegative('Adadelta', 'eps', h.eps);
    checkNonNegative('Adadelta', 'weightDecay', h.weightDecay);
    checkBoolean('Adadelta', 'maximize', h.maximize);
  },
  bufferNames: () => ['squareAvg', 'accDelta'],
  initBuffers: (param) => ({ squareAvg: zerosLike(param), accDelta: zerosLike(param) }),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, lr, hyper: h }) {
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    const squareAvg = add(mul(buffers.squareAvg as Tensor, h.rho), mul(mul(g, g), 1 - h.rho));
    const std = sqrt(add(squareAvg, h.eps));
    const delta = mul(div(sqrt(add(buffers.accDelta as Tensor, h.eps)), std), g);
    const accDelta = add(mul(buffers.accDelta as Tensor, h.rho), mul(mul(delta, delta), 1 - h.rho));
    return { update: mul(delta, scalarMul(lr, -1)), buffers: { squareAvg, accDelta } };
  },
};

/** Options of `Adadelta` / `adadelta` (PyTorch's defaults: lr 1, rho 0.9, eps 1e-6). */
export type AdadeltaOptions = Partial<AdadeltaHyper> & StepOptions;

/**
 * Adadelta (Zeiler), which scales each step by the ratio of running RMS of past updates and of
 * gradients, as torch.optim.Adadelta.
 *
 * @example
 * const optimizer = new optim.Adadelta(model.parameters(), { rho: 0.95 });
 */
export class Adadelta extends Optimizer<AdadeltaHyper> {
  constructor(params: ParamsInput<AdadeltaHyper>, options: AdadeltaOptions = {}) {
    super(params, { ...ADADELTA_DEFAULTS, ...options }, adadeltaRule);
  }
}

/** Adadelta in functional form. @example const opt = optim.adadelta({ rho: 0.95 }); */
export function adadelta(options: Omit<AdadeltaOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(adadeltaRule, { ...ADADELTA_DEFAULTS, ...options });
}
