import '../../packages/backend-mkl/dist/index.js';
import { conv2d, tensor, vjp, type Tensor, setBackend } from '@flint/api';
setBackend('mkl');
const make = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)), { shape });
for (const stride of [1, 2]) {
  const x = make([16, 32, 56, 56]);
  const w = make([64, 32, 3, 3]);
  const f = (a: Tensor, b: Tensor) => conv2d(a, b, { stride, padding: 1 });
  const run = () => { const [y, pb] = vjp(f, x, w); const g = make(y.shape as number[]); const [dx, dw] = pb(g) as Tensor[]; dx.dataSync(); dw.dataSync(); for (const t of [y, g, dx, dw]) t.dispose(); pb.dispose(); };
  run(); run();
  const t0 = performance.now(); for (let i = 0; i < 5; i++) run(); console.log('stride', stride, 'fwd+bwd ms', ((performance.now() - t0) / 5).toFixed(1));
}
