import { noGrad } from '../autograd/grad-mode.js';

/**
 * Runs `fn` with the imperative tape paused, so that an optimizer's arithmetic on parameters is
 * not recorded for `backward()` (PyTorch's `step()` runs under `torch.no_grad()` for the same
 * reason).
 */
export function withoutTape<T>(fn: () => T): T {
  return noGrad(fn);
}
