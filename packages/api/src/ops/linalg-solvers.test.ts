import '@flint/backend-cpu';
import {
  det,
  eye,
  grad,
  inverse,
  jit,
  LinAlgError,
  linalg,
  logdet,
  manualSeed,
  matmul,
  matrixPower,
  randn,
  ShapeError,
  slogdet,
  type Tensor,
  tensor,
  tril,
  triu,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { f64, maxDifference, t } from './linalg/testing.test-support.js';

// Solves, inverses, determinants and powers checked by what defines them (A X = B, A A^-1 = I,
// hand-computed determinants), batched and broadcast, with their errors and failure reports.

manualSeed(11);

/** A random matrix with a dominant diagonal: well conditioned. */
const wellConditioned = (shape: number[]) => {
  const n = shape[shape.length - 1] as number;
  return f64(shape).add(eye(n, { dtype: 'float64' }).mul(n + 2));
};

describe('linalg.solveTriangular', () => {
  test.each([
    [false, true, false],
    [true, true, false],
    [false, false, false],
    [true, false, false],
    [false, true, true],
    [true, false, true],
  ])('upper %s, left %s, unitriangular %s: A X = B (or X A = B), blocked sizes too', (upper, left, unit) => {
    for (const n of [1, 5, 40]) {
      const full = wellConditioned([2, n, n]);
      const a = upper ? triu(full, unit ? 1 : 0) : tril(full, unit ? -1 : 0);
      const withDiagonal = unit ? a.add(eye(n, { dtype: 'float64' })) : a;
      const b = f64(left ? [2, n, 3] : [2, 3, n]);
      // Entries outside the triangle (and the diagonal when unit) are never read.
      const junk = upper ? tril(f64([n, n]), unit ? 0 : -1) : triu(f64([n, n]), unit ? 0 : 1);
      const x = linalg.solveTriangular(a.add(junk), b, { upper, left, unitriangular: unit });
      const product = left ? matmul(withDiagonal, x) : matmul(x, withDiagonal);
      // A backward-error bound: random unit triangles are ill-conditioned, and X grows with n.
      const scale = 1 + Math.max(...Array.from(x.abs().dataSync(), Number));
      expect(maxDifference(product, b)).toBeLessThan(1e-13 * n * scale);
    }
  });

  test('batch axes broadcast', () => {
    const a = tril(wellConditioned([4, 4]));
    const b = f64([3, 2, 4, 5]);
    const x = linalg.solveTriangular(a, b, { upper: false });
    expect(x.shape).toEqual([3, 2, 4, 5]);
    expect(maxDifference(matmul(a, x), b)).toBeLessThan(1e-12);
  });

  test('errors name the shapes; upper is required', () => {
    const a = tril(wellConditioned([3, 3]));
    expect(() => linalg.solveTriangular(a, f64([4, 2]), { upper: false })).toThrow(ShapeError);
    expect(() => linalg.solveTriangular(a, f64([4, 2]), { upper: false })).toThrow(/A \[3, 3\] and B \[4, 2\]/);
    expect(() => linalg.solveTriangular(a, f64([2, 4]), { upper: false, left: false })).toThrow(/n columns/);
    expect(() => linalg.solveTriangular(a, f64([3]), { upper: false })).toThrow(/at least 2 dimensions/);
    expect(() => linalg.solveTriangular(a, f64([3, 1]), {} as { upper: boolean })).toThrow(/upper is required/);
    expect(() => linalg.solveTriangular(f64([2, 3, 3]), f64([4, 3, 1]), { upper: true })).toThrow(/batch dimensions.*do not broadcast/);
  });
});

describe('linalg.solve', () => {
  test.each([1, 4, 17, 40])('A X = B (n = %i), batched', (n) => {
    const a = wellConditioned([2, n, n]);
    const b = f64([2, n, 3]);
    const x = linalg.solve(a, b);
    expect(maxDifference(matmul(a, x), b)).toBeLessThan(1e-12 * n);
  });

  test('a vector right-hand side, X A = B, broadcasting', () => {
    const a = tensor([
      [3, 1],
      [1, 2],
    ]);
    expect(Array.from(linalg.solve(a, tensor([9, 8])).dataSync())).toEqual([2, 3]);
    const batch = wellConditioned([3, 4, 4]);
    const vectors = f64([3, 4]);
    const x = linalg.solve(batch, vectors);
    expect(x.shape).toEqual([3, 4]);
    expect(maxDifference(matmul(batch, x.reshape([3, 4, 1])).reshape([3, 4]), vectors)).toBeLessThan(1e-12);
    const b = f64([5, 2, 4]);
    const right = linalg.solve(batch.slice([0, 0, 0], [1, 4, 4]), b, { left: false });
    expect(right.shape).toEqual([5, 2, 4]);
    expect(maxDifference(matmul(right, batch.slice([0, 0, 0], [1, 4, 4])), b)).toBeLessThan(1e-12);
  });

  test('a singular matrix raises a LinAlgError', () => {
    expect(() =>
      linalg.solve(
        tensor([
          [1, 2],
          [2, 4],
        ]),
        tensor([1, 1]),
      ),
    ).toThrow(LinAlgError);
  });

  test('jit, vmap and grad', () => {
    const a = wellConditioned([3, 5, 5]);
    const b = f64([3, 5, 2]);
    const eager = linalg.solve(a, b);
    expect(maxDifference(jit((x: Tensor, y: Tensor) => linalg.solve(x, y))(a, b), eager)).toBeLessThan(1e-14);
    expect(maxDifference(vmap((x: Tensor, y: Tensor) => linalg.solve(x, y))(a, b), eager)).toBeLessThan(1e-14);
    // d sum(X) / dB = A^-T 1.
    const gb = grad((y: Tensor) => linalg.solve(a, y).sum())(b);
    expect(maxDifference(gb, matmul(t(linalg.inv(a)), b.mul(0).add(1)))).toBeLessThan(1e-12);
  });

  test('errors', () => {
    expect(() => linalg.solve(f64([3, 3]), f64([4, 1]))).toThrow(/A \[3, 3\] and B \[4, 1\] do not fit/);
    expect(() => linalg.solve(f64([3, 2]), f64([3, 1]))).toThrow(/square/);
    expect(() => linalg.solve(f64([3, 3]), f64([3]), { left: 'no' as unknown as boolean })).toThrow(ValueError);
  });
});

describe('linalg.luSolve', () => {
  test('agrees with solve, for A and A^T, from the left and the right', () => {
    const a = wellConditioned([2, 6, 6]);
    const { LU, pivots } = linalg.luFactor(a);
    const b = f64([2, 6, 3]);
    expect(maxDifference(linalg.luSolve(LU, pivots, b), linalg.solve(a, b))).toBeLessThan(1e-12);
    expect(maxDifference(linalg.luSolve(LU, pivots, b, { adjoint: true }), linalg.solve(t(a), b))).toBeLessThan(1e-12);
    const c = t(b);
    expect(maxDifference(linalg.luSolve(LU, pivots, c, { left: false }), linalg.solve(a, c, { left: false }))).toBeLessThan(1e-12);
    expect(
      maxDifference(linalg.luSolve(LU, pivots, c, { left: false, adjoint: true }), linalg.solve(t(a), c, { left: false })),
    ).toBeLessThan(1e-12);
  });

  test('errors', () => {
    const { LU, pivots } = linalg.luFactor(wellConditioned([3, 3]));
    expect(() => linalg.luSolve(LU, pivots.slice([0], [2]), f64([3, 1]))).toThrow(/pivots must have shape \[3\]/);
    expect(() => linalg.luSolve(LU, pivots.to('float32'), f64([3, 1]))).toThrow(/integer/);
  });
});

describe('linalg.inv', () => {
  test.each([1, 3, 17, 40])('A A^-1 = I (n = %i), batched', (n) => {
    const a = wellConditioned([2, n, n]);
    const identity = eye(n, { dtype: 'float64' }).expand([2, n, n]);
    expect(maxDifference(matmul(a, linalg.inv(a)), identity)).toBeLessThan(1e-12 * n);
    expect(maxDifference(inverse(a), linalg.inv(a))).toBe(0);
  });

  test('a singular matrix raises a LinAlgError naming the zero pivot', () => {
    expect(() =>
      linalg.inv(
        tensor([
          [1, 2],
          [2, 4],
        ]),
      ),
    ).toThrow(/singular: U\[1, 1\]/);
  });
});

describe('det, slogdet, logdet', () => {
  const m = tensor([
    [1, 2],
    [3, 4],
  ]);

  test('hand-computed values, batched, the permutation sign', () => {
    expect(det(m).item()).toBeCloseTo(-2, 5);
    expect(det(m).dtype).toBe('float32');
    const batch = tensor(
      [
        [
          [2, 0, 0],
          [0, 3, 0],
          [0, 0, 4],
        ],
        [
          [0, 1, 0],
          [1, 0, 0],
          [0, 0, 1],
        ],
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 10],
        ],
      ],
      { dtype: 'float64' },
    );
    Array.from(linalg.det(batch).dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo([24, -1, -3][i] as number, 10);
    });
    const { sign, logabsdet } = linalg.slogdet(batch);
    expect(Array.from(sign.dataSync())).toEqual([1, -1, -1]);
    Array.from(logabsdet.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(Math.log([24, 1, 3][i] as number), 10);
    });
    const ld = Array.from(logdet(batch).dataSync());
    expect(ld[0]).toBeCloseTo(Math.log(24), 10);
    expect(Number.isNaN(ld[1] as number)).toBe(true);
    expect(slogdet(batch).sign.shape).toEqual([3]);
  });

  test('singular matrices: det 0, sign 0, logabsdet -Infinity, logdet -Infinity', () => {
    const s = tensor([
      [1, 2],
      [2, 4],
    ]);
    // -0 here, as PyTorch (the permutation's sign times 0).
    expect(Math.abs(det(s).item() as number)).toBe(0);
    expect(Math.abs(slogdet(s).sign.item() as number)).toBe(0);
    expect(slogdet(s).logabsdet.item()).toBe(Number.NEGATIVE_INFINITY);
    expect(logdet(s).item()).toBe(Number.NEGATIVE_INFINITY);
  });

  test('the gradient of det is the cofactor matrix, at singular matrices too', () => {
    const a = wellConditioned([4, 4]);
    const g = grad((x: Tensor) => det(x))(a);
    expect(maxDifference(g, t(linalg.inv(a)).mul(det(a)))).toBeLessThan(1e-9);
    // Rank 1: the adjugate of [[1, 2], [2, 4]] is [[4, -2], [-2, 1]], and it is its own cofactor matrix.
    const singular = tensor(
      [
        [1, 2],
        [2, 4],
      ],
      { dtype: 'float64' },
    );
    expect(Array.from(grad((x: Tensor) => det(x))(singular).dataSync())).toEqual([4, -2, -2, 1]);
    // Rank 2 of 3, with the zero pivot in the middle of the factorization.
    const r2 = tensor(
      [
        [2, 0, 1],
        [4, 0, 3],
        [1, 0, 5],
      ],
      { dtype: 'float64' },
    );
    // Only the minors without the (zero) middle column are nonzero: -17, 9, -2 down that column.
    const cofactors = [0, -17, 0, 0, 9, 0, 0, -2, 0];
    grad((x: Tensor) => det(x))(r2)
      .dataSync()
      .forEach((v, i) => {
        expect(v).toBeCloseTo(cofactors[i] as number, 10);
      });
    // The gradient of logabsdet is A^-T.
    const gl = grad((x: Tensor) => linalg.slogdet(x).logabsdet)(a);
    expect(maxDifference(gl, t(linalg.inv(a)))).toBeLessThan(1e-12);
  });
});

