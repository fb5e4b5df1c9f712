// Runs child processes (flint-run jobs, single-process references) with a hard timeout, so that
// no test can hang: a job past its time is killed with its whole process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WORKSPACE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const LAUNCHER = `${PACKAGE_ROOT}bin/flint-run.mjs`;
export const TSCONFIG = `${PACKAGE_ROOT}test-support/tsconfig.json`;
export const fixture = (name: string) => `${PACKAGE_ROOT}test-support/${name}.test-support.ts`;

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Runs `node args...` in its own process group; kills the group after `timeoutMs`. */
export function runNode(args: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<Finished> {
  const child = spawn(process.execPath, args, {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // mpirun's ranks share its group: make sure none outlives it.
      killGroup(child);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Kills every child still running (for afterAll). */
export function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

/** The JSON lines of a child's output. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
