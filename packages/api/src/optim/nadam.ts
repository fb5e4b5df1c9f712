import { zerosLike } from '../ops/creation.js';
import { add, div, mul, neg, sqrt } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { type Scalar, scalarAdd, scalarDiv, scalarMul, scalarOneMinusPow, scalarPow, scalarSub } from './scalar.js';

/** NAdam's hyperparameters. */
export interface NAdamHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  decoupledWeightDecay: boolean;
  maximize: boolean;
}

const NADAM_DEFAULTS: NAdamHyper = {
  lr: 2e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  momentumDecay: 4e-3,
  decoupledWeightDecay: false,
  maximize: false,
};

/** Dozat's momentum schedule: mu_t = beta1 (1 - 0.5 * 0.96^(t * momentumDecay)). */
function momentumAt(step: Scalar, h: NAdamHyper): Scalar {
  return scalarMul(h.betas[0], scalarSub(1, scalarMul(0.5, scalarPow(0.96, scalarMul(step, h.momentumDecay)))));
}

// torch.optim.NAdam: mu_t and mu_{t+1} from the schedule, muProduct *= mu_t;
// m, v as in Adam; denom = sqrt(v / (1 - beta2^t)) + eps;
// p -= lr (1 - mu_t) / (1 - muProduct) * g / denom + lr mu_{t+1} / (1 - muProduct mu_{t+1}) * m / denom.
export const nadamRule: UpdateRule<NAdamHyper> = {
  name: 'NAdam',
  validate(h) {
    checkNonNegative('NAdam', 'lr', h.lr);
    checkBetas('NAdam', h.betas);
    checkNonNegative('NAdam', 'eps', h.eps);
    checkNonNegative('NAdam', 'weightDecay', h.weightDecay);
    checkNonNegative('NAdam', 'momentumDecay', h.momentumDecay);
    checkBoolean('NAdam', 'decoupledWeightDecay', h.decoupledWeightDecay);
    checkBoolean('NAdam', 'maximize', h.maximize);
  },
  bufferNames: () => ['expAvg', 'expAvgSq'],
  initBuffers: (param) => ({ expAvg: zerosLike(param), expAvgSq: zerosLike(param) }),
  initScalars: () => ({ muProduct: 1 }),
  advanceScalars: (scalars, step, h) => ({ muProduct: scalarMul(scalars.muProduct as Scalar, momentumAt(step, h)) }),
  apply({ param, grad, buffers, scalars, step, lr, hyper: h }) {
    const [beta1, beta2] = h.betas;
    let g: Tensor = h.maximize ? neg(grad) : grad;
    const decay = h.weightDecay !== 0;
    if (decay && !h.decoupledWeightDecay) g = add(g, mul(param, h.weightDecay));
    const mu = momentumAt(step, h);
    const muNext = momentumAt(scalarAdd(step, 1), h);
    const muProduct = scalars.muProduct as Scalar;
    const expAvg = add(mul(buffers.expAvg as Tensor, beta1), mul(g, 1 - beta1));
    const expAvgSq = add(mul(buffers.expAvgSq as Tensor, beta2), mul(mul(g, g), 1 - beta2));
    const biasCorrection2 = scalarOneMinusPow(beta2, step);
    const denom = add(sqrt(div(expAvgSq, biasCorrection2)), h.eps);
    const gradCoefficient = scalarDiv(scalarMul(scalarMul(lr, -1), scalarSub(1, mu)), scalarSub(1, muProduct));
    const momentumCoefficient = scalarDiv(scalarMul(scalarMul(lr, -1), muNext), scalarSub(1, scalarMul(muProduct, muNext)));
    let update = add(mul(div(g, denom), gradCoefficient), mul(div(expAvg, denom), momentumCoefficient));
    if (decay && h.decoupledWeightDecay) update = add(update, mul(param, scalarMul(scalarMul(lr, h.weightDecay), -1)));
    return { update, buffers: { expAvg, expAvgSq } };
  },
};

/** Options of `NAdam` / `nadam` (PyTorch's defaults: lr 2e-3, betas [0.9, 0.999], momentumDecay 4e-3). */
export type NAdamOptions = Partial<NAdamHyper> & StepOptions;

/**
 * Adam with Nesterov momentum (Dozat), as torch.optim.NAdam.
 *
 * @example
 * const optimizer = new optim.NAdam(model.parameters(), { lr: 2e-3 });
 */
export class NAdam extends Optimizer<NAdamHyper> {
  constructor(params: ParamsInput<NAdamHyper>, options: NAdamOptions = {}) {
    super(params, { ...NADAM_DEFAULTS, ...options }, nadamRule);
  }
}

/** NAdam in functional form. @example const opt = optim.nadam({ lr: 2e-3 }); */
export function nadam(options: Omit<NAdamOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(nadamRule, { ...NADAM_DEFAULTS, ...options });
}
