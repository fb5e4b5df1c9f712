import { matmul } from './linalg.js';
import { choleskyEx, linalgCholesky, lu, luFactor, qr } from './linalg-decompositions.js';
import { matrixExp } from './linalg-matrix-exp.js';
import { linalgNorm, matrixNorm, vectorNorm } from './linalg-norms.js';
import { linalgCross, multiDot, vecdot } from './linalg-products.js';
import { det, inv, luSolve, matrixPower, slogdet, solve, solveTriangular } from './linalg-solvers.js';
import { cond, eigh, eigvalsh, lstsq, matrixRank, pinv, svd, svdvals } from './linalg-spectral.js';

/**
 * torch.linalg under Flint's names: norms (`vectorNorm`, `matrixNorm`, `norm`), decompositions
 * (`cholesky`, `choleskyEx`, `luFactor`, `lu`, `qr`), spectral decompositions and what they give
 * (`eigh`, `eigvalsh`, `svd`, `svdvals`, `pinv`, `lstsq`, `matrixRank`, `cond`), solvers and
 * inverses (`solveTriangular`, `luSolve`, `solve`, `inv`, `matrixPower`, `matrixExp`),
 * determinants (`det`, `slogdet`) and products (`cross`, `vecdot`, `multiDot`, `matmul`). See
 * docs/dtypes.md, "Linear algebra".
 *
 * @example
 * const { Q, R } = linalg.qr(a);
 * const x = linalg.solve(a, b);
 * const { eigenvalues, eigenvectors } = linalg.eigh(s);
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
  eigh,
  eigvalsh,
  svd,
  svdvals,
  pinv,
  lstsq,
  matrixRank,
  cond,
  matrixExp,
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