describe('linalg.matrixPower', () => {
  test('n = 0, positive, negative; integers keep their dtype', () => {
    const m = tensor([
      [1, 1],
      [0, 1],
    ]);
    expect(Array.from(matrixPower(m, 3).dataSync())).toEqual([1, 3, 0, 1]);
    expect(Array.from(linalg.matrixPower(m, 0).dataSync())).toEqual([1, 0, 0, 1]);
    const ints = tensor(
      [
        [2, 1],
        [1, 1],
      ],
      { dtype: 'int32' },
    );
    expect(matrixPower(ints, 5).dtype).toBe('int32');
    expect(Array.from(matrixPower(ints, 5).dataSync())).toEqual([89, 55, 55, 34]);
    const a = wellConditioned([2, 3, 3]);
    expect(maxDifference(linalg.matrixPower(a, -2), matmul(linalg.inv(a), linalg.inv(a)))).toBeLessThan(1e-12);
    expect(maxDifference(linalg.matrixPower(a, 7), matmul(matrixPower(a, 3), matrixPower(a, 4)))).toBeLessThan(1e-9);
  });

  test('errors', () => {
    expect(() => linalg.matrixPower(f64([2, 3]), 2)).toThrow(/square/);
    expect(() => linalg.matrixPower(f64([2, 2]), 1.5)).toThrow(/integer/);
  });
});

