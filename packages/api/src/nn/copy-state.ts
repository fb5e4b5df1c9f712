import type { AnyModule } from './module.js';

/**
 * Makes `copy`, a new module of `original`'s architecture, hold `original`'s state (parameters and
 * persistent buffers, through the state dict) and training modes: the rest of a deep copy, which
 * JavaScript cannot make of a class instance. Returns `copy`.
 */
export function copyStateInto<M extends AnyModule>(copy: M, original: AnyModule): M {
  copy.loadStateDict(original.stateDict());
  const modes = original.modules().map((module) => module.training);
  for (const [index, module] of copy.modules().entries()) module.training = modes[index] ?? original.training;
  return copy;
}
