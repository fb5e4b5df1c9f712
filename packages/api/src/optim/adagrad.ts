import { fullLike } from '../ops/creation.js';
import { add, div, mul, neg, sqrt } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { scalarAdd, scalarDiv, scalarMul, scalarSub } from './scalar.js';

/** Adagrad's hyperparameters. */
export interface AdagradHyper {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

const ADAGRAD_DEFAULTS: AdagradHyper = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

// torch.optim.Adagrad: g += wd * p; clr = lr / (1 + (t - 1) lrDecay); sum += g^2;
// p -= clr * g / (sqrt(sum) + eps).
export const adagradRule: UpdateRule<AdagradHyper> = {
  name: 'Adagrad',
  validate(h) {
    checkNonNegative('Adagrad', 'lr', h.lr);
    checkNonNegative('Adagrad', 'lrDecay', h.lrDecay);
    checkNonNegative('Adagrad', 'weightDecay', h.weightDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'eps', h.eps);
    checkBoolean('Adagrad', 'maximize', h.maximize);
  },
  bufferNames: () => ['sum'],
  initBuffers: (param, h) => ({ sum: fullLike(param, h.initialAccumulatorValue) }),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, step, lr, hyper: h }) {
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    const clr = scalarDiv(lr, scalarAdd(1, scalarMul(scalarSub(step, 1), h.lrDecay)));
    const sum = add(buffers.sum as Tensor, mul(g, g));
    const std = add(sqrt(sum), h.eps);
    return { update: mul(div(g, std), scalarMul(clr, -1)), buffers: { sum } };
  },
};

/** Options of `Adagrad` / `adagrad` (PyTorch's defaults: lr 1e-2, eps 1e-10). */
export type AdagradOptions = Partial<AdagradHyper> & StepOptions;

/**
 * Adagrad (Duchi et al.), as torch.optim.Adagrad.
 *
 * @example
 * const optimizer = new optim.Adagrad(model.parameters(), { lr: 0.1 });
 */
export class Adagrad extends Optimizer<AdagradHyper> {
  constructor(params: ParamsInput<AdagradHyper>, options: AdagradOptions = {}) {
    super(params, { ...ADAGRAD_DEFAULTS, ...options }, adagradRule);
  }
}

/** Adagrad in functional form. @example const opt = optim.adagrad({ lr: 0.1 }); */
export function adagrad(options: Omit<AdagradOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(adagradRule, { ...ADAGRAD_DEFAULTS, ...options });
}
