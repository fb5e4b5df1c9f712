import '../../packages/backend-mkl/dist/index.js';
import { conv2d, tensor, vjp, type Tensor, setBackend, grad } from '@flint/api';
setBackend('mkl');
const make = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)), { shape });
const time = (label: string, fn: () => void) => { fn(); fn(); const t0 = performance.now(); for (let i = 0; i < 5; i++) fn(); console.log(label, ((performance.now() - t0) / 5).toFixed(1), 'ms'); };
for (const stride of [1, 2]) {
  const x = make([16, 32, 56, 56]);
  const w = make([64, 32, 3, 3]);
  time(`stride ${stride} forward`, () => { const y = conv2d(x, w, { stride, padding: 1 }); y.dataSync(); y.dispose(); });
  time(`stride ${stride} dx`, () => { const g = grad((a: Tensor) => conv2d(a, w, { stride, padding: 1 }).sum())(x) as Tensor; g.dataSync(); g.dispose(); });
  time(`stride ${stride} dw`, () => { const g = grad((b: Tensor) => conv2d(x, b, { stride, padding: 1 }).sum())(w) as Tensor; g.dataSync(); g.dispose(); });
}
