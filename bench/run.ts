/**
 * `npm run bench -- [suite ...] [options]`: Flint side by side with TensorFlow.js, jax-js, PyTorch,
 * NumPy and native BLAS/oneDNN, as ratios, with charts. See bench/README.md.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE } from './harness/cli.js';
import { runBenchmarks } from './harness/main.js';
import { updateReadme } from './harness/readme.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);

try {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
  } else {
    const summary = await runBenchmarks(
      options,
      { benchDir, buildDir: path.join(benchDir, '.build') },
      ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    );
    if (!options.quick && options.outDir === undefined)
      updateReadme(path.join(benchDir, 'README.md'), summary.report, summary.markdownPath);
    // A wrong Flint kernel fails the command, so that CI and scripts notice.
    process.exitCode = summary.wrongFlintFigures > 0 ? 1 : 0;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
