/** Runs one child (a runner or a native program) and collects its marked result lines. */
import { spawn } from 'node:child_process';
import { type CaseResult, INFO_MARKER, RESULT_MARKER, type SystemInfo } from '../common/protocol.js';
import { LoadMonitor, type LoadRecord } from './quiet.js';

export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ChildOutcome {
  readonly results: CaseResult[];
  readonly info?: SystemInfo;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The end of stderr (and unmarked stdout), for errors. */
  readonly tail: string;
  readonly load: LoadRecord;
}

const TAIL_CHARS = 2000;

export function runChild(child: ChildCommand, timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const proc = spawn(child.command, [...child.args], {
      cwd: child.cwd,
      env: { ...process.env, ...child.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const results: CaseResult[] = [];
    let info: SystemInfo | undefined;
    let tail = '';
    let pending = '';
    const addTail = (text: string) => {
      tail = (tail + text).slice(-TAIL_CHARS);
    };
    const monitor = new LoadMonitor(proc.pid ?? 0);
    monitor.start();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith(RESULT_MARKER)) {
          try {
            results.push(JSON.parse(line.slice(RESULT_MARKER.length)) as CaseResult);
          } catch {
            addTail(`unparsable result line: ${line.slice(0, 200)}\n`);
          }
        } else if (line.startsWith(INFO_MARKER)) {
          try {
            info = JSON.parse(line.slice(INFO_MARKER.length)) as SystemInfo;
          } catch {
            addTail(`unparsable info line: ${line.slice(0, 200)}\n`);
          }
        } else if (line.trim() !== '') {
          addTail(`${line}\n`);
        }
        newline = pending.indexOf('\n');
      }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => addTail(chunk));
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      const load = monitor.stop();
      resolve({ results, ...(info ? { info } : {}), exitCode, signal, timedOut, tail: tail.trim(), load });
    };
    proc.on('error', (error) => {
      addTail(String(error));
      finish(null, null);
    });
    proc.on('close', (code, signal) => finish(code, signal));
  });
}

/** The last meaningful lines of a child's output, for an error message. */
export function lastLines(text: string, lines = 4): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join(' | ')
    .slice(0, 500);
}
