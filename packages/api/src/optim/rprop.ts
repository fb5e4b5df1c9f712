import { ValueError } from '../core/errors.js';
import { fullLike, zerosLike } from '../ops/creation.js';
import { clamp, greater, less, mul, neg, sign, where } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkFiniteNumber, checkNonNegative } from './checks.js';
import { functionalOptimizer, type GradientTransformation } from './functional.js';
import { Optimizer, type ParamsInput, type StepOptions } from './optimizer.js';
import type { UpdateRule } from './rule.js';

/** Rprop's hyperparameters. */
export interface RpropHyper {
  /** The initial step size of every element (Rprop adapts each one after that). */
  lr: number;
  /** [etaminus, etaplus]: the factors a step size shrinks by when the gradient's sign flips and grows by when it holds. */
  etas: readonly [number, number];
  /** [min, max]: the bounds of the step sizes. */
  stepSizes: readonly [number, number];
  maximize: boolean;
}

const RPROP_DEFAULTS: RpropHyper = { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false };

function checkPair(name: string, value: unknown): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2)
    throw new ValueError(`Rprop: ${name} must be a pair of numbers, got ${JSON.stringify(value)}`);
  checkFiniteNumber('Rprop', `${name}[0]`, value[0]);
  checkFiniteNumber('Rprop', `${name}[1]`, value[1]);
  return value as unknown as readonly [number, number];
}

// torch.optim.Rprop: s = sign(g * prev); stepSize *= etaplus where s > 0, etaminus where s < 0,
// clamped to stepSizes; where s < 0 the gradient counts as 0 (no move, and no sign to compare
// next time); p -= sign(g) * stepSize; prev = g. The step sizes start at lr.
export const rpropRule: UpdateRule<RpropHyper> = {
  name: 'Rprop',
  validate(h) {
    checkNonNegative('Rprop', 'lr', h.lr);
    const [etaminus, etaplus] = checkPair('etas', h.etas);
    if (!(etaminus > 0 && etaminus < 1 && etaplus > 1))
      throw new ValueError(`Rprop: etas must satisfy 0 < etas[0] < 1 < etas[1], got ${JSON.stringify(h.etas)}`);
    const [low, high] = checkPair('stepSizes', h.stepSizes);
    if (low < 0 || high < low) throw new ValueError(`Rprop: stepSizes must satisfy 0 <= min <= max, got ${JSON.stringify(h.stepSizes)}`);
    checkBoolean('Rprop', 'maximize', h.maximize);
  },
  bufferNames: () => ['prev', 'stepSize'],
  initBuffers: (param, h) => ({ prev: zerosLike(param), stepSize: fullLike(param, h.lr) }),
  initScalars: () => ({}),
  advanceScalars: (scalars) => scalars,
  apply({ grad, buffers, hyper: h }) {
    const [etaminus, etaplus] = h.etas;
    const g: Tensor = h.maximize ? neg(grad) : grad;
    const agreement = sign(mul(g, buffers.prev as Tensor));
    const flipped = less(agreement, 0);
    const previousSize = buffers.stepSize as Tensor;
    // The factors as tensors of the step size's dtype: a bare number would be rounded to float32.
    const factor = where(greater(agreement, 0), fullLike(previousSize, etaplus), where(flipped, fullLike(previousSize, etaminus), 1));
    const stepSize = clamp(mul(previousSize, factor), h.stepSizes[0], h.stepSizes[1]);
    const effective = where(flipped, zerosLike(g), g);
    return { update: neg(mul(sign(effective), stepSize)), buffers: { prev: effective, stepSize } };
  },
};

/** Options of `Rprop` / `rprop` (PyTorch's defaults: lr 1e-2, etas [0.5, 1.2], stepSizes [1e-6, 50]). */
export type RpropOptions = Partial<RpropHyper> & StepOptions;

/**
 * Resilient backpropagation (Riedmiller and Braun): each element moves by its own step size
 * against the gradient's sign, the step growing while the sign holds and shrinking when it flips,
 * as torch.optim.Rprop. Meant for full-batch training.
 *
 * @example
 * const optimizer = new optim.Rprop(model.parameters(), { lr: 0.01, etas: [0.5, 1.2] });
 */
export class Rprop extends Optimizer<RpropHyper> {
  constructor(params: ParamsInput<RpropHyper>, options: RpropOptions = {}) {
    super(params, { ...RPROP_DEFAULTS, ...options }, rpropRule);
  }
}

/**
 * Rprop in functional form. `lr` is a number: it is only the initial step size, which `init`
 * stores in the state (a schedule would have nothing to act on).
 *
 * @example
 * const opt = optim.rprop({ lr: 0.01 });
 */
export function rprop(options: RpropOptions = {}): GradientTransformation {
  if (options.lr !== undefined && typeof options.lr !== 'number')
    throw new ValueError(`rprop: lr must be a number (the initial step size), got ${typeof options.lr}`);
  return functionalOptimizer(rpropRule, { ...RPROP_DEFAULTS, ...options });
}
