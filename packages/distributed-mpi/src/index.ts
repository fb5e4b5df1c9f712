/**
 * @flint/distributed-mpi: the Open MPI transport of `@flint/api`'s `distributed` module.
 * Importing it registers the transport; `distributed.init()` in a process started by
 * `flint-run --nproc N script.ts` (or `mpirun -np N`) joins the job. See docs/distributed.md.
 *
 * @example
 * import { distributed } from '@flint/api';
 * import '@flint/distributed-mpi';
 * distributed.init();
 */
import { distributed } from '@flint/api';
import { type LoadResult, loadAddon } from './native/load.js';
import { MpiTransport } from './transport.js';

let loaded: LoadResult | undefined;

function load(): LoadResult {
  loaded ??= loadAddon();
  return loaded;
}

/** Whether Open MPI's mpirun started this process. */
export function launchedByMpi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined || env.PMIX_RANK !== undefined;
}

/** The provider `distributed.init` uses to create MPI transports. */
export const mpiProvider: distributed.TransportProvider = {
  name: 'mpi',
  availability() {
    const result = load();
    return 'addon' in result ? { available: true } : { available: false, reason: result.reason };
  },
  launched: () => launchedByMpi(),
  create(options) {
    const result = load();
    if (!('addon' in result)) throw new distributed.DistributedError(`the 'mpi' transport is unavailable: ${result.reason}`);
    return new MpiTransport(result.addon, options);
  },
};

distributed.registerTransport(mpiProvider);

export { MpiTransport } from './transport.js';
