import { autocastDtype } from '../amp/autocast.js';

/**
 * What decides how ops dispatch besides their inputs, as part of jit's cache keys: autocast
 * rewrites ops' inputs in `bind`, so a program traced inside `amp.autocast` holds its casts and
 * one traced outside holds none. Keyed on it, a jitted function traces once per autocast dtype
 * (and once outside), and each call runs the program traced under the state it is called in.
 */
export function dispatchStateKey(): string {
  return autocastDtype() ?? '';
}
