import { describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher is plain JavaScript, without declarations.
import * as launcher from '../bin/flint-run.mjs';
import { LAUNCHER, runNode } from './launch.test-support.js';

interface Options {
  nproc: number;
  hosts?: string;
  hostfile?: string;
  timeout?: string;
  mpiArgs: string[];
  script: string;
  scriptArgs: string[];
}
const parse = launcher.parseArguments as (argv: string[]) => Options;
const command = launcher.mpirunCommand as (
  options: Options,
  context: { mpirun?: string; major?: number; isRoot?: boolean; node?: string; env?: Record<string, string> },
) => { command: string; args: string[] };

describe('flint-run', () => {
  it('parses torchrun-style arguments and leaves the script its own', () => {
    const options = parse(['--nproc', '4', '--timeout=30', 'train.ts', '--lr', '0.1']);
    expect(options).toMatchObject({ nproc: 4, timeout: '30', script: 'train.ts', scriptArgs: ['--lr', '0.1'] });
    expect(parse(['-n', '2', '--', '--odd-name.js']).script).toBe('--odd-name.js');
  });

  it('rejects bad arguments with a usage message', () => {
    expect(() => parse(['--nproc', '0', 'x.ts'])).toThrow(/--nproc must be a positive integer, got '0'/);
    expect(() => parse(['--nprocs', '2', 'x.ts'])).toThrow(/unknown option '--nprocs'/);
    expect(() => parse(['--nproc', '2'])).toThrow(/no script given/);
  });

  it('keeps a one-machine job on loopback and shared memory, and runs TypeScript through tsx', () => {
    const { command: mpirun, args } = command(parse(['--nproc', '2', 'train.ts', 'a']), {
      major: 4,
      isRoot: true,
      node: '/usr/bin/node',
      env: { FLINT_BACKEND: 'cpu' },
    });
    expect(mpirun).toBe('mpirun');
    const line = args.join(' ');
    expect(line).toContain('-np 2');
    expect(line).toContain('--allow-run-as-root');
    expect(line).toContain('--mca btl self,vader,tcp');
    expect(line).toContain('--mca btl_tcp_if_include lo');
    expect(line).toContain('--mca oob_tcp_if_include lo');
    expect(line).toContain('-x FLINT_BACKEND');
    expect(line.endsWith('/usr/bin/node --import tsx train.ts a')).toBe(true);
    expect(command(parse(['-n', '2', 'train.js']), { major: 5, node: 'node' }).args.join(' ')).toContain('--mca btl self,sm,tcp');
  });

  it('passes hosts to mpirun for jobs across machines, without the loopback restriction', () => {
    const line = command(parse(['--nproc', '4', '--hosts', 'a:2,b:2', 'train.js']), { node: 'node' }).args.join(' ');
    expect(line).toContain('-H a:2,b:2');
    expect(line).not.toContain('btl_tcp_if_include');
  });

  it('says how to install MPI when mpirun is missing', async () => {
    const job = await runNode([LAUNCHER, '--nproc', '2', 'train.ts'], 30_000, { FLINT_MPIRUN: '/nonexistent/mpirun' });
    expect(job.code).toBe(1);
    expect(job.stderr).toContain('MPI is not installed: apt-get install libopenmpi-dev openmpi-bin');
  });
});
