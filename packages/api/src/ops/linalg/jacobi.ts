import { jit } from '../../jit/jit.js';
import { concat, reduceSum, reshape, slice } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Tracer } from '../../transforms/core.js';
import { abs, add, div, equal, greaterEqual, mul, neg, rsqrt, sqrt, sub, where } from '../elementwise.js';
import { max } from '../reduce.js';
import { iterate, largestNow, readableNow } from './iterate.js';
import { columnsOf, diagonalOf, identity, matmulNT, rowsOf, transposed } from './matrices.js';

// Jacobi rotations on the rows of [B, n, c] stacks (n even), every rotation of a round applied at
// once. The n rows sit in slots, a top half (slots 0 .. k-1, k = n / 2) and a bottom half
// (k .. n-1), and a round rotates each pair (top[i], bottom[i]): two contiguous blocks, each row
// scaled by its pair's numbers. Between rounds the rows move by the round-robin ("circle")
// ordering, top' = [t0, b0, t1 .. t(k-2)], bottom' = [b1 .. b(k-1), t(k-1)] (one concat of five
// blocks of rows), so that the n - 1 rounds of a sweep meet every pair once and put every row back
// in its slot. A round is some twenty-five ops whatever n: their count, not their arithmetic, sets
// the time of the matrices this library handles (docs/dtypes.md, Linear algebra).
//
// A rotation zeroes the off-diagonal entry of its pair's 2 x 2 symmetric block [[a_pp, a_pq],
// [a_pq, a_qq]]: t = tan(theta) = a_pq sign(h) / (|h| + sqrt(h^2 + a_pq^2)), h = (a_qq - a_pp) / 2
// (sign(0) = 1), the smaller of the two angles that do (|theta| <= pi / 4), written so that
// a_pq = 0 gives t = 0 without dividing by it. It is applied in Rutishauser's form,
// p' = p - s (q + tau p), q' = q + s (p - tau q), tau = s / (1 + c), which changes a row by a
// correction as small as the rotation, so that the rounding errors of the many near-identity
// rotations of the last sweeps do not add up (with c p - s q they cost two decimal digits of
// orthogonality at n = 256 in float32).

/** How many sweeps to run. */
export interface SweepSchedule {
  /** Where convergence cannot be checked without waiting (jit, asynchronous backends): this many. */
  readonly fixed: number;
  /** Where it can: until converged, at most this many. */
  readonly most: number;
}

/** s and tau of the rotations of pairs whose blocks are [[alpha, gamma], [gamma, beta]], each [B, k]. */
function rotations(alpha: Tensor, beta: Tensor, gamma: Tensor): { s: Tensor; tau: Tensor } {
  const half = mul(sub(beta, alpha), 0.5);
  const denominator = add(abs(half), sqrt(add(mul(half, half), mul(gamma, gamma))));
  const signed = where(greaterEqual(half, 0), gamma, neg(gamma));
  // The denominator is 0 only where gamma is: t = 0.
  const t = div(signed, where(equal(denominator, 0), 1, denominator));
  const c = rsqrt(add(mul(t, t), 1));
  const s = mul(t, c);
  return { s, tau: div(s, add(c, 1)) };
}

/** The row pairs (top[i], bottom[i]) of `z` ([B, n, c]) rotated and moved to their next slots. */
function rotateAndMove(z: Tensor, s: Tensor, tau: Tensor): Tensor {
  const [batch, n] = z.shape as [number, number, number];
  const k = n / 2;
  const s3 = reshape(s, [batch, k, 1]);
  const tau3 = reshape(tau, [batch, k, 1]);
  const top = rowsOf(z, 0, k);
  const bottom = rowsOf(z, k, n);
  const p = sub(top, mul(s3, add(bottom, mul(tau3, top))));
  const q = add(bottom, mul(s3, sub(top, mul(tau3, bottom))));
  if (k === 1) return concat([p, q], 1);
  const parts = [rowsOf(p, 0, 1), rowsOf(q, 0, 1)];
  if (k > 2) parts.push(rowsOf(p, 1, k - 1));
  parts.push(rowsOf(q, 1, k), rowsOf(p, k - 1, k));
  return concat(parts, 1);
}

/** Entries [from, to) of every row of a [B, n] tensor. */
const entries = (x: Tensor, from: number, to: number): Tensor => slice(x, [0, from], [x.shape[0] as number, to]);

/**
 * Rounds compiled by jit, one program per shape and dtype (a few dozen equations, traced in
 * milliseconds): a backend that fuses elementwise chains (the cpu backend's compile hook) runs a
 * round in about half the time its ops take one by one. Used for concrete inputs on such
 * backends; under transforms, whose tracers jit would have to retrace, the rounds run op by op.
 */
const compiledRounds = {
  oneSided: jit((z: Tensor, c: number) => oneSidedRound(z, c), { staticArgnums: [1], name: 'linalg.jacobiRound', maxCacheSize: 64 }),
  twoSided: jit((z: Tensor) => twoSidedRound(z), { name: 'linalg.jacobiTwoSidedRound', maxCacheSize: 64 }),
};

/** Whether `z`'s rounds can run compiled: concrete, on a backend with a compile hook. */
function compilable(z: Tensor): boolean {
  if (z instanceof Tracer) return false;
  const backend = z._backend;
  return backend !== null && typeof backend.compile === 'function';
}

/**
 * `sweep` applied per `schedule`: where the state can be read without waiting, before each sweep,
 * until `excess(state)` (the largest violation of the convergence test; <= 0 when converged) is
 * not positive, at most `most` sweeps; elsewhere `fixed` sweeps.
 */
