import { finalizeDeviceCollectives } from './device-collectives.js';
import { defaultTimeoutSeconds, environmentRank } from './environment.js';
import { DistributedError } from './errors.js';
import { LocalTransport } from './local-transport.js';
import type { Transport, TransportAvailability, TransportProvider } from './transport.js';

const providers = new Map<string, TransportProvider>();
let current: Transport | undefined;

/**
 * Makes a transport available to `init` (transport packages call this when imported).
 *
 * @example
 * distributed.registerTransport({ name: 'mpi', availability, launched, create });
 */
export function registerTransport(provider: TransportProvider): void {
  providers.set(provider.name, provider);
}

/** The registered transports' names. */
export function registeredTransports(): string[] {
  return [...providers.keys()];
}

/**
 * Whether the transport `name` can run here: registered (its package imported) and its system
 * libraries installed; otherwise why not and the fix.
 *
 * @example
 * const status = distributed.transportAvailability('mpi');
 * if (!status.available) console.log(status.reason); // "MPI is not installed: apt-get install ..."
 */
export function transportAvailability(name: string): TransportAvailability {
  const provider = providers.get(name);
  if (provider === undefined) {
    if (name === 'nccl')
      return {
        available: false,
        reason: `NCCL is not a host transport: import '@flint/backend-cuda' and CUDA tensors reduce through NCCL under the job's transport ('mpi')`,
      };
    return { available: false, reason: `the '${name}' transport is not registered: import '@flint/distributed-${name}'` };
  }
  return provider.availability();
}

/** Options of `init`. */
export interface InitOptions {
  /** The host transport ('mpi'); by default the one whose launcher started this process, else a local job of one process. */
  readonly transport?: string;
  /** How long a collective waits for the other ranks before failing (default: FLINT_DISTRIBUTED_TIMEOUT, else 300 seconds). */
  readonly timeoutSeconds?: number;
}

function createFrom(provider: TransportProvider, timeoutSeconds: number): Transport {
  const status = provider.availability();
  if (!status.available) throw new DistributedError(`distributed.init: the '${provider.name}' transport is unavailable: ${status.reason}`);
  return provider.create({ timeoutSeconds });
}

/**
 * Joins the job this process was launched into (`flint-run --nproc 2 script.ts`, or `mpirun`),
 * or starts a job of one process when it was started alone. Idempotent: later calls return the
 * same transport.
 *
 * @example
 * import { distributed } from '@flint/api';
 * import '@flint/distributed-mpi';
 * const group = distributed.init();
 * console.log(`rank ${group.rank} of ${group.worldSize}`);
 */
export function init(options: InitOptions = {}): Transport {
  if (current !== undefined) {
    if (options.transport !== undefined && options.transport !== current.name)
      throw new DistributedError(
        `distributed.init: already initialized with the '${current.name}' transport, asked for '${options.transport}'`,
      );
    return current;
  }
  const timeoutSeconds = options.timeoutSeconds ?? defaultTimeoutSeconds();
  if (!(typeof timeoutSeconds === 'number' && timeoutSeconds > 0))
    throw new DistributedError(`distributed.init: timeoutSeconds must be a positive number, got ${String(options.timeoutSeconds)}`);
  const environment = environmentRank();
  if (options.transport !== undefined) {
    if (options.transport === 'local') {
      if (environment.worldSize > 1)
        throw new DistributedError(
          `distributed.init: the 'local' transport runs one process, but this process is rank ${environment.rank} of ${environment.worldSize}`,
        );
      current = new LocalTransport();
      return current;
    }
    const provider = providers.get(options.transport);
    if (provider === undefined) {
      const status = transportAvailability(options.transport);
      throw new DistributedError(`distributed.init: ${status.available ? 'unknown transport' : status.reason}`);
    }
    current = createFrom(provider, timeoutSeconds);
    return current;
  }
  const launchedBy = [...providers.values()].find((p) => p.launched());
  if (launchedBy !== undefined) {
    current = createFrom(launchedBy, timeoutSeconds);
    return current;
  }
  if (environment.worldSize > 1) {
    throw new DistributedError(
      `distributed.init: this process is rank ${environment.rank} of ${environment.worldSize} (from its launcher's environment), but no transport for it is registered: import '@flint/distributed-mpi' in the script${
        providers.size > 0 ? ` (registered: ${registeredTransports().join(', ')})` : ''
      }`,
    );
  }
  current = new LocalTransport();
  return current;
}

/** Whether `init` has run (and `destroy` has not). */
export function isInitialized(): boolean {
  return current !== undefined;
}

/** The transport `init` created; a DistributedError before `init`. */
export function processGroup(op = 'distributed'): Transport {
  if (current === undefined) throw new DistributedError(`${op}: call distributed.init() first`);
  return current;
}

/** This process's rank (0 before `init`). */
export function rank(): number {
  return current?.rank ?? 0;
}

/** The number of processes (1 before `init`). */
export function worldSize(): number {
  return current?.worldSize ?? 1;
}

/** Leaves the job (MPI_Finalize); `init` may be called again afterwards only in a new process. */
export function destroy(): void {
  const transport = current;
  current = undefined;
  try {
    finalizeDeviceCollectives();
  } finally {
    transport?.finalize();
  }
}
