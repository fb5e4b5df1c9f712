import { zerosLike } from '../ops/creation.js';
import { add, div, maximum, mul, neg, sqrt } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { scalarDiv, scalarMul, scalarOneMinusPow, scalarSqrt } from './scalar.js';

/** Adam's and AdamW's hyperparameters. */
export interface AdamHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

const ADAM_DEFAULTS: AdamHyper = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
const ADAMW_DEFAULTS: AdamHyper = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };

// torch.optim.Adam / AdamW (single-tensor path):
//   Adam: g += wd * p.  AdamW: p *= 1 - lr * wd (decoupled decay).
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  (amsgrad: vmax = max(vmax, v))
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
function makeAdamRule(name: 'Adam' | 'AdamW', decoupled: boolean): UpdateRule<AdamHyper> {
  return {
    name,
    validate(h) {
      checkNonNegative(name, 'lr', h.lr);
      checkBetas(name, h.betas);
      checkNonNegative(name, 'eps', h.eps);
      checkNonNegative(name, 'weightDecay', h.weightDecay);
      checkBoolean(name, 'amsgrad', h.amsgrad);
      checkBoolean(name, 'maximize', h.maximize);
    },
    bufferNames: (h) => (h.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq']),
    initBuffers(param, h) {
      const buffers: Record<string, Tensor> = { expAvg: zerosLike(param), expAvgSq: zerosLike(param) };
      if (h.amsgrad) buffers.maxExpAvgSq = zerosLike(param);
      return buffers;
    },
    initScalars: () => ({}),
    advanceScalars: (scalars) => scalars,
    apply({ param, grad, buffers, step, lr, hyper: h }) {
      const [beta1, beta2] = h.betas;
      let g: Tensor = h.maximize ? neg(grad) : grad;
      if (h.weightDecay !== 0 && !decoupled) g = add(g, mul(param, h.weightDecay));
      const expAvg = add(mul(buffers.expAvg as Tensor, beta1), mul(g, 1 - beta1));
      const expAvgSq = add(mul(buffers.expAvgSq as Tensor, beta2), mul(mul(g, g), 1 - beta2));
      const biasCorrection1 = scalarOneMinusPow(beta1, step);
      const biasCorrection2Sqrt = scalarSqrt(scalarOneMinusPow(beta2, step));
      const stepSize = scalarDiv(lr, biasCorrection1);
      const out: Record<string, Tensor> = { expAvg, expAvgSq };
      let second = expAvgSq;
      if (h.amsgrad) {
        second = maximum(buffers.maxExpAvgSq as Tensor, expAvgSq);
        out.maxExpAvgSq = second;
      }
      const denom = add(div(sqrt(second), biasCorrection2Sqrt), h.eps);
      let update = mul(div(expAvg, denom), scalarMul(stepSize, -1));
      if (h.weightDecay !== 0 && decoupled) update = add(update, mul(param, scalarMul(scalarMul(lr, h.weightDecay), -1)));
      return { update, buffers: out };
    },
  };
}

export const adamRule = makeAdamRule('Adam', false);
export const adamWRule = makeAdamRule('AdamW', true);

/** Options of `Adam` / `adam` (PyTorch's defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8). */
export type AdamOptions = Partial<AdamHyper> & StepOptions;
type FunctionalOptions<O> = Omit<O, 'lr'> & { readonly lr?: LearningRate };

/**
 * Adam (Kingma and Ba), with L2 weight decay added to the gradient and the AMSGrad variant, as
 * torch.optim.Adam.
 *
 * @example
 * const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer<AdamHyper> {
  constructor(params: ParamsInput<AdamHyper>, options: AdamOptions = {}) {
    super(params, { ...ADAM_DEFAULTS, ...options }, adamRule);
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW (weightDecay
 * defaults to 1e-2).
 *
 * @example
 * const optimizer = new optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
 */
export class AdamW extends Optimizer<AdamHyper> {
  constructor(params: ParamsInput<AdamHyper>, options: AdamOptions = {}) {
    super(params, { ...ADAMW_DEFAULTS, ...options }, adamWRule);
  }
}

/** Adam in functional form. @example const opt = optim.adam({ lr: 1e-3 }); */
export function adam(options: FunctionalOptions<AdamOptions> = {}): GradientTransformation {
  return functionalOptimizer(adamRule, { ...ADAM_DEFAULTS, ...options });
}

/** AdamW in functional form. @example const opt = optim.adamw({ lr: 1e-3, weightDecay: 0.01 }); */
export function adamw(options: FunctionalOptions<AdamOptions> = {}): GradientTransformation {
  return functionalOptimizer(adamWRule, { ...ADAMW_DEFAULTS, ...options });
}
