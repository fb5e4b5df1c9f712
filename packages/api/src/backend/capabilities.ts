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
    `${op}: ${dtype} is not offered by the '${backend.name}' backend (it offers ${backend.capabilities.dtypes.join(', ')}); cast with astype() first, or use a backend that lists ${dtype}`,
  );
}
