import { ValueError } from '../core/errors.js';
import { zerosLike } from '../ops/creation.js';
import { add, mul, neg } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation, type LearningRate } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { Buffers, RuleOutput, UpdateRule } from './rule.js';
import { onFirstStep, scalarMul } from './scalar.js';

/** SGD's hyperparameters (PyTorch's names, camelCased). */
export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

const SGD_DEFAULTS: SGDHyper = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

// torch.optim.SGD: g += wd * p; buf = g on the first step, else momentum * buf + (1 - dampening) * g;
// g = g + momentum * buf (nesterov) or buf; p -= lr * g.
export const sgdRule: UpdateRule<SGDHyper> = {
  name: 'SGD',
  validate(h) {
    checkNonNegative('SGD', 'lr', h.lr);
    checkNonNegative('SGD', 'momentum', h.momentum);
    checkNonNegative('SGD', 'weightDecay', h.weightDecay);
    checkBoolean('SGD', 'nesterov', h.nesterov);
    checkBoolean('SGD', 'maximize', h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new ValueError(
        `SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
    }
  },
  bufferNames: (h) => (h.momentum !== 0 ? ['momentumBuffer'] : []),
  initBuffers: (param, h): Buffers => (h.momentum !== 0 ? { momentumBuffer: zerosLike(param) } : {}),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ param, grad, buffers, step, lr, hyper: h }): RuleOutput {
    let g: Tensor = h.maximize ? neg(grad) : grad;
    if (h.weightDecay !== 0) g = add(g, mul(param, h.weightDecay));
    if (h.momentum === 0) return { update: mul(g, scalarMul(lr, -1)), buffers: {} };
    const previous = buffers.momentumBuffer;
    // A group whose momentum a scheduler turned on after its first step has no buffer yet.
    const buffer =
      previous === undefined
        ? g
        : onFirstStep(
            step,
            () => g,
            () => add(mul(previous, h.momentum), h.dampening === 0 ? g : mul(g, 1 - h.dampening)),
          );
    const direction = h.nesterov ? add(g, mul(buffer, h.momentum)) : buffer;
    return { update: mul(direction, scalarMul(lr, -1)), buffers: { momentumBuffer: buffer } };
  },
};

/** Options of `SGD` / `sgd` (PyTorch's defaults: lr 1e-3, no momentum, no weight decay). */
export type SGDOptions = Partial<SGDHyper> & StepOptions;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
 * decay, as torch.optim.SGD.
 *
 * @example
 * const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsInput<SGDHyper>, options: SGDOptions = {}) {
    super(params, { ...SGD_DEFAULTS, ...options }, sgdRule);
  }
}

/**
 * SGD in functional form.
 *
 * @example
 * const opt = optim.sgd({ lr: 0.1, momentum: 0.9 });
 */
export function sgd(options: Omit<SGDOptions, 'lr'> & { readonly lr?: LearningRate } = {}): GradientTransformation {
  return functionalOptimizer(sgdRule, { ...SGD_DEFAULTS, ...options });
}
