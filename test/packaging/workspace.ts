import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root (test/packaging/ is two levels down). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const PACKAGES = ['api', 'backend-cpu'] as const;
/** The packages with a native addon, whose scripts/build.mjs builds it with @flint/native-build. */
export const NATIVE_PACKAGES = ['backend-mkl', 'backend-cuda', 'distributed-mpi'] as const;

/** Runs a command and returns its stdout; on failure the error carries stdout and stderr. */
export function run(command: string, args: readonly string[], cwd: string, timeout = 240_000): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout,
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The workspace's TypeScript compiler, run with the current Node. */
export function tsc(args: readonly string[], cwd: string): string {
  const require = createRequire(join(ROOT, 'package.json'));
  return run(process.execPath, [require.resolve('typescript/bin/tsc'), ...args], cwd);
}

/** Builds the two packages' dist/ folders (incremental: quick when nothing changed). */
export function build(): void {
  tsc(['-b', ...PACKAGES.map((p) => `packages/${p}`)], ROOT);
}

/** A fresh folder outside the workspace, so nothing resolves through the workspace's node_modules. */
export function freshDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Packs a workspace package with pnpm (which rewrites workspace:* dependencies) into `destination`. */
export function pack(name: string, destination: string): string {
  const before = new Set(readdirSync(destination));
  run('pnpm', ['pack', '--pack-destination', destination], join(ROOT, 'packages', name));
  const made = readdirSync(destination).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`pnpm pack of ${name} produced ${made.length} tarballs in ${destination}`);
  return join(destination, made[0] as string);
}
