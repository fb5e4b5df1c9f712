import {
  grad,
  jit,
  LinAlgError,
  linalg,
  manualSeed,
  matmul,
  memory,
  randn,
  registerBackend,
  setBackendScoped,
  type Tensor,
  tensor,
  tidy,
  vmap,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { decompositionsLoss, maxDifferenceMatchingNaN } from '../../../../api/src/ops/linalg/testing.test-support.js';
import { describeAgainstTorch } from '../../../../api/src/ops/linalg/torch-reference.test-support.js';
import { CpuBackend } from '../../backend.js';
import '../../index.js';
import { wrap } from '../../view.js';
import { cpuLinalgKernels, type LinalgKernelName, linalgKernelRuns } from './index.js';

// The portable backend's own decompositions (kernels/linalg/) against the composites, which a
// second cpu backend built with `composites: false` runs (the constants a composite makes land on
// the default backend, so each runs with that backend as the default): that the kernels run (their
// run counts), that they keep the composites' conventions (eigenvalue order, QR's signs, pivots,
// Cholesky's NaN from a failed pivot on), that the gradients through the analytic rules still
// hold, that transforms keep the composites, that hard spectra (repeated, zero, graded values)
// come out accurate, and that the kernels decline what they must. Against PyTorch at the end.

const COMPOSITES = 'cpu-composites';
registerBackend({ name: COMPOSITES, priority: 0, create: () => new CpuBackend({ name: COMPOSITES, composites: false }) });

/** `fn` with the composites' backend as the default. */
function onComposites<R>(fn: () => R): R {
  const restore = setBackendScoped(COMPOSITES);
  try {
    return fn();
  } finally {
    restore();
  }
}

/** `fn`, with how many times each kernel ran during it. */
function counted<R>(fn: () => R): { result: R; runs: Record<LinalgKernelName, number> } {
  const names: LinalgKernelName[] = ['eigh', 'svd', 'qr', 'cholesky', 'luFactor', 'triangularSolve'];
  const before = names.map(linalgKernelRuns);
  const result = fn();
  const runs = Object.fromEntries(names.map((n, i) => [n, linalgKernelRuns(n) - (before[i] as number)])) as Record<
    LinalgKernelName,
    number
  >;
  return { result, runs };
}

/** A random stack on cpu and the same values on the composites' backend. */
const pair = (shape: number[], dtype: 'float32' | 'float64' = 'float64') => {
  const cpu = randn(shape, { dtype });
  return { cpu, composites: cpu.to(COMPOSITES) };
};
const tolerance = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? 1e-11 : 2e-4);
const t = (x: Tensor) => x.mT;
const squares = (v: Tensor) => v.mul(v);
/** The identity of a square stack's shape. */
const identityLike = (x: Tensor) => linalg.matrixPower(x, 0);
/** The largest entry of |Q^T Q - I|. */
const orthogonality = (q: Tensor) => maxDifferenceMatchingNaN(matmul(q.mT, q), identityLike(matmul(q.mT, q)));

