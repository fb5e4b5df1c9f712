import '@flint/backend-cpu';
import { linalg, manualSeed, matmul, norm, type Tensor, tensor } from '@flint/api';
import { f64, t } from './linalg/testing.test-support.js';
import { describeAgainstTorch, type TorchCase } from './linalg/torch-reference.test-support.js';

// eigh, svd and what is built on them against PyTorch (ops/linalg/torch-reference.test-support.ts:
// the same float64 inputs, outputs compared elementwise, VJPs of random cotangents against torch's
// backward). Eigenvectors and singular vectors are determined only up to sign, so the cases compare
// functions of them that do not depend on it (V * V elementwise, V diag(L) V^T, U diag(S) Vh), and
// take gradients of those only, as torch's own tests do; inputs have well separated eigenvalues
// and singular values, where those gradients are defined.

manualSeed(31);

/** A symmetric matrix (X + X^T) / 2: distinct eigenvalues with probability one, well separated at these sizes. */
const symmetric = (shape: number[]) => {
  const x = f64(shape);
  return x.add(t(x)).mul(0.5);
};

/** Q diag(values) Q^T for a random orthogonal Q: a symmetric matrix with the given spectrum. */
const withSpectrum = (values: number[]) => {
  const n = values.length;
  const { Q } = linalg.qr(f64([n, n]));
  return matmul(Q.mul(tensor(values, { dtype: 'float64' })), t(Q));
};

const squares = (x: Tensor) => x.mul(x);

