import * as bessel from '../ops/bessel.js';
import * as combinatorics from '../ops/combinatorics.js';
import type { TensorLike } from '../ops/convert.js';
import { erfinv } from '../ops/erfinv.js';
import * as errorFunctions from '../ops/error-functions.js';
import * as gamma from '../ops/gamma.js';
import { gammainc, gammaincc } from '../ops/incomplete-gamma.js';
import * as statistics from '../ops/statistics.js';
import * as splitting from '../ops/tensor-split.js';
import * as ops from '../ops/torch-elementwise.js';
import { Tensor } from './tensor.js';

// Tensor methods for the special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts),
// torch's elementwise conveniences (ops/torch-elementwise.ts), small statistics and splits:
// thin wrappers, so `x.lgamma()` is `lgamma(x)`.

declare module './tensor.js' {
  interface Tensor {
    /** See `lgamma`. */
    lgamma(): Tensor;
    /** See `digamma`. */
    digamma(): Tensor;
    /** See `polygamma`: `x.polygamma(n)` is `polygamma(n, x)`. */
    polygamma(n: number): Tensor;
    /** See `mvlgamma`. */
    mvlgamma(p: number): Tensor;
    /** See `erfc`. */
    erfc(): Tensor;
    /** See `erfcx`. */
    erfcx(): Tensor;
    /** See `erfinv`. */
    erfinv(): Tensor;
    /** See `i0`. */
    i0(): Tensor;
    /** See `sinc`. */
    sinc(): Tensor;
    /** See `logit`. */
    logit(eps?: number): Tensor;
    /** See `gammainc`: `a.igamma(x)` is P(a, x), torch.Tensor.igamma. */
    igamma(x: TensorLike): Tensor;
    /** See `gammaincc`: `a.igammac(x)` is Q(a, x), torch.Tensor.igammac. */
    igammac(x: TensorLike): Tensor;
    /** See `xlogy`: `x.xlogy(y)` is `x * log(y)`. */
    xlogy(other: TensorLike): Tensor;
    /** See `hypot`. */
    hypot(other: TensorLike): Tensor;
    /** See `copysign`. */
    copysign(other: TensorLike): Tensor;
    /** See `heaviside`. */
    heaviside(values: TensorLike): Tensor;
    /** See `logaddexp`. */
    logaddexp(other: TensorLike): Tensor;
    /** See `logaddexp2`. */
    logaddexp2(other: TensorLike): Tensor;
    /** See `deg2rad`. */
    deg2rad(): Tensor;
    /** See `rad2deg`. */
    rad2deg(): Tensor;
    /** See `signbit`. */
    signbit(): Tensor;
    /** See `sgn`. */
    sgn(): Tensor;
    /** See `nanToNum`. */
    nanToNum(options?: ops.NanToNumOptions): Tensor;
    /** See `fmod`: the remainder with the sign of `this`. */
    fmod(other: TensorLike): Tensor;
    /** See `remainder`: the remainder with the sign of `other`. */
    remainder(other: TensorLike): Tensor;
    /** See `floatPower`. */
    floatPower(exponent: TensorLike): Tensor;
    /** See `aminmax`. */
    aminmax(options?: statistics.AminmaxOptions): statistics.MinMax;
    /** See `cov`. */
    cov(options?: statistics.CovOptions): Tensor;
    /** See `corrcoef`. */
    corrcoef(): Tensor;
    /** See `tensorSplit`. */
    tensorSplit(indicesOrSections: number | readonly number[], axis?: number): Tensor[];
    /** See `unbind`. */
    unbind(axis?: number): Tensor[];
    /** See `movedim`. */
    movedim(source: number | readonly number[], destination: number | readonly number[]): Tensor;
    /** See `combinations`. */
    combinations(options?: combinatorics.CombinationsOptions): Tensor;
  }
}

type Unary = (x: TensorLike) => Tensor;
const unary: Record<
  'lgamma' | 'digamma' | 'erfc' | 'erfcx' | 'erfinv' | 'i0' | 'sinc' | 'deg2rad' | 'rad2deg' | 'signbit' | 'sgn' | 'corrcoef',
  Unary
> = {
  lgamma: gamma.lgamma,
  digamma: gamma.digamma,
  erfc: errorFunctions.erfc,
  erfcx: errorFunctions.erfcx,
  erfinv,
  i0: bessel.i0,
  sinc: ops.sinc,
  deg2rad: ops.deg2rad,
  rad2deg: ops.rad2deg,
  signbit: ops.signbit,
  sgn: ops.sgn,
  corrcoef: statistics.corrcoef,
};

type Binary = (x: TensorLike, y: TensorLike) => Tensor;
const binary: Record<
  'xlogy' | 'hypot' | 'copysign' | 'heaviside' | 'logaddexp' | 'logaddexp2' | 'fmod' | 'remainder' | 'floatPower' | 'igamma' | 'igammac',
  Binary
> = {
  xlogy: ops.xlogy,
  hypot: ops.hypot,
  copysign: ops.copysign,
  heaviside: ops.heaviside,
  logaddexp: ops.logaddexp,
  logaddexp2: ops.logaddexp2,
  fmod: ops.fmod,
  remainder: ops.remainder,
  floatPower: ops.floatPower,
  igamma: gammainc,
  igammac: gammaincc,
};

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(unary)) {
  proto[name] = function (this: Tensor) {
    return fn(this);
  };
}
for (const [name, fn] of Object.entries(binary)) {
  proto[name] = function (this: Tensor, other: TensorLike) {
    return fn(this, other);
  };
}
Tensor.prototype.polygamma = function (this: Tensor, n: number) {
  return gamma.polygamma(n, this);
};
Tensor.prototype.mvlgamma = function (this: Tensor, p: number) {
  return gamma.mvlgamma(this, p);
};
Tensor.prototype.logit = function (this: Tensor, eps?: number) {
  return ops.logit(this, eps);
};
Tensor.prototype.nanToNum = function (this: Tensor, options?: ops.NanToNumOptions) {
  return ops.nanToNum(this, options);
};
Tensor.prototype.aminmax = function (this: Tensor, options?: statistics.AminmaxOptions) {
  return statistics.aminmax(this, options);
};
Tensor.prototype.cov = function (this: Tensor, options?: statistics.CovOptions) {
  return statistics.cov(this, options);
};
Tensor.prototype.tensorSplit = function (this: Tensor, indicesOrSections: number | readonly number[], axis?: number) {
  return splitting.tensorSplit(this, indicesOrSections, axis);
};
Tensor.prototype.unbind = function (this: Tensor, axis?: number) {
  return splitting.unbind(this, axis);
};
Tensor.prototype.movedim = function (this: Tensor, source: number | readonly number[], destination: number | readonly number[]) {
  return splitting.movedim(this, source, destination);
};
Tensor.prototype.combinations = function (this: Tensor, options?: combinatorics.CombinationsOptions) {
  return combinatorics.combinations(this, options);
};
