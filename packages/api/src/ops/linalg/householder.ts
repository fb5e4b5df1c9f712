import { add, broadcast, concat, full, mul, neg, pad, select, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { div, equal, greaterEqual, sqrt } from '../elementwise.js';
import { block, columnsOf, identity, matmul3, matmulTN, outerProduct, rowsOf } from './matrices.js';

// Householder QR of a [B, m, n] stack (LAPACK's geqrf, then orgqr for Q), with LAPACK's
// conventions so that Q and R agree with torch.linalg.qr: reflector j is H = I - tau v v^T with
// v[j] = 1, and R[j, j] = beta = -sign(alpha) * ||x|| (sign(0) = +1), alpha = x[0]; a column
// already zero below the diagonal gets tau = 0 (H = I) and keeps its entry. Blocked as geqrf:
// PANEL columns at a time are reduced column by column (each reflector one rank-1 update of the
// panel alone), their product kept in compact WY form I - V T V^T (T upper triangular, grown a
// column at a time as larft does), and the rest of the matrix updated by it with three matmuls,
// which carry the bulk of the 2mn^2 - 2n^3/3 multiply-adds. Q applies the blocks, last first,
// to the first columns of the identity, again three matmuls a block.

/** Columns reduced per block. */
export const PANEL = 16;

/** One block of reflectors: H_start ... H_{start+w-1} = I - V T V^T on rows start.. */
export interface ReflectorBlock {
  readonly start: number;
  /** [B, m - start, w], unit lower trapezoidal. */
  readonly v: Tensor;
  /** [B, w, w], upper triangular. */
  readonly t: Tensor;
}

export interface Reflectors {
  /** R's rows, [B, k, n] (zero below the diagonal). */
  readonly r: Tensor;
  readonly blocks: ReflectorBlock[];
}

/** The reflectors and R of every matrix of `a`. */
export function householder(a: Tensor): Reflectors {
  const [batch, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const rows: Tensor[] = [];
  const blocks: ReflectorBlock[] = [];
  let rest = a; // rows start.., columns start..
  for (let start = 0; start < k; start += PANEL) {
    const width = Math.min(PANEL, k - start);
    const reduced = reducePanel(columnsOf(rest, 0, width));
    blocks.push({ start, v: reduced.v, t: reduced.t });
    let top = reduced.r; // [B, width, width]
    const remaining = n - start - width;
    if (remaining > 0) {
      // Q_block^T C = (I - V T^T V^T) C.
      const c = columnsOf(rest, width, n - start);
      const updated = sub(c, matmul3(reduced.v, matmulTN(reduced.t, matmulTN(reduced.v, c))));
      top = concat([top, rowsOf(updated, 0, width)], 2);
      rest = rowsOf(updated, width, m - start);
    }
    rows.push(
      pad(top, [
        [0, 0],
        [0, 0],
        [start, 0],
      ]),
    );
  }
  const r = k === 0 ? full([batch, 0, n], a.dtype, 0, a) : concat(rows, 1);
  return { r, blocks };
}

/**
 * Column-by-column Householder reduction of a [B, h, w] panel (h >= w): its R ([B, w, w]), the
 * reflectors' vectors V ([B, h, w]) and the compact-WY factor T ([B, w, w]).
 */
function reducePanel(p: Tensor): { r: Tensor; v: Tensor; t: Tensor } {
  const [batch, h, w] = p.shape as [number, number, number];
  const zero = full([batch, 1, 1], p.dtype, 0, p);
  const one = full([batch, 1, 1], p.dtype, 1, p);
  const rows: Tensor[] = [];
  let v: Tensor | null = null; // [B, h, j]
  let t: Tensor | null = null; // [B, j, j]
  let rest = p; // rows j.., columns j..
  for (let j = 0; j < w; j++) {
    const height = h - j;
    const width = w - j;
    const alpha = block(rest, 0, 1, 0, 1);
    const tail = block(rest, 1, height, 0, 1);
    const tailSquares = matmulTN(tail, tail); // [B, 1, 1]
    const norm = sqrt(add(mul(alpha, alpha), tailSquares));
    const trivial = equal(tailSquares, zero);
    const beta = select(greaterEqual(alpha, zero), neg(norm), norm);
    const tau = select(trivial, zero, div(sub(beta, alpha), select(trivial, one, beta)));
    const vj = concat([one, div(tail, broadcast(select(trivial, one, sub(alpha, beta)), [batch, height - 1, 1]))], 1);
    let row = select(trivial, alpha, beta);
    if (width > 1) {
      // H rest = rest - tau v (v^T rest) on the columns right of j.
      const right = columnsOf(rest, 1, width);
      const updated = sub(right, outerProduct(mul(broadcast(tau, [batch, height, 1]), vj), matmulTN(vj, right)));
      row = concat([row, rowsOf(updated, 0, 1)], 2);
      rest = rowsOf(updated, 1, height);
    }
    rows.push(
      pad(row, [
        [0, 0],
        [0, 0],
        [j, 0],
      ]),
    );
    const column = pad(vj, [
      [0, 0],
      [j, 0],
      [0, 0],
    ]);
    // T grows as [[T, -tau T V^T v], [0, tau]] (LAPACK's larft).
    if (v === null || t === null) {
      t = tau;
    } else {
      const z = mul(broadcast(neg(tau), [batch, j, 1]), matmul3(t, matmulTN(v, column)));
      t = concat(
        [
          concat([t, z], 2),
          pad(tau, [
            [0, 0],
            [0, 0],
            [j, 0],
          ]),
        ],
        1,
      );
    }
    v = v === null ? column : concat([v, column], 2);
  }
  return { r: concat(rows, 1), v: v as Tensor, t: t as Tensor };
}

/** The first `columns` columns of Q = H_0 H_1 ... H_{k-1}, [B, m, columns]. */
export function householderQ(reflectors: Reflectors, m: number, columns: number, like: Tensor): Tensor {
  const batch = like.shape[0] as number;
  let q = columnsOf(identity(batch, m, like), 0, columns);
  for (let i = reflectors.blocks.length - 1; i >= 0; i--) {
    const { start, v, t } = reflectors.blocks[i] as ReflectorBlock;
    // (I - V T V^T) on rows start..
    const lower = rowsOf(q, start, m);
    const updated = sub(lower, matmul3(v, matmul3(t, matmulTN(v, lower))));
    q = start === 0 ? updated : concat([rowsOf(q, 0, start), updated], 1);
  }
  return q;
}
