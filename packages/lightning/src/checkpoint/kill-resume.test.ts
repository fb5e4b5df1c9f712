import '@flint/backend-cpu';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from './file.js';

// Kills a training process with SIGKILL while it writes a checkpoint after every step, then
// resumes from whatever is on disk: the checkpoint must load, and the resumed run must produce
// exactly the losses of an uninterrupted run.

const here = fileURLToPath(new URL('.', import.meta.url));
const packageRoot = join(here, '..', '..');
const child = join(here, '..', 'test-support', 'kill-child.test-support.ts');
const tsconfig = join(here, '..', 'test-support', 'tsconfig.json');
const root = mkdtempSync(join(tmpdir(), 'flint-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Line {
  step?: number;
  loss?: number;
  saved?: number;
  done?: boolean;
}

function start(args: string[]): {
  process: ChildProcess;
  lines: Line[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
    cwd: packageRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let pending = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      lines.push(JSON.parse(pending.slice(0, newline)) as Line);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    proc.emit('lines');
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { process: proc, lines, exited };
}

function lossesByStep(lines: readonly Line[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of lines) if (line.step !== undefined && line.loss !== undefined) out.set(line.step, line.loss);
  return out;
}

describe('checkpoints survive SIGKILL', () => {
  it('a process killed while writing checkpoints leaves a loadable one, and resuming from it repeats the uninterrupted losses', async () => {
    const reference = start([join(root, 'reference'), 'reference']);
    const ref = await reference.exited;
    expect(ref.stderr).toBe('');
    expect(ref.code).toBe(0);
    const expected = lossesByStep(reference.lines);
    expect(expected.size).toBe(72);

    const dir = join(root, 'run');
    let resumeFrom: number | undefined;
    const resumedLosses = new Map<number, number>();
    // Two kills: one early in the run, one in the run resumed from the first.
    for (const killAfter of [17, 43]) {
      const run = start(resumeFrom === undefined ? [dir] : [dir, join(dir, 'last.ckpt')]);
      await new Promise<void>((resolve) => {
        const check = () => {
          const last = run.lines.at(-1);
          if (last?.step !== undefined && last.step >= killAfter) {
            // The child writes a checkpoint right after printing a step: kill it in the middle.
            run.process.kill('SIGKILL');
            resolve();
          }
        };
        run.process.on('lines', check);
        run.exited.then(() => resolve());
      });
      const outcome = await run.exited;
      // The first kill lands a quarter of the way in; the second may find the run already done.
      if (killAfter === 17 || outcome.signal !== null) expect(outcome.signal).toBe('SIGKILL');
      const printed = lossesByStep(run.lines);
      for (const [step, loss] of printed) resumedLosses.set(step, loss);
      const { state, tensors } = await readCheckpoint(join(dir, 'last.ckpt'));
      for (const t of Object.values(tensors)) t.dispose();
      expect(state.globalStep).toBeGreaterThan(0);
      // A step's checkpoint is written after its loss is printed.
      expect(state.globalStep).toBeLessThanOrEqual(Math.max(...printed.keys()));
      resumeFrom = state.globalStep;
    }

    const finish = start([dir, join(dir, 'last.ckpt')]);
    const done = await finish.exited;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(finish.lines.at(-1)).toEqual({ done: true });
    const resumed = lossesByStep(finish.lines);
    expect(resumed.size).toBe(72 - (resumeFrom as number));
    if (resumed.size > 0) expect(Math.min(...resumed.keys())).toBe((resumeFrom as number) + 1);
    for (const [step, loss] of resumed) resumedLosses.set(step, loss);
    // Every step's loss, across three processes and two kills, equals the uninterrupted run's.
    expect([...resumedLosses.entries()].sort((a, b) => a[0] - b[0])).toEqual([...expected.entries()]);
    expect(existsSync(join(dir, 'last.ckpt'))).toBe(true);
    // Temporary files of the killed writers were cleaned up when the next run started.
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ckpt') && f.startsWith('step-'))).toContain('step-step=72.ckpt');
  }, 120_000);
});