describe('the cpu backend decompositions', () => {
  beforeAll(() => manualSeed(11));

  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: eigh, svd, qr, cholesky, LU and the triangular solves run as kernels and agree with the composites (batched, transposed views)`, () => {
      tidy(() => {
        const eps = tolerance(dtype);
        const x = pair([3, 7, 7], dtype);
        // Transposed views: the kernels read any strides.
        const symmetric = { cpu: x.cpu.add(t(x.cpu)), composites: x.composites.add(t(x.composites)) };
        const eigh = counted(() => linalg.eigh(symmetric.cpu));
        expect(eigh.runs.eigh).toBe(1);
        const eighComposite = onComposites(() => linalg.eigh(symmetric.composites));
        expect(maxDifferenceMatchingNaN(eigh.result.eigenvalues, eighComposite.eigenvalues)).toBeLessThan(eps * 10);
        // Eigenvectors up to sign: their squares.
        expect(maxDifferenceMatchingNaN(squares(eigh.result.eigenvectors), squares(eighComposite.eigenvectors))).toBeLessThan(eps * 10);

        for (const shape of [
          [2, 6, 4],
          [2, 4, 6],
        ]) {
          const a = pair(shape, dtype);
          for (const fullMatrices of [false, true]) {
            const svd = counted(() => linalg.svd(a.cpu, { fullMatrices }));
            expect(svd.runs.svd).toBe(1);
            const svdComposite = onComposites(() => linalg.svd(a.composites, { fullMatrices }));
            const { U, S, Vh } = svd.result;
            expect([...U.shape]).toEqual([...svdComposite.U.shape]);
            expect([...Vh.shape]).toEqual([...svdComposite.Vh.shape]);
            expect(maxDifferenceMatchingNaN(S, svdComposite.S)).toBeLessThan(eps);
            const k = S.shape.at(-1) as number;
            expect(maxDifferenceMatchingNaN(matmul(U.narrow(-1, 0, k).mul(S.unsqueeze(-2)), Vh.narrow(-2, 0, k)), a.cpu)).toBeLessThan(
              eps * 10,
            );
            // Complete or not, U and V are orthogonal (their extra columns are not determined by A).
            for (const q of [U, Vh.mT]) expect(orthogonality(q)).toBeLessThan(eps * 10);
          }
          for (const mode of ['reduced', 'complete', 'r'] as const) {
            const qr = counted(() => linalg.qr(a.cpu, { mode }));
            expect(qr.runs.qr).toBe(1);
            const qrComposite = onComposites(() => linalg.qr(a.composites, { mode }));
            // LAPACK's signs on both: Q and R themselves agree.
            expect(maxDifferenceMatchingNaN(qr.result.R, qrComposite.R)).toBeLessThan(eps * 10);
            if (mode !== 'r') expect(maxDifferenceMatchingNaN(qr.result.Q, qrComposite.Q)).toBeLessThan(eps * 10);
          }
          const lu = counted(() => linalg.luFactor(a.cpu));
          expect(lu.runs.luFactor).toBe(1);
          const luComposite = onComposites(() => linalg.luFactor(a.composites));
          expect(Array.from(lu.result.pivots.dataSync())).toEqual(Array.from(luComposite.pivots.dataSync()));
          expect(maxDifferenceMatchingNaN(lu.result.LU, luComposite.LU)).toBeLessThan(eps);
        }

        const spd = { cpu: matmul(x.cpu, t(x.cpu)).add(1), composites: matmul(x.composites, t(x.composites)).add(1) };
        for (const upper of [false, true]) {
          const chol = counted(() => linalg.cholesky(spd.cpu, { upper }));
          expect(chol.runs.cholesky).toBe(1);
          expect(
            maxDifferenceMatchingNaN(
              chol.result,
              onComposites(() => linalg.cholesky(spd.composites, { upper })),
            ),
          ).toBeLessThan(eps * 10);
        }
        // The triangular solves: either triangle, unit or not, from the left and the right, B wider
        // than A; the other triangle holds garbage that must not be read.
        const rhs = pair([3, 7, 9], dtype);
        for (const upper of [false, true])
          for (const unitriangular of [false, true])
            for (const left of [true, false]) {
              const b = left ? rhs : { cpu: t(rhs.cpu), composites: t(rhs.composites) };
              const solved = counted(() => linalg.solveTriangular(spd.cpu, b.cpu, { upper, unitriangular, left }));
              expect(solved.runs.triangularSolve).toBe(1);
              const expected = onComposites(() => linalg.solveTriangular(spd.composites, b.composites, { upper, unitriangular, left }));
              expect(maxDifferenceMatchingNaN(solved.result, expected)).toBeLessThan(eps * 100);
            }
        const solve = counted(() => [linalg.solve(x.cpu, spd.cpu), linalg.inv(x.cpu), linalg.det(x.cpu)]);
        expect(solve.runs.luFactor).toBe(3);
        // solve and inv: L then U, each a triangular solve.
        expect(solve.runs.triangularSolve).toBe(4);
        const expected = onComposites(() => [
          linalg.solve(x.composites, spd.composites),
          linalg.inv(x.composites),
          linalg.det(x.composites),
        ]);
        solve.result.forEach((r, i) => {
          expect(maxDifferenceMatchingNaN(r, expected[i] as Tensor)).toBeLessThan(eps * 100);
        });
      });
    });
  }

  it('hard spectra: repeated, zero and graded values, zero and rank-one matrices, at n = 24', () => {
    tidy(() => {
      const n = 24;
      const { Q } = linalg.qr(randn([n, n], { dtype: 'float64' }));
      const withSpectrum = (values: number[]) => matmul(Q.mul(tensor(values, { dtype: 'float64' })), Q.mT);
      const spectra = [
        Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : -1)),
        Array.from({ length: n }, (_, i) => 10 ** (-i / 2)),
        Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 2)),
      ];
      for (const values of spectra) {
        const a = withSpectrum(values);
        const { eigenvalues, eigenvectors } = linalg.eigh(a);
        const sorted = [...values].sort((p, q) => p - q);
        expect(maxDifferenceMatchingNaN(eigenvalues, tensor(sorted, { dtype: 'float64' }))).toBeLessThan(1e-13);
        expect(maxDifferenceMatchingNaN(matmul(a, eigenvectors), eigenvectors.mul(eigenvalues))).toBeLessThan(1e-13);
        expect(orthogonality(eigenvectors)).toBeLessThan(1e-13);
        const { U, S, Vh } = linalg.svd(a);
        const magnitudes = values.map(Math.abs).sort((p, q) => q - p);
        expect(maxDifferenceMatchingNaN(S, tensor(magnitudes, { dtype: 'float64' }))).toBeLessThan(1e-13);
        expect(maxDifferenceMatchingNaN(matmul(U.mul(S.unsqueeze(-2)), Vh), a)).toBeLessThan(1e-13);
      }
      // Zero and rank-one (tall and wide): the zero singular values deflate, the vectors stay orthonormal.
      const column = randn([9, 1], { dtype: 'float64' });
      const row = randn([1, 5], { dtype: 'float64' });
      for (const a of [matmul(column, row), matmul(column, row).mT, tensor(new Array(12).fill(0), { dtype: 'float64', shape: [4, 3] })]) {
        const { U, S, Vh } = linalg.svd(a);
        expect(
          maxDifferenceMatchingNaN(matmul(U.narrow(-1, 0, S.shape[0] as number).mul(S), Vh.narrow(-2, 0, S.shape[0] as number)), a),
        ).toBeLessThan(1e-13);
        expect(orthogonality(U)).toBeLessThan(1e-13);
        expect(orthogonality(Vh.mT)).toBeLessThan(1e-13);
        const values = Array.from(S.dataSync());
        expect(values.slice(1).every((v) => Math.abs(v) < 1e-14)).toBe(true);
      }
    });
  });

  it('a subnormal entry (5e-324) under the diagonal: finite results, the diagonal values (found by a gradcheck seed)', () => {
    tidy(() => {
      // The reflector's 1 / (alpha - beta) overflowed to Infinity for x = 5e-324: NaN eigenvalues.
      const a = tensor([3, 0, 0, 0, 6, 0, -5e-324, 0, 9], { dtype: 'float64', shape: [3, 3] });
      const { result, runs } = counted(() => ({ values: linalg.eigvalsh(a), qr: linalg.qr(a), s: linalg.svdvals(a) }));
      expect(runs.eigh + runs.qr + runs.svd).toBe(3);
      expect(Array.from(result.values.dataSync())).toEqual([3, 6, 9]);
      expect(Array.from(result.s.dataSync())).toEqual([9, 6, 3]);
      expect(maxDifferenceMatchingNaN(matmul(result.qr.Q, result.qr.R), a)).toBeLessThan(1e-14);
    });
  });

  it('gradients go through the analytic rules (the tape agrees with the composites; functional grad too)', () => {
    tidy(() => {
      const x = pair([2, 5, 5]);
      const loss = decompositionsLoss;
      const onCpu = x.cpu.clone().requiresGrad_();
      const taped = counted(() => {
        loss(onCpu).backward();
        return onCpu.grad as Tensor;
      });
      expect(taped.runs.eigh).toBeGreaterThanOrEqual(1);
      expect(taped.runs.svd).toBeGreaterThanOrEqual(1);
      expect(taped.runs.cholesky).toBe(1);
      const expected = onComposites(() => {
        const onComposite = x.composites.clone().requiresGrad_();
        loss(onComposite).backward();
        return onComposite.grad as Tensor;
      });
      expect(maxDifferenceMatchingNaN(taped.result, expected)).toBeLessThan(1e-8);
      // Functional grad traces its input: the composites compute the values, the same rules the derivative.
      expect(maxDifferenceMatchingNaN(grad(loss)(x.cpu), expected)).toBeLessThan(1e-8);
    });
  });

  it('vmap joins its batch to the stack and jit stages one equation: one kernel run each, agreeing with the eager kernels', () => {
    tidy(() => {
      const x = randn([3, 6, 6], { dtype: 'float64' });
      const spd = matmul(x, t(x)).add(1);
      const eager = linalg.cholesky(spd);
      const jitted = jit((a: Tensor) => linalg.cholesky(a));
      expect(jitted.lower(spd).toString()).toContain('composite cholesky()');
      for (const run of [
        () => vmap((a: Tensor) => linalg.cholesky(a))(spd),
        () => jitted(spd),
        () => jit(vmap((a: Tensor) => linalg.cholesky(a)))(spd),
      ]) {
        const traced = counted(run);
        expect(traced.runs.cholesky).toBe(1);
        expect(maxDifferenceMatchingNaN(traced.result, eager)).toBeLessThan(1e-12);
      }
      // Under vmap the outputs keep every axis: eigh of a [2, 3, 4, 4] stack vmapped over its second axis.
      const stack = randn([2, 3, 4, 4], { dtype: 'float64' });
      const symmetric = stack.add(stack.mT);
      const vmapped = counted(() => vmap((a: Tensor) => linalg.eigh(a), { inAxes: 1, outAxes: 1 })(symmetric));
      expect(vmapped.runs.eigh).toBe(1);
      // A shared triangle and batched right-hand sides (on their last axis): the triangle is repeated, one kernel run.
      const triangle = spd.narrow(0, 0, 1).reshape([6, 6]);
      const rhs = randn([6, 2, 4], { dtype: 'float64' });
      const solved = counted(() => vmap((b: Tensor) => linalg.solveTriangular(triangle, b, { upper: true }), { inAxes: 2 })(rhs));
      expect(solved.runs.triangularSolve).toBe(1);
      const each = [0, 1, 2, 3].map((i) => linalg.solveTriangular(triangle, rhs.narrow(2, i, 1).reshape([6, 2]), { upper: true }));
      each.forEach((x, i) => {
        expect(maxDifferenceMatchingNaN(solved.result.narrow(0, i, 1).reshape([6, 2]), x)).toBeLessThan(1e-12);
      });
      const reference = linalg.eigh(symmetric);
      expect(maxDifferenceMatchingNaN(vmapped.result.eigenvalues, reference.eigenvalues)).toBeLessThan(1e-12);
      expect(maxDifferenceMatchingNaN(vmapped.result.eigenvectors.abs(), reference.eigenvectors.abs())).toBeLessThan(1e-12);
    });
  });

  it('derivatives of jitted and vmapped decompositions take the analytic rules, whose values come from the kernels', () => {
    tidy(() => {
      const x = pair([2, 5, 5]);
      const expected = onComposites(() => grad(decompositionsLoss)(x.composites));
      const compiled = counted(() => [grad(jit(decompositionsLoss))(x.cpu), jit(grad(decompositionsLoss))(x.cpu)]);
      expect(compiled.runs.eigh).toBeGreaterThanOrEqual(2);
      for (const g of compiled.result) expect(maxDifferenceMatchingNaN(g.to(COMPOSITES), expected)).toBeLessThan(1e-8);
      const vmapped = counted(() => vmap(grad((a: Tensor) => decompositionsLoss(a.reshape([1, 5, 5]))))(x.cpu));
      expect(vmapped.runs.eigh).toBeGreaterThanOrEqual(1);
      const perExample = vmapped.result;
      const each = onComposites(() =>
        [0, 1].map((i) => grad((a: Tensor) => decompositionsLoss(a.reshape([1, 5, 5])))(x.composites.narrow(0, i, 1).reshape([5, 5]))),
      );
      for (const i of [0, 1])
        expect(maxDifferenceMatchingNaN(perExample.narrow(0, i, 1).reshape([5, 5]).to(COMPOSITES), each[i] as Tensor)).toBeLessThan(1e-8);
    });
  });

  it('where a kernel declines under jit, the compiled program runs the composite eagerly and keeps no buffer', () => {
    tidy(() => {
      // The cpu QR declines above 128 x 128 (the blocked composite is faster there).
      const a = randn([1, 130, 130], { dtype: 'float64' });
      const eager = linalg.qr(a);
      const jitted = jit((m: Tensor) => linalg.qr(m).R);
      expect(jitted.lower(a).toString()).toContain('composite qr(complete=false)');
      expect(maxDifferenceMatchingNaN(jitted(a), eager.R)).toBe(0);
      const before = memory().backends.find((b) => b.backend === 'cpu')?.buffers;
      tidy(() => {
        jitted(a);
      });
      expect(memory().backends.find((b) => b.backend === 'cpu')?.buffers).toBe(before);
    });
  });

  it('a matrix that is not positive-definite: the LinAlgError, and choleskyEx with NaN from the failed pivot on, as the composite', () => {
    tidy(() => {
      // Leading minors of order 1 and 2 positive (2 and 3), of order 3 not (-14).
      const bad = tensor(
        [
          [
            [2, 1, 1, 0],
            [1, 2, 1, 0],
            [1, 1, -4, 0],
            [0, 0, 0, 1],
          ],
          [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
          ],
        ],
        { dtype: 'float64' },
      );
      expect(() => linalg.cholesky(bad)).toThrow(LinAlgError);
      expect(() => linalg.cholesky(bad)).toThrow(/leading minor of order 3 is not positive-definite \(matrix 0 of the batch\)/);
      const ex = counted(() => linalg.choleskyEx(bad));
      expect(ex.runs.cholesky).toBe(1);
      expect(Array.from(ex.result.info.dataSync())).toEqual([3, 0]);
      const composite = onComposites(() => linalg.choleskyEx(bad.to(COMPOSITES)));
      expect(Array.from(composite.info.dataSync())).toEqual([3, 0]);
      // The same entries, NaN in the same places (columns 3 and 4 of the first matrix, on and below the diagonal).
      expect(maxDifferenceMatchingNaN(ex.result.L, composite.L)).toBeLessThan(1e-12);
      expect(Array.from(ex.result.L.dataSync().slice(0, 16), Number.isNaN)).toEqual([
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
        { dtype: 'float64' },
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
        { dtype: 'float64' },
      );
      const { result, runs } = counted(() => linalg.eigh(a));
      expect(runs.eigh).toBe(1);
      const found = Array.from(result.eigenvalues.dataSync());
      expect(found.slice(0, 2)).toEqual([Number.NaN, Number.NaN]);
      expect(Math.abs((found[2] as number) - 1) + Math.abs((found[3] as number) - 3)).toBeLessThan(1e-14);
      expect(Array.from(result.eigenvectors.dataSync().slice(0, 4)).every(Number.isNaN)).toBe(true);
      const infinite = tensor(
        [
          [
            [Number.POSITIVE_INFINITY, 0],
            [0, 1],
          ],
        ],
        { dtype: 'float32' },
      );
      expect(Array.from(linalg.svdvals(infinite).dataSync()).every(Number.isNaN)).toBe(true);
      // What the composites give for the NaN matrix.
      expect(
        Array.from(
          onComposites(() => linalg.eigvalsh(a.to(COMPOSITES)))
            .dataSync()
            .slice(0, 2),
        ).every(Number.isNaN),
      ).toBe(true);
    });
  });

  it('the kernels decline what they do not take (other dtypes, ranks, empty or non-square stacks, mismatched systems), and their results are counted memory', () => {
    const ints = wrap(new Int32Array(4), [1, 2, 2], 'int32');
    const rank2 = wrap(new Float64Array(4), [2, 2], 'float64');
    const empty = wrap(new Float64Array(0), [0, 2, 2], 'float64');
    const wide = wrap(new Float64Array(6), [1, 2, 3], 'float64');
    for (const handle of [ints, rank2, empty]) {
      expect(cpuLinalgKernels.eigh(handle)).toBeNull();
      expect(cpuLinalgKernels.svd(handle, true, false)).toBeNull();
      expect(cpuLinalgKernels.qr(handle, false)).toBeNull();
      expect(cpuLinalgKernels.cholesky(handle)).toBeNull();
      expect(cpuLinalgKernels.luFactor(handle)).toBeNull();
    }
    expect(cpuLinalgKernels.eigh(wide)).toBeNull();
    // A QR past LARGEST_QR goes to the composite's blocked matmuls, which are faster there.
    expect(cpuLinalgKernels.qr(wrap(new Float64Array(129 * 128), [1, 129, 128], 'float64'), false)).toBeNull();
    expect(cpuLinalgKernels.qr(wrap(new Float64Array(128 * 128), [1, 128, 128], 'float64'), false)).not.toBeNull();
    expect(cpuLinalgKernels.cholesky(wide)).toBeNull();
    // A triangular solve: a square T, R of T's batch and rows and dtype, and at most LARGEST_SUBSTITUTION.
    const out = { shape: [1, 2, 3], dtype: 'float64' } as const;
    const square = wrap(Float64Array.of(2, 0, 1, 1), [1, 2, 2], 'float64');
    expect(cpuLinalgKernels.triangularSolve(wide, wide, false, false, out)).toBeNull();
    expect(cpuLinalgKernels.triangularSolve(square, wrap(new Float64Array(9), [1, 3, 3], 'float64'), false, false, out)).toBeNull();
    expect(cpuLinalgKernels.triangularSolve(square, wrap(new Float32Array(6), [1, 2, 3], 'float32'), false, false, out)).toBeNull();
    expect(cpuLinalgKernels.triangularSolve(square, wrap(new Float64Array(12), [2, 2, 3], 'float64'), false, false, out)).toBeNull();
    const big = wrap(new Float64Array(129 * 129), [1, 129, 129], 'float64');
    expect(
      cpuLinalgKernels.triangularSolve(big, wrap(new Float64Array(129 * 129), [1, 129, 129], 'float64'), false, false, out),
    ).toBeNull();
    const solved = cpuLinalgKernels.triangularSolve(
      square,
      wrap(Float64Array.of(2, 4, 6, 3, 5, 7), [1, 2, 3], 'float64'),
      false,
      false,
      out,
    );
    // [[2, 0], [1, 1]] X = [[2, 4, 6], [3, 5, 7]]: X = [[1, 2, 3], [2, 3, 4]].
    expect(Array.from(solved?.storage.data ?? [])).toEqual([1, 2, 3, 2, 3, 4]);
    // The backend counts the kernels' outputs in its memory and releases them with the tensors.
    const backend = new CpuBackend({ name: 'cpu-memory' });
    const before = backend.memory().buffers;
    const result = backend.composites.svd?.(wrap(Float64Array.of(3, 1, 1, 3, 0, 2), [1, 2, 3], 'float64'), true, false);
    expect(result).toBeTruthy();
    expect(backend.memory().buffers).toBe(before + 3);
    for (const h of [result?.u, result?.s, result?.v]) if (h) backend.dispose(h);
    expect(backend.memory().buffers).toBe(before);
  });
});

// The same decompositions against PyTorch, computed by the kernels (the suite's cases with
// gradients run the composites, in packages/api/src/ops/linalg-*-torch*.test.ts).
const input = (shape: number[]) => randn(shape, { dtype: 'float64' });
describeAgainstTorch('the cpu backend decompositions against PyTorch', [
  {
    name: 'eigh: eigenvalues and squared eigenvectors (batched)',
    torch: '(lambda r: (r.eigenvalues, r.eigenvectors ** 2))(torch.linalg.eigh(xs[0] + xs[0].mT))',
    inputs: () => [input([2, 9, 9])],
    flint: ([a]) => {
      const { eigenvalues, eigenvectors } = linalg.eigh((a as Tensor).add(t(a as Tensor)));
      return [eigenvalues, squares(eigenvectors)];
    },
  },
  {
    name: 'svd: S, U diag(S) Vh, |U| and |Vh| (wide, reduced)',
    torch: '(lambda r: (r.S, r.U @ torch.diag_embed(r.S) @ r.Vh, r.U.abs(), r.Vh.abs()))(torch.linalg.svd(xs[0], full_matrices=False))',
    inputs: () => [input([2, 4, 7])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor, { fullMatrices: false });
      return [S, matmul(U.mul(S.unsqueeze(-2)), Vh), U.abs(), Vh.abs()];
    },
  },
  {
    name: 'svd: S and |U| (tall, full matrices: the first k columns)',
    torch: '(lambda r: (r.S, r.U[..., :, :3].abs(), r.Vh.abs()))(torch.linalg.svd(xs[0]))',
    inputs: () => [input([8, 3])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor);
      return [S, U.narrow(-1, 0, 3).abs(), Vh.abs()];
    },
  },
  {
    name: 'qr (complete, tall; reduced, wide): Q and R themselves',
    torch: '(*torch.linalg.qr(xs[0], mode="complete"), *torch.linalg.qr(xs[1]))',
    inputs: () => [input([7, 4]), input([3, 5])],
    flint: ([a, b]) => {
      const complete = linalg.qr(a as Tensor, { mode: 'complete' });
      const reduced = linalg.qr(b as Tensor);
      return [complete.Q, complete.R, reduced.Q, reduced.R];
    },
  },
  {
    name: 'cholesky (upper) and luFactor (square and wide)',
    torch:
      '(torch.linalg.cholesky(xs[0] @ xs[0].mT + torch.eye(6), upper=True), *torch.linalg.lu_factor(xs[0]), *torch.linalg.lu_factor(xs[1]))',
    inputs: () => [input([6, 6]), input([3, 5])],
    flint: ([a, b]) => {
      const x = a as Tensor;
      const eye = identityLike(x);
      const square = linalg.luFactor(x);
      const wide = linalg.luFactor(b as Tensor);
      return [linalg.cholesky(matmul(x, t(x)).add(eye), { upper: true }), square.LU, square.pivots, wide.LU, wide.pivots];
    },
  },
]);
