import '@flint/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DTypeError, ValueError } from '../core/errors.js';
import {
  amp,
  conv2d,
  DTYPES,
  einsum,
  getBackend,
  grad,
  jit,
  matmul,
  nn,
  Parameter,
  setBackend,
  sum,
  type Tensor,
  tensor,
} from '../index.js';
import { useBackendWithoutHalf, useHalfEmulation } from './half-emulation.test-support.js';

let previous: string;
beforeAll(() => {
  previous = getBackend().name;
  useHalfEmulation();
});
afterAll(() => {
  setBackend(previous);
});

const x = () =>
  tensor([
    [0.5, -1.25, 2],
    [1, 0.75, -0.5],
  ]);
const w = () =>
  tensor([
    [0.25, 1],
    [-0.5, 0.125],
    [2, -1],
  ]);

describe('autocast', () => {
  it('runs matmul, einsum, linear and conv in the autocast dtype, and softmax, logSoftmax, exp, sums and losses in float32', () => {
    amp.autocast({ dtype: 'float16' }, () => {
      expect(matmul(x(), w()).dtype).toBe('float16');
      expect(einsum('ij,jk->ik', x(), w()).dtype).toBe('float16');
      const layer = new nn.Linear(3, 2);
      const hidden = layer.forward(x());
      expect(hidden.dtype).toBe('float16');
      expect(
        conv2d(
          tensor([
            [
              [
                [1, 2],
                [3, 4],
              ],
            ],
          ]),
          tensor([[[[1]]]]),
        ).dtype,
      ).toBe('float16');
      // Elementwise ops follow promotion: they stay in half.
      expect(nn.functional.relu(hidden).dtype).toBe('float16');
      expect(hidden.add(hidden).dtype).toBe('float16');
      // Numerically sensitive ones compute in float32.
      expect(nn.functional.softmax(hidden).dtype).toBe('float32');
      expect(nn.functional.logSoftmax(hidden).dtype).toBe('float32');
      expect(hidden.exp().dtype).toBe('float32');
      expect(sum(hidden).dtype).toBe('float32');
      // mean is not on PyTorch's float32 list either: it accumulates in float32 and rounds once to half.
      expect(hidden.mean().dtype).toBe('float16');
      expect(nn.functional.crossEntropy(hidden, tensor([0, 1], { dtype: 'int32' })).dtype).toBe('float32');
      expect(
        nn.functional.mseLoss(
          hidden,
          tensor([
            [0, 1],
            [1, 0],
          ]),
        ).dtype,
      ).toBe('float32');
      // float64 is left alone, as in PyTorch.
      expect(matmul(x().astype('float64'), w().astype('float64')).dtype).toBe('float64');
    });
    expect(matmul(x(), w()).dtype).toBe('float32');
    expect(amp.isAutocastEnabled()).toBe(false);
  });

  it('computes the product in half precision: the result equals the float32 one rounded, within half tolerance', () => {
    const exact = matmul(x(), w()).dataSync();
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const half = amp.autocast({ dtype }, () => matmul(x(), w()));
      expect(half.dtype).toBe(dtype);
      const tolerance = dtype === 'float16' ? 2e-3 : 2e-2;
      Array.from(half.dataSync()).forEach((v, i) => {
        expect(Math.abs(v - (exact[i] as number))).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(exact[i] as number)));
      });
    }
  });

  it('nests: enabled false turns it off inside, an inner dtype wins, and the outer state comes back', () => {
    amp.autocast({ dtype: 'bfloat16' }, () => {
      expect(amp.autocastDtype()).toBe('bfloat16');
      expect(amp.autocast({ enabled: false }, () => matmul(x(), w()).dtype)).toBe('float32');
      expect(amp.autocast({ dtype: 'float16' }, () => matmul(x(), w()).dtype)).toBe('float16');
      expect(matmul(x(), w()).dtype).toBe('bfloat16');
    });
    expect(amp.autocastDtype()).toBeNull();
    expect(() =>
      amp.autocast({ dtype: 'float16' }, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(amp.isAutocastEnabled()).toBe(false);
  });

  it('has a scope form for `using`', () => {
    {
      using _scope = amp.autocastScope({ dtype: 'bfloat16' });
      expect(matmul(x(), w()).dtype).toBe('bfloat16');
    }
    expect(matmul(x(), w()).dtype).toBe('float32');
    const scope = amp.autocastScope();
    expect(amp.autocastDtype()).toBe('float16');
    scope.dispose();
    scope.dispose();
    expect(amp.isAutocastEnabled()).toBe(false);
  });

  it('lets gradients flow through the casts: float32 parameters get float32 gradients close to the float32 ones', () => {
    const loss = (weight: Tensor) =>
      nn.functional.mseLoss(
        matmul(x(), weight),
        tensor([
          [1, 0],
          [0, 1],
        ]),
      );
    const exact = grad(loss)(w());
    const mixed = amp.autocast({ dtype: 'float16' }, () => grad(loss)(w()));
    expect(mixed.dtype).toBe('float32');
    const e = exact.dataSync();
    Array.from(mixed.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(e[i] as number, 2);
    });
    // The imperative tape, too: forward under autocast, backward after.
    const p = new Parameter(w());
    const value = amp.autocast({ dtype: 'bfloat16' }, () => loss(p.value));
    expect(value.dtype).toBe('float32');
    value.backward();
    expect(p.grad?.dtype).toBe('float32');
    Array.from(p.grad?.dataSync() ?? []).forEach((v, i) => {
      expect(Math.abs(v - (e[i] as number))).toBeLessThan(0.05 * Math.max(1, Math.abs(e[i] as number)));
    });
  });

  it('is recorded by jit when the jitted function enters it', () => {
    const f = jit((a: Tensor, b: Tensor) => amp.autocast({ dtype: 'float16' }, () => nn.functional.softmax(matmul(a, b))));
    const traced = f(x(), w());
    const eager = amp.autocast({ dtype: 'float16' }, () => nn.functional.softmax(matmul(x(), w())));
    expect(traced.dtype).toBe('float32');
    expect(Array.from(traced.dataSync())).toEqual(Array.from(eager.dataSync()));
    expect(f.lower(x(), w()).toString()).toContain('float16');
  });

  it('checks half support on the backend the tensors live on, not the default backend', () => {
    const onHalf = [x(), w()] as const;
    useBackendWithoutHalf();
    try {
      // The default backend has no float16; the tensors' backend (half-emulated) has.
      const product = amp.autocast({ dtype: 'float16' }, () => matmul(...onHalf));
      expect(product.dtype).toBe('float16');
      expect(product.backend).toBe(onHalf[0].backend);
    } finally {
      useHalfEmulation();
    }
  });

  it('rejects bad options and backends without half dtypes clearly', () => {
    expect(() => amp.autocast({ dtype: 'float64' as never }, () => 0)).toThrow(DTypeError);
    expect(() => amp.autocast({ dtype: 'float64' as never }, () => 0)).toThrow(
      "autocast: dtype must be 'float16' or 'bfloat16', got \"float64\"",
    );
    expect(() => amp.autocast({ device: 'cuda' } as never, () => 0)).toThrow(ValueError);
    expect(amp.autocast({ enabled: false }, () => 1)).toBe(1);
    useBackendWithoutHalf();
    try {
      // Checked where the inputs live, when a matmul would cast them: entering is fine.
      expect(amp.autocast({ dtype: 'float16' }, () => 0)).toBe(0);
      expect(() => amp.autocast({ dtype: 'float16' }, () => matmul(x(), w()))).toThrow(
        "autocast: backend 'no-half' does not support float16",
      );
    } finally {
      useHalfEmulation();
    }
    expect(DTYPES).toContain('bfloat16');
  });
});
