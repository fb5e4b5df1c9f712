import { ShapeError } from '../core/errors.js';
import { broadcastShapes, formatShape } from '../core/shape.js';
import { broadcastTo } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { eye } from '../ops/creation.js';
import { add, div, log, mul, rsqrt, sqrt, square, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { linalgCholesky } from '../ops/linalg-decompositions.js';
import { diagEmbed } from '../ops/linalg-products.js';
import { solveTriangular } from '../ops/linalg-solvers.js';
import { squeeze, swapaxes, unsqueeze } from '../ops/movement.js';
import { sum } from '../ops/reduce.js';
import { diagonal } from '../ops/triangular.js';
import { normal } from '../random/distributions.js';
import { splitKeys } from '../random/keys.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, floatParameters } from './distribution.js';
import { MultivariateNormal } from './multivariate-normal.js';

const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * The multivariate normal with a low-rank-plus-diagonal covariance Σ = W Wᵀ + diag(D)
 * (torch.distributions.LowRankMultivariateNormal): `loc` [..., n], `covFactor` W [..., n, m],
 * `covDiag` D [..., n] (positive). logProb and entropy cost O(n m²) through the capacitance
 * matrix C = I + Wᵀ D⁻¹ W (Woodbury's identity and the matrix determinant lemma), not O(n³).
 *
 * @example
 * const d = new distributions.LowRankMultivariateNormal(zeros([3]), tensor([[1], [0.5], [0]]), ones([3]));
 * d.logProb(tensor([0.1, 0.2, 0.3]));
 * d.rsample([8]); // [8, 3]
 */
export class LowRankMultivariateNormal extends Distribution {
  readonly loc: Tensor;
  readonly covFactor: Tensor;
  readonly covDiag: Tensor;
  /** The lower Cholesky factor of the capacitance matrix I + Wᵀ D⁻¹ W. */
  readonly capacitanceTril: Tensor;

  constructor(loc: TensorLike, covFactor: TensorLike, covDiag: TensorLike, options: DistributionOptions = {}) {
    const owner = 'LowRankMultivariateNormal';
    const [l, w, d] = floatParameters(owner, loc, covFactor, covDiag) as [Tensor, Tensor, Tensor];
    if (l.ndim === 0) throw new ShapeError(`${owner}: loc must have an event axis [..., n], got a scalar`);
    const n = l.shape[l.ndim - 1] as number;
    if (w.ndim < 2 || w.shape[w.ndim - 2] !== n) {
      throw new ShapeError(`${owner}: covFactor must be a batch of ${n} x m matrices, got ${formatShape(w.shape)}`);
    }
    if (d.ndim === 0 || d.shape[d.ndim - 1] !== n) {
      throw new ShapeError(`${owner}: covDiag must be a batch of vectors of ${n} entries, got ${formatShape(d.shape)}`);
    }
    const m = w.shape[w.ndim - 1] as number;
    const batch = broadcastShapes(owner, l.shape.slice(0, -1), w.shape.slice(0, -2), d.shape.slice(0, -1));
    super(batch, [n], options);
    this.loc = broadcastTo(l, [...batch, n]);
    this.covFactor = broadcastTo(w, [...batch, n, m]);
    this.covDiag = broadcastTo(d, [...batch, n]);
    this.checkParameter('covDiag', this.covDiag, (v) => v > 0, 'positive');
    this.capacitanceTril = tidy(() => {
      const scaledT = div(swapaxes(this.covFactor, -1, -2), unsqueeze(this.covDiag, -2)); // Wᵀ D⁻¹
      return linalgCholesky(add(matmul(scaledT, this.covFactor), eye(m, { dtype: l.dtype })));
    });
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.loc;
  }

  private get dimension(): number {
    return this.eventShape[0] as number;
  }

  private get rank(): number {
    return this.covFactor.shape[this.covFactor.ndim - 1] as number;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const [factorKey, diagonalKey] = splitKeys(key) as [Tensor, Tensor];
      const shape = this.extendedShape(sampleShape);
      const epsW = normal(factorKey, [...shape.slice(0, -1), this.rank], { dtype: this.loc.dtype });
      const epsD = normal(diagonalKey, shape, { dtype: this.loc.dtype });
      const lowRank = squeeze(matmul(this.covFactor, unsqueeze(epsW, -1)), -1);
      return add(add(this.loc, lowRank), mul(sqrt(this.covDiag), epsD));
    });
  }

  /** log det Σ = 2 sum log diag(L_C) + sum log D. */
  private logDet(): Tensor {
    return add(mul(sum(log(diagonal(this.capacitanceTril, 0, -2, -1)), -1), 2), sum(log(this.covDiag), -1));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const diff = sub(this.valueTensor('logProb', value), this.loc);
      const batch = diff.shape.slice(0, -1);
      const [n, m] = [this.dimension, this.rank];
      const w = broadcastTo(this.covFactor, [...batch, n, m]);
      const d = broadcastTo(this.covDiag, [...batch, n]);
      const capacitance = broadcastTo(this.capacitanceTril, [...batch, m, m]);
      // Woodbury: xᵀ Σ⁻¹ x = xᵀ D⁻¹ x - |L_C⁻¹ Wᵀ D⁻¹ x|².
      const projected = matmul(swapaxes(w, -1, -2), unsqueeze(div(diff, d), -1));
      const whitened = solveTriangular(capacitance, projected, { upper: false });
      const mahalanobis = sub(sum(div(square(diff), d), -1), sum(square(squeeze(whitened, -1)), -1));
      return mul(add(add(mahalanobis, this.logDet()), n * LOG_TWO_PI), -0.5);
    });
  }

  override get mean(): Tensor {
    return this.loc;
  }

  override get mode(): Tensor {
    return this.loc;
  }

  /** diag(Σ) = row sums of W² + D. */
  override get variance(): Tensor {
    return tidy(() => add(sum(square(this.covFactor), -1), this.covDiag));
  }

  /** Σ = W Wᵀ + diag(D). */
  get covarianceMatrix(): Tensor {
    return tidy(() => add(matmul(this.covFactor, swapaxes(this.covFactor, -1, -2)), diagEmbed(this.covDiag)));
  }

  /** Σ⁻¹ = D⁻¹ - Aᵀ A, A = L_C⁻¹ Wᵀ D⁻¹ (Woodbury). */
  get precisionMatrix(): Tensor {
    return tidy(() => {
      const scaledT = div(swapaxes(this.covFactor, -1, -2), unsqueeze(this.covDiag, -2));
      const a = solveTriangular(this.capacitanceTril, scaledT, { upper: false });
      return sub(diagEmbed(div(1, this.covDiag)), matmul(swapaxes(a, -1, -2), a));
    });
  }

  /** The lower Cholesky factor of Σ: sqrt(D) chol(I + D^-1/2 W Wᵀ D^-1/2), as torch computes it. */
  get scaleTril(): Tensor {
    return tidy(() => {
      const rootD = unsqueeze(sqrt(this.covDiag), -1);
      const scaled = mul(this.covFactor, unsqueeze(rsqrt(this.covDiag), -1));
      const inner = add(matmul(scaled, swapaxes(scaled, -1, -2)), eye(this.dimension, { dtype: this.loc.dtype }));
      return mul(rootD, linalgCholesky(inner));
    });
  }

  override entropy(): Tensor {
    return tidy(() => mul(add(this.logDet(), this.dimension * (1 + LOG_TWO_PI)), 0.5));
  }

  /** The same distribution as a MultivariateNormal (its full n x n Cholesky factor). */
  toMultivariateNormal(): MultivariateNormal {
    return new MultivariateNormal(this.loc, { scaleTril: this.scaleTril, validateArgs: false });
  }
}
