import { ValueError } from './errors.js';

/** Whether `value` is a Promise or another thenable. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Refuses a Promise where saved state is expected. `load()` is asynchronous, and a Promise is an
 * object without keys: `model.loadStateDict(load(path))`, without `await`, would otherwise report
 * every key as missing, and a reader that tolerates missing keys would silently do nothing.
 *
 * @example
 * rejectPromise('Net.loadStateDict', state, 'a state dict');
 */
export function rejectPromise(op: string, value: unknown, what: string): void {
  if (!isPromiseLike(value)) return;
  throw new ValueError(`${op}: got a Promise, not ${what}; await it first (\`await load(path)\`, not \`load(path)\`)`);
}
