import { nn, noGrad, type optim } from '@flint/api';

/**
 * Clips the gradients of `params` before an optimizer step, as the Trainer's
 * `gradientClipVal` / `gradientClipAlgorithm` ask: by their global L2 norm ('norm') or element
 * by element ('value'). Nothing is read back to the host.
 */
export function clipGradients(params: readonly optim.ParameterLike[], maxValue: number, algorithm: 'norm' | 'value'): void {
  noGrad(() => {
    if (algorithm === 'value') nn.clipGradValue(params, maxValue);
    else nn.clipGradNorm(params, maxValue).dispose();
  });
}
