import type { Tensor } from '../tensor/tensor.js';

let enabled = true;

/** Whether the imperative tape records operations now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Switches recording on or off; returns the previous setting. Prefer `noGrad(fn)` / `enableGrad(fn)`. */
export function setGradEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = setGradEnabled(on);
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs `fn` without recording on the imperative tape (PyTorch's `torch.no_grad()`): for
 * inference and for updating parameters. Functional transforms (grad, vjp) are unaffected.
 *
 * @example
 * const prediction = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Runs `fn` with recording on, even inside `noGrad` (PyTorch's `torch.enable_grad()`).
 *
 * @example
 * noGrad(() => enableGrad(() => x.mul(2))); // recorded
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Whether the tape records an op on `inputs` now: grad mode is on and one of them carries autograd state. */
export function anyRecorded(inputs: readonly Tensor[]): boolean {
  return isGradEnabled() && inputs.some((x) => x._autograd !== null);
}
