/**
 * Every error Flint raises on purpose is a FlintError, so callers can tell Flint's contract
 * violations (bad shapes, dtypes, axes, backends) from bugs and host errors.
 */
export class FlintError extends Error {
  override name = 'FlintError';
}

/** Shapes that do not fit the operation: broadcasting, matmul dimensions, reshape sizes. */
export class ShapeError extends FlintError {
  override name = 'ShapeError';
}

/** A dtype the operation does not accept, or two dtypes that cannot be combined. */
export class DTypeError extends FlintError {
  override name = 'DTypeError';
}

/** An axis outside a tensor's rank, or repeated where axes must be distinct. */
export class AxisError extends FlintError {
  override name = 'AxisError';
}

/** An index or slice outside a dimension. */
export class IndexError extends FlintError {
  override name = 'IndexError';
}

/** An argument whose value is wrong for a reason other than shape, dtype or axis. */
export class ValueError extends FlintError {
  override name = 'ValueError';
}

/**
 * A matrix whose values a linear-algebra routine cannot handle: not positive-definite for a
 * Cholesky factorization, exactly singular for a solve or an inverse (torch.linalg.LinAlgError).
 */
export class LinAlgError extends ValueError {
  override name = 'LinAlgError';
}

/** A backend that is missing, unavailable, mixed with another, or whose kernel failed. */
export class BackendError extends FlintError {
  override name = 'BackendError';
}

/** Use of a tensor after `dispose()`, or of memory the backend has already released. */
export class DisposedError extends FlintError {
  override name = 'DisposedError';
}

/** A traced (abstract) value was asked for its concrete contents. */
export class ConcretizationError extends FlintError {
  override name = 'ConcretizationError';
}

/** A method the object does not provide (a distribution without `rsample` or `icdf`). */
export class NotImplementedError extends FlintError {
  override name = 'NotImplementedError';
}
