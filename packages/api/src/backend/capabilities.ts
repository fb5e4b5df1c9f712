import type { DType } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import type { Backend } from './spi.js';

/**
 * Throws a DTypeError naming `op`, the backend and `dtype` unless the backend lists `dtype` in
 * `capabilities.dtypes`. Called where data enters a backend (creation, `to()`) and before every
 * eager and jit kernel, so that a backend never sees a dtype it did not declare.
 */
export function checkBackendDType(op: string, backend: Backend, dtype: DType): void {
  if (backend.capabilities.dtypes.includes(dtype)) return;
  throw new DTypeError(
    `${op}: ${dtype} is not offered by the '${backend.name}' backend (it offers ${backend.capabilities.dtypes.join(', ')}); convert the data to a dtype it offers first (astype() on a backend that has ${dtype}), or use a backend that lists ${dtype}`,
  );
}
