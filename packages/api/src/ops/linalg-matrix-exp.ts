import { isFloating } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindStopGradient } from '../transforms/core.js';
import { cast } from './broadcast.js';
import type { TensorLike } from './convert.js';
import { abs, add, ceil, div, greater, log, logicalAnd, mul, pow, sub, where } from './elementwise.js';
import { iterate, largestNow } from './linalg/iterate.js';
import { batchShape, computeDTypes, identity, matmul3, squareOperand, stacked, unstacked } from './linalg/matrices.js';
import { solveStacked } from './linalg/rules.js';
import { reshape } from './movement.js';
import { isfinite } from './predicates.js';
import { max, sum } from './reduce.js';

// The matrix exponential by scaling and squaring with a diagonal Padé approximant (Higham 2005,
// "The scaling and squaring method for the matrix exponential revisited"): A is scaled by 2^-s so
// that its 1-norm is at most theta_m, r_m(A / 2^s) = (V - U)^-1 (V + U) approximates its
// exponential to the dtype's rounding (backward error below the unit roundoff), and s squarings
// undo the scaling. Degree 13 in float64 (theta = 5.37), degree 7 in float32 (theta = 3.93, the
// single-precision table of the same analysis). Written in matmuls, one LU solve and a masked
// squaring per step, so that its derivatives of every order and its batching come from theirs.

interface Pade {
  /** b_0 .. b_m. */
  readonly coefficients: readonly number[];
  /** The largest 1-norm for which r_m is accurate to the dtype's unit roundoff. */
  readonly theta: number;
}

const PADE_13: Pade = {
  coefficients: [
    64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800, 33522128640,
    1323241920, 40840800, 960960, 16380, 182, 1,
  ],
  theta: 5.371920351148152,
};

const PADE_7: Pade = { coefficients: [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1], theta: 3.92572478313866 };

/**
 * Squarings where their number cannot be read without waiting (jit, asynchronous backends):
 * enough for 1-norms up to theta * 2^24 (about 7e7), past which the exponential of all but
 * nearly skew-symmetric matrices overflows anyway.
 */
const FIXED_SQUARINGS = 24;

/** sum_k c_k X_k over the (matrix, coefficient) pairs, plus c I. */
function combination(terms: readonly [Tensor, number][], constant: number, like: Tensor): Tensor {
  const [batch, n] = like.shape as [number, number, number];
  let total = mul(identity(batch, n, like), constant);
  for (const [x, c] of terms) total = add(total, mul(x, c));
  return total;
}

/** r_13(A) = (V - U)^-1 (V + U) or r_7, for a [B, n, n] stack of small norm. */
function pade(a: Tensor, { coefficients: b }: Pade): Tensor {
  const c = (i: number) => b[i] as number;
  const a2 = matmul3(a, a);
  const a4 = matmul3(a2, a2);
  const a6 = matmul3(a4, a2);
  let u: Tensor;
  let v: Tensor;
  if (b.length === 14) {
    const high = add(add(mul(a6, c(13)), mul(a4, c(11))), mul(a2, c(9)));
    u = matmul3(
      a,
      add(
        matmul3(a6, high),
        combination(
          [
            [a6, c(7)],
            [a4, c(5)],
            [a2, c(3)],
          ],
          c(1),
          a,
        ),
      ),
    );
    const highV = add(add(mul(a6, c(12)), mul(a4, c(10))), mul(a2, c(8)));
    v = add(
      matmul3(a6, highV),
      combination(
        [
          [a6, c(6)],
          [a4, c(4)],
          [a2, c(2)],
        ],
        c(0),
        a,
      ),
    );
  } else {
    u = matmul3(
      a,
      combination(
        [
          [a6, c(7)],
          [a4, c(5)],
          [a2, c(3)],
        ],
        c(1),
        a,
      ),
    );
    v = combination(
      [
        [a6, c(6)],
        [a4, c(4)],
        [a2, c(2)],
      ],
      c(0),
      a,
    );
  }
  return solveStacked(sub(v, u), add(v, u)).x;
}

/**
 * The exponential of square matrices (torch.linalg.matrix_exp, torch.matrix_exp), [..., n, n]:
 * e^A = I + A + A^2 / 2! + ..., by scaling and squaring with a Padé approximant of degree 13
 * (float64) or 7 (float32), each matrix scaled by its own power of two. The number of squarings
 * is read from the data where that needs no wait (cpu and mkl backends, outside jit); elsewhere
 * 24 masked squarings run, enough for 1-norms up to about 7e7. Differentiable through its matmuls
 * and LU solve (to every order).
 *
 * @example
 * linalg.matrixExp(tensor([[0, 1], [-1, 0]])); // [[cos 1, sin 1], [-sin 1, cos 1]]
 */
export function matrixExp(a: TensorLike): Tensor {
  const op = 'linalg.matrixExp';
  const t = squareOperand(op, a);
  if (!isFloating(t.dtype)) {
    throw new DTypeError(
      `${op}: the input must be a floating-point tensor (float32 or float64), got ${t.dtype}; cast it first, e.g. a.to('float64')`,
    );
  }
  const { compute, result } = computeDTypes(t.dtype);
  if (t.size === 0) return cast(t, result);
  const batch = batchShape(t);
  return tidy(() => {
    const stack = stacked(t, compute);
    const approximant = compute === 'float64' ? PADE_13 : PADE_7;
    // s = max(0, ceil(log2(|A|_1 / theta))) per matrix, outside differentiation (it is piecewise constant).
    const norm = max(sum(abs(bindStopGradient(stack)), 1), 1);
    const usable = logicalAnd(greater(norm, approximant.theta), isfinite(norm));
    const squarings = where(usable, ceil(div(log(div(where(usable, norm, 1), approximant.theta)), Math.LN2)), 0);
    const count = largestNow(squarings);
    const rounds = count === undefined || Number.isNaN(count) ? FIXED_SQUARINGS : count;
    const scaled = div(stack, reshape(pow(2, squarings), [-1, 1, 1]));
    const mask = reshape(squarings, [-1, 1, 1]);
    let step = 0;
    const exponential = iterate(
      pade(scaled, approximant),
      () => step < rounds,
      (r) => {
        const squared = where(greater(mask, step), matmul3(r, r), r);
        step++;
        return squared;
      },
    );
    return cast(unstacked(exponential, batch), result);
  });
}
