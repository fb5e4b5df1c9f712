// The per-call cost of a float32 matmul through the addon and through the api, at sizes where it
// matters (4x4, 64x64) and at 256x256, the benchmark's smallest case:
//   pnpm exec tsx packages/backend-mkl/bench/matmul-overhead.ts [blocks=60] [calls=100]
// Each variant runs `calls` calls into a fixed output (the addon) or `matmul(a, b).dispose()`
// (the api) per block; blocks take turns, variant after variant, so that every variant samples
// the machine's phases alike (a shared VM drifts by tens of percent over seconds). Prints the
// median and the lowest block mean per call, and the cores the variant kept busy (CPU time over
// wall time, OpenMP's spinning workers included). SIZES=4,64 picks sizes; VARIANTS=onednn,api picks
// variants (auto, blas, onednn, api).
import { initBackend, matmul, Primitive, tensor } from '@flint/api';
import { loadAddon, MatmulMode, type MklBackend } from '../src/index.js';

const blocks = Number(process.argv[2] ?? 60);
const calls = Number(process.argv[3] ?? 100);
const sizes = (process.env.SIZES ?? '4,64,256').split(',').map(Number);
const chosen = (process.env.VARIANTS ?? 'auto,blas,onednn,api').split(',');

const loaded = loadAddon();
if (!('addon' in loaded)) throw new Error(`the addon is unavailable: ${loaded.reason}`);
const addon = loaded.addon;
const backend = (await initBackend('mkl')) as unknown as MklBackend;

interface Variant {
  readonly name: string;
  readonly run: () => void;
  readonly means: number[];
  /** CPU time over wall time per block: the cores the variant kept busy (OpenMP's spinning workers included). */
  readonly cores: number[];
}

const variants: Variant[] = [];
const engines: string[] = [];
for (const n of sizes) {
  const values = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const layout = Int32Array.from([0, 3, 1, n, n, n * n, n, 1]);
  const out = new Float32Array(n * n);
  const a = tensor(values, { shape: [n, n], backend: 'mkl' });
  const b = tensor(values, { shape: [n, n], backend: 'mkl' });
  const modes = { auto: MatmulMode.auto, blas: MatmulMode.blas, onednn: MatmulMode.onednn } as const;
  for (const name of chosen) {
    const mode = modes[name as keyof typeof modes];
    const run = mode === undefined ? () => matmul(a, b).dispose() : () => void addon.matmul(0, values, layout, values, layout, out, mode);
    variants.push({ name: `${name} ${n}x${n}`, run, means: [], cores: [] });
  }
  // The engine the per-shape choice settles on (its six trial calls run first).
  let engine = 0;
  for (let i = 0; i < 8; i++) engine = addon.matmul(0, values, layout, values, layout, out, MatmulMode.auto);
  engines.push(`${n}: ${engine === MatmulMode.onednn ? 'oneDNN' : 'CBLAS'}`);
}

for (const variant of variants) for (let i = 0; i < calls; i++) variant.run(); // warm-up
for (let block = 0; block < blocks; block++) {
  for (let k = 0; k < variants.length; k++) {
    // Each block starts with another variant, so that none always follows the same neighbour.
    const variant = variants[(block + k) % variants.length]!;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) variant.run();
    const wall = Number(process.hrtime.bigint() - start) / 1e3;
    const used = process.cpuUsage(cpu);
    variant.means.push(wall / calls);
    variant.cores.push((used.user + used.system) / wall);
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const us = (value: number) => `${value.toFixed(value < 10 ? 3 : 1)} us`.padStart(11);
console.log(`auto's engine per size: ${engines.join(', ')}; ${blocks} blocks of ${calls} calls`);
for (const variant of variants) {
  const cores = median(variant.cores).toFixed(2);
  console.log(`${variant.name.padEnd(16)} median ${us(median(variant.means))}   lowest ${us(Math.min(...variant.means))}   cores ${cores}`);
}
console.log(`(dotGeneral native runs: ${backend.nativeRuns(Primitive.DotGeneral)})`);
