import '@flint/backend-cpu';
import '@flint/backend-webgpu';
import { initBackend, random, setBackend, type Tensor, tensor } from '@flint/api';
import { it } from 'vitest';

it('overheads', async () => {
  const b = await initBackend('webgpu');
  setBackend('webgpu');
  let x: Tensor = tensor([1, 2, 3]);
  await x.add(1).data();
  let t0 = performance.now();
  for (let i = 0; i < 1000; i++) {
    const y = x.neg();
    x.dispose();
    x = y;
  }
  const rec = performance.now() - t0;
  await x.data();
  console.log('1000 tiny kernels: record ms', rec.toFixed(1), 'total ms', (performance.now() - t0).toFixed(1));
  const [k1, k2] = random.splitKeys(random.key(0));
  for (const n of [128, 256]) {
    const a = random.normal(k1!, [n, n]);
    const c = random.normal(k2!, [n, n]);
    await a.matmul(c).data();
    t0 = performance.now();
    await a.matmul(c).data();
    console.log(`${n} matmul ms`, (performance.now() - t0).toFixed(1));
  }
  const big = random.normal(k1!, [1 << 20]);
  await big.exp().data();
  t0 = performance.now();
  await big.exp().data();
  console.log('1M exp ms', (performance.now() - t0).toFixed(1));
  console.log('warm sum', (await big.sum().data())[0], big.sum().dataSync === undefined);
  for (let rep = 0; rep < 3; rep++) {
    t0 = performance.now();
    const s = await big.sum().data();
    console.log('1M sum ms', (performance.now() - t0).toFixed(1), s[0]);
  }
  const cpuSum = tensor(await big.data(), { backend: 'cpu' }).sum().dataSync()[0];
  console.log('cpu sum', cpuSum);
});
