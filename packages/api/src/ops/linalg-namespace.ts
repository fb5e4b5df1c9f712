import { matmul } from './linalg.js';
import { choleskyEx, linalgCholesky, lu, luFactor, qr } from './linalg-decompositions.js';
import { linalgNorm, matrixNorm, vectorNorm } from './linalg-norms.js';
import { linalgCross, multiDot, vecdot } from './linalg-products.js';
import { det, inv, luSolve, matrixPower, slogdet, solve, solveTriangular } from './linalg-solvers.js';

/**
 * torch.linalg under Flint's names: norms (`vectorNorm`, `matrixNorm`, `norm`), decompositions
 * (`cholesky`, `choleskyEx`, `luFactor`, `lu`, `qr`), solvers and inverses (`solveTriangular`,
 * `luSolve`, `solve`, `inv`, `matrixPower`), determinants (`det`, `slogdet`) and products
 * (`cross`, `vecdot`, `multiDot`, `matmul`). See docs/dtypes.md, "Linear algebra".
 *
 * @example
 * const { Q, R } = linalg.qr(a);
 * const x = linalg.solve(a, b);
 */
export const linalg = {
  vectorNorm,
  matrixNorm,
  norm: linalgNorm,
  cholesky: linalgCholesky,
  choleskyEx,
  luFactor,
  lu,
  qr,
  solveTriangular,
  luSolve,
  solve,
  inv,
  det,
  slogdet,
  matrixPower,
  cross: linalgCross,
  vecdot,
  multiDot,
  matmul,
} as const;
