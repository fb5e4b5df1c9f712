import { ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, formatShape } from '../core/shape.js';
import { broadcastTo } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { add, log, mul, neg, square, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { linalgCholesky } from '../ops/linalg-decompositions.js';
import { inv, solveTriangular } from '../ops/linalg-solvers.js';
import { squeeze, swapaxes, unsqueeze } from '../ops/movement.js';
import { sum } from '../ops/reduce.js';
import { diagonal } from '../ops/triangular.js';
import { normal } from '../random/distributions.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, floatParameter } from './distribution.js';

/** The covariance of a MultivariateNormal: exactly one of the three forms, as in torch. */
export type MultivariateNormalParameters = (
  | { readonly covarianceMatrix: TensorLike; readonly scaleTril?: undefined; readonly precisionMatrix?: undefined }
  | { readonly scaleTril: TensorLike; readonly covarianceMatrix?: undefined; readonly precisionMatrix?: undefined }
  | { readonly precisionMatrix: TensorLike; readonly covarianceMatrix?: undefined; readonly scaleTril?: undefined }
) &
  DistributionOptions;

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** The lower Cholesky factor L of the covariance (cov = L Lᵀ), from whichever form was given. */
function scaleTrilOf(owner: string, parameters: MultivariateNormalParameters, like: Tensor): Tensor {
  const given = (['covarianceMatrix', 'scaleTril', 'precisionMatrix'] as const).filter(
    (name) => parameters[name] !== undefined && parameters[name] !== null,
  );
  if (given.length !== 1) throw new ValueError(`${owner}: give exactly one of covarianceMatrix, scaleTril and precisionMatrix`);
  const name = given[0] as 'covarianceMatrix' | 'scaleTril' | 'precisionMatrix';
  const matrix = floatParameter(owner, parameters[name] as TensorLike, like);
  if (matrix.ndim < 2 || matrix.shape[matrix.ndim - 1] !== matrix.shape[matrix.ndim - 2]) {
    throw new ShapeError(`${owner}: ${name} must be a batch of square matrices [..., n, n], got ${formatShape(matrix.shape)}`);
  }
  if (name === 'scaleTril') return matrix;
  // A covariance that is not positive-definite fails here with linalg.cholesky's LinAlgError.
  return linalgCholesky(name === 'covarianceMatrix' ? matrix : inv(matrix));
}

/**
 * The multivariate normal distribution N(loc, Σ) (torch.distributions.MultivariateNormal), with Σ
 * given as `covarianceMatrix`, its lower Cholesky factor `scaleTril`, or `precisionMatrix` (Σ⁻¹).
 * loc is [..., n]; the batch shape broadcasts loc's and the matrix's batch axes.
 *
 * @example
 * const d = new distributions.MultivariateNormal(zeros([2]), { covarianceMatrix: tensor([[2, 1], [1, 2]]) });
 * d.logProb(tensor([1, 0]));
 * d.rsample([100]); // [100, 2]
 */
export class MultivariateNormal extends Distribution {
  readonly loc: Tensor;
  /** The lower Cholesky factor of the covariance. */
  readonly scaleTril: Tensor;

  override get hasRsample(): boolean {
    return true;
  }

  constructor(loc: TensorLike, parameters: MultivariateNormalParameters) {
    const owner = 'MultivariateNormal';
    const l = floatParameter(owner, loc);
    if (l.ndim === 0) throw new ShapeError(`${owner}: loc must have an event axis [..., n], got a scalar`);
    const scaleTril = scaleTrilOf(owner, parameters, l);
    const n = l.shape[l.ndim - 1] as number;
    if (scaleTril.shape[scaleTril.ndim - 1] !== n) {
      throw new ShapeError(`${owner}: loc ${formatShape(l.shape)} has ${n} components, the covariance is ${formatShape(scaleTril.shape)}`);
    }
    const batch = broadcastShapes(owner, l.shape.slice(0, -1), scaleTril.shape.slice(0, -2));
    super(batch, [n], parameters);
    this.loc = broadcastTo(l, [...batch, n]);
    this.scaleTril = broadcastTo(scaleTril, [...batch, n, n]);
  }

  protected get anchor(): Tensor {
    return this.loc;
  }

  private get dimension(): number {
    return this.eventShape[0] as number;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const eps = normal(key, this.extendedShape(sampleShape), { dtype: this.loc.dtype });
      return add(this.loc, squeeze(matmul(this.scaleTril, unsqueeze(eps, -1)), -1));
    });
  }

  /** Half the log-determinant of the covariance: the sum of log diag(L). */
  private halfLogDet(): Tensor {
    return sum(log(diagonal(this.scaleTril, 0, -2, -1)), -1);
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      const diff = sub(v, this.loc);
      const shape = diff.shape;
      const L = broadcastTo(this.scaleTril, [...shape, this.dimension]);
      // The squared Mahalanobis distance |L⁻¹ (v - loc)|².
      const whitened = squeeze(solveTriangular(L, unsqueeze(diff, -1), { upper: false }), -1);
      const mahalanobis = sum(square(whitened), -1);
      return sub(neg(add(mul(mahalanobis, 0.5), this.halfLogDet())), this.dimension * HALF_LOG_TWO_PI);
    });
  }

  /** Σ = L Lᵀ. */
  get covarianceMatrix(): Tensor {
    return tidy(() => matmul(this.scaleTril, swapaxes(this.scaleTril, -1, -2)));
  }

  override get mean(): Tensor {
    return this.loc;
  }

  override get mode(): Tensor {
    return this.loc;
  }

  /** The diagonal of Σ: the row sums of L². */
  override get variance(): Tensor {
    return tidy(() => sum(square(this.scaleTril), -1));
  }

  override entropy(): Tensor {
    return tidy(() => add(this.halfLogDet(), this.dimension * (0.5 + HALF_LOG_TWO_PI)));
  }
}
