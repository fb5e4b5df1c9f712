// Runs the README's examples as a user would (tsx over the built packages), on a short budget:
// a few dozen training steps must already lower the loss and classify most held-out digits.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));

function runExample(file: string, args: string[]): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: examples, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${file} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function losses(output: string): number[] {
  return [...output.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
}

function testAccuracy(output: string): number {
  const match = /test accuracy (\d+\.\d+)%/.exec(output);
  if (!match) throw new Error(`no accuracy line in:\n${output}`);
  return Number(match[1]);
}

describe.each(['mnist-loop.ts', 'mnist-functional.ts'])('%s on a short budget', (file) => {
  it('lowers the loss and classifies most held-out digits after 60 steps', () => {
    const output = runExample(file, ['1', '--max-steps', '60']);
    const seen = losses(output);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[seen.length - 1]).toBeLessThan((seen[0] as number) * 0.5);
    expect(testAccuracy(output)).toBeGreaterThan(80);
  }, 300_000);
});

describe('vae-mnist.ts on a short budget', () => {
  it('lowers the negative ELBO of held-out digits below half its starting value in 60 steps', () => {
    const output = runExample('vae-mnist.ts', ['1', '--max-steps', '60']);
    const first = losses(output)[0] as number;
    const match = /test negative ELBO (\d+\.\d+)/.exec(output);
    if (!match) throw new Error(`no test ELBO line in:\n${output}`);
    expect(first).toBeGreaterThan(400);
    expect(Number(match[1])).toBeLessThan(first / 2);
  }, 300_000);
});

describe('small examples', () => {
  it('runs the README snippet', () => {
    const output = runExample('readme.ts', []);
    expect(output).toContain('tensor([18., 38.])');
    expect(output).toMatch(/\[\[2\., 4\.\],\s+\[6\., 8\.\]\]/);
    expect(output).toMatch(/loss \d/);
  }, 120_000);

  it('runs the tensor tour and releases its buffers', () => {
    const output = runExample('tensors.ts', []);
    expect(output).toContain('default backend:');
    expect(output).toMatch(/live buffers after dispose: 0/);
  }, 120_000);

  it("runs the seed's Lightning example and recovers the regression weights", () => {
    const output = runExample('seed-lightning.ts', []);
    const match = /weights \[\[([^\]]+)\]\], bias \[([^\]]+)\]/.exec(output);
    if (!match) throw new Error(`no weights line in:\n${output}`);
    const weights = (match[1] as string).split(',').map(Number);
    const expected = [2, -1, 0.5];
    for (const [i, w] of weights.entries()) expect(Math.abs(w - (expected[i] as number))).toBeLessThan(0.15);
    expect(Math.abs(Number(match[2]) - 0.3)).toBeLessThan(0.15);
  }, 300_000);
});
