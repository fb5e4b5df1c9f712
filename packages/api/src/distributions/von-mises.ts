import { i0e, i1e } from '../ops/bessel.js';
import { cast } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { acos, add, cos, div, floor, greater, greaterEqual, log, logicalOr, mul, sign, sqrt, square, sub } from '../ops/elementwise.js';
import { takeAlongAxis } from '../ops/indexing.js';
import { reshape, unsqueeze } from '../ops/movement.js';
import { argmax } from '../ops/reduce.js';
import { openUnit } from '../random/continuous.js';
import { splitKeys } from '../random/keys.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions } from './distribution.js';

/**
 * Proposals per sample of Best and Fisher's rejection sampler. Its acceptance rate is above 0.65
 * for every concentration, so all rounds fail with probability below 0.35^24 (about 1e-11); such
 * a sample keeps its first proposal, which is still a valid angle.
 */
const REJECTION_ROUNDS = 24;
const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * The von Mises distribution on the circle with mean direction `loc` and `concentration` κ
 * (torch.distributions.VonMises): density exp(κ cos(x - loc)) / (2π I0(κ)). Samples are angles in
 * [-π, π) by Best and Fisher's rejection method ("Efficient simulation of the von Mises
 * distribution", 1979), as torch draws them, with a fixed number of proposals so that the shape
 * is known in advance. log I0 is computed from the exponentially scaled i0e, accurate for every κ
 * (torch 1.13 uses a polynomial fit, about 1e-7 relative).
 *
 * @example
 * const heading = new distributions.VonMises(0, 4);
 * heading.logProb(tensor([0, Math.PI / 2]));
 */
export class VonMises extends Distribution {
  readonly loc: Tensor;
  readonly concentration: Tensor;

  constructor(loc: TensorLike, concentration: TensorLike, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('VonMises', loc, concentration);
    super(shape, [], options);
    [this.loc, this.concentration] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration', this.concentration, (v) => v > 0, 'positive');
  }

  protected get anchor(): Tensor {
    return this.loc;
  }

  /** log I0(κ) = log i0e(κ) + κ. */
  private logBesselI0(): Tensor {
    return add(log(i0e(this.concentration)), this.concentration);
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const dims = this.extendedShape(sampleShape);
      const dtype = this.loc.dtype;
      const k = this.concentration;
      // The wrapped-Cauchy envelope's r = (1 + ρ²) / (2ρ), with τ - sqrt(2τ) written as
      // τ (τ - 2) / (τ + sqrt(2τ)) and τ - 2 = 4κ² / (sqrt(1 + 4κ²) + 1), which do not cancel for small κ.
      const root = sqrt(add(mul(square(k), 4), 1));
      const tau = add(root, 1);
      const tauMinusTwo = div(mul(square(k), 4), add(root, 1));
      const rho = div(div(mul(tau, tauMinusTwo), add(tau, sqrt(mul(tau, 2)))), mul(k, 2));
      const r = div(add(square(rho), 1), mul(rho, 2));
      const [k1, k2, k3] = splitKeys(key, 3) as [Tensor, Tensor, Tensor];
      const rounds = [REJECTION_ROUNDS, ...dims];
      const u1 = openUnit(k1, rounds, dtype);
      const u2 = openUnit(k2, rounds, dtype);
      const u3 = openUnit(k3, rounds, dtype);
      const z = cos(mul(u1, Math.PI));
      const f = div(add(mul(r, z), 1), add(r, z));
      const c = mul(k, sub(r, f));
      const accepted = logicalOr(greater(sub(mul(c, sub(2, c)), u2), 0), greaterEqual(sub(add(log(div(c, u2)), 1), c), 0));
      const angle = mul(sign(sub(u3, 0.5)), acos(f));
      const first = unsqueeze(argmax(cast(accepted, 'int32'), 0), 0);
      const x = reshape(takeAlongAxis(angle, first, 0), dims);
      // Shift by loc and wrap into [-π, π).
      const shifted = add(add(x, Math.PI), this.loc);
      return sub(sub(shifted, mul(floor(div(shifted, 2 * Math.PI)), 2 * Math.PI)), Math.PI);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      return sub(sub(mul(this.concentration, cos(sub(v, this.loc))), LOG_TWO_PI), this.logBesselI0());
    });
  }

  override get mean(): Tensor {
    return this.loc;
  }

  override get mode(): Tensor {
    return this.loc;
  }

  /** The circular variance 1 - I1(κ) / I0(κ). */
  override get variance(): Tensor {
    return tidy(() => sub(1, div(i1e(this.concentration), i0e(this.concentration))));
  }
}
