#!/usr/bin/env node
// flint-run: starts a distributed Flint job, in the manner of torchrun, over Open MPI's mpirun.
//
//   flint-run --nproc 2 train.ts [script arguments]          two processes on this machine
//   flint-run --nproc 4 --hosts a:2,b:2 train.js             across machines (passwordless ssh)
//
// Each process learns its rank, world size and local rank from mpirun's environment
// (OMPI_COMM_WORLD_*), which `distributed.init()` reads. TypeScript scripts run through tsx.
// On one machine, MPI traffic stays on the loopback interface and shared memory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MPI_NOT_INSTALLED = 'MPI is not installed: apt-get install libopenmpi-dev openmpi-bin';

const USAGE = `usage: flint-run [options] script [script arguments]

options:
  --nproc N, -n N      processes to start (default 1)
  --hosts LIST         machines and their slots, as mpirun's -H (a:2,b:2); default: this machine only
  --hostfile FILE      an mpirun hostfile instead of --hosts
  --timeout SECONDS    how long a collective waits for the other ranks (FLINT_DISTRIBUTED_TIMEOUT)
  --mpi-arg ARG        pass ARG to mpirun (repeatable)
  --dry-run            print the mpirun command instead of running it
  --help               this text`;

export class UsageError extends Error {}

/** Parses flint-run's command line. */
export function parseArguments(argv) {
  const options = { nproc: 1, hosts: undefined, hostfile: undefined, timeout: undefined, mpiArgs: [], dryRun: false, help: false };
  let i = 0;
  const value = (flag) => {
    const next = argv[i + 1];
    if (next === undefined) throw new UsageError(`flint-run: ${flag} needs a value`);
    i += 2;
    return next;
  };
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = () => {
      if (inline !== undefined) {
        i++;
        return inline;
      }
      return value(flag);
    };
    if (flag === '--nproc' || flag === '-n' || flag === '--nproc-per-node' || flag === '--nproc_per_node') {
      const raw = take();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`flint-run: --nproc must be a positive integer, got '${raw}'`);
      options.nproc = n;
    } else if (flag === '--hosts') options.hosts = take();
    else if (flag === '--hostfile') options.hostfile = take();
    else if (flag === '--timeout') {
      const raw = take();
      if (!(Number(raw) > 0)) throw new UsageError(`flint-run: --timeout must be a positive number of seconds, got '${raw}'`);
      options.timeout = raw;
    } else if (flag === '--mpi-arg') options.mpiArgs.push(take());
    else if (flag === '--dry-run') {
      options.dryRun = true;
      i++;
    } else if (flag === '--help' || flag === '-h') {
      options.help = true;
      i++;
    } else throw new UsageError(`flint-run: unknown option '${arg}'\n${USAGE}`);
  }
  const [script, ...scriptArgs] = argv.slice(i);
  if (script === undefined && !options.help) throw new UsageError(`flint-run: no script given\n${USAGE}`);
  return { ...options, script, scriptArgs };
}

/** The path of mpirun, or undefined when Open MPI is not installed. */
export function findMpirun(env = process.env) {
  if (env.FLINT_MPIRUN) return existsSync(env.FLINT_MPIRUN) ? env.FLINT_MPIRUN : undefined;
  const result = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return 'mpirun';
}

/** Open MPI's major version (4 names its shared-memory transport 'vader', 5 'sm'). */
function openMpiMajor(mpirun) {
  const result = spawnSync(mpirun, ['--version'], { encoding: 'utf8' });
  const match = /(\d+)\.\d+/.exec(result.stdout ?? '');
  return match ? Number(match[1]) : 4;
}

/** The mpirun command line for `options`. */
export function mpirunCommand(options, { mpirun = 'mpirun', major = 4, isRoot = false, node = process.execPath, env = process.env } = {}) {
  const args = ['-np', String(options.nproc), '--bind-to', 'none'];
  if (isRoot) args.push('--allow-run-as-root');
  const local = options.hosts === undefined && options.hostfile === undefined;
  if (local) {
    // One machine: shared memory between ranks, TCP only on the loopback interface.
    args.push('--oversubscribe', '--host', `localhost:${options.nproc}`);
    args.push('--mca', 'btl', major >= 5 ? 'self,sm,tcp' : 'self,vader,tcp');
    args.push('--mca', 'btl_tcp_if_include', 'lo', '--mca', 'oob_tcp_if_include', 'lo');
    // Containers often forbid the cross-process memory attach that single-copy transfers use.
    args.push('--mca', major >= 5 ? 'smsc' : 'btl_vader_single_copy_mechanism', major >= 5 ? '^cma' : 'none');
  } else if (options.hosts !== undefined) args.push('-H', options.hosts);
  else args.push('--hostfile', options.hostfile);
  // mpirun passes its environment to local ranks; remote ranks get the variables named here.
  const forwarded = Object.keys(env).filter((name) => name.startsWith('FLINT_') || name === 'NODE_OPTIONS' || name === 'TSX_TSCONFIG_PATH');
  if (options.timeout !== undefined && !forwarded.includes('FLINT_DISTRIBUTED_TIMEOUT')) forwarded.push('FLINT_DISTRIBUTED_TIMEOUT');
  for (const name of forwarded) args.push('-x', name);
  args.push(...options.mpiArgs);
  const typescript = /\.(c|m)?tsx?$/.test(options.script);
  args.push(node, ...(typescript ? ['--import', 'tsx'] : []), options.script, ...options.scriptArgs);
  return { command: mpirun, args };
}

function isRootUser() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs flint-run with `argv`; resolves to the exit code. */
export async function main(argv) {
  let options;
  try {
    options = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const mpirun = findMpirun();
  if (mpirun === undefined) {
    process.stderr.write(`flint-run: ${MPI_NOT_INSTALLED} (mpirun was not found on PATH)\n`);
    return 1;
  }
  const env = { ...process.env, FLINT_RUN: '1' };
  if (options.timeout !== undefined) env.FLINT_DISTRIBUTED_TIMEOUT = options.timeout;
  // mpirun refuses root unless told; the flag covers mpirun, these cover the daemons it starts.
  if (isRootUser()) {
    env.OMPI_ALLOW_RUN_AS_ROOT = '1';
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
  }
  const { command, args } = mpirunCommand(options, { mpirun, major: openMpiMajor(mpirun), isRoot: isRootUser(), env });
  if (options.dryRun) {
    process.stdout.write(`${[command, ...args].join(' ')}\n`);
    return 0;
  }
  const child = spawn(command, args, { stdio: 'inherit', env });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return await new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`flint-run: could not start mpirun: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

const invoked = process.argv[1] === undefined ? undefined : realpathSync(process.argv[1]);
if (invoked === realpathSync(fileURLToPath(import.meta.url))) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
