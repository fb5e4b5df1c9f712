// What users install: the built, packed packages. (a) pnpm-packed tarballs installed with npm into a
// fresh project outside the workspace, then imported by a Node program and type-checked by strict
// TypeScript; (b) a browser bundle made with esbuild, which must not pull in any Node built-in, and
// which must run in a sandbox that has no Node globals.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import vm from 'node:vm';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, FIXTURES, freshDirectory, PACKAGES, pack, ROOT, run, tsc } from './workspace.js';

const MINUTES = 60_000;

beforeAll(() => {
  build();
}, 5 * MINUTES);

describe('packed tarballs in a fresh npm project', () => {
  let project = '';
  const tarballs = new Map<string, string>();

  beforeAll(() => {
    project = freshDirectory('flint-packaging-');
    const packed = join(project, 'tarballs');
    mkdirSync(packed);
    for (const name of PACKAGES) tarballs.set(name, pack(name, packed));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'flint-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    const paths = [...tarballs.values()].map((t) => `./${relative(project, t)}`);
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...paths], project, 4 * MINUTES);
    for (const file of ['consumer.mjs', 'consumer.ts']) copyFileSync(join(FIXTURES, file), join(project, file));
  }, 5 * MINUTES);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it.each(PACKAGES)('the %s tarball ships dist/ with declarations, and no sources or tests', (name) => {
    const files = execFileSync('tar', ['-tzf', tarballs.get(name) as string], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(files).toContain('package/package.json');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    expect(files.filter((f) => /\.test\.|\.tsbuildinfo$/.test(f))).toEqual([]);
  });

  it('the packed backend depends on the packed api version, not on workspace:*', () => {
    const api = JSON.parse(readFileSync(join(project, 'node_modules/@flint/api/package.json'), 'utf8')) as { version: string };
    const backend = JSON.parse(readFileSync(join(project, 'node_modules/@flint/backend-cpu/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(backend.dependencies['@flint/api']).not.toMatch(/workspace/);
    expect(backend.dependencies['@flint/api']).toContain(api.version);
  });

  it('a Node program imports both packages and computes a matmul and a sum', () => {
    const output = run(process.execPath, ['consumer.mjs'], project).trim().split('\n').at(-1) as string;
    const result = JSON.parse(output) as { matmul: number[][]; sum: number; dtype: string; backends: string[]; nodeSubpath: string };
    expect(result.matmul).toEqual([
      [19, 22],
      [43, 50],
    ]);
    expect(result.sum).toBe(134);
    expect(result.dtype).toBe('int32');
    expect(result.backends).toContain('cpu:true');
    expect(result.nodeSubpath).toBe('object');
  });

  it('strict TypeScript compiles a consumer against the shipped declarations', () => {
    const config = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM', 'esnext.disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config, null, 2));
    expect(() => tsc(['-p', 'tsconfig.json'], project)).not.toThrow();
  });
});

const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));

function isNodeBuiltin(path: string): boolean {
  if (path.startsWith('node:')) return true;
  return NODE_BUILTINS.has(path) || NODE_BUILTINS.has(path.split('/')[0] as string);
}

/** Fails the build at the first import of a Node built-in, naming the module that imports it. */
const rejectNodeBuiltins: Plugin = {
  name: 'reject-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!isNodeBuiltin(args.path)) return undefined;
      return { errors: [{ text: `Node built-in '${args.path}' is imported by ${relative(ROOT, args.importer)}` }] };
    });
  },
};

async function bundle(format: 'esm' | 'iife'): Promise<{ code: string; metafile: Metafile }> {
  const result = await esbuild({
    entryPoints: [join(FIXTURES, 'browser-entry.js')],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { globalName: 'FlintBundle' } : {}),
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [rejectNodeBuiltins],
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output');
  return { code: file.text, metafile: result.metafile };
}

describe('browser bundle', () => {
  it('bundles @flint/api and @flint/backend-cpu for the browser without any Node built-in', async () => {
    const { code, metafile } = await bundle('esm');
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((i) => i.includes('packages/api/') || i.includes('@flint/api'))).toBe(true);
    expect(inputs.some((i) => i.includes('packages/backend-cpu/') || i.includes('@flint/backend-cpu'))).toBe(true);
    const imported = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imported.filter(isNodeBuiltin)).toEqual([]);
    expect(code).not.toMatch(/\brequire\(["'](node:)?(fs|path|os|child_process|module|url|worker_threads)["']\)/);
  });

  it('the bundle computes in a sandbox with no Node globals (no process, require or Buffer)', async () => {
    const { code } = await bundle('iife');
    const sandbox: Record<string, unknown> = { console };
    const result = vm.runInNewContext(`${code}\nFlintBundle.compute();`, sandbox, { timeout: 30_000 }) as {
      matmul: number[][];
      sum: number;
    };
    expect(JSON.parse(JSON.stringify(result))).toEqual({
      matmul: [
        [7, 10],
        [15, 22],
      ],
      sum: 54,
    });
    expect(vm.runInNewContext('typeof process + typeof require + typeof Buffer', sandbox)).toBe('undefinedundefinedundefined');
  });
});
