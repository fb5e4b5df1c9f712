import { FlintError } from '../core/errors.js';

/**
 * A collective that could not complete: no transport, a transport that is not installed, a rank
 * that died or stopped answering within the timeout, or ranks that disagree about a call.
 */
export class DistributedError extends FlintError {
  override name = 'DistributedError';
}

/** The fix Flint names wherever Open MPI is missing. */
export const MPI_NOT_INSTALLED = 'MPI is not installed: apt-get install libopenmpi-dev openmpi-bin';
