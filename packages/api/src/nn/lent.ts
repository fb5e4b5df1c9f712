import type { Tensor } from '../tensor/tensor.js';

// Tensors lent to a module by `functionalCall` for the duration of one call: the module uses them
// as its parameters and buffers but does not own them, so it must never dispose them. Counted,
// because nested calls may lend the same tensor twice.
const lent = new WeakMap<Tensor, number>();

/** Marks `t` as lent for one more call. */
export function lend(t: Tensor): void {
  lent.set(t, (lent.get(t) ?? 0) + 1);
}

/** Ends one loan of `t`. */
export function giveBack(t: Tensor): void {
  const count = (lent.get(t) ?? 0) - 1;
  if (count <= 0) lent.delete(t);
  else lent.set(t, count);
}

/** Whether `t` is lent to a module right now (and so not the module's to dispose). */
export function isLent(t: Tensor): boolean {
  return lent.has(t);
}
