import '@flint/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amp, getBackend, grad, matmul, nn, Parameter, setBackend, sum, type Tensor, tensor } from '../index.js';
import { batchNormTraining } from '../nn/functional/normalization.js';
import { useHalfEmulation } from './half-emulation.test-support.js';

let previous: string;
beforeAll(() => {
  previous = getBackend().name;
  useHalfEmulation();
});
afterAll(() => {
  setBackend(previous);
});

const eye = (n: number) =>
  tensor(
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))),
    { dtype: 'float32' },
  );
/** A float16 activation, as a matmul under autocast gives one: exact here, as every value is a float16. */
const halfActivation = (rows: number[][]) => matmul(tensor(rows, { dtype: 'float32' }), eye((rows[0] as number[]).length));
const F16 = { dtype: 'float16' } as const;
// PyTorch's layer_norm of [300, -300, 100, -100] (std sqrt(50000)).
const NORMALIZED = [1.341641, -1.341641, 0.447214, -0.447214];

function expectClose(actual: Tensor, expected: readonly number[], digits = 4): void {
  const values = Array.from(actual.dataSync());
  expect(values.length).toBe(expected.length);
  values.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i] as number, digits);
  });
}

describe('autocast: ops on the float32 list run whole in float32', () => {
  it('normalizes half activations whose squares overflow float16 (layerNorm, groupNorm, batchNorm, rmsNorm)', () => {
    amp.autocast(F16, () => {
      const y = halfActivation([[300, -300, 100, -100]]);
      expect(y.dtype).toBe('float16');
      for (const out of [nn.functional.layerNorm(y, 4), nn.functional.groupNorm(y, 1)]) {
        expect(out.dtype).toBe('float32');
        expectClose(out, NORMALIZED);
      }
      // rms of [300, -300, 100, -100] is sqrt(50000) too, as the mean is 0.
      expectClose(nn.functional.rmsNorm(y, [4]), NORMALIZED);
      const column = halfActivation([[300], [-300]]);
      const batch = nn.functional.batchNorm(column, null, null, { training: true });
      expect(batch.dtype).toBe('float32');
      expectClose(batch, [1, -1]);
      const layer = new nn.BatchNorm1d(1);
      expectClose(layer.forward(column), [1, -1]);
    });
  });

  it('computes the regression losses of two half tensors in float32, as PyTorch (mse 45000.5, not Infinity)', () => {
    amp.autocast(F16, () => {
      const a = halfActivation([[300, 1]]);
      const b = halfActivation([[0, 0]]);
      const mse = nn.functional.mseLoss(a, b);
      expect(mse.dtype).toBe('float32');
      expect(mse.item()).toBeCloseTo(45000.5, 3);
      const big = halfActivation([[60000, -60000]]);
      expect(nn.functional.l1Loss(big, b, { reduction: 'sum' }).item()).toBe(120000);
      expect(nn.functional.smoothL1Loss(a, b, { reduction: 'sum' }).item()).toBeCloseTo(299.5 + 0.5, 3);
      expect(nn.functional.huberLoss(big, b, { delta: 2, reduction: 'sum' }).item()).toBeCloseTo(2 * 2 * (60000 - 1), 1);
      expect(nn.functional.mseLoss(big, b).item()).toBeCloseTo(3.6e9, -3);
    });
  });

  it('runs softmax, logSoftmax and the classification losses on float32 copies of half logits', () => {
    amp.autocast(F16, () => {
      const logits = halfActivation([[60000, -60000, 0]]);
      const logp = nn.functional.logSoftmax(logits);
      expect(logp.dtype).toBe('float32');
      expectClose(logp, [0, -120000, -60000], 1);
      expect(nn.functional.crossEntropy(logits, tensor([1], { dtype: 'int32' })).item()).toBeCloseTo(120000, 1);
      expect(nn.functional.binaryCrossEntropyWithLogits(logits, tensor([[0, 1, 0]])).dtype).toBe('float32');
    });
  });

  it('suspends the down-casts inside the op, restores autocast after it, and lets gradients reach float32 parameters', () => {
    const weight = new Parameter(tensor([1, 2, 3, 4], { dtype: 'float32' }));
    const loss = amp.autocast(F16, () => {
      const out = nn.functional.layerNorm(halfActivation([[300, -300, 100, -100]]), 4, { weight: weight.value });
      expect(amp.isAutocastEnabled()).toBe(true);
      expect(matmul(tensor([[1, 2]]), eye(2)).dtype).toBe('float16');
      return sum(out);
    });
    loss.backward();
    expect(weight.grad?.dtype).toBe('float32');
    // d(sum(w * n))/dw = n.
    expectClose(weight.grad as Tensor, NORMALIZED);
    const g = grad((x: Tensor) => amp.autocast(F16, () => nn.functional.mseLoss(matmul(x, eye(2)), tensor([[0, 0]]))))(
      tensor([[300, 1]], { dtype: 'float32' }),
    );
    expect(g.dtype).toBe('float32');
    expectClose(g, [300, 1], 0);
  });

  it('lists the ops as data; outside autocast nothing is cast', () => {
    expect(amp.FLOAT32_OPS).toEqual(expect.arrayContaining(['layerNorm', 'groupNorm', 'batchNorm', 'rmsNorm', 'mseLoss', 'crossEntropy']));
    const half = tensor([1, 2], F16);
    expect(nn.functional.mseLoss(half, half).dtype).toBe('float16');
    expect(nn.functional.softmax(half).dtype).toBe('float16');
  });
});

describe('normalization of half tensors outside autocast', () => {
  it('takes the statistics in float32, so deviations past 256 do not overflow, and returns the input dtype', () => {
    const x = tensor([[300, -300, 100, -100]], F16);
    const layer = nn.functional.layerNorm(x, 4);
    expect(layer.dtype).toBe('float16');
    expectClose(layer, NORMALIZED, 2);
    expectClose(nn.functional.groupNorm(x, 1), NORMALIZED, 2);
    expectClose(nn.functional.rmsNorm(x, 4), NORMALIZED, 2);
    const stats = batchNormTraining(tensor([[300], [-300]], F16));
    expectClose(stats.output, [1, -1], 2);
    expect(stats.mean.dtype).toBe('float32');
    expectClose(stats.unbiasedVariance, [180000], 0);
  });
});