describe('empty matrices and batches', () => {
  const empty = (shape: number[]) => randn(shape, { dtype: 'float64' });

  test('0 x 0 matrices: det 1, slogdet (1, 0), empty inverse and solution', () => {
    expect(det(empty([0, 0])).item()).toBe(1);
    expect(slogdet(empty([0, 0])).logabsdet.item()).toBe(0);
    expect(linalg.inv(empty([0, 0])).shape).toEqual([0, 0]);
    expect(linalg.solve(empty([0, 0]), empty([0, 2])).shape).toEqual([0, 2]);
    expect(linalg.matrixPower(empty([0, 0]), -2).shape).toEqual([0, 0]);
  });

  test('empty batches and factors', () => {
    expect(det(empty([0, 2, 2])).shape).toEqual([0]);
    expect(linalg.solve(empty([0, 2, 2]), empty([0, 2, 1])).shape).toEqual([0, 2, 1]);
    expect(linalg.cholesky(empty([0, 3, 3])).shape).toEqual([0, 3, 3]);
    expect(Array.from(linalg.choleskyEx(empty([2, 0, 0])).info.dataSync())).toEqual([0, 0]);
    const { P, L, U } = linalg.lu(empty([0, 3]));
    expect([P.shape, L.shape, U.shape]).toEqual([
      [0, 0],
      [0, 0],
      [0, 3],
    ]);
    const { Q, R } = linalg.qr(empty([3, 0]), { mode: 'complete' });
    expect(Array.from(Q.dataSync())).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(R.shape).toEqual([3, 0]);
  });
});
