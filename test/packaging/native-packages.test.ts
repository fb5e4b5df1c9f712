// What a published native package needs to build its addon: its scripts/build.mjs and all it
// imports must come in the tarball or from a declared dependency (@flint/native-build), never from
// the repository around it, where a `../../../scripts/` import resolves and nowhere else. The
// tarballs are unpacked into a fresh node_modules with no registry involved, and the scripts are
// imported and run with Node; the compiler run itself is left to the packages' own tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDirectory, NATIVE_PACKAGES, pack, ROOT, run } from './workspace.js';

const MINUTES = 60_000;
const HELPER = 'native-build';

/** The function each package's scripts/build.mjs exports to build its addon. */
const BUILD_FUNCTIONS: Record<(typeof NATIVE_PACKAGES)[number], string> = {
  'backend-mkl': 'buildMklBackend',
  'backend-cuda': 'buildCudaBackend',
  'distributed-mpi': 'buildMpiTransport',
};

interface Manifest {
  readonly version: string;
  readonly dependencies?: Record<string, string>;
}

function manifest(root: string): Manifest {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
}

describe('native packages unpacked outside the workspace', () => {
  let project = '';
  const unpacked = new Map<string, string>();

  beforeAll(() => {
    project = freshDirectory('flint-native-packaging-');
    const tarballs = join(project, 'tarballs');
    mkdirSync(tarballs);
    for (const name of [HELPER, ...NATIVE_PACKAGES]) {
      const root = join(project, 'node_modules', '@flint', name);
      mkdirSync(root, { recursive: true });
      run('tar', ['-xzf', pack(name, tarballs), '-C', root, '--strip-components=1'], project);
      unpacked.set(name, root);
    }
  }, 3 * MINUTES);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('the helper package ships its module and nothing else', () => {
    const root = unpacked.get(HELPER) as string;
    expect(existsSync(join(root, 'native-build.mjs'))).toBe(true);
    expect(manifest(root).version).toBe(manifest(join(ROOT, 'packages', HELPER)).version);
  });

  it.each(NATIVE_PACKAGES)('%s depends on the packed helper version, not on workspace:*', (name) => {
    const dependency = manifest(unpacked.get(name) as string).dependencies?.[`@flint/${HELPER}`];
    expect(dependency).toBe(manifest(unpacked.get(HELPER) as string).version);
  });

  it.each(NATIVE_PACKAGES)('%s: scripts/build.mjs imports, its helper resolved from node_modules', (name) => {
    const script = pathToFileURL(join(unpacked.get(name) as string, 'scripts', 'build.mjs')).href;
    const program = `const m = await import(${JSON.stringify(script)}); console.log(typeof m[${JSON.stringify(BUILD_FUNCTIONS[name])}]);`;
    const output = run(process.execPath, ['--input-type=module', '-e', program], project);
    expect(output.trim()).toBe('function');
  });

  it('backend-mkl: the build script runs, hashes the shipped sources and records why it built nothing', () => {
    const root = unpacked.get('backend-mkl') as string;
    const env: Record<string, string | undefined> = { ...process.env, FLINT_MKL_NO_INSTALL: '1' };
    delete env.FLINT_MKL_SKIP_BUILD;
    // `pnpm exec` puts the workspace's packages on NODE_PATH, where cmake-js would be found and run.
    delete env.NODE_PATH;
    // Without cmake-js (not unpacked here) the build stops before any compiler run, and exits 0.
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, env, stdio: 'pipe', timeout: MINUTES });
    const status = JSON.parse(readFileSync(join(root, 'build', 'flint-mkl-status.json'), 'utf8')) as { built: boolean; reason: string };
    expect(status.built).toBe(false);
    expect(status.reason).toMatch(/cmake-js is not installed|missing /);
    expect(status.reason).not.toMatch(/could not run/);
  });
});
