import { zerosLike } from '../ops/creation.js';
import { add, div, mul, neg, sqrt, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';
import { scalarMul } from './scalar.js';

/** RMSprop's hyperparameters. */
export interface RMSpropHyper {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

const RMSPROP_DEFAULTS: RMSpropHyper = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

function names(h: RMSpropHyper): string[] {
  const out = ['squareAvg'];
  if (h.momentum > 0) out.push('momentumBuffer');
  if (h.centered) out.push('gradAvg');
  return out;
}

// torch.optim.RMSprop: g += wd * p; s = alpha s + (1 - alpha) g^2; centered: a = alpha a + (1 - alpha) g,
// avg = sqrt(s - a^2) + eps, else sqrt(s) + eps; momentum: b = momentum b + g / avg, p -= lr b;
// else p -= lr g / avg.
export const rmspropRule: UpdateRule<RMSpropHyper> = {
  name: 'RMSprop',
  validate(h) {
    checkNonNegative('RMSprop', 'lr', h.lr);
    checkNonNegative('RMSprop', 'alpha', h.alpha);
    checkNonNegative('RMSprop', 'eps', h.eps);
    checkNonNegative('RMSprop', 'weightDecay', h.weightDecay);
    checkNonNegative('RMSprop', 'momentum', h.momentum);
    checkBoolean('RMSprop', 'centered', h.centered);
    checkBoolean('RMSprop', 'maximize', h.maximize);
  },
  bufferNames: names,
  initBuffers(param, h) {
    const buffers: Record<string, Tensor> = {};
    for (const name of names(h)) buffers[name] = zerosLike(param);
    return buffers;
  },
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, lr, hyper: h }) {
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    const squareAvg = add(mul(buffers.squareAvg as Tensor, h.alpha), mul(mul(g, g), 1 - h.alpha));
    const out: Record<string, Tensor> = { squareAvg };
    let variance = squareAvg;
    if (h.centered) {
      const gradAvg = add(mul(buffers.gradAvg as Tensor, h.alpha), mul(g, 1 - h.alpha));
      out.gradAvg = gradAvg;
      variance = sub(squareAvg, mul(gradAvg, gradAvg));
    }
    const avg = add(sqrt(variance), h.eps);
    const negativeLr = scalarMul(lr, -1);
    if (h.momentum > 0) {
      const buffer = add(mul(buffers.momentumBuffer ?? zerosLike(g), h.momentum), div(g, avg));
      out.momentumBuffer = buffer;
      return { update: mul(buffer, negativeLr), buffers: out };
    }
    return { update: mul(div(g, avg), negativeLr), buffers: out };
  },
};

/** Options of `RMSprop` / `rmsprop` (PyTorch's defaults: lr 1e-2, alpha 0.99, eps 1e-8). */
export type RMSpropOptions = Partial<RMSpropHyper> & StepOptions;

/**
 * RMSprop (Hinton), optionally centered and with momentum, as torch.optim.RMSprop.
 *
 * @example
 * const optimizer = new optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: ParamsInput<RMSpropHyper>, options: RMSpropOptions = {}) {
    super(params, { ...RMSPROP_DEFAULTS, ...options }, rmspropRule);
  }
}

/** RMSprop in functional form. @example const opt = optim.rmsprop({ lr: 1e-3 }); */
export function rmsprop(options: Omit<RMSpropOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(rmspropRule, { ...RMSPROP_DEFAULTS, ...options });
}