function sweeps(initial: Tensor, schedule: SweepSchedule, excess: (state: Tensor) => Tensor, round: (state: Tensor) => Tensor): Tensor {
  const n = initial.shape[1] as number;
  return iterate(
    initial,
    (state, count) => {
      if (count >= schedule.most) return false;
      if (!readableNow(state)) return count < schedule.fixed;
      // NaN (from a NaN or infinite input) stops too: more sweeps cannot help.
      return (largestNow(excess(state)) as number) > 0;
    },
    // The n - 1 rounds of a sweep, each in a tidy scope of its own.
    (state) => iterate(state, (_, count) => count < n - 1, round),
  );
}

// ---- one-sided (Hestenes) ----

/** G Y = W: the rows of W mutually orthogonal, G orthogonal (the rotations, when asked for). */
export interface OneSidedJacobi {
  readonly w: Tensor;
  readonly g: Tensor | null;
}

/** One round on [W | G] (W: the first c columns). */
function oneSidedRound(z: Tensor, c: number): Tensor {
  const n = z.shape[1] as number;
  const k = n / 2;
  const w = columnsOf(z, 0, c);
  const norms = reduceSum(mul(w, w), [2]);
  const gamma = reduceSum(mul(rowsOf(w, 0, k), rowsOf(w, k, n)), [2]);
  const { s, tau } = rotations(entries(norms, 0, k), entries(norms, k, n), gamma);
  return rotateAndMove(z, s, tau);
}

/** The largest cosine |p.q| / (|p| |q|) between two rows of a matrix of `w` (0 / 0 counts as 0). */
function largestCosine(w: Tensor): Tensor {
  const [batch, n] = w.shape as [number, number, number];
  const gram = matmulNT(w, w);
  const squares = diagonalOf(gram);
  const scale = sqrt(mul(reshape(squares, [batch, n, 1]), reshape(squares, [batch, 1, n])));
  const zero = equal(scale, 0);
  const cosine = where(zero, 0, div(abs(gram), where(zero, 1, scale)));
  return max(where(equal(identity(1, n, cosine), 1), 0, cosine));
}

/**
 * One-sided Jacobi on the rows of every [n, c] matrix of `y` (n even): each pair of rows is
 * rotated to be orthogonal, its block of Y Y^T being [[|p|^2, p.q], [p.q, |q|^2]]; the rotations
 * accumulate in G, whose columns ride beside Y's so that one op rotates both. Converged when no
 * two rows have a cosine above `tolerance`.
 */
export function oneSidedJacobi(y: Tensor, withRotations: boolean, schedule: SweepSchedule, tolerance: number): OneSidedJacobi {
  const [batch, n, c] = y.shape as [number, number, number];
  const z = sweeps(
    withRotations ? concat([y, identity(batch, n, y)], 2) : y,
    schedule,
    (state) => sub(largestCosine(columnsOf(state, 0, c)), tolerance),
    (state) => (compilable(state) ? compiledRounds.oneSided(state, c) : oneSidedRound(state, c)),
  );
  return { w: columnsOf(z, 0, c), g: withRotations ? columnsOf(z, c, c + n) : null };
}

// ---- two-sided ----

/** G M G^T = diag(d): the diagonal d and G orthogonal (when asked for). */
export interface TwoSidedJacobi {
  readonly d: Tensor;
  readonly g: Tensor | null;
}

/**
 * One round on [A | G] (A: the first n columns, symmetric): the rows (J^T A, J^T G), then the rows
 * of A's transpose, which for a symmetric A are its columns (J^T A J).
 */
function twoSidedRound(z: Tensor): Tensor {
  const [batch, n, width] = z.shape as [number, number, number];
  const k = n / 2;
  const a = columnsOf(z, 0, n);
  const d = diagonalOf(a);
  // a[i, k + i] sits at i (n + 1) + k of the flattened matrix.
  const pairs = slice(reshape(a, [batch, n * n]), [0, k], [batch, k + (k - 1) * (n + 1) + 1], [1, n + 1]);
  const { s, tau } = rotations(entries(d, 0, k), entries(d, k, n), pairs);
  const rows = rotateAndMove(z, s, tau);
  // Its rows rotated and moved, A's columns are next: (J^T A)^T = A J, the same pairs.
  const columns = rotateAndMove(transposed(columnsOf(rows, 0, n)), s, tau);
  return width === n ? columns : concat([columns, columnsOf(rows, n, width)], 2);
}

/** off(A)^2 - tolerance^2 |A|^2, the largest over the batch (<= 0 when converged). */
function offDiagonalExcess(a: Tensor, tolerance: number): Tensor {
  const n = a.shape[1] as number;
  const squares = mul(a, a);
  const off = reduceSum(where(equal(identity(1, n, a), 1), 0, squares), [1, 2]);
  return max(sub(off, mul(reduceSum(squares, [1, 2]), tolerance * tolerance)));
}

/**
 * Two-sided Jacobi on every symmetric [n, n] matrix of `m` (n even): each pair (p, q) is rotated
 * on both sides to zero m_pq. Converged when the off-diagonal part's Frobenius norm is at most
 * `tolerance` times the matrix's.
 */
export function twoSidedJacobi(m: Tensor, withRotations: boolean, schedule: SweepSchedule, tolerance: number): TwoSidedJacobi {
  const [batch, n] = m.shape as [number, number, number];
  const z = sweeps(
    withRotations ? concat([m, identity(batch, n, m)], 2) : m,
    schedule,
    (state) => offDiagonalExcess(columnsOf(state, 0, n), tolerance),
    (state) => (compilable(state) ? compiledRounds.twoSided(state) : twoSidedRound(state)),
  );
  return { d: diagonalOf(columnsOf(z, 0, n)), g: withRotations ? columnsOf(z, n, 2 * n) : null };
}
