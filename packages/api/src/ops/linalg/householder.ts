import { add, broadcast, concat, full, iota, mul, pad, reshape, select, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { div, equal, greaterEqual, neg, sqrt } from '../elementwise.js';
import { block, columnsOf, matmul3, matmulTN, rowsOf } from './matrices.js';

// Householder QR of a [B, m, n] stack (LAPACK's geqrf, then orgqr for Q), with LAPACK's
// conventions so that Q and R agree with torch.linalg.qr: reflector j is H = I - tau v v^T with
// v[j] = 1, and R[j, j] = beta = -sign(alpha) * ||x|| (sign(0) = +1), alpha = x[0]; a column
// already zero below the diagonal gets tau = 0 (H = I) and keeps its entry. Each reflector is
// applied to the remaining columns as one rank-1 update (v^T R, then an outer product) on the
// shrinking trailing block, k = min(m, n) of them; Q is built by applying them, last first, to
// the first columns of the identity.

export interface Reflectors {
  /** R's rows, [B, k, n] (zero below the diagonal). */
  readonly r: Tensor;
  /** The reflectors' vectors v_j, each [B, m - j, 1] (v_j[0] = 1). */
  readonly vectors: Tensor[];
  /** tau_j, each [B, 1, 1]. */
  readonly taus: Tensor[];
}

/** The reflectors and R of every matrix of `a`. */
export function householder(a: Tensor): Reflectors {
  const [batch, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const vectors: Tensor[] = [];
  const taus: Tensor[] = [];
  const rows: Tensor[] = [];
  let rest = a; // rows j.., columns j..
  const zero = full([batch, 1, 1], a.dtype, 0, a);
  const one = full([batch, 1, 1], a.dtype, 1, a);
  for (let j = 0; j < k; j++) {
    const height = m - j;
    const width = n - j;
    const alpha = block(rest, 0, 1, 0, 1);
    const tail = block(rest, 1, height, 0, 1);
    const tailSquares = matmulTN(tail, tail); // [B, 1, 1]
    const norm = sqrt(add(mul(alpha, alpha), tailSquares));
    const beta = select(greaterEqual(alpha, zero), neg(norm), norm);
    const trivial = equal(tailSquares, zero);
    const safeBeta = select(trivial, one, beta);
    const tau = select(trivial, zero, div(sub(beta, alpha), safeBeta));
    const scale = select(trivial, one, sub(alpha, beta));
    const v = concat([one, div(tail, broadcast(scale, [batch, height - 1, 1]))], 1);
    vectors.push(v);
    taus.push(tau);
    // H rest = rest - tau v (v^T rest), on the columns right of j; column j becomes (beta, 0, ...).
    const diagonal = select(trivial, alpha, beta);
    let row = diagonal;
    if (width > 1) {
      const right = columnsOf(rest, 1, width);
      const projected = matmulTN(v, right); // [B, 1, width - 1]
      const updated = sub(right, matmul3(mul(broadcast(tau, [batch, height, 1]), v), projected));
      row = concat([diagonal, rowsOf(updated, 0, 1)], 2);
      rest = rowsOf(updated, 1, height);
    }
    rows.push(
      pad(row, [
        [0, 0],
        [0, 0],
        [j, 0],
      ]),
    );
  }
  const r = k === 0 ? full([batch, 0, n], a.dtype, 0, a) : concat(rows, 1);
  return { r, vectors, taus };
}

/** The first `columns` columns of Q = H_0 H_1 ... H_{k-1}, [B, m, columns]. */
export function householderQ(reflectors: Reflectors, m: number, columns: number, like: Tensor): Tensor {
  const batch = like.shape[0] as number;
  const rowsIndex = iota([m, columns], 'int32', 0, like);
  const columnsIndex = iota([m, columns], 'int32', 1, like);
  const identity = select(equal(rowsIndex, columnsIndex), full([m, columns], like.dtype, 1, like), full([m, columns], like.dtype, 0, like));
  let q = broadcast(reshape(identity, [1, m, columns]), [batch, m, columns]);
  for (let j = reflectors.vectors.length - 1; j >= 0; j--) {
    const v = reflectors.vectors[j] as Tensor;
    const tau = reflectors.taus[j] as Tensor;
    // H_j touches rows j.. only.
    const lower = rowsOf(q, j, m);
    const projected = matmulTN(v, lower); // [B, 1, columns]
    const updated = sub(lower, matmul3(mul(broadcast(tau, v.shape), v), projected));
    q = j === 0 ? updated : concat([rowsOf(q, 0, j), updated], 1);
  }
  return q;
}
