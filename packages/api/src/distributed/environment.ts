import type { RankInfo } from './transport.js';

// Read lazily, so that the module loads in browsers (no `process` there).
function environmentVariables(): Readonly<Record<string, string | undefined>> {
  const processLike = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return processLike?.env ?? {};
}

function integerVariable(env: Readonly<Record<string, string | undefined>>, names: readonly string[]): number | undefined {
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= 0) return value;
  }
  return undefined;
}

/**
 * The rank, world size and local rank this process was started with, from the variables the
 * launchers set: Open MPI's mpirun (`OMPI_COMM_WORLD_*`), MPICH/PMI (`PMI_*`), Slurm's srun
 * (`SLURM_*`) and torchrun-style variables (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`). A process
 * started on its own is rank 0 of 1.
 *
 * @example
 * const { rank, worldSize } = distributed.environmentRank();
 */
export function environmentRank(env: Readonly<Record<string, string | undefined>> = environmentVariables()): RankInfo {
  const worldSize = integerVariable(env, ['OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'PMIX_SIZE', 'SLURM_NTASKS', 'WORLD_SIZE']) ?? 1;
  const rank = integerVariable(env, ['OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'PMIX_RANK', 'SLURM_PROCID', 'RANK']) ?? 0;
  const localRank = integerVariable(env, ['OMPI_COMM_WORLD_LOCAL_RANK', 'MPI_LOCALRANKID', 'SLURM_LOCALID', 'LOCAL_RANK']) ?? rank;
  const localWorldSize =
    integerVariable(env, ['OMPI_COMM_WORLD_LOCAL_SIZE', 'MPI_LOCALNRANKS', 'LOCAL_WORLD_SIZE']) ?? (worldSize === 1 ? 1 : worldSize);
  return { rank, worldSize, localRank, localWorldSize };
}

/** The default collective timeout: `FLINT_DISTRIBUTED_TIMEOUT` seconds, else 300. */
export function defaultTimeoutSeconds(env: Readonly<Record<string, string | undefined>> = environmentVariables()): number {
  const raw = env.FLINT_DISTRIBUTED_TIMEOUT;
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : 300;
}
