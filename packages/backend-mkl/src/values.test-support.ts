// Deterministic inputs for this package's tests (not part of the build).

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
