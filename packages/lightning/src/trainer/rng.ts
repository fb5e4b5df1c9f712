import { ValueError } from '@flint/api';
import type { Json } from '../core/json.js';

// Flint's global generator (manualSeed, randn, dropout) keeps its state, a seed and a call
// counter, on globalThis under this shared key, so that copies of the library share it. The
// Trainer saves and restores that state in checkpoints, and shields training from validation's
// draws, so that a resumed run draws the same numbers as an uninterrupted one.
const STATE_KEY = Symbol.for('flint.globalGenerator');

interface GeneratorState {
  seed: number;
  counter: number;
}

function globalState(): GeneratorState | undefined {
  const state = (globalThis as Record<symbol, unknown>)[STATE_KEY];
  if (
    typeof state === 'object' &&
    state !== null &&
    typeof (state as GeneratorState).seed === 'number' &&
    typeof (state as GeneratorState).counter === 'number'
  ) {
    return state as GeneratorState;
  }
  return undefined;
}

/** The global generator's state, or null when the generator has not been loaded. */
export function getGlobalRandomState(): Json {
  const state = globalState();
  return state === undefined ? null : { seed: state.seed, counter: state.counter };
}

/** Restores a state from `getGlobalRandomState`. */
export function setGlobalRandomState(saved: Json): void {
  const state = globalState();
  if (state === undefined || typeof saved !== 'object' || saved === null || Array.isArray(saved)) return;
  const { seed, counter } = saved as Readonly<Record<string, Json>>;
  if (typeof seed === 'number' && typeof counter === 'number') {
    state.seed = seed;
    state.counter = counter;
  }
}

/** Seeds the global generator (as `manualSeed(seed)`). */
export function seedGlobalRandom(seed: number): void {
  const state = globalState();
  if (state !== undefined) {
    state.seed = seed;
    state.counter = 0;
  } else {
    (globalThis as Record<symbol, unknown>)[STATE_KEY] = { seed, counter: 0 };
  }
}

/**
 * Seeds Flint's global generator (weight initialization, dropout, `randn`, and the order of a
 * DataLoader that shuffles without a `generator` of its own), as Lightning's `seed_everything`:
 * call it before building the model so that runs repeat exactly. Returns the seed.
 *
 * @example
 * seedEverything(42);
 * const model = new MyModel();
 */
export function seedEverything(seed: number): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw new ValueError(`seedEverything: seed must be an integer, got ${String(seed)}`);
  seedGlobalRandom(seed);
  return seed;
}
