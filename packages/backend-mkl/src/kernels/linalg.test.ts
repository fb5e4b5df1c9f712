import '@flint/backend-cpu';
import { grad, initBackend, jit, LinAlgError, linalg, manualSeed, matmul, randn, type Tensor, tensor, tidy, vmap } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { decompositionsLoss, maxDifferenceMatchingNaN } from '../../../api/src/ops/linalg/testing.test-support.js';
import { describeAgainstTorch } from '../../../api/src/ops/linalg/torch-reference.test-support.js';
import { loadAddon, type MklBackend } from '../index.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';
import type { LinalgKernelName } from './linalg.js';

// The decompositions through LAPACK on mkl (kernels/linalg.ts, native/linalg.cc) against the
// composites on the portable backend: that the kernels run (their run counts), that they keep
// the composites' conventions (eigenvalue order, QR's signs, pivots, Cholesky's NaN from a failed
// pivot on), that gradients through the analytic rules still hold, that transforms keep the
// composites, and that the addon refuses what it must. Against PyTorch at the end.

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;

const t = (x: Tensor) => x.mT;

describe.skipIf(missing !== undefined)('LAPACK decompositions on mkl', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
    manualSeed(7);
  });

  /** `fn` on mkl, with how many times each LAPACK kernel ran during it. */
  function counted<R>(fn: () => R): { result: R; runs: Record<LinalgKernelName, number> } {
    const names: LinalgKernelName[] = ['eigh', 'svd', 'qr', 'cholesky', 'luFactor', 'triangularSolve'];
    const before = names.map((n) => mkl.compositeRuns(n));
    const result = fn();
    const runs = Object.fromEntries(names.map((n, i) => [n, mkl.compositeRuns(n) - (before[i] as number)])) as Record<
      LinalgKernelName,
      number
    >;
    return { result, runs };
  }

  /** A random [..., m, n] stack on cpu and the same values on mkl. */
  const pair = (shape: number[], dtype: 'float32' | 'float64' = 'float64') => {
    const cpu = randn(shape, { dtype, backend: 'cpu' });
    return { cpu, mkl: cpu.to('mkl') };
  };
  const tolerance = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? 1e-11 : 2e-4);

  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: eigh, svd, qr, cholesky, LU and the triangular solves run in LAPACK and BLAS and agree with the composites (batched, transposed views)`, () => {
      tidy(() => {
        const eps = tolerance(dtype);
        const x = pair([3, 7, 7], dtype);
        // Transposed views: the addon reads any strides.
        const symmetric = { cpu: x.cpu.add(t(x.cpu)), mkl: x.mkl.add(t(x.mkl)) };
        const eigh = counted(() => linalg.eigh(symmetric.mkl));
        expect(eigh.runs.eigh).toBe(1);
        const eighCpu = linalg.eigh(symmetric.cpu);
        expect(maxDifferenceMatchingNaN(eigh.result.eigenvalues, eighCpu.eigenvalues)).toBeLessThan(eps * 10);
        // Eigenvectors up to sign: their squares.
        const squares = (v: Tensor) => v.mul(v);
        expect(maxDifferenceMatchingNaN(squares(eigh.result.eigenvectors), squares(eighCpu.eigenvectors))).toBeLessThan(eps * 10);

        for (const shape of [
          [2, 6, 4],
          [2, 4, 6],
        ]) {
          const a = pair(shape, dtype);
          for (const fullMatrices of [false, true]) {
            const svd = counted(() => linalg.svd(a.mkl, { fullMatrices }));
            expect(svd.runs.svd).toBe(1);
            const svdCpu = linalg.svd(a.cpu, { fullMatrices });
            expect([...svd.result.U.shape]).toEqual([...svdCpu.U.shape]);
            expect([...svd.result.Vh.shape]).toEqual([...svdCpu.Vh.shape]);
            expect(maxDifferenceMatchingNaN(svd.result.S, svdCpu.S)).toBeLessThan(eps);
            const k = svd.result.S.shape.at(-1) as number;
            const reconstructed = matmul(svd.result.U.narrow(-1, 0, k).mul(svd.result.S.unsqueeze(-2)), svd.result.Vh.narrow(-2, 0, k));
            expect(maxDifferenceMatchingNaN(reconstructed, a.cpu)).toBeLessThan(eps * 10);
          }
          for (const mode of ['reduced', 'complete', 'r'] as const) {
            const qr = counted(() => linalg.qr(a.mkl, { mode }));
            expect(qr.runs.qr).toBe(1);
            const qrCpu = linalg.qr(a.cpu, { mode });
            // LAPACK's signs on both: Q and R themselves agree.
            expect(maxDifferenceMatchingNaN(qr.result.R, qrCpu.R)).toBeLessThan(eps * 10);
            if (mode !== 'r') expect(maxDifferenceMatchingNaN(qr.result.Q, qrCpu.Q)).toBeLessThan(eps * 10);
          }
          const lu = counted(() => linalg.luFactor(a.mkl));
          expect(lu.runs.luFactor).toBe(1);
          const luCpu = linalg.luFactor(a.cpu);
          expect(Array.from(lu.result.pivots.dataSync())).toEqual(Array.from(luCpu.pivots.dataSync()));
          expect(maxDifferenceMatchingNaN(lu.result.LU, luCpu.LU)).toBeLessThan(eps);
        }

        const spd = { cpu: matmul(x.cpu, t(x.cpu)).add(1), mkl: matmul(x.mkl, t(x.mkl)).add(1) };
        for (const upper of [false, true]) {
          const chol = counted(() => linalg.cholesky(spd.mkl, { upper }));
          expect(chol.runs.cholesky).toBe(1);
          expect(maxDifferenceMatchingNaN(chol.result, linalg.cholesky(spd.cpu, { upper }))).toBeLessThan(eps * 10);
        }
        // trsm: either triangle, unit or not, from the left and the right (B wider than A); the
        // other triangle holds values that must not be read.
        const rhs = pair([3, 7, 9], dtype);
        for (const upper of [false, true])
          for (const unitriangular of [false, true])
            for (const left of [true, false]) {
              const b = left ? rhs : { cpu: t(rhs.cpu), mkl: t(rhs.mkl) };
              const solved = counted(() => linalg.solveTriangular(spd.mkl, b.mkl, { upper, unitriangular, left }));
              expect(solved.runs.triangularSolve).toBe(1);
              const expected = linalg.solveTriangular(spd.cpu, b.cpu, { upper, unitriangular, left });
              expect(maxDifferenceMatchingNaN(solved.result, expected)).toBeLessThan(eps * 100);
            }
        const solve = counted(() => [linalg.solve(x.mkl, spd.mkl), linalg.inv(x.mkl), linalg.det(x.mkl)]);
        expect(solve.runs.luFactor).toBe(3);
        expect(solve.runs.triangularSolve).toBe(4);
        const [solved, inverse, det] = solve.result as [Tensor, Tensor, Tensor];
        expect(maxDifferenceMatchingNaN(solved, linalg.solve(x.cpu, spd.cpu))).toBeLessThan(eps * 100);
        expect(maxDifferenceMatchingNaN(inverse, linalg.inv(x.cpu))).toBeLessThan(eps * 100);
        expect(maxDifferenceMatchingNaN(det, linalg.det(x.cpu))).toBeLessThan(eps * 100);
      });
    });
  }

  it('what builds on them runs in LAPACK too: eigvalsh, svdvals, pinv, matrixRank, cond', () => {
    tidy(() => {
      const a = pair([5, 3]);
      const symmetric = { cpu: a.cpu.mT.matmul(a.cpu), mkl: a.mkl.mT.matmul(a.mkl) };
      const { result, runs } = counted(() => [
        linalg.eigvalsh(symmetric.mkl),
        linalg.svdvals(a.mkl),
        linalg.pinv(a.mkl),
        linalg.matrixRank(a.mkl),
        linalg.cond(a.mkl),
        linalg.pinv(symmetric.mkl, { hermitian: true }),
      ]);
      expect(runs.eigh).toBe(2);
      expect(runs.svd).toBeGreaterThanOrEqual(4);
      const expected = [
        linalg.eigvalsh(symmetric.cpu),
        linalg.svdvals(a.cpu),
        linalg.pinv(a.cpu),
        linalg.matrixRank(a.cpu),
        linalg.cond(a.cpu),
        linalg.pinv(symmetric.cpu, { hermitian: true }),
      ];
      result.forEach((r, i) => {
        expect(maxDifferenceMatchingNaN(r, expected[i] as Tensor)).toBeLessThan(1e-10);
      });
    });
  });

  it('gradients go through the analytic rules (tape and functional grad agree with the composites)', () => {
    tidy(() => {
      const x = pair([2, 5, 5]);
      const loss = decompositionsLoss;
      const onMkl = x.mkl.clone().requiresGrad_();
      const taped = counted(() => {
        loss(onMkl).backward();
        return onMkl.grad as Tensor;
      });
      expect(taped.runs.eigh).toBeGreaterThanOrEqual(1);
      expect(taped.runs.cholesky).toBe(1);
      const onCpu = x.cpu.clone().requiresGrad_();
      loss(onCpu).backward();
      expect(maxDifferenceMatchingNaN(taped.result, onCpu.grad as Tensor)).toBeLessThan(1e-8);
      // Functional grad traces its input: the composites compute the values, the same rules the derivative.
      expect(maxDifferenceMatchingNaN(grad(loss)(x.mkl), onCpu.grad as Tensor)).toBeLessThan(1e-8);
    });
  });

  it('vmap joins its batch to the stack and jit stages one equation: one kernel run each, agreeing with the eager kernels', () => {
    tidy(() => {
      const x = pair([3, 6, 6]);
      const spd = matmul(x.mkl, t(x.mkl)).add(1);
      const eager = linalg.cholesky(spd);
      const jitted = jit((a: Tensor) => linalg.cholesky(a));
      expect(jitted.lower(spd).toString()).toContain('composite cholesky()');
      for (const run of [() => vmap((a: Tensor) => linalg.cholesky(a))(spd), () => jitted(spd)]) {
        const traced = counted(run);
        expect(traced.runs.cholesky).toBe(1);
        expect(maxDifferenceMatchingNaN(traced.result, eager)).toBeLessThan(1e-12);
      }
      // The derivative of the jitted function takes the analytic rule; its values come from the kernel.
      const loss = (a: Tensor) => linalg.eigvalsh(a.add(a.mT)).square().sum();
      const g = counted(() => jit(grad(loss))(x.mkl));
      expect(g.runs.eigh).toBe(1);
      expect(maxDifferenceMatchingNaN(g.result.to('cpu'), grad(loss)(x.cpu))).toBeLessThan(1e-8);
    });
  });
  it('a matrix that is not positive-definite: the LinAlgError, and choleskyEx with NaN from the failed pivot on, as the composite', () => {
    tidy(() => {
      // Leading minors of order 1 and 2 positive (2 and 3), of order 3 not (-14).
      const values = [
        [2, 1, 1, 0],
        [1, 2, 1, 0],
        [1, 1, -4, 0],
        [0, 0, 0, 1],
      ];
      const bad = tensor(
        [
          values,
          [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
          ],
        ],
        { dtype: 'float64', backend: 'mkl' },
      );
      expect(() => linalg.cholesky(bad)).toThrow(LinAlgError);
      expect(() => linalg.cholesky(bad)).toThrow(/leading minor of order 3 is not positive-definite \(matrix 0 of the batch\)/);
      const ex = counted(() => linalg.choleskyEx(bad));
      expect(ex.runs.cholesky).toBe(1);
      expect(Array.from(ex.result.info.dataSync())).toEqual([3, 0]);
      const composite = linalg.choleskyEx(bad.to('cpu'));
      expect(Array.from(composite.info.dataSync())).toEqual([3, 0]);
      // The same entries, NaN in the same places (columns 3 and 4 of the first matrix, on and below the diagonal).
      expect(maxDifferenceMatchingNaN(ex.result.L, composite.L)).toBeLessThan(1e-12);
      const first = Array.from(ex.result.L.dataSync().slice(0, 16));
      expect(first.map((v) => Number.isNaN(v))).toEqual([
        ...[false, false, false, false],
        ...[false, false, false, false],
        ...[false, false, true, false],
        ...[false, false, true, true],
      ]);
      // A NaN pivot counts as a failure too.
      const nan = tensor(
        [
          [1, 0],
          [0, Number.NaN],
        ],
        { dtype: 'float64', backend: 'mkl' },
      );
      expect(Array.from(linalg.choleskyEx(nan).info.dataSync())).toEqual([2]);
    });
  });

  it('NaN or infinite input: NaN eigenvalues, eigenvectors and singular values for that matrix only', () => {
    tidy(() => {
      const a = tensor(
        [
          [
            [1, Number.NaN],
            [Number.NaN, 2],
          ],
          [
            [2, 1],
            [1, 2],
          ],
        ],
        { dtype: 'float64', backend: 'mkl' },
      );
      const { eigenvalues, eigenvectors } = counted(() => linalg.eigh(a)).result;
      const found = Array.from(eigenvalues.dataSync());
      expect(found.slice(0, 2)).toEqual([Number.NaN, Number.NaN]);
      expect(Math.abs((found[2] as number) - 1) + Math.abs((found[3] as number) - 3)).toBeLessThan(1e-14);
      expect(Array.from(eigenvectors.dataSync().slice(0, 4)).every(Number.isNaN)).toBe(true);
      const infinite = tensor(
        [
          [
            [Number.POSITIVE_INFINITY, 0],
            [0, 1],
          ],
        ],
        { dtype: 'float32', backend: 'mkl' },
      );
      expect(Array.from(linalg.svdvals(infinite).dataSync()).every(Number.isNaN)).toBe(true);
      // What the composites give for the NaN matrix.
      expect(Array.from(linalg.eigvalsh(a.to('cpu')).dataSync().slice(0, 2)).every(Number.isNaN)).toBe(true);
    });
  });

  it('the addon validates what crosses into native code', () => {
    const addon = (loaded as { addon: Addon }).addon;
    const f64 = DTYPE_CODES.float64;
    const layout = (shape: number[]) => {
      const strides: number[] = [];
      let stride = 1;
      for (let i = shape.length - 1; i >= 0; i--) {
        strides[i] = stride;
        stride *= shape[i] as number;
      }
      return Int32Array.from([0, shape.length, ...shape, ...strides]);
    };
    const a = new Float64Array(2 * 3 * 3);
    expect(() => addon.eigh(f64, a, layout([6, 3]), new Float64Array(6), new Float64Array(18))).toThrow(/rank 3/);
    expect(() => addon.cholesky(f64, new Float64Array(6), layout([1, 2, 3]), new Float64Array(6))).toThrow(/square/);
    expect(() => addon.eigh(f64, a, layout([2, 3, 3]), new Float64Array(5), new Float64Array(18))).toThrow(/6 elements/);
    expect(() => addon.qr(DTYPE_CODES.int32, new Int32Array(18), layout([2, 3, 3]), 0, new Int32Array(18), new Int32Array(18))).toThrow(
      /not supported/,
    );
    expect(() => addon.svd(f64, a, layout([2, 3, 3]), 0, new Float64Array(6), new Float64Array(18), null)).toThrow(/must be null/);
    expect(() => addon.eigh(f64, a, layout([2, 3, 4]), new Float64Array(6), new Float64Array(18))).toThrow(/inside|elements|reach/);
    // trsm: R must be [batch, n, k] for T [batch, n, n], and the output hold it.
    const r = new Float64Array(2 * 3 * 4);
    expect(() => addon.triangularSolve(f64, a, layout([2, 3, 3]), r, layout([2, 4, 3]), 0, 0, new Float64Array(24))).toThrow(
      /r must be \[2, 3, k >= 1\]/,
    );
    expect(() => addon.triangularSolve(f64, a, layout([2, 3, 3]), r, layout([2, 3, 4]), 0, 0, new Float64Array(23))).toThrow(/24 elements/);
    expect(() => addon.triangularSolve(f64, a, layout([2, 3, 3]), r, layout([2, 3, 4]), 2, 0, new Float64Array(24))).toThrow(/upper/);
  });
});

// The same decompositions against PyTorch, computed on mkl (the suite's cases run on the portable
// backend in packages/api/src/ops/linalg-*-torch*.test.ts).
const onMkl = (shape: number[]) => randn(shape, { dtype: 'float64', backend: 'cpu' }).to('mkl');
describe.skipIf(missing !== undefined)('LAPACK decompositions on mkl against PyTorch', () => {
  describeAgainstTorch('mkl', [
    {
      name: 'eigh: eigenvalues and squared eigenvectors (batched)',
      torch: '(lambda r: (r.eigenvalues, r.eigenvectors ** 2))(torch.linalg.eigh(xs[0] + xs[0].mT))',
      inputs: () => [onMkl([2, 9, 9])],
      flint: ([a]) => {
        const { eigenvalues, eigenvectors } = linalg.eigh((a as Tensor).add(t(a as Tensor)));
        return [eigenvalues, eigenvectors.mul(eigenvectors)];
      },
    },
    {
      name: 'svd: U diag(S) Vh, S (wide, full matrices)',
      torch: '(lambda r: (r.S, r.U[..., :, :4] @ torch.diag_embed(r.S) @ r.Vh[..., :4, :], r.U.abs()))(torch.linalg.svd(xs[0]))',
      inputs: () => [onMkl([2, 4, 7])],
      flint: ([a]) => {
        const { U, S, Vh } = linalg.svd(a as Tensor);
        return [S, matmul(U.mul(S.unsqueeze(-2)), Vh.narrow(-2, 0, 4)), U.abs()];
      },
    },
    {
      name: 'qr (complete, tall): Q and R themselves',
      torch: 'torch.linalg.qr(xs[0], mode="complete")',
      inputs: () => [onMkl([7, 4])],
      flint: ([a]) => {
        const { Q, R } = linalg.qr(a as Tensor, { mode: 'complete' });
        return [Q, R];
      },
    },
    {
      name: 'cholesky (upper) and luFactor',
      torch: '(torch.linalg.cholesky(xs[0] @ xs[0].mT + torch.eye(6), upper=True), *torch.linalg.lu_factor(xs[0]))',
      inputs: () => [onMkl([6, 6])],
      flint: ([a]) => {
        const x = a as Tensor;
        const eye = tensor(
          Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i === j ? 1 : 0))),
          { dtype: 'float64', backend: 'mkl' },
        );
        const { LU, pivots } = linalg.luFactor(x);
        return [linalg.cholesky(matmul(x, t(x)).add(eye), { upper: true }), LU, pivots];
      },
    },
  ]);
});
