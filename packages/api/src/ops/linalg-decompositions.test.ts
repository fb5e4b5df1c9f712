import '@flint/backend-cpu';
import {
  cholesky,
  DTypeError,
  grad,
  jit,
  LinAlgError,
  linalg,
  manualSeed,
  matmul,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  tril,
  triu,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';
import { f64, maxDifference, t } from './linalg/testing.test-support.js';

// Reconstruction and structure checks of the decompositions (A = L L^T, A = P L U, A = Q R with Q
// orthonormal), on sizes below and above the block sizes of ops/linalg/ (16), batched, in every
// mode; their failure reporting; and their dtypes and errors. Values against PyTorch are in
// linalg-torch-reference.test.ts, gradients in test/gradcheck/cases/linalg-decompositions.ts.

manualSeed(7);

/** X X^T + n I: symmetric positive-definite. */
function spd(shape: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const n = shape[shape.length - 1] as number;
  const x = randn(shape, { dtype });
  return matmul(x, t(x)).add(
    tensor(
      Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? n : 0))),
      { dtype },
    ),
  );
}

describe('linalg.cholesky', () => {
  test.each([1, 3, 16, 17, 40])('L L^T = A, L lower triangular (n = %i)', (n) => {
    const a = spd([n, n]);
    const l = linalg.cholesky(a);
    expect(maxDifference(matmul(l, t(l)), a)).toBeLessThan(1e-12 * n);
    expect(maxDifference(triu(l, 1), triu(l, 1).mul(0))).toBe(0);
    expect(Math.min(...l.diagonal().dataSync())).toBeGreaterThan(0);
  });

  test('batched, upper, float32', () => {
    const a = spd([2, 3, 20, 20], 'float32');
    const u = linalg.cholesky(a, { upper: true });
    expect(u.dtype).toBe('float32');
    expect(maxDifference(matmul(t(u), u), a)).toBeLessThan(1e-3);
    expect(maxDifference(tril(u, -1), tril(u, -1).mul(0))).toBe(0);
    expect(maxDifference(cholesky(a, true), u)).toBe(0);
    expect(maxDifference(cholesky(a), t(u))).toBeLessThan(1e-5);
  });

  test('reads only the lower triangle (upper: only the upper one)', () => {
    const a = spd([5, 5]);
    const junk = triu(f64([5, 5]), 1);
    expect(maxDifference(linalg.cholesky(a.add(junk)), linalg.cholesky(a))).toBe(0);
    expect(maxDifference(linalg.cholesky(a.add(t(junk)), { upper: true }), linalg.cholesky(a, { upper: true }))).toBe(0);
  });

  test('a matrix that is not positive-definite raises a LinAlgError naming the leading minor', () => {
    const a = tensor([
      [4, 2, 0],
      [2, 1, 0],
      [0, 0, 1],
    ]);
    expect(() => linalg.cholesky(a)).toThrow(LinAlgError);
    expect(() => linalg.cholesky(a)).toThrow(/leading minor of order 2 is not positive-definite/);
    expect(() => linalg.cholesky(tensor([[-1]]))).toThrow(/order 1/);
  });

  test('choleskyEx reports the first failed pivot per matrix, without raising', () => {
    const good = spd([3, 3]);
    const batch = tensor(
      [
        good.arraySync() as number[][],
        [
          [1, 2, 0],
          [2, 1, 0],
          [0, 0, 1],
        ],
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, -2],
        ],
      ],
      { dtype: 'float64' },
    );
    const { L, info } = linalg.choleskyEx(batch);
    expect(info.dtype).toBe('int32');
    expect(Array.from(info.dataSync())).toEqual([0, 2, 3]);
    expect(maxDifference(L.slice([0, 0, 0], [1, 3, 3]).reshape([3, 3]), linalg.cholesky(good))).toBe(0);
    // The failed matrices carry NaN from the failed column on, not a silently wrong factor.
    expect(Number.isNaN(L.dataSync()[9 + 4] as number)).toBe(true);
    expect(linalg.choleskyEx(good, { upper: true }).info.shape).toEqual([]);
  });

  test('on a backend without synchronous reads: no read, NaN propagates, choleskyEx has the info', async () => {
    registerAsyncCpuBackend('cpu-async-linalg');
    const a = tensor(
      [
        [1, 2],
        [2, 1],
      ],
      { backend: 'cpu-async-linalg' },
    );
    const l = linalg.cholesky(a);
    expect(Number.isNaN((await l.data())[3] as number)).toBe(true);
    expect(Array.from(await linalg.choleskyEx(a).info.data())).toEqual([2]);
  });

  test('under jit: no read, the same factor', () => {
    const a = spd([2, 6, 6]);
    const compiled = jit((x: Tensor) => linalg.cholesky(x));
    expect(maxDifference(compiled(a), linalg.cholesky(a))).toBeLessThan(1e-14);
    expect(
      Number.isNaN(
        compiled(
          tensor(
            [
              [
                [1, 2],
                [2, 1],
              ],
            ],
            { dtype: 'float64' },
          ),
        ).dataSync()[3] as number,
      ),
    ).toBe(true);
  });

  test('vmap and grad', () => {
    const a = spd([3, 4, 4]);
    const mapped = vmap((x: Tensor) => linalg.cholesky(x))(a);
    expect(maxDifference(mapped, linalg.cholesky(a))).toBeLessThan(1e-14);
    // d/dA sum(log diag L) = d/dA logdet(A) / 2 = A^-1 / 2 (symmetric).
    const g = grad((x: Tensor) => linalg.cholesky(x).diagonal(0, -2, -1).log().sum())(a);
    expect(maxDifference(g, linalg.inv(a).mul(0.5))).toBeLessThan(1e-12);
  });

  test('dtypes: float16 computes in float32 and rounds once; integers give float32', () => {
    const a = tensor([
      [4, 2],
      [2, 5],
    ]);
    const half = linalg.cholesky(a.to('float16'));
    expect(half.dtype).toBe('float16');
    expect(Array.from(half.dataSync())).toEqual([2, 0, 1, 2]);
    const fromInt = linalg.cholesky(
      tensor(
        [
          [4, 2],
          [2, 5],
        ],
        { dtype: 'int32' },
      ),
    );
    expect(fromInt.dtype).toBe('float32');
    expect(Array.from(fromInt.dataSync())).toEqual([2, 0, 1, 2]);
  });

  test('errors name the shapes', () => {
    expect(() => linalg.cholesky(f64([2, 3]))).toThrow(ShapeError);
    expect(() => linalg.cholesky(f64([2, 3]))).toThrow(/square matrices.*\[2, 3\]/);
    expect(() => linalg.cholesky(f64([3]))).toThrow(/at least 2 dimensions.*\[3\]/);
    expect(() => linalg.cholesky(spd([2, 2]), { upper: 1 as unknown as boolean })).toThrow(ValueError);
  });
});

