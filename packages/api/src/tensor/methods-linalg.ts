import { checkBackendDType } from '../backend/capabilities.js';
import { getBackend, initBackend } from '../backend/registry.js';
import { isDType } from '../core/dtype.js';
import { BackendError } from '../core/errors.js';
import { cast } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { dot, matmul, outer } from '../ops/linalg.js';
import { cholesky } from '../ops/linalg-decompositions.js';
import { norm } from '../ops/linalg-norms.js';
import { cross, diagEmbed, kron } from '../ops/linalg-products.js';
import { det, inverse, logdet, matrixPower, type SlogdetResult, slogdet } from '../ops/linalg-solvers.js';
import type { ReductionAxes } from '../ops/reduce.js';
import { diag, diagonal, trace, tril, triu } from '../ops/triangular.js';
import { Tensor } from './tensor.js';

// Tensor methods for linear algebra, and moving a tensor between backends.

declare module './tensor.js' {
  interface Tensor {
    /** Matrix product (see `matmul`). */
    matmul(other: TensorLike): Tensor;
    /** Inner product of two 1-d tensors (see `dot`). */
    dot(other: TensorLike): Tensor;
    /** Outer product of two 1-d tensors (see `outer`). */
    outer(other: TensorLike): Tensor;
    /** See `tril`: the lower triangle of the last two axes. */
    tril(diagonal?: number): Tensor;
    /** See `triu`: the upper triangle of the last two axes. */
    triu(diagonal?: number): Tensor;
    /** See `diagonal` (axes 0 and 1 by default, as torch.Tensor.diagonal). */
    diagonal(offset?: number, axis1?: number, axis2?: number): Tensor;
    /** See `diag`: vector to diagonal matrix, matrix to its diagonal. */
    diag(diagonal?: number): Tensor;
    /** See `trace`. */
    trace(offset?: number, axis1?: number, axis2?: number): Tensor;
    /** See `norm` (torch.Tensor.norm): p 'fro' (default) or a number, over `axis`. */
    norm(p?: number | 'fro' | 'nuc', axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `det`: the determinant of the matrices in the last two axes. */
    det(): Tensor;
    /** See `logdet`. */
    logdet(): Tensor;
    /** See `slogdet`: `{ sign, logabsdet }`. */
    slogdet(): SlogdetResult;
    /** See `inverse` (`linalg.inv`). */
    inverse(): Tensor;
    /** See `cholesky` (torch.Tensor.cholesky): the lower factor, or the upper one with `upper`. */
    cholesky(upper?: boolean): Tensor;
    /** See `matrixPower` (`linalg.matrixPower`). */
    matrixPower(n: number): Tensor;
    /** See `cross` (torch.Tensor.cross): along `axis`, by default the first axis of size 3. */
    cross(other: TensorLike, axis?: number): Tensor;
    /** See `kron`. */
    kron(other: TensorLike): Tensor;
    /** See `diagEmbed`. */
    diagEmbed(offset?: number, axis1?: number, axis2?: number): Tensor;
    /**
     * A copy on the backend `name` (the tensor itself when already there). Given a dtype name
     * instead ('float64', 'int32', ...), a cast, as torch's `.to(dtype)`. Reads the data
     * synchronously, so the source backend must support synchronous reads; otherwise use
     * `await t.toAsync(name)`.
     *
     * @example
     * const onGpu = x.to('webgpu');
     * const doubled = x.to('float64');
     */
    to(target: string): Tensor;
    /**
     * A copy on the backend `name`, waiting for the data and for the backend to initialize:
     * works from and to asynchronous backends.
     *
     * @example
     * const back = await gpuTensor.toAsync('cpu');
     */
    toAsync(target: string): Promise<Tensor>;
  }
}

Tensor.prototype.matmul = function (this: Tensor, other: TensorLike) {
  return matmul(this, other);
};
Tensor.prototype.dot = function (this: Tensor, other: TensorLike) {
  return dot(this, other);
};
Tensor.prototype.outer = function (this: Tensor, other: TensorLike) {
  return outer(this, other);
};
Tensor.prototype.tril = function (this: Tensor, k?: number) {
  return tril(this, k);
};
Tensor.prototype.triu = function (this: Tensor, k?: number) {
  return triu(this, k);
};
Tensor.prototype.diagonal = function (this: Tensor, offset?: number, axis1?: number, axis2?: number) {
  return diagonal(this, offset, axis1, axis2);
};
Tensor.prototype.diag = function (this: Tensor, k?: number) {
  return diag(this, k);
};
Tensor.prototype.trace = function (this: Tensor, offset?: number, axis1?: number, axis2?: number) {
  return trace(this, offset, axis1, axis2);
};
Tensor.prototype.norm = function (this: Tensor, p?: number | 'fro' | 'nuc', axis?: ReductionAxes, keepdims?: boolean) {
  return norm(this, p, axis, keepdims);
};

Tensor.prototype.det = function (this: Tensor) {
  return det(this);
};
Tensor.prototype.logdet = function (this: Tensor) {
  return logdet(this);
};
Tensor.prototype.slogdet = function (this: Tensor) {
  return slogdet(this);
};
Tensor.prototype.inverse = function (this: Tensor) {
  return inverse(this);
};
Tensor.prototype.cholesky = function (this: Tensor, upper?: boolean) {
  return cholesky(this, upper);
};
Tensor.prototype.matrixPower = function (this: Tensor, n: number) {
  return matrixPower(this, n);
};
Tensor.prototype.cross = function (this: Tensor, other: TensorLike, axis?: number) {
  return cross(this, other, axis);
};
Tensor.prototype.kron = function (this: Tensor, other: TensorLike) {
  return kron(this, other);
};
Tensor.prototype.diagEmbed = function (this: Tensor, offset?: number, axis1?: number, axis2?: number) {
  return diagEmbed(this, offset, axis1, axis2);
};

Tensor.prototype.to = function (this: Tensor, target: string): Tensor {
  if (isDType(target)) return cast(this, target);
  const source = this.concreteBackend('to');
  const destination = getBackend(target);
  if (destination === source) return this;
  checkBackendDType('to', destination, this.dtype);
  if (source.readSync === undefined) {
    throw new BackendError(
      `to: backend '${source.name}' reads asynchronously, so the tensor cannot move synchronously; use \`await t.toAsync('${target}')\``,
    );
  }
  const data = source.readSync(this._handle);
  return new Tensor(this.shape, this.dtype, destination, destination.fromTypedArray(data, this.shape, this.dtype));
};

Tensor.prototype.toAsync = async function (this: Tensor, target: string): Promise<Tensor> {
  if (isDType(target)) return cast(this, target);
  const source = this.concreteBackend('toAsync');
  const destination = await initBackend(target);
  if (destination === source) return this;
  checkBackendDType('toAsync', destination, this.dtype);
  const data = await source.read(this._handle);
  return new Tensor(this.shape, this.dtype, destination, destination.fromTypedArray(data, this.shape, this.dtype));
};
