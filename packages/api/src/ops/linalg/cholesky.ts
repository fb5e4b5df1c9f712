import { concat, pad, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindLinalg } from '../../transforms/core.js';
import { registerLinalgComposite } from '../../transforms/linalg-calls.js';
import { div, sqrt } from '../elementwise.js';
import { block, matmulNT, outerProduct, rowsOf, transposed } from './matrices.js';

// The Cholesky factor L (A = L L^T) of a [B, n, n] stack, reading only A's lower triangle, as
// LAPACK's potrf. Left-looking and blocked by PANEL columns: panel j (rows jb.., columns
// jb..jb+b) is first updated by the columns already factored, A[jb:, jb:jb+b] -= L[jb:, :jb]
// L[jb:jb+b, :jb]^T (one matmul: these carry the bulk of the n^3 / 3 multiply-adds), then factored
// column by column as a tall panel (the diagonal block's Cholesky and the solve for the rows below
// it in one pass, ten ops a column). A pivot that is not positive gives NaN (sqrt of a negative,
// or 0 / 0) in its column and everything that depends on it; the pivot itself (L's diagonal
// entry) is NaN or 0, which is how the public op finds the first failure.

/** Columns factored per panel. */
export const PANEL = 16;

/**
 * The lower Cholesky factor of every matrix of `a` (upper triangles ignored): by the backend's
 * kernel where it has one (LAPACK's potrf on mkl, the same NaN convention), else choleskyComposite.
 */
export function choleskyLower(a: Tensor): Tensor {
  return bindLinalg({ name: 'cholesky' }, [a])[0] as Tensor;
}

/** choleskyLower in primitives, blocked by panels (the module comment). */
function choleskyComposite(a: Tensor): Tensor {
  const n = a.shape[1] as number;
  if (n === 0) return a;
  const panels: Tensor[] = [];
  // L's columns so far, restricted to the rows not yet reached: [B, n - start, start].
  let done: Tensor | null = null;
  for (let start = 0; start < n; start += PANEL) {
    const width = Math.min(PANEL, n - start);
    let current = block(a, start, n, start, start + width);
    if (done !== null) current = sub(current, matmulNT(done, rowsOf(done, 0, width)));
    const factored = tallPanel(current);
    panels.push(
      pad(factored, [
        [0, 0],
        [start, 0],
        [0, 0],
      ]),
    );
    const below = rowsOf(factored, width, n - start);
    done = done === null ? below : concat([rowsOf(done, width, n - start), below], 2);
  }
  return concat(panels, 2);
}

/**
 * The Cholesky factor's columns for a panel already updated by the columns left of it: [B, r, w]
 * with r >= w, whose top w x w block is the diagonal block (its upper part unread).
 */
function tallPanel(p: Tensor): Tensor {
  const [, r, w] = p.shape as [number, number, number];
  const columns: Tensor[] = [];
  let rest = p; // rows c.., columns c..
  for (let c = 0; c < w; c++) {
    const rows = r - c;
    const pivot = sqrt(block(rest, 0, 1, 0, 1));
    let column = pivot;
    if (rows > 1) {
      const below = div(block(rest, 1, rows, 0, 1), pivot);
      column = concat([pivot, below], 1);
      if (c < w - 1) rest = sub(block(rest, 1, rows, 1, w - c), outerProduct(below, transposed(rowsOf(below, 0, w - c - 1))));
    }
    columns.push(
      pad(column, [
        [0, 0],
        [c, 0],
        [0, 0],
      ]),
    );
  }
  return columns.length === 1 ? (columns[0] as Tensor) : concat(columns, 2);
}

registerLinalgComposite('cholesky', (_call, [a]) => [choleskyComposite(a as Tensor)]);
