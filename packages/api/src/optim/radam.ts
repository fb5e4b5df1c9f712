import { zerosLike } from '../ops/creation.js';
import { add, div, greater, maximum, mul, neg, sqrt, where } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { type Scalar, scalarDiv, scalarMul, scalarOneMinusPow, scalarPow, scalarSqrt, scalarSub } from './scalar.js';

/** RAdam's hyperparameters. */
export interface RAdamHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  /** AdamW-style decay (PyTorch 2.0; torch 1.13 has only the L2 form). */
  decoupledWeightDecay: boolean;
  /** Ascend the objective (PyTorch 2.1; not in torch 1.13). */
  maximize: boolean;
}

const RADAM_DEFAULTS: RAdamHyper = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  decoupledWeightDecay: false,
  maximize: false,
};

/** The rectification of step `t` (Liu et al.), zero while the variance is intractable (rho_t <= 5). */
function rectification(step: Scalar, beta2: number): { rho: Scalar; rect: Scalar } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const rho = scalarSub(rhoInf, scalarDiv(scalarMul(scalarMul(2, step), scalarPow(beta2, step)), scalarOneMinusPow(beta2, step)));
  const ratio = (r: Scalar) =>
    scalarDiv(scalarMul(scalarMul(scalarSub(r, 4), scalarSub(r, 2)), rhoInf), scalarMul((rhoInf - 4) * (rhoInf - 2), r));
  if (typeof rho === 'number') return { rho, rect: rho > 5 ? Math.sqrt(ratio(rho) as number) : 0 };
  // Clamped so that the branch `where` drops stays finite (0 * NaN would poison gradients).
  return { rho, rect: sqrt(maximum(ratio(rho), 0)) };
}

// torch.optim.RAdam (single-tensor path): g += wd * p (or p *= 1 - lr wd, decoupled);
// m, v as in Adam; rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t); when rho_t > 5:
// p -= lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * rect_t, else p -= lr * m / (1 - beta1^t).
export const radamRule: UpdateRule<RAdamHyper> = {
  name: 'RAdam',
  validate(h) {
    checkNonNegative('RAdam', 'lr', h.lr);
    checkBetas('RAdam', h.betas);
    checkNonNegative('RAdam', 'eps', h.eps);
    checkNonNegative('RAdam', 'weightDecay', h.weightDecay);
    checkBoolean('RAdam', 'decoupledWeightDecay', h.decoupledWeightDecay);
    checkBoolean('RAdam', 'maximize', h.maximize);
  },
  bufferNames: () => ['expAvg', 'expAvgSq'],
  initBuffers: (param) => ({ expAvg: zerosLike(param), expAvgSq: zerosLike(param) }),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, step, lr, hyper: h }) {
    const [beta1, beta2] = h.betas;
    let g: Tensor = h.maximize ? neg(grad) : grad;
    const decay = h.weightDecay !== 0;
    if (decay && !h.decoupledWeightDecay) g = add(g, mul(param, h.weightDecay));
    const expAvg = add(mul(buffers.expAvg as Tensor, beta1), mul(g, 1 - beta1));
    const expAvgSq = add(mul(buffers.expAvgSq as Tensor, beta2), mul(mul(g, g), 1 - beta2));
    const corrected = mul(div(expAvg, scalarOneMinusPow(beta1, step)), lr);
    const { rho, rect } = rectification(step, beta2);
    const rectified = () => mul(mul(corrected, div(scalarSqrt(scalarOneMinusPow(beta2, step)), add(sqrt(expAvgSq), h.eps))), rect);
    let update: Tensor;
    if (typeof rho === 'number') update = neg(rho > 5 ? rectified() : corrected);
    else update = neg(where(greater(rho, 5), rectified(), corrected));
    if (decay && h.decoupledWeightDecay) update = add(update, mul(param, scalarMul(scalarMul(lr, h.weightDecay), -1)));
    return { update, buffers: { expAvg, expAvgSq } };
  },
};

/** Options of `RAdam` / `radam` (PyTorch's defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8). */
export type RAdamOptions = Partial<RAdamHyper> & StepOptions;

/**
 * Rectified Adam (Liu et al.): plain momentum SGD for the first steps, while the variance of
 * the adaptive learning rate is intractable, then Adam with a rectification factor, as
 * torch.optim.RAdam.
 *
 * @example
 * const optimizer = new optim.RAdam(model.parameters(), { lr: 1e-3, weightDecay: 1e-2, decoupledWeightDecay: true });
 */
export class RAdam extends Optimizer<RAdamHyper> {
  constructor(params: ParamsInput<RAdamHyper>, options: RAdamOptions = {}) {
    super(params, { ...RADAM_DEFAULTS, ...options }, radamRule);
  }
}

/** RAdam in functional form. @example const opt = optim.radam({ lr: 1e-3 }); */
export function radam(options: Omit<RAdamOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(radamRule, { ...RADAM_DEFAULTS, ...options });
}
