import { zerosLike } from '../ops/creation.js';
import { abs, add, div, maximum, mul, neg } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { scalarDiv, scalarMul, scalarOneMinusPow } from './scalar.js';

/** Adamax's hyperparameters. */
export interface AdamaxHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

const ADAMAX_DEFAULTS: AdamaxHyper = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false };

// torch.optim.Adamax: g += wd * p; m = beta1 m + (1 - beta1) g; u = max(beta2 u, |g| + eps);
// p -= lr / (1 - beta1^t) * m / u.
export const adamaxRule: UpdateRule<AdamaxHyper> = {
  name: 'Adamax',
  validate(h) {
    checkNonNegative('Adamax', 'lr', h.lr);
    checkBetas('Adamax', h.betas);
    checkNonNegative('Adamax', 'eps', h.eps);
    checkNonNegative('Adamax', 'weightDecay', h.weightDecay);
    checkBoolean('Adamax', 'maximize', h.maximize);
  },
  bufferNames: () => ['expAvg', 'expInf'],
  initBuffers: (param) => ({ expAvg: zerosLike(param), expInf: zerosLike(param) }),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, step, lr, hyper: h }) {
    const [beta1, beta2] = h.betas;
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    const expAvg = add(mul(buffers.expAvg as Tensor, beta1), mul(g, 1 - beta1));
    const expInf = maximum(mul(buffers.expInf as Tensor, beta2), add(abs(g), h.eps));
    const stepSize = scalarDiv(lr, scalarOneMinusPow(beta1, step));
    return { update: mul(div(expAvg, expInf), scalarMul(stepSize, -1)), buffers: { expAvg, expInf } };
  },
};

/** Options of `Adamax` / `adamax` (PyTorch's defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8). */
export type AdamaxOptions = Partial<AdamaxHyper> & StepOptions;

/**
 * Adamax, the infinity-norm variant of Adam, as torch.optim.Adamax.
 *
 * @example
 * const optimizer = new optim.Adamax(model.parameters(), { lr: 2e-3 });
 */
export class Adamax extends Optimizer<AdamaxHyper> {
  constructor(params: ParamsInput<AdamaxHyper>, options: AdamaxOptions = {}) {
    super(params, { ...ADAMAX_DEFAULTS, ...options }, adamaxRule);
  }
}

/** Adamax in functional form. @example const opt = optim.adamax({ lr: 2e-3 }); */
export function adamax(options: Omit<AdamaxOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(adamaxRule, { ...ADAMAX_DEFAULTS, ...options });
}
