// Deterministic inputs for this package's tests, and how they compare results (not part of the build).
import { expect } from 'vitest';

/**
 * Expects `actual` to hold `expected` within `tolerance`, relative to 1 + |expected|: NaN where
 * expected is NaN, the same infinity where it is infinite.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    // expect() only where they differ: a call per element took seconds on channels of NaN.
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect(a, `element ${i}`).toBeNaN();
    } else if (!Number.isFinite(e)) {
      if (a !== e) expect(a, `element ${i}`).toBe(e);
    } else worst = Math.max(worst, Math.abs(a - e) / (1 + Math.abs(e)));
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** Pseudo-random floats in [-1, 1) from a 32-bit xorshift seeded with `seed`. */
export function randomValues(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  forEachRandom(count, seed, (r, i) => {
    values[i] = r * 2 - 1;
  });
  return values;
}

/**
 * Floats in [-8, 8) with one in ten replaced by a value that tells implementations apart: NaN,
 * infinities, signed zeros, denormals, ties of rounding, the float32 range's edge.
 */
export function awkwardValues(count: number, seed: number): Float32Array {
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-40, -1e-40, 0.5, -0.5, 1.5, 2.5, 3e38];
  const values = new Float32Array(count);
  forEachRandom(count, seed, (r, i) => {
    values[i] = r < 0.1 ? (special[Math.floor(r * 120)] ?? 0) : (r * 2 - 1) * 8;
  });
  return values;
}

/** Calls `use` with `count` uniform numbers in [0, 1) and their index. */
function forEachRandom(count: number, seed: number, use: (r: number, i: number) => void): void {
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    use((state >>> 0) / 2 ** 32, i);
  }
}
