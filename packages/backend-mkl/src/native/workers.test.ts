import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH, loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: worker tests skipped, the addon is unavailable: ${missing}`);

// Each worker loads the addon itself and runs matmul, conv and pooling of fresh shapes (so the
// shared primitive caches are written concurrently), then reports a checksum of the products.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.path);
const seed = workerData.seed;
let checksum = 0;
for (let round = 0; round < 12; round++) {
  const n = 8 + ((seed * 7 + round) % 9);
  const a = Float32Array.from({ length: n * n }, (_, i) => (i % 5) - 2);
  const layout = Int32Array.from([0, 3, 1, n, n, n * n, n, 1]);
  const out = new Float32Array(n * n);
  addon.matmul(0, a, layout, a, layout, out, round % 3);
  for (const v of out) checksum += v;
  const x = Float32Array.from({ length: 2 * 3 * n * n }, (_, i) => (i % 3) - 1);
  const w = Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => (i % 4) - 1);
  const conv = new Float32Array(2 * 4 * n * n);
  addon.conv(0, x, Int32Array.from([0, 4, 2, 3, n, n, 3 * n * n, n * n, n, 1]), w, Int32Array.from([0, 4, 4, 3, 3, 3, 27, 9, 3, 1]), conv, Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1]));
  const pooled = new Float32Array(2 * 3 * (n - 1) * (n - 1));
  addon.pool(round % 2, 0, x, Int32Array.from([0, 4, 2, 3, n, n, 3 * n * n, n * n, n, 1]), pooled, Int32Array.from([1, 1, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]));
}
parentPort.postMessage(checksum);
`;

function runWorker(seed: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { path: ADDON_PATH, seed } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe.skipIf(missing !== undefined)('the addon in worker threads', () => {
  it('gives every thread the same results when threads share the primitive caches', async () => {
    const alone = await runWorker(1);
    const together = await Promise.all([runWorker(1), runWorker(1), runWorker(2), runWorker(1)]);
    expect(together[0]).toBe(alone);
    expect(together[1]).toBe(alone);
    expect(together[3]).toBe(alone);
    expect(Number.isFinite(together[2])).toBe(true);
  });
});
