/**
 * Mulberry32: a tiny seeded generator of uniform numbers in [0, 1), so that test inputs are the
 * same on every run and a failing case can be replayed. It shares nothing with Flint's own random
 * module. The conformance tables (conformance/prng.ts), the gradient checks (gradcheck/generators.ts)
 * and the nn tests (nn/testing.test-support.ts) draw from it.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
