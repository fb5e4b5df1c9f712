// The README's "A taste" snippet, kept runnable (test/examples.test.ts runs it).
import { grad, jit, nn, optim, type Tensor, tensor, tidy } from '@flint/api';
import '@flint/backend-cpu'; // registers the portable CPU backend

const x = tensor(
  [
    [1, 2],
    [3, 4],
  ],
  { dtype: 'float32' },
);
console.log(tidy(() => x.matmul(x.T).add(1).sum(1)).toString());

// JAX style: pure functions and transforms.
const f = (w: Tensor) => w.mul(w).sum();
const df = jit(grad(f)); // 2w, compiled
console.log(df(x).toString());

// PyTorch style: modules, backward, optimizers.
const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Linear(8, 1));
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
optimizer.zeroGrad();
const loss = nn.functional.mseLoss(model.forward(x), tensor([[1], [0]], { dtype: 'float32' }));
loss.backward();
optimizer.step();
console.log('loss', loss.item());
