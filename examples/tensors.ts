// A first look at tensors: builds a few, runs ops on the default backend and prints the results.
//
//   pnpm exec tsx examples/tensors.ts
import { arange, backendStatus, getBackend, matmul, memory, tensor, tidy } from '@flint/api';
import '@flint/backend-cpu';

console.log(
  'backends:',
  backendStatus()
    .map((b) => `${b.name} (${b.available ? 'available' : b.reason})`)
    .join(', '),
);
console.log('default backend:', getBackend().name);

const x = tensor(
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  { dtype: 'float32' },
);
console.log('x =', x.toString());

const result = tidy(() => {
  const y = matmul(x, x.T);
  console.log('x @ x.T =', y.toString());
  const z = x.sub(x.mean(1, true)).div(x.std(1, true));
  console.log('standardized rows =', z.toString());
  const w = arange(12).reshape([3, 4]).cast('float32').exp().sum(0);
  console.log('exp(arange(12).reshape(3, 4)).sum(0) =', w.toString());
  return y.sum();
});
console.log('sum(x @ x.T) =', result.item());
x.dispose();
result.dispose();
console.log('live buffers after dispose:', memory().buffers);
