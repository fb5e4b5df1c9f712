// Matmul throughput of the mkl backend against the portable cpu backend, and of the addon's two
// engines (CBLAS, oneDNN) on their own:
//   pnpm exec tsx packages/backend-mkl/bench/matmul.ts [size=1024]
// The workspace benchmarks (bench/, `npm run bench -- matmul`) compare with PyTorch and others.
import '@flint/backend-cpu';
import { matmul, tensor } from '@flint/api';
import { loadAddon, MatmulMode } from '../src/index.js';

const size = Number(process.argv[2] ?? 1024);
const flops = 2 * size ** 3;
const values = Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);

/** Runs `run` for about `seconds`; prints the best and the median run (the best resists other load on the machine). */
function measure(label: string, run: () => void, seconds = 3): void {
  run(); // warm-up: primitive creation, engine choice, page faults
  run();
  run();
  run();
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || times.length < 5) {
    const before = performance.now();
    run();
    times.push((performance.now() - before) / 1000);
  }
  times.sort((a, b) => a - b);
  const rate = (t: number) => (flops / t / 1e9).toFixed(1).padStart(6);
  const best = times[0]!;
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(26)} best ${rate(best)} GFLOP/s, median ${rate(median)} GFLOP/s (${times.length} runs)`);
}

for (const backend of ['mkl', 'cpu']) {
  const a = tensor(values, { shape: [size, size], backend });
  const b = tensor(values, { shape: [size, size], backend });
  measure(`flint ${backend} matmul ${size}`, () => matmul(a, b).dispose());
  a.dispose();
  b.dispose();
}

const loaded = loadAddon();
if ('addon' in loaded) {
  const layout = Int32Array.from([0, 3, 1, size, size, size * size, size, 1]);
  const out = new Float32Array(size * size);
  for (const [name, mode] of [
    ['addon CBLAS sgemm', MatmulMode.blas],
    ['addon oneDNN matmul', MatmulMode.onednn],
  ] as const) {
    measure(name, () => loaded.addon.matmul(0, values, layout, values, layout, out, mode));
  }
  console.log(`(${JSON.stringify(loaded.addon.info())})`);
}
