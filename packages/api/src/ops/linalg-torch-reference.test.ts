import '@flint/backend-cpu';
import { blockDiag, cross, det, diagEmbed, kron, linalg, logdet, manualSeed, matmul, type Tensor, tensor, tensordot } from '@flint/api';
import { f64, t } from './linalg/testing.test-support.js';
import { describeAgainstTorch, type TorchCase } from './linalg/torch-reference.test-support.js';

// Differential tests against PyTorch: every linalg function on the same float64 inputs as
// torch.linalg's, outputs compared elementwise (signs included: Flint's LU pivots and Householder
// reflectors follow LAPACK's conventions), and for the differentiable ones the VJP of a random
// cotangent against torch's backward (ops/linalg/torch-reference.test-support.ts).

manualSeed(2024);

const spd = (shape: number[]) => {
  const x = f64(shape);
  const n = shape[shape.length - 1] as number;
  return matmul(x, t(x)).add(linalg.matrixPower(f64([n, n]), 0).mul(n));
};
const dominant = (shape: number[]) => {
  const n = shape[shape.length - 1] as number;
  return f64(shape).add(linalg.matrixPower(f64([n, n]), 0).mul(n));
};

const CASES: TorchCase[] = [
  {
    name: 'cholesky',
    torch: 'torch.linalg.cholesky(xs[0])',
    inputs: () => [spd([2, 5, 5])],
    flint: ([a]) => [linalg.cholesky(a as Tensor)],
    grads: true,
  },
  {
    name: 'cholesky (upper, blocked n = 40)',
    torch: 'torch.linalg.cholesky(xs[0], upper=True)',
    inputs: () => [spd([40, 40])],
    flint: ([a]) => [linalg.cholesky(a as Tensor, { upper: true })],
    grads: true,
  },
  {
    name: 'choleskyEx info',
    torch: 'torch.linalg.cholesky_ex(xs[0]).info.double()',
    inputs: () => [
      tensor(
        [
          [
            [1, 2],
            [2, 1],
          ],
          [
            [2, 1],
            [1, 2],
          ],
        ],
        { dtype: 'float64' },
      ),
    ],
    flint: ([a]) => [linalg.choleskyEx(a as Tensor).info.to('float64')],
  },
  {
    name: 'solveTriangular (lower, left)',
    torch: 'torch.linalg.solve_triangular(xs[0], xs[1], upper=False)',
    inputs: () => [dominant([2, 6, 6]), f64([2, 6, 3])],
    flint: ([a, b]) => [linalg.solveTriangular(a as Tensor, b as Tensor, { upper: false })],
    grads: true,
  },
  {
    name: 'solveTriangular (upper, right, unitriangular, broadcast)',
    torch: 'torch.linalg.solve_triangular(xs[0], xs[1], upper=True, left=False, unitriangular=True)',
    inputs: () => [dominant([5, 5]), f64([3, 4, 5])],
    flint: ([a, b]) => [linalg.solveTriangular(a as Tensor, b as Tensor, { upper: true, left: false, unitriangular: true })],
    grads: true,
  },
  {
    name: 'solveTriangular (upper, left, blocked n = 40)',
    torch: 'torch.linalg.solve_triangular(xs[0], xs[1], upper=True)',
    inputs: () => [dominant([40, 40]), f64([40, 2])],
    flint: ([a, b]) => [linalg.solveTriangular(a as Tensor, b as Tensor, { upper: true })],
    grads: true,
  },
  {
    name: 'luFactor (square, blocked n = 37)',
    torch: '(lambda r: (r.LU, r.pivots.double()))(torch.linalg.lu_factor(xs[0]))',
    inputs: () => [f64([2, 37, 37])],
    flint: ([a]) => {
      const { LU, pivots } = linalg.luFactor(a as Tensor);
      return [LU, pivots.to('float64')];
    },
  },
  {
    name: 'lu (tall and wide)',
    torch: 'torch.linalg.lu(xs[0]) + torch.linalg.lu(xs[1])',
    inputs: () => [f64([6, 4]), f64([3, 7])],
    flint: ([a, b]) => {
      const x = linalg.lu(a as Tensor);
      const y = linalg.lu(b as Tensor);
      return [x.P, x.L, x.U, y.P, y.L, y.U];
    },
  },
  {
    name: 'lu (square, gradient)',
    torch: 'torch.linalg.lu(xs[0])[1:]',
    inputs: () => [f64([2, 5, 5])],
    flint: ([a]) => {
      const { L, U } = linalg.lu(a as Tensor);
      return [L, U];
    },
    grads: true,
  },
  {
    name: 'luSolve (adjoint)',
    torch: 'torch.linalg.lu_solve(*torch.linalg.lu_factor(xs[0]), xs[1], adjoint=True)',
    inputs: () => [f64([4, 4]), f64([4, 2])],
    flint: ([a, b]) => {
      const { LU, pivots } = linalg.luFactor(a as Tensor);
      return [linalg.luSolve(LU, pivots, b as Tensor, { adjoint: true })];
    },
    grads: true,
  },
  {
    name: 'solve (matrix, broadcast batch)',
    torch: 'torch.linalg.solve(xs[0], xs[1])',
    inputs: () => [f64([3, 1, 5, 5]), f64([2, 5, 2])],
    flint: ([a, b]) => [linalg.solve(a as Tensor, b as Tensor)],
    grads: true,
  },
  {
    name: 'solve (batch of vectors)',
    torch: 'torch.linalg.solve(xs[0], xs[1])',
    inputs: () => [f64([3, 4, 4]), f64([3, 4])],
    flint: ([a, b]) => [linalg.solve(a as Tensor, b as Tensor)],
    grads: true,
  },
  {
    name: 'solve (left=False)',
    torch: 'torch.linalg.solve(xs[0], xs[1], left=False)',
    inputs: () => [f64([4, 4]), f64([2, 4])],
    flint: ([a, b]) => [linalg.solve(a as Tensor, b as Tensor, { left: false })],
    grads: true,
  },
  { name: 'inv', torch: 'torch.linalg.inv(xs[0])', inputs: () => [f64([2, 6, 6])], flint: ([a]) => [linalg.inv(a as Tensor)], grads: true },
  { name: 'det', torch: 'torch.linalg.det(xs[0])', inputs: () => [f64([3, 4, 4])], flint: ([a]) => [det(a as Tensor)], grads: true },
  // Values only: at this singular matrix PyTorch 1.13's backward gives 0, where the gradient is the
  // cofactor matrix (nonzero in the last row); linalg-solvers.test.ts checks Flint's against it.
  {
    name: 'det (singular)',
    torch: 'torch.linalg.det(xs[0])',
    inputs: () => [
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
          [0, 0, 0],
        ],
        { dtype: 'float64' },
      ),
    ],
    flint: ([a]) => [det(a as Tensor)],
  },
  {
    name: 'slogdet',
    torch: 'torch.linalg.slogdet(xs[0])',
    inputs: () => [f64([3, 5, 5])],
    flint: ([a]) => {
      const { sign, logabsdet } = linalg.slogdet(a as Tensor);
      return [sign, logabsdet];
    },
    grads: true,
  },
  { name: 'logdet', torch: 'torch.logdet(xs[0])', inputs: () => [f64([4, 3, 3])], flint: ([a]) => [logdet(a as Tensor)] },
  {
    name: 'matrixPower (-3 and 5)',
    torch: '(torch.linalg.matrix_power(xs[0], -3), torch.linalg.matrix_power(xs[0], 5))',
    inputs: () => [dominant([2, 3, 3])],
    flint: ([a]) => [linalg.matrixPower(a as Tensor, -3), linalg.matrixPower(a as Tensor, 5)],
    grads: true,
  },
  {
    name: 'qr (reduced, tall, blocked sizes)',
    torch: 'torch.linalg.qr(xs[0])',
    inputs: () => [f64([2, 40, 23])],
    flint: ([a]) => {
      const { Q, R } = linalg.qr(a as Tensor);
      return [Q, R];
    },
    grads: true,
  },
  {
    name: 'qr (reduced, wide)',
    torch: 'torch.linalg.qr(xs[0])',
    inputs: () => [f64([3, 6])],
    flint: ([a]) => {
      const { Q, R } = linalg.qr(a as Tensor);
      return [Q, R];
    },
    grads: true,
  },
  {
    name: 'qr (complete, tall)',
    torch: 'torch.linalg.qr(xs[0], mode="complete")',
    inputs: () => [f64([5, 3])],
    flint: ([a]) => {
      const { Q, R } = linalg.qr(a as Tensor, { mode: 'complete' });
      return [Q, R];
    },
  },
  {
    name: 'cross, linalg.cross, vecdot',
    torch: '(torch.cross(xs[0], xs[1], dim=1), torch.linalg.cross(xs[0], xs[1]), torch.linalg.vecdot(xs[0], xs[1]))',
    inputs: () => [f64([4, 3]), f64([4, 3])],
    flint: ([a, b]) => [
      cross(a as Tensor, b as Tensor, 1),
      linalg.cross(a as Tensor, b as Tensor),
      linalg.vecdot(a as Tensor, b as Tensor),
    ],
    grads: true,
  },
  {
    name: 'multiDot',
    torch: 'torch.linalg.multi_dot(xs)',
    inputs: () => [f64([3]), f64([3, 8]), f64([8, 2]), f64([2])],
    flint: (xs) => [linalg.multiDot(xs)],
    grads: true,
  },
  {
    name: 'kron, tensordot, block_diag, diag_embed',
    torch:
      '(torch.kron(xs[0], xs[1]), torch.tensordot(xs[0], xs[1], dims=([0], [1])), torch.block_diag(xs[0], xs[1]), torch.diag_embed(xs[0], offset=-1, dim1=0, dim2=2))',
    inputs: () => [f64([2, 3]), f64([4, 2])],
    flint: ([a, b]) => [
      kron(a as Tensor, b as Tensor),
      tensordot(a as Tensor, b as Tensor, [[0], [1]]),
      blockDiag(a as Tensor, b as Tensor),
      diagEmbed(a as Tensor, -1, 0, 2),
    ],
    grads: true,
  },
];

describeAgainstTorch('linalg against PyTorch', CASES);