/** P L U for linalg.lu's factors. */
const plu = ({ P, L, U }: { P: Tensor; L: Tensor; U: Tensor }) => matmul(P, matmul(L, U));

describe('linalg.luFactor and linalg.lu', () => {
  test.each([
    [1, 1],
    [3, 3],
    [5, 3],
    [3, 5],
    [17, 17],
    [40, 40],
    [50, 37],
    [20, 45],
  ])('P L U = A, L unit lower, U upper (%i x %i)', (m, n) => {
    const a = f64([2, m, n]);
    const factors = linalg.lu(a);
    const k = Math.min(m, n);
    expect(factors.P.shape).toEqual([2, m, m]);
    expect(factors.L.shape).toEqual([2, m, k]);
    expect(factors.U.shape).toEqual([2, k, n]);
    expect(maxDifference(plu(factors), a)).toBeLessThan(1e-13 * Math.max(m, n));
    expect(maxDifference(triu(factors.L, 1), triu(factors.L, 1).mul(0))).toBe(0);
    expect(Array.from(factors.L.diagonal(0, -2, -1).dataSync()).every((v) => v === 1)).toBe(true);
    expect(maxDifference(tril(factors.U, -1), tril(factors.U, -1).mul(0))).toBe(0);
    // Partial pivoting: every multiplier is at most 1 in magnitude.
    expect(Math.max(...Array.from(factors.L.abs().dataSync()))).toBeLessThanOrEqual(1);
  });

  test('packed factors and 1-based pivots, as LAPACK', () => {
    const { LU, pivots } = linalg.luFactor(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 10],
      ]),
    );
    expect(pivots.dtype).toBe('int32');
    expect(Array.from(pivots.dataSync())).toEqual([3, 3, 3]);
    // Row 3 first; then rows (4 5 6) - 4/7 (7 8 10) and (1 2 3) - 1/7 (7 8 10), the larger pivot of which is 6/7.
    const expected = [7, 8, 10, 1 / 7, 6 / 7, 11 / 7, 4 / 7, 0.5, -0.5];
    Array.from(LU.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 5);
    });
  });

  test('a singular matrix factors with a zero pivot and no NaN', () => {
    const { U } = linalg.lu(
      tensor([
        [1, 2],
        [2, 4],
      ]),
    );
    expect(Array.from(U.dataSync())).toEqual([2, 4, 0, 0]);
    const zero = linalg.luFactor(
      tensor([
        [0, 0],
        [0, 0],
      ]),
    );
    expect(Array.from(zero.LU.dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(zero.pivots.dataSync())).toEqual([1, 2]);
  });

  test('jit and vmap agree with the eager factors', () => {
    const a = f64([3, 5, 5]);
    const eager = linalg.luFactor(a);
    // The same composite, exactly; a backend with its own LU kernel (LAPACK's on mkl) computes the
    // eager factors in another order of operations: the same pivots, rounding apart.
    const exact = a._backend?.composites?.luFactor === undefined;
    const tolerance = exact ? 0 : 1e-13;
    const compiled = jit((x: Tensor) => linalg.luFactor(x))(a);
    expect(maxDifference(compiled.LU, eager.LU)).toBeLessThanOrEqual(tolerance);
    expect(Array.from(compiled.pivots.dataSync())).toEqual(Array.from(eager.pivots.dataSync()));
    const mapped = vmap((x: Tensor) => linalg.luFactor(x).LU)(a);
    expect(maxDifference(mapped, eager.LU)).toBeLessThanOrEqual(tolerance);
  });

  test('errors', () => {
    expect(() => linalg.lu(f64([4]))).toThrow(/at least 2 dimensions/);
    expect(() => linalg.luFactor(tensor([[true, false]]))).not.toThrow();
  });
});

