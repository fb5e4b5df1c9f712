// One Adam update of a [784, 512] parameter, jitted, on the backend named by argv[2]: the time of
// the fused elementwise kernel (CPU time per call, less sensitive to other processes than wall time).
import * as api from '@flint/api';
import '@flint/backend-mkl';
import '@flint/backend-cpu';

const backend = process.argv[2] ?? 'mkl';
api.setBackend(backend);
const shape = [784, 512];
const size = 784 * 512;
const fill = (seed: number) =>
  api.tensor(
    Float32Array.from({ length: size }, (_, i) => Math.sin(i * seed)),
    { shape },
  );
const update = api.jit(
  (w: api.Tensor, m: api.Tensor, v: api.Tensor, g: api.Tensor, c1: api.Tensor, c2: api.Tensor) => {
    const mN = api.add(api.mul(m, 0.9), api.mul(g, 0.1));
    const vN = api.add(api.mul(v, 0.999), api.mul(api.mul(g, g), 0.001));
    const w2 = api.sub(w, api.div(api.mul(api.div(mN, c1), 1e-3), api.add(api.sqrt(api.div(vN, c2)), 1e-8)));
    return [w2, mN, vN];
  },
  { donateArgnums: [0, 1, 2] },
);
let w = fill(1),
  m = fill(2),
  v = api.abs(fill(3));
const g = fill(4);
const c1 = api.tensor([0.1], { shape: [1] });
const c2 = api.tensor([0.01], { shape: [1] });
for (let round = 0; round < 5; round++) {
  const n = 50;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) [w, m, v] = update(w, m, v, g, c1, c2) as [api.Tensor, api.Tensor, api.Tensor];
  const wall = (performance.now() - t0) / n;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${backend}: ${wall.toFixed(3)} ms wall, ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms cpu per update`);
}
const lowered = update.lower(w, m, v, g, c1, c2);
console.log(`compiled ${lowered.compiledKernels}, op by op ${lowered.fallbackKernels}`);
if (process.env.SHOW_IR) console.log(lowered.toString());
