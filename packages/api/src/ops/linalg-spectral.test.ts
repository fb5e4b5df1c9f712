import '@flint/backend-cpu';
import {
  DTypeError,
  type EighResult,
  eye,
  grad,
  jit,
  linalg,
  manualSeed,
  matmul,
  matrixExp,
  norm,
  ShapeError,
  type SvdResult,
  type Tensor,
  tensor,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';
import { f64, maxDifference, t } from './linalg/testing.test-support.js';

// eigh, svd and what is built on them: reconstructions and structure (A = V diag(L) V^T with V
// orthonormal, A = U diag(S) Vh), on spectra that slow Jacobi methods down (graded, repeated,
// clustered, zero), on odd and even sizes, batched, under jit and on a backend that reads only
// asynchronously (the fixed sweep schedule); their dtypes and errors. Values and gradients against
// PyTorch are in linalg-spectral-torch.test.ts, gradient checks in
// test/gradcheck/cases/linalg-spectral.ts.

manualSeed(11);

const f32 = (x: Tensor): Tensor => x.to('float32');

/** (X + X^T) / 2. */
const symmetric = (shape: number[]): Tensor => {
  const x = f64(shape);
  return x.add(t(x)).mul(0.5);
};

/** Q diag(values) Q^T for a random orthogonal Q. */
function withSpectrum(values: readonly number[]): Tensor {
  const { Q } = linalg.qr(f64([values.length, values.length]));
  return matmul(Q.mul(tensor([...values], { dtype: 'float64' })), t(Q));
}

/** U diag(values) V^T for random orthonormal U (m x k) and V (n x k). */
function withSingularValues(m: number, n: number, values: readonly number[]): Tensor {
  const u = linalg.qr(f64([m, values.length])).Q;
  const v = linalg.qr(f64([n, values.length])).Q;
  return matmul(u.mul(tensor([...values], { dtype: 'float64' })), t(v));
}

/** max |V^T V - I|. */
const orthogonality = (v: Tensor): number => {
  const k = v.shape[v.ndim - 1] as number;
  return maxDifference(matmul(t(v), v), eye(k, k, { dtype: v.dtype }).broadcastTo([...v.shape.slice(0, -2), k, k]));
};

/** The largest |entry| of a tensor. */
const largest = (x: Tensor): number => Math.max(...Array.from(x.abs().dataSync(), Number));

/** |A V - V diag(L)| relative to |A|, and V's orthogonality, and that L ascends. */
function checkEigh(a: Tensor, { eigenvalues, eigenvectors }: EighResult, tolerance: number): void {
  const n = a.shape[a.ndim - 1] as number;
  const residual = matmul(a, eigenvectors).sub(eigenvectors.mul(eigenvalues.unsqueeze(-2)));
  expect(largest(residual)).toBeLessThanOrEqual(tolerance * Math.max(largest(a), 1e-300) * n);
  expect(orthogonality(eigenvectors)).toBeLessThan(tolerance * n);
  const values = Array.from(eigenvalues.reshape([-1, n]).dataSync(), Number);
  for (let i = 0; i < values.length; i++) if (i % n !== 0) expect(values[i] as number).toBeGreaterThanOrEqual(values[i - 1] as number);
}

/** |U diag(S) Vh - A| relative to |A|, the orthogonality of U and Vh^T, and that S descends. */
function checkSvd(a: Tensor, { U, S, Vh }: SvdResult, tolerance: number): void {
  const k = S.shape[S.ndim - 1] as number;
  const reduced = (x: Tensor, axis: number) =>
    x.slice(
      x.shape.map(() => 0),
      x.shape.map((d, i) => (i === x.ndim + axis ? k : d)),
    );
  const rebuilt = matmul(reduced(U, -1).mul(S.unsqueeze(-2)), reduced(Vh, -2));
  const scale = Math.max(largest(a), 1e-300) * Math.max(...a.shape.slice(-2));
  expect(maxDifference(rebuilt, a)).toBeLessThanOrEqual(tolerance * scale);
  expect(orthogonality(U)).toBeLessThan(tolerance * 20);
  expect(orthogonality(t(Vh))).toBeLessThan(tolerance * 20);
  const values = Array.from(S.reshape([-1, Math.max(k, 1)]).dataSync(), Number);
  for (let i = 0; i < values.length; i++) if (i % k !== 0) expect(values[i] as number).toBeLessThanOrEqual(values[i - 1] as number);
  expect(Math.min(0, ...values)).toBe(0);
}

describe('linalg.eigh', () => {
  test.each([1, 2, 3, 8, 17])('A V = V diag(L), V orthonormal, L ascending (n = %i, batched)', (n) => {
    const a = symmetric([2, n, n]);
    checkEigh(a, linalg.eigh(a), 2e-15);
  });

  test('float32 (and float16 computed in float32)', () => {
    const a = f32(symmetric([3, 12, 12]));
    const result = linalg.eigh(a);
    expect(result.eigenvalues.dtype).toBe('float32');
    checkEigh(a, result, 2e-7);
    expect(linalg.eigh(a.to('float16')).eigenvalues.dtype).toBe('float16');
  });

  test.each([
    ['graded 1 .. 1e-12', Array.from({ length: 16 }, (_, i) => 10 ** (-12 * (i / 15)))],
    ['graded with mixed signs', Array.from({ length: 15 }, (_, i) => (i % 2 === 0 ? 1 : -1) * 10 ** (-10 * (i / 14)))],
    ['+1 and -1 (a reflection)', Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 : -1))],
    ['repeated and clustered', [2, 2, 2, 2, 1e-7, -1e-7, 0, 0, 5, 5 + 1e-9]],
    ['rank one', [3, 0, 0, 0, 0, 0, 0]],
  ])('hard spectra: %s', (_, values) => {
    const a = withSpectrum(values);
    const result = linalg.eigh(a);
    checkEigh(a, result, 4e-15);
    const expected = [...values].sort((x, y) => x - y);
    expect(maxDifference(result.eigenvalues, tensor(expected, { dtype: 'float64' }))).toBeLessThan(
      1e-14 * Math.max(...values.map(Math.abs)),
    );
  });

  test('diagonal, zero and identity matrices', () => {
    const d = tensor([3, -1, 2, 0, 7], { dtype: 'float64' });
    const { eigenvalues, eigenvectors } = linalg.eigh(d.diagEmbed());
    expect(Array.from(eigenvalues.dataSync())).toEqual([-1, 0, 2, 3, 7]);
    expect(largest(eigenvectors.abs().sub(eigenvectors.abs().round()))).toBe(0);
    expect(
      Array.from(
        linalg
          .eigvalsh(
            tensor(
              [
                [0, 0],
                [0, 0],
              ],
              { dtype: 'float64' },
            ),
          )
          .dataSync(),
      ),
    ).toEqual([0, 0]);
    const identity = linalg.eigh(eye(6, 6, { dtype: 'float64' }));
    expect(Array.from(identity.eigenvalues.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
    expect(orthogonality(identity.eigenvectors)).toBe(0);
  });

  test('reads one triangle: lower by default, upper with uplo U', () => {
    const a = symmetric([6, 6]);
    const noise = f64([6, 6]);
    const lower = a.tril().add(noise.triu(1));
    const upper = a.triu().add(noise.tril(-1));
    expect(maxDifference(linalg.eigvalsh(lower), linalg.eigvalsh(a))).toBeLessThan(1e-14);
    expect(maxDifference(linalg.eigvalsh(upper, { uplo: 'U' }), linalg.eigvalsh(a))).toBeLessThan(1e-14);
    expect(maxDifference(linalg.eigh(upper, { uplo: 'U' }).eigenvalues, linalg.eigh(a).eigenvalues)).toBeLessThan(1e-14);
  });

  test('eigvalsh agrees with eigh; empty matrices and batches', () => {
    const a = symmetric([2, 3, 5, 5]);
    expect(maxDifference(linalg.eigvalsh(a), linalg.eigh(a).eigenvalues)).toBe(0);
    expect(linalg.eigh(f64([0, 0])).eigenvectors.shape).toEqual([0, 0]);
    expect(linalg.eigvalsh(f64([0, 4, 4])).shape).toEqual([0, 4]);
  });

  test('vmap, and jit (a fixed number of sweeps, nothing read)', () => {
    const a = symmetric([3, 5, 5]);
    const direct = linalg.eigvalsh(a);
    expect(maxDifference(vmap((x: Tensor) => linalg.eigvalsh(x))(a), direct)).toBeLessThan(1e-14);
    const compiled = jit((x: Tensor) => linalg.eigh(x));
    const result = compiled(a);
    checkEigh(a, result, 2e-15);
    expect(maxDifference(result.eigenvalues, direct)).toBeLessThan(1e-13);
  });

  test('on a backend that reads asynchronously (the fixed schedule)', async () => {
    registerAsyncCpuBackend('cpu-async-spectral');
    const a = symmetric([2, 10, 10]);
    const far = a.to('cpu-async-spectral');
    const { eigenvalues, eigenvectors } = linalg.eigh(far);
    const back = {
      eigenvalues: tensor(await eigenvalues.data(), { shape: [2, 10], dtype: 'float64' }),
      eigenvectors: tensor(await eigenvectors.data(), { shape: [2, 10, 10], dtype: 'float64' }),
    };
    checkEigh(a, back, 2e-15);
  });

  test('the gradient of the eigenvalues is V diag(g) V^T (and the identity for their sum)', () => {
    const a = symmetric([5, 5]);
    const g = grad((x: Tensor) => linalg.eigvalsh(x).sum())(a) as Tensor;
    expect(maxDifference(g, eye(5, 5, { dtype: 'float64' }))).toBeLessThan(1e-14);
  });

  test('errors name the problem', () => {
    expect(() => linalg.eigh(f64([3, 4]))).toThrow(ShapeError);
    expect(() => linalg.eigh(f64([3]))).toThrow(ShapeError);
    expect(() =>
      linalg.eigh(
        tensor([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toThrow(/floating-point tensor .* got int32/);
    expect(() => linalg.eigvalsh(tensor([[true]]))).toThrow(DTypeError);
    expect(() => linalg.eigh(f64([2, 2]), { uplo: 'X' as 'L' })).toThrow(/uplo must be 'L' .* or 'U'/);
    expect(() => linalg.eigh(f64([2, 2]), 'U' as never)).toThrow(ValueError);
  });
});

describe('linalg.svd and linalg.svdvals', () => {
  test.each([
    [1, 1],
    [5, 5],
    [7, 4],
    [4, 7],
    [20, 3],
    [9, 16],
  ])('A = U diag(S) Vh, orthonormal factors, S descending (%i x %i, batched, reduced and full)', (m, n) => {
    const a = f64([2, m, n]);
    const reduced = linalg.svd(a, { fullMatrices: false });
    const k = Math.min(m, n);
    expect(reduced.U.shape).toEqual([2, m, k]);
    expect(reduced.Vh.shape).toEqual([2, k, n]);
    checkSvd(a, reduced, 2e-15);
    const full = linalg.svd(a);
    expect(full.U.shape).toEqual([2, m, m]);
    expect(full.Vh.shape).toEqual([2, n, n]);
    checkSvd(a, full, 2e-15);
    expect(maxDifference(full.S, reduced.S)).toBeLessThan(1e-14);
    expect(maxDifference(linalg.svdvals(a), reduced.S)).toBeLessThan(1e-14);
  });

  test('float32', () => {
    const a = f32(f64([3, 11, 6]));
    const result = linalg.svd(a, { fullMatrices: false });
    expect(result.S.dtype).toBe('float32');
    checkSvd(a, result, 2e-7);
  });

  test.each([
    ['graded 1 .. 1e-12', 9, 7, Array.from({ length: 7 }, (_, i) => 10 ** (-2 * i))],
    ['rank two (zero singular values: U and V still orthonormal)', 8, 6, [3, 1, 0, 0, 0, 0]],
    ['repeated', 6, 6, [2, 2, 2, 1, 1, 0.5]],
  ])('hard cases: %s', (_, m, n, values) => {
    const a = withSingularValues(m, n, values);
    for (const fullMatrices of [false, true]) {
      const result = linalg.svd(a, { fullMatrices });
      checkSvd(a, result, 4e-15);
      expect(maxDifference(result.S, tensor(values, { dtype: 'float64' }))).toBeLessThan(1e-14);
    }
  });

  test('zero, empty and diagonal matrices', () => {
    const zero = linalg.svd(
      tensor(
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
        { dtype: 'float64' },
      ),
    );
    expect(Array.from(zero.S.dataSync())).toEqual([0, 0]);
    expect(orthogonality(zero.U)).toBe(0);
    expect(orthogonality(t(zero.Vh))).toBe(0);
    const empty = linalg.svd(f64([4, 0]));
    expect([empty.U.shape, empty.S.shape, empty.Vh.shape]).toEqual([[4, 4], [0], [0, 0]]);
    expect(linalg.svd(f64([0, 3]), { fullMatrices: false }).Vh.shape).toEqual([0, 3]);
    expect(
      Array.from(
        linalg
          .svdvals(
            tensor(
              [
                [3, 0],
                [0, -4],
              ],
              { dtype: 'float32' },
            ),
          )
          .dataSync(),
      ),
    ).toEqual([4, 3]);
  });

  test('vmap, jit and an asynchronous backend', async () => {
    const a = f64([3, 5, 4]);
    const direct = linalg.svdvals(a);
    expect(maxDifference(vmap((x: Tensor) => linalg.svdvals(x))(a), direct)).toBeLessThan(1e-14);
    const compiled = jit((x: Tensor) => linalg.svd(x, { fullMatrices: false }));
    checkSvd(a, compiled(a), 2e-15);
    registerAsyncCpuBackend('cpu-async-svd');
    const far = linalg.svdvals(a.to('cpu-async-svd'));
    expect(maxDifference(tensor(await far.data(), { shape: [3, 4], dtype: 'float64' }), direct)).toBeLessThan(1e-14);
  });

  test('fullMatrices with m != n: a gradient through the undetermined factor is a ValueError, through the others it is not', () => {
    const a = f64([5, 3]);
    expect(() => grad((x: Tensor) => linalg.svd(x).U.sum())(a)).toThrow(/not differentiable with respect to U: its last 2 columns/);
    expect(() => grad((x: Tensor) => linalg.svd(x).Vh.mul(linalg.svd(x).Vh).sum())(a)).not.toThrow();
    expect(() => grad((x: Tensor) => linalg.svd(t(x)).Vh.sum())(a)).toThrow(/with respect to Vh: its last 2 rows/);
    const g = grad((x: Tensor) => linalg.svd(x).S.sum())(a) as Tensor;
    const { U, Vh } = linalg.svd(a, { fullMatrices: false });
    expect(maxDifference(g, matmul(U, Vh))).toBeLessThan(1e-14);
  });

  test('errors name the problem', () => {
    expect(() => linalg.svd(f64([3]))).toThrow(ShapeError);
    expect(() => linalg.svdvals(tensor([[1, 2]]))).toThrow(DTypeError);
    expect(() => linalg.svd(f64([2, 2]), { fullMatrices: 1 as unknown as boolean })).toThrow(/fullMatrices must be a boolean/);
    expect(() => linalg.svd(f64([2, 2]), { full_matrices: false } as never)).toThrow(ValueError);
  });
});

describe('matrix norms from the singular values', () => {
  test("'nuc', 2 and -2, over any two axes, with keepdims; norm(x, 'nuc')", () => {
    const a = withSingularValues(5, 3, [4, 2, 0.5]);
    expect(linalg.matrixNorm(a, { ord: 'nuc' }).item()).toBeCloseTo(6.5, 13);
    expect(linalg.matrixNorm(a, { ord: 2 }).item()).toBeCloseTo(4, 13);
    expect(linalg.matrixNorm(a, { ord: -2 }).item()).toBeCloseTo(0.5, 13);
    expect(norm(a, 'nuc').item()).toBeCloseTo(6.5, 13);
    expect(linalg.norm(a, { ord: 2 }).item()).toBeCloseTo(4, 13);
    const stack = a.unsqueeze(1).broadcastTo([5, 2, 3]);
    const kept = linalg.matrixNorm(stack, { ord: 'nuc', axis: [0, 2], keepdims: true });
    expect(kept.shape).toEqual([1, 2, 1]);
    expect(Array.from(kept.dataSync(), (v) => Number(v.toFixed(12)))).toEqual([6.5, 6.5]);
    expect(
      linalg.matrixNorm(
        tensor([
          [3, 0],
          [0, 4],
        ]),
        { ord: 'nuc' },
      ).dtype,
    ).toBe('float32');
  });

  test('empty matrices: nuc is 0, 2 and -2 are an error', () => {
    expect(linalg.matrixNorm(f64([0, 3]), { ord: 'nuc' }).item()).toBe(0);
    expect(() => linalg.matrixNorm(f64([0, 3]), { ord: 2 })).toThrow(ShapeError);
    expect(() => norm(f64([2, 2, 2]), 'nuc')).toThrow(/2-d tensor/);
  });
});

describe('linalg.pinv', () => {
  /** The four Penrose conditions. */
  function checkPenrose(a: Tensor, p: Tensor, tolerance: number): void {
    expect(maxDifference(matmul(matmul(a, p), a), a)).toBeLessThan(tolerance);
    expect(maxDifference(matmul(matmul(p, a), p), p)).toBeLessThan(tolerance);
    const ap = matmul(a, p);
    const pa = matmul(p, a);
    expect(maxDifference(ap, t(ap))).toBeLessThan(tolerance);
    expect(maxDifference(pa, t(pa))).toBeLessThan(tolerance);
  }

  test.each([
    [6, 4],
    [3, 7],
    [5, 5],
  ])('the Penrose conditions (%i x %i, batched)', (m, n) => {
    const a = f64([2, m, n]);
    const p = linalg.pinv(a);
    expect(p.shape).toEqual([2, n, m]);
    checkPenrose(a, p, 1e-12);
  });

  test('rank-deficient (the tiny singular values rounding leaves are cut off), hermitian', () => {
    const a = withSingularValues(6, 5, [3, 2, 1]);
    checkPenrose(a, linalg.pinv(a), 1e-12);
    const s = withSpectrum([2, -1, 0, 0]);
    const p = linalg.pinv(s, { hermitian: true });
    checkPenrose(s, p, 1e-12);
    expect(maxDifference(p, linalg.pinv(s))).toBeLessThan(1e-13);
  });

  test('atol and rtol (numbers or tensors broadcast over the batch)', () => {
    const a = tensor(
      [
        [
          [4, 0],
          [0, 0.5],
        ],
        [
          [1, 0],
          [0, 0.1],
        ],
      ],
      { dtype: 'float64' },
    );
    expect(Array.from(linalg.pinv(a, { atol: 0.6 }).dataSync())).toEqual([0.25, 0, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(linalg.pinv(a, { rtol: 0.2 }).dataSync())).toEqual([0.25, 0, 0, 0, 1, 0, 0, 0]);
    const perMatrix = linalg.pinv(a, { atol: tensor([0, 0.2], { dtype: 'float64' }) });
    expect(Array.from(perMatrix.dataSync())).toEqual([0.25, 0, 0, 2, 1, 0, 0, 0]);
    expect(() => linalg.pinv(a, { atol: tensor([1, 2, 3], { dtype: 'float64' }) })).toThrow(/does not broadcast to the batch shape/);
    expect(() => linalg.pinv(f64([3, 2]), { hermitian: true })).toThrow(ShapeError);
  });
});

describe('linalg.matrixRank', () => {
  test('ranks, tolerances, hermitian, batches; int32', () => {
    const a = withSingularValues(6, 5, [3, 2, 1]);
    const rank = linalg.matrixRank(a);
    expect(rank.dtype).toBe('int32');
    expect(rank.item()).toBe(3);
    expect(linalg.matrixRank(a, { atol: 1.5 }).item()).toBe(2);
    expect(linalg.matrixRank(a, { rtol: 0.5 }).item()).toBe(2);
    expect(linalg.matrixRank(withSpectrum([2, -1, 0, 0]), { hermitian: true }).item()).toBe(2);
    expect(Array.from(linalg.matrixRank(f64([2, 3, 4, 4])).dataSync())).toEqual([4, 4, 4, 4, 4, 4]);
    expect(linalg.matrixRank(f64([3, 0])).item()).toBe(0);
  });
});

describe('linalg.lstsq', () => {
  test('overdetermined: the normal equations; residuals; rank; singular values', () => {
    const a = f64([2, 8, 3]);
    const b = f64([2, 8, 2]);
    const { solution, residuals, rank, singularValues } = linalg.lstsq(a, b);
    const normal = linalg.solve(matmul(t(a), a), matmul(t(a), b));
    expect(maxDifference(solution, normal)).toBeLessThan(1e-12);
    const r = matmul(a, solution).sub(b);
    expect(maxDifference(residuals, r.mul(r).sum(-2))).toBeLessThan(1e-12);
    expect(Array.from(rank.dataSync())).toEqual([3, 3]);
    expect(maxDifference(singularValues, linalg.svdvals(a))).toBeLessThan(1e-14);
  });

  test('underdetermined and rank-deficient: the minimum-norm solution pinv(A) B; a vector B; broadcasting', () => {
    const wide = f64([3, 6]);
    const b = f64([4, 3, 2]);
    const { solution, residuals } = linalg.lstsq(wide, b);
    expect(solution.shape).toEqual([4, 6, 2]);
    expect(residuals.shape).toEqual([0]);
    expect(maxDifference(solution, matmul(linalg.pinv(wide), b))).toBeLessThan(1e-12);
    const deficient = withSingularValues(7, 4, [2, 1]);
    const y = f64([7]);
    const vector = linalg.lstsq(deficient, y);
    expect(vector.solution.shape).toEqual([4]);
    expect(vector.residuals.shape).toEqual([1]);
    expect(vector.rank.item()).toBe(2);
    expect(maxDifference(vector.solution, matmul(linalg.pinv(deficient), y))).toBeLessThan(1e-12);
    expect(linalg.lstsq(deficient, y, { rcond: 0.6 }).rank.item()).toBe(1);
  });

  test('errors name the problem', () => {
    expect(() => linalg.lstsq(f64([3, 2]), f64([4, 1]))).toThrow(/B must have m = 3 rows/);
    expect(() => linalg.lstsq(f64([3, 2]), tensor([1, 2, 3]))).toThrow(DTypeError);
    expect(() => linalg.lstsq(f64([3, 2]), f64([3]), { driver: 'gelsy' as 'gelsd' })).toThrow(/driver must be 'gelsd' or 'gelss'/);
    expect(() => linalg.lstsq(f64([2, 3, 2]), f64([3, 3, 1]))).toThrow(/do not broadcast/);
  });
});

describe('linalg.cond', () => {
  test('orders; a singular matrix gives Infinity', () => {
    const a = tensor(
      [
        [1, 0],
        [0, 4],
      ],
      { dtype: 'float64' },
    );
    expect(linalg.cond(a).item()).toBeCloseTo(4, 14);
    expect(linalg.cond(a, -2).item()).toBeCloseTo(0.25, 14);
    expect(linalg.cond(a, 1).item()).toBeCloseTo(4, 14);
    expect(linalg.cond(a, 'fro').item()).toBeCloseTo(Math.sqrt(17) * Math.sqrt(1 + 1 / 16), 13);
    expect(linalg.cond(a, 'nuc').item()).toBeCloseTo(5 * 1.25, 13);
    expect(linalg.cond(f64([4, 2])).item()).toBeGreaterThan(1);
    const singular = tensor(
      [
        [1, 2],
        [2, 4],
      ],
      { dtype: 'float64' },
    );
    expect(linalg.cond(singular, 'fro').item()).toBe(Number.POSITIVE_INFINITY);
    expect(linalg.cond(singular, Number.POSITIVE_INFINITY).item()).toBe(Number.POSITIVE_INFINITY);
    expect(() => linalg.cond(a, 3)).toThrow(/p must be 2, -2/);
    expect(() => linalg.cond(f64([3, 2]), 'fro')).toThrow(ShapeError);
  });
});

describe('linalg.matrixExp', () => {
  test('known exponentials: zero, diagonal, nilpotent, a rotation', () => {
    expect(maxDifference(linalg.matrixExp(f64([3, 3]).mul(0)), eye(3, 3, { dtype: 'float64' }))).toBe(0);
    const d = linalg.matrixExp(tensor([1, -2, 0.5], { dtype: 'float64' }).diagEmbed());
    expect(maxDifference(d, tensor([Math.E, Math.exp(-2), Math.exp(0.5)], { dtype: 'float64' }).diagEmbed())).toBeLessThan(1e-15);
    expect(
      Array.from(
        linalg
          .matrixExp(
            tensor(
              [
                [0, 1],
                [0, 0],
              ],
              { dtype: 'float64' },
            ),
          )
          .dataSync(),
      ),
    ).toEqual([1, 1, 0, 1]);
    for (const angle of [1, 30, 1000]) {
      const r = matrixExp(
        tensor(
          [
            [0, angle],
            [-angle, 0],
          ],
          { dtype: 'float64' },
        ),
      );
      const expected = tensor(
        [
          [Math.cos(angle), Math.sin(angle)],
          [-Math.sin(angle), Math.cos(angle)],
        ],
        { dtype: 'float64' },
      );
      expect(maxDifference(r, expected)).toBeLessThan(1e-15 * angle * 4);
    }
  });

  test('exp(A) exp(-A) = I, batched with norms that need different squarings; float32; jit (masked squarings)', () => {
    const a = f64([3, 6, 6]).mul(tensor([0.1, 1, 5], { dtype: 'float64' }).reshape([3, 1, 1]));
    const [forward, backward] = [linalg.matrixExp(a), linalg.matrixExp(a.neg())];
    const product = matmul(forward, backward);
    // Rounding bounds the product's error by about eps |e^A| |e^-A|.
    const bound = 1e-14 * largest(forward) * largest(backward) * 6;
    expect(maxDifference(product, eye(6, 6, { dtype: 'float64' }).broadcastTo([3, 6, 6]))).toBeLessThan(bound);
    const single = linalg.matrixExp(f32(a));
    expect(single.dtype).toBe('float32');
    expect(maxDifference(single.to('float64'), linalg.matrixExp(a))).toBeLessThan(2e-6 * largest(linalg.matrixExp(a)));
    expect(maxDifference(jit((x: Tensor) => linalg.matrixExp(x))(a), linalg.matrixExp(a))).toBeLessThan(
      1e-12 * largest(linalg.matrixExp(a)),
    );
  });

  test('errors name the problem', () => {
    expect(() => linalg.matrixExp(f64([2, 3]))).toThrow(ShapeError);
    expect(() =>
      linalg.matrixExp(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toThrow(DTypeError);
    expect(linalg.matrixExp(f64([0, 0])).shape).toEqual([0, 0]);
  });
});