describe('linalg.qr', () => {
  const identity = (n: number) =>
    tensor(
      Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))),
      { dtype: 'float64' },
    );

  test.each([
    [3, 3],
    [6, 3],
    [3, 6],
    [40, 25],
    [1, 4],
    [4, 1],
  ])('Q R = A with Q orthonormal and R upper triangular, every mode (%i x %i)', (m, n) => {
    const a = f64([2, m, n]);
    const k = Math.min(m, n);
    const reduced = linalg.qr(a);
    expect(reduced.Q.shape).toEqual([2, m, k]);
    expect(reduced.R.shape).toEqual([2, k, n]);
    expect(maxDifference(matmul(reduced.Q, reduced.R), a)).toBeLessThan(1e-13 * m);
    expect(maxDifference(matmul(t(reduced.Q), reduced.Q), identity(k).expand([2, k, k]))).toBeLessThan(1e-13 * m);
    expect(maxDifference(tril(reduced.R, -1), tril(reduced.R, -1).mul(0))).toBe(0);
    const complete = linalg.qr(a, { mode: 'complete' });
    expect(complete.Q.shape).toEqual([2, m, m]);
    expect(complete.R.shape).toEqual([2, m, n]);
    expect(maxDifference(matmul(complete.Q, complete.R), a)).toBeLessThan(1e-13 * m);
    expect(maxDifference(matmul(t(complete.Q), complete.Q), identity(m).expand([2, m, m]))).toBeLessThan(1e-13 * m);
    const onlyR = linalg.qr(a, { mode: 'r' });
    expect(onlyR.Q.shape).toEqual([0]);
    expect(maxDifference(onlyR.R, reduced.R)).toBe(0);
  });

  test("LAPACK's signs: R's diagonal is -sign(a11) |a1| for the first column", () => {
    const { Q, R } = linalg.qr(
      tensor([
        [3, 1],
        [4, 2],
      ]),
    );
    expect(R.dataSync()[0]).toBeCloseTo(-5, 5);
    expect(Q.dataSync()[0]).toBeCloseTo(-0.6, 5);
  });

  test('a cotangent of the undetermined columns of a complete Q is an error; R alone is fine', () => {
    const a = f64([4, 2]);
    expect(() => grad((x: Tensor) => linalg.qr(x, { mode: 'complete' }).Q.sum())(a)).toThrow(/not differentiable with respect to Q/);
    const viaComplete = grad((x: Tensor) => linalg.qr(x, { mode: 'complete' }).R.sum())(a);
    const viaReduced = grad((x: Tensor) => linalg.qr(x).R.sum())(a);
    expect(maxDifference(viaComplete, viaReduced)).toBeLessThan(1e-14);
  });

  test('errors', () => {
    expect(() => linalg.qr(f64([3, 3]), { mode: 'full' as 'reduced' })).toThrow(/mode must be 'reduced', 'complete' or 'r'/);
    expect(() => linalg.qr(f64([3]))).toThrow(ShapeError);
    expect(() => linalg.qr(tensor([[true]]))).not.toThrow(DTypeError);
  });
});
