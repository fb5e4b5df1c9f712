import { symmetricArray } from './prng.js';
import type { LinalgKind } from './suites.js';

/**
 * The float64 input of a `linalg` case: `batch` n x n matrices built from the shared stream
 * `seed` (X, entries in [-1, 1)), row-major: X + X^T for eigh (exact), X itself for svd and qr,
 * X X^T / n + I for cholesky and solve's A (well conditioned, positive-definite; solve's B is X,
 * linalgRightHandSide). peers/torch_bench.py's `linalg_input` builds the same.
 */
export function linalgInput(kind: LinalgKind, seed: number, batch: number, n: number): Float64Array {
  const x = Float64Array.from(symmetricArray(seed, batch * n * n));
  if (kind === 'linalg-svd' || kind === 'linalg-qr') return x;
  const out = new Float64Array(batch * n * n);
  for (let b = 0; b < batch; b++) {
    const base = b * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (kind === 'linalg-eigh') {
          out[base + i * n + j] = (x[base + i * n + j] as number) + (x[base + j * n + i] as number);
          continue;
        }
        let dot = 0;
        for (let k = 0; k < n; k++) dot += (x[base + i * n + k] as number) * (x[base + j * n + k] as number);
        out[base + i * n + j] = dot / n + (i === j ? 1 : 0);
      }
    }
  }
  return out;
}

/** The right-hand sides B of a `linalg-solve` case: X itself, [batch, n, n] row-major (see linalgInput). */
export function linalgRightHandSide(seed: number, batch: number, n: number): Float64Array {
  return Float64Array.from(symmetricArray(seed, batch * n * n));
}
