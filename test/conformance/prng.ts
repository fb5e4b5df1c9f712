import { mulberry32 } from '../support/mulberry32.js';

/**
 * A small seeded generator (mulberry32) for the suite's inputs, so every run sees the same
 * numbers and a failing case can be replayed; it shares nothing with Flint's own random module.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** A uniform integer in [low, high] (both inclusive). */
  int(low: number, high: number): number;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    int: (low, high) => low + Math.floor(next() * (high - low + 1)),
  };
}

/** A 32-bit FNV-1a hash, to derive one seed per case from its name. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
