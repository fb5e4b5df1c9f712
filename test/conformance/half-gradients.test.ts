// Gradients through float16 and bfloat16: a loss that casts its float32 input to a half dtype,
// computes in it and casts back must have a gradient close to the same loss computed in float32,
// on every registered backend that lists the half dtype (the others are skipped with the reason).
import '@flint/backend-cpu';
import { conv2d, type DType, grad, logSumExp, matmul, nn, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { importWorkspaceBackends, startSelectedBackends } from '../support/workspace-backends.js';

await importWorkspaceBackends();
const backends = await startSelectedBackends();

// Deterministic inputs in [-1, 1].
const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233));

interface Loss {
  readonly name: string;
  readonly shape: readonly number[];
  readonly f: (x: Tensor, dtype: DType, backend: string) => Tensor;
}

const LOSSES: readonly Loss[] = [
  {
    name: 'elementwise: sum(x * x + exp(x / 2) + tanh(x))',
    shape: [3, 4],
    f: (x) => x.mul(x).add(x.div(2).exp()).add(x.tanh()).sum(),
  },
  {
    name: 'matmul and softmax cross-entropy style: logSumExp(x @ w) - mean(x @ w)',
    shape: [4, 6],
    f: (x, dtype, backend) => {
      const w = tensor(values(6 * 5, 3), { dtype, backend, shape: [6, 5] });
      const y = matmul(x, w);
      return logSumExp(y, -1).sum().sub(y.mean());
    },
  },
  {
    name: 'conv2d then relu and mean',
    shape: [1, 2, 5, 5],
    f: (x, dtype, backend) => {
      const k = tensor(values(3 * 2 * 3 * 3, 5), { dtype, backend, shape: [3, 2, 3, 3] });
      return nn.functional.relu(conv2d(x, k)).mean();
    },
  },
];

// One float16 rounding is 2^-11 relative, one bfloat16 rounding 2^-8; a gradient passes through a
// few of them (forward values, backward products), so a few units of each.
const TOLERANCE: Record<'float16' | 'bfloat16', number> = { float16: 1e-2, bfloat16: 6e-2 };

for (const found of backends) {
  const backend = found.backend;
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const reason =
      backend === undefined ? `unavailable: ${found.reason}` : backend.capabilities.dtypes.includes(dtype) ? '' : `does not list ${dtype}`;
    describe.skipIf(reason !== '')(`gradients through ${dtype} on '${found.name}'${reason === '' ? '' : ` (skipped: ${reason})`}`, () => {
      for (const loss of LOSSES) {
        it(`${loss.name} is close to its float32 gradient`, async () => {
          const size = loss.shape.reduce((a, b) => a * b, 1);
          const x = tensor(values(size, 1), { backend: found.name, shape: [...loss.shape] });
          const inDType = (d: DType) => (t: Tensor) => loss.f(t.astype(d), d, found.name).astype('float32');
          const exact = await (grad(inDType('float32'))(x) as Tensor).data();
          const half = grad(inDType(dtype))(x) as Tensor;
          expect(half.dtype).toBe('float32');
          const got = await half.data();
          const scale = Math.max(...Array.from(exact, Math.abs));
          const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - (exact[i] as number))));
          expect(worst).toBeLessThanOrEqual(TOLERANCE[dtype] * scale);
          // And the half gradient is not simply the float32 one: the cast is really in the path.
          expect(Array.from(got).some((v, i) => v !== exact[i])).toBe(true);
        });
      }
    });
  }
}
