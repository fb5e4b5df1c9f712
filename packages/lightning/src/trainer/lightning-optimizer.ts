import { forEachTensor, keep } from '@flint/api';
import type { OptimizerLike } from './optimizer-config.js';

/**
 * An optimizer as `this.optimizers()` hands it to a manual-optimization `trainingStep`: `step()`
 * runs the module's `onBeforeOptimizerStep` hook, steps the optimizer, keeps the new parameter
 * and state tensors alive past the step's memory scope, and counts the step in `globalStep`.
 *
 * @example
 * const opt = this.optimizers() as LightningOptimizer;
 * opt.zeroGrad();
 * this.manualBackward(loss);
 * opt.step();
 */
export class LightningOptimizer {
  readonly optimizer: OptimizerLike;
  private readonly beforeStep: (optimizer: OptimizerLike) => void;
  private readonly afterStep: () => void;
  private readonly runStep: (optimizer: OptimizerLike) => void;

  /** @internal `runStep` steps the optimizer (under '16-mixed', through the GradScaler). */
  constructor(
    optimizer: OptimizerLike,
    beforeStep: (optimizer: OptimizerLike) => void,
    afterStep: () => void,
    runStep: (optimizer: OptimizerLike) => void = (o) => void o.step(),
  ) {
    this.optimizer = optimizer;
    this.beforeStep = beforeStep;
    this.afterStep = afterStep;
    this.runStep = runStep;
  }

  get paramGroups(): OptimizerLike['paramGroups'] {
    return this.optimizer.paramGroups;
  }

  /** Steps the optimizer (after `closure`, when given, which computes the loss and its gradients). */
  step<L>(closure?: () => L): L | undefined {
    const loss = closure?.();
    this.beforeStep(this.optimizer);
    this.runStep(this.optimizer);
    keepOptimizerTensors(this.optimizer);
    this.afterStep();
    return loss;
  }

  zeroGrad(): void {
    this.optimizer.zeroGrad();
  }
}

/**
 * The parameters' new tensors and the optimizer's new state were made during a step that may
 * run inside a `tidy` scope (a manual-optimization trainingStep); they belong to the parameters
 * and the optimizer, so they leave every scope.
 */
export function keepOptimizerTensors(optimizer: OptimizerLike): void {
  for (const group of optimizer.paramGroups) for (const p of group.params) keep(p.value);
  const state = (optimizer as { state?: unknown }).state;
  if (state !== undefined) forEachTensor(state, (t) => keep(t));
}