const CASES: TorchCase[] = [
  {
    name: 'eigh: eigenvalues and squared eigenvectors (batched)',
    torch: '(lambda r: (r.eigenvalues, r.eigenvectors ** 2))(torch.linalg.eigh(xs[0]))',
    inputs: () => [symmetric([2, 6, 6])],
    flint: ([a]) => {
      const { eigenvalues, eigenvectors } = linalg.eigh(a as Tensor);
      return [eigenvalues, squares(eigenvectors)];
    },
    grads: true,
  },
  {
    name: "eigh (uplo 'U', a nonsymmetric input of which only the upper triangle is read)",
    torch: '(lambda r: (r.eigenvalues, r.eigenvectors ** 2))(torch.linalg.eigh(xs[0], UPLO="U"))',
    inputs: () => [f64([5, 5])],
    flint: ([a]) => {
      const { eigenvalues, eigenvectors } = linalg.eigh(a as Tensor, { uplo: 'U' });
      return [eigenvalues, squares(eigenvectors)];
    },
    grads: true,
  },
  {
    name: 'eigh: V diag(exp L) V^T (n = 33, odd, over one block of rounds)',
    torch: '(lambda r: r.eigenvectors @ torch.diag_embed(r.eigenvalues.exp()) @ r.eigenvectors.mT)(torch.linalg.eigh(xs[0] / 4))',
    inputs: () => [symmetric([33, 33])],
    flint: ([a]) => {
      const { eigenvalues, eigenvectors } = linalg.eigh((a as Tensor).div(4));
      return [matmul(eigenvectors.mul(eigenvalues.exp().unsqueeze(-2)), t(eigenvectors))];
    },
    grads: true,
  },
  {
    name: 'eigh: graded spectrum 1 .. 1e-12 with mixed signs',
    torch: 'torch.linalg.eigvalsh(xs[0])',
    inputs: () => [withSpectrum(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 : -1) * 10 ** (-12 * (i / 11))))],
    flint: ([a]) => [linalg.eigvalsh(a as Tensor)],
    tolerance: 1e-14,
  },
  {
    name: 'eigvalsh',
    torch: 'torch.linalg.eigvalsh(xs[0])',
    inputs: () => [symmetric([3, 4, 4])],
    flint: ([a]) => [linalg.eigvalsh(a as Tensor)],
    grads: true,
  },
  {
    name: 'svd (reduced, tall): S, U * U, Vh * Vh',
    torch: '(lambda r: (r.S, r.U ** 2, r.Vh ** 2))(torch.linalg.svd(xs[0], full_matrices=False))',
    inputs: () => [f64([2, 7, 4])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor, { fullMatrices: false });
      return [S, squares(U), squares(Vh)];
    },
    grads: true,
  },
  {
    name: 'svd (reduced, wide): S, U * U, Vh * Vh',
    torch: '(lambda r: (r.S, r.U ** 2, r.Vh ** 2))(torch.linalg.svd(xs[0], full_matrices=False))',
    inputs: () => [f64([3, 6])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor, { fullMatrices: false });
      return [S, squares(U), squares(Vh)];
    },
    grads: true,
  },
  {
    name: 'svd (full, square, n = 21): S, U diag(S^2) U^T, Vh^T diag(S) Vh',
    torch: '(lambda r: (r.S, r.U @ torch.diag_embed(r.S ** 2) @ r.U.mT, r.Vh.mT @ torch.diag_embed(r.S) @ r.Vh))(torch.linalg.svd(xs[0]))',
    inputs: () => [f64([21, 21])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor);
      return [S, matmul(U.mul(S.mul(S).unsqueeze(-2)), t(U)), matmul(t(Vh).mul(S.unsqueeze(-2)), Vh)];
    },
    grads: true,
  },
  {
    name: 'svd (full, tall): the shapes and the squares of the determined columns',
    torch: '(lambda r: (r.S, r.U[..., :3] ** 2, r.Vh ** 2, torch.tensor(list(r.U.shape), dtype=torch.float64)))(torch.linalg.svd(xs[0]))',
    inputs: () => [f64([5, 3])],
    flint: ([a]) => {
      const { U, S, Vh } = linalg.svd(a as Tensor);
      return [S, squares(U.slice([0, 0], [5, 3])), squares(Vh), tensor([...U.shape], { dtype: 'float64' })];
    },
  },
  {
    name: 'svdvals',
    torch: 'torch.linalg.svdvals(xs[0])',
    inputs: () => [f64([2, 3, 5, 4])],
    flint: ([a]) => [linalg.svdvals(a as Tensor)],
    grads: true,
  },
  {
    name: "matrixNorm 'nuc', 2, -2 and norm(x, 'nuc')",
    torch:
      '(torch.linalg.matrix_norm(xs[0], "nuc"), torch.linalg.matrix_norm(xs[0], 2), torch.linalg.matrix_norm(xs[0], -2), torch.norm(xs[0][0], "nuc"))',
    inputs: () => [f64([3, 4, 6])],
    flint: ([a]) => [
      linalg.matrixNorm(a as Tensor, { ord: 'nuc' }),
      linalg.matrixNorm(a as Tensor, { ord: 2 }),
      linalg.matrixNorm(a as Tensor, { ord: -2 }),
      norm((a as Tensor).slice([0, 0, 0], [1, 4, 6]).reshape([4, 6]), 'nuc'),
    ],
    grads: true,
  },
  {
    name: 'matrixNorm over axes (0, 2) with keepdims',
    torch: 'torch.linalg.matrix_norm(xs[0], 2, dim=(0, 2), keepdim=True)',
    inputs: () => [f64([4, 2, 3])],
    flint: ([a]) => [linalg.matrixNorm(a as Tensor, { ord: 2, axis: [0, 2], keepdims: true })],
    grads: true,
  },
  {
    name: 'pinv (tall and wide)',
    torch: '(torch.linalg.pinv(xs[0]), torch.linalg.pinv(xs[1]))',
    inputs: () => [f64([2, 6, 4]), f64([3, 5])],
    flint: ([a, b]) => [linalg.pinv(a as Tensor), linalg.pinv(b as Tensor)],
    grads: true,
  },
  {
    name: 'pinv (rank-deficient: a rank-2 product, default tolerances)',
    torch: 'torch.linalg.pinv(xs[0] @ xs[1])',
    inputs: () => [f64([5, 2]), f64([2, 4])],
    flint: ([a, b]) => [linalg.pinv(matmul(a as Tensor, b as Tensor))],
    grads: true,
    tolerance: 1e-8,
  },
  {
    name: 'pinv (hermitian, atol and rtol)',
    torch: '(torch.linalg.pinv(xs[0], hermitian=True), torch.linalg.pinv(xs[0], atol=0.5, rtol=0.1))',
    inputs: () => [symmetric([6, 6])],
    flint: ([a]) => [linalg.pinv(a as Tensor, { hermitian: true }), linalg.pinv(a as Tensor, { atol: 0.5, rtol: 0.1 })],
    grads: true,
  },
  {
    name: 'lstsq (overdetermined, gelsd): solution, residuals, rank, singular values',
    torch: '(lambda r: (r.solution, r.residuals, r.rank.double(), r.singular_values))(torch.linalg.lstsq(xs[0], xs[1], driver="gelsd"))',
    inputs: () => [f64([2, 7, 3]), f64([2, 7, 2])],
    flint: ([a, b]) => {
      const r = linalg.lstsq(a as Tensor, b as Tensor);
      return [r.solution, r.residuals, r.rank.to('float64'), r.singularValues];
    },
  },
  // PyTorch differentiates only the solution; Flint's residuals and singular values are
  // differentiable too, and compared with the same functions of torch's solution.
  {
    name: 'lstsq gradients (solution; residuals |A X - B|^2 and singular values as functions of it)',
    torch:
      '(lambda x: (x, ((xs[0] @ x - xs[1]) ** 2).sum(-2), torch.linalg.svdvals(xs[0])))(torch.linalg.lstsq(xs[0], xs[1], driver="gelsd").solution)',
    inputs: () => [f64([2, 7, 3]), f64([2, 7, 2])],
    flint: ([a, b]) => {
      const r = linalg.lstsq(a as Tensor, b as Tensor);
      return [r.solution, r.residuals, r.singularValues];
    },
    grads: true,
  },
  {
    name: 'lstsq (underdetermined: the minimum-norm solution)',
    torch: 'torch.linalg.lstsq(xs[0], xs[1], driver="gelsd").solution',
    inputs: () => [f64([3, 6]), f64([3, 2])],
    flint: ([a, b]) => [linalg.lstsq(a as Tensor, b as Tensor).solution],
    grads: true,
  },
  // Values only: PyTorch 1.13's backward of a vector right-hand side fails ("Dimension out of range").
  {
    name: 'lstsq (a vector right-hand side: solution and residuals)',
    torch: '(lambda r: (r.solution, r.residuals))(torch.linalg.lstsq(xs[0], xs[1], driver="gelsd"))',
    inputs: () => [f64([6, 3]), f64([6])],
    flint: ([a, b]) => {
      const r = linalg.lstsq(a as Tensor, b as Tensor);
      return [r.solution, r.residuals];
    },
  },
  {
    name: 'matrixRank (full, deficient, hermitian, tolerances)',
    torch:
      '(torch.linalg.matrix_rank(xs[0]).double(), torch.linalg.matrix_rank(xs[1] @ xs[1].mT).double(), torch.linalg.matrix_rank(xs[1] @ xs[1].mT, hermitian=True).double(), torch.linalg.matrix_rank(xs[0], atol=1.0, rtol=0.2).double())',
    inputs: () => [f64([3, 5, 4]), f64([6, 2])],
    flint: ([a, b]) => {
      const gram = matmul(b as Tensor, t(b as Tensor));
      return [
        linalg.matrixRank(a as Tensor).to('float64'),
        linalg.matrixRank(gram).to('float64'),
        linalg.matrixRank(gram, { hermitian: true }).to('float64'),
        linalg.matrixRank(a as Tensor, { atol: 1, rtol: 0.2 }).to('float64'),
      ];
    },
  },
  {
    name: 'cond (2, -2)',
    torch: '(torch.linalg.cond(xs[0]), torch.linalg.cond(xs[0], -2))',
    inputs: () => [f64([2, 5, 3])],
    flint: ([a]) => [linalg.cond(a as Tensor), linalg.cond(a as Tensor, -2)],
    grads: true,
  },
  // Values only: PyTorch 1.13's backward of cond through inv_ex fails ("modified by an inplace operation").
  {
    name: 'cond (2, -2, fro, nuc, inf, 1)',
    torch:
      '(torch.linalg.cond(xs[0]), torch.linalg.cond(xs[0], -2), torch.linalg.cond(xs[0], "fro"), torch.linalg.cond(xs[0], "nuc"), torch.linalg.cond(xs[0], float("inf")), torch.linalg.cond(xs[0], 1))',
    inputs: () => [f64([2, 4, 4])],
    flint: ([a]) => [
      linalg.cond(a as Tensor),
      linalg.cond(a as Tensor, -2),
      linalg.cond(a as Tensor, 'fro'),
      linalg.cond(a as Tensor, 'nuc'),
      linalg.cond(a as Tensor, Number.POSITIVE_INFINITY),
      linalg.cond(a as Tensor, 1),
    ],
  },
  {
    name: 'matrixExp (small and large norms, batched)',
    torch: '(torch.linalg.matrix_exp(xs[0]), torch.linalg.matrix_exp(xs[1] * 6))',
    inputs: () => [f64([2, 5, 5]), f64([4, 4])],
    flint: ([a, b]) => [linalg.matrixExp(a as Tensor), linalg.matrixExp((b as Tensor).mul(6))],
    grads: true,
    tolerance: 1e-10,
  },
];

describeAgainstTorch('spectral linalg against PyTorch', CASES);
