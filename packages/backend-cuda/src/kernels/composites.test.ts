// The composite ops' kernels on cuda (kernels/composites.ts, native/normalization.cu) against the
// api's composites on the portable CPU backend without its composite kernels ('cpu-ops'): softmax and log-softmax over every axis and on
// views, layer norm and batch norm with every affine combination, their gradients through
// backward(), max pooling's backward pass over overlapping, padded and dilated windows with ties,
// NaN and -Infinity, and the dtypes they decline. Runs on a GPU, or on the CPU emulation (the
// cuda-emulation project of vitest.config.ts); skipped with the reason elsewhere.
import '@flint/backend-cpu';
import { initBackend, maxPool2d, maxPool3d, nn, type Tensor, tensor, tidy } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_OPS } from '../../../../test/support/cpu-ops.test-support.js';
import type { CudaBackend } from '../backend.js';
import { cudaUnavailable } from '../cuda-availability.test-support.js';

type Name = 'cuda' | typeof CPU_OPS;

/** Deterministic values in (-scale, scale). */
function values(count: number, seed: number, scale = 3): number[] {
  return Array.from({ length: count }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * scale);
}

function input(backend: Name, shape: number[], seed: number, options: { requiresGrad?: boolean; dtype?: 'float32' | 'float64' } = {}) {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(values(size, seed), { shape, backend, dtype: options.dtype ?? 'float32', requiresGrad: options.requiresGrad ?? false });
}

/** Runs `fn` on both backends and reads every tensor it returns. */
async function onBoth(fn: (backend: Name) => Tensor[]): Promise<Record<Name, number[][]>> {
  const result = {} as Record<Name, number[][]>;
  for (const backend of ['cuda', CPU_OPS] as const) {
    const tensors = tidy(() => fn(backend));
    result[backend] = [];
    for (const t of tensors) {
      result[backend].push(Array.from(await t.data(), Number));
      t.dispose();
    }
  }
  return result;
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i] as number, expected[i] as number];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      expect(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${label} [${i}]: ${a} vs ${e}`).toBe(true);
    } else if (Math.abs(a - e) > tolerance * Math.max(1, Math.abs(e))) {
      expect.fail(`${label} [${i}]: ${a} differs from ${e} by more than ${tolerance}`);
    }
  }
}

async function expectAgree(label: string, fn: (backend: Name) => Tensor[], tolerance = 2e-6): Promise<void> {
  const { cuda, [CPU_OPS]: cpu } = await onBoth(fn);
  expect(cuda.length).toBe(cpu.length);
  cuda.forEach((v, i) => {
    expectClose(v, cpu[i] as number[], tolerance, `${label}, output ${i}`);
  });
}

describe.skipIf(cudaUnavailable('composite kernel tests') !== undefined)('the composite kernels on cuda', () => {
  let cuda: CudaBackend;
  beforeAll(async () => {
    cuda = (await initBackend('cuda')) as unknown as CudaBackend;
  });
  const runs = () => cuda.deviceMemory().compositeKernel;
  /** Batch norm runs through cuDNN where it is present (normEngine 'auto'), else through the own kernels. */
  const normRuns = () => {
    const counters = cuda.deviceMemory();
    return counters.compositeKernel + counters.normCudnn;
  };

  for (const log of [false, true]) {
    const op = log ? nn.functional.logSoftmax : nn.functional.softmax;
    const name = log ? 'logSoftmax' : 'softmax';

    it(`${name}: every axis of ranks 1 to 4, float32 and float64, each one launch`, async () => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const shape of [[7], [5, 9], [3, 4, 6], [2, 3, 4, 5], [2, 70]]) {
          for (let axis = -shape.length; axis < shape.length; axis++) {
            const before = runs();
            await expectAgree(
              `${name} ${dtype} ${shape} axis ${axis}`,
              (b) => [op(input(b, shape, 11 + axis, { dtype }), axis)],
              dtype === 'float32' ? 2e-6 : 1e-13,
            );
            expect(runs()).toBe(before + 1);
          }
        }
      }
    });

    it(`${name}: transposed and sliced views`, async () => {
      await expectAgree(`${name} views`, (b) => {
        const x = input(b, [6, 5, 4], 3);
        const transposed = x.transpose([2, 0, 1]);
        const sliced = x.slice([1, 0, 1], [5, 5, 4]);
        return [op(transposed, -1), op(transposed, 1), op(sliced, -1), op(sliced, 0)];
      });
    });

    it(`${name}: -Infinity, NaN, +Infinity and large magnitudes as the composite`, async () => {
      const rows = [
        [1, 2, Number.NEGATIVE_INFINITY, 3],
        [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
        [1, Number.NaN, 2, 3],
        [1, Number.POSITIVE_INFINITY, 2, 3],
        [1e30, -1e30, 3e38, -3e38],
        [1e4, 1e4 + 1, -1e4, 1e4 - 1],
      ];
      await expectAgree(`${name} extremes`, (b) => [op(tensor(rows, { backend: b }), -1), op(tensor(rows, { backend: b }).transpose(), 0)]);
    });

    it(`${name}: the gradient by backward() runs the backward kernel and equals the composite's`, async () => {
      for (const [shape, axis] of [
        [[6, 9], -1],
        [[3, 4, 5], 1],
        [[5, 4], 0],
      ] as const) {
        const before = runs();
        await expectAgree(
          `${name} backward ${shape} ${axis}`,
          (b) => {
            const x = input(b, [...shape], 14, { requiresGrad: true });
            op(x, axis).backward(input(b, [...shape], 15));
            return [x.grad as Tensor];
          },
          1e-5,
        );
        expect(runs()).toBe(before + 2);
      }
    });
  }

  it('layer norm with every affine combination: values and every gradient', async () => {
    for (const { shape, normalized } of [
      { shape: [6, 10], normalized: [10] },
      { shape: [2, 3, 4, 5], normalized: [4, 5] },
      { shape: [8], normalized: [8] },
      { shape: [300, 40], normalized: [40] },
    ]) {
      for (const affine of ['none', 'weight', 'bias', 'both'] as const) {
        const before = runs();
        await expectAgree(
          `layerNorm ${shape} ${affine}`,
          (b) => {
            const x = input(b, shape, 21, { requiresGrad: true });
            const weight = affine === 'weight' || affine === 'both' ? input(b, normalized, 22, { requiresGrad: true }) : null;
            const bias = affine === 'bias' || affine === 'both' ? input(b, normalized, 23, { requiresGrad: true }) : null;
            const y = nn.functional.layerNorm(x, normalized, { weight, bias, eps: 1e-5 });
            y.backward(input(b, shape, 24));
            return [y, x.grad as Tensor, ...(weight ? [weight.grad as Tensor] : []), ...(bias ? [bias.grad as Tensor] : [])];
          },
          2e-5,
        );
        expect(runs()).toBe(before + 2);
      }
    }
  });

  it('batch norm in training, with every affine combination: values, statistics and every gradient', async () => {
    for (const shape of [
      [4, 3],
      [2, 3, 5, 5],
      [3, 2, 7],
      [64, 4, 3, 3],
    ]) {
      const channels = [shape[1] as number];
      for (const affine of ['none', 'weight', 'bias', 'both'] as const) {
        const before = normRuns();
        await expectAgree(
          `batchNorm ${shape} ${affine}`,
          (b) => {
            const x = input(b, shape, 31, { requiresGrad: true });
            const weight = affine === 'weight' || affine === 'both' ? input(b, channels, 32, { requiresGrad: true }) : null;
            const bias = affine === 'bias' || affine === 'both' ? input(b, channels, 33, { requiresGrad: true }) : null;
            const { output, mean, unbiasedVariance } = nn.functional.batchNormTraining(x, { weight, bias, eps: 1e-5 });
            output.backward(input(b, shape, 34));
            return [
              output,
              mean,
              unbiasedVariance,
              x.grad as Tensor,
              ...(weight ? [weight.grad as Tensor] : []),
              ...(bias ? [bias.grad as Tensor] : []),
            ];
          },
          2e-5,
        );
        expect(normRuns()).toBe(before + 2);
      }
    }
  });

  it('batch norm with running statistics (inference), on a transposed input', async () => {
    const before = normRuns();
    await expectAgree('batchNorm inference', (b) => {
      const x = input(b, [5, 3, 4], 41).transpose([0, 1, 2]);
      const mean = input(b, [3], 42);
      const variance = input(b, [3], 43).abs().add(0.5);
      const weight = input(b, [3], 44);
      const bias = input(b, [3], 45);
      const permuted = input(b, [4, 3, 5], 46).transpose([2, 1, 0]);
      return [nn.functional.batchNorm(x, mean, variance, { weight, bias }), nn.functional.batchNorm(permuted, mean, variance)];
    });
    expect(normRuns()).toBe(before + 2);
  });

  it('batch norm with running statistics takes an empty batch', async () => {
    await expectAgree('batchNorm inference, empty batch', (b) => [
      nn.functional.batchNorm(tensor(new Float32Array(0), { shape: [0, 3, 4], backend: b }), input(b, [3], 47), input(b, [3], 48).abs()),
    ]);
  });

  it('max pooling backward: overlapping, padded, dilated and 3-d windows, ties, NaN and -Infinity as the composite', async () => {
    const tricky = [
      [1, 1, 0, Number.NaN, 2, 2],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 5, 5, Number.NaN, 1],
      [3, 3, 3, 3, 3, 3],
      [0, 7, Number.NEGATIVE_INFINITY, 7, 1, 0],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, 1],
      [2, Number.NaN, Number.NaN, 0, 4, 4],
    ];
    for (const [label, options, kernel] of [
      ['3x3 stride 2 pad 1', { stride: 2, padding: 1 }, 3],
      ['2x2', {}, 2],
      ['3x3 stride 1 dilation 2 pad 2', { stride: 1, padding: 2, dilation: 2 }, 3],
      ['2x3 stride (1, 2)', { stride: [1, 2] }, [2, 3]],
    ] as const) {
      const before = runs();
      await expectAgree(`maxPool2d ${label}`, (b) => {
        const x = input(b, [2, 3, 9, 8], 51, { requiresGrad: true });
        const t = tensor([tricky], { backend: b, requiresGrad: true });
        const pooled = maxPool2d(x, kernel as never, options as never);
        pooled.backward(input(b, pooled.shape as number[], 52));
        const pooledTricky = maxPool2d(t, kernel as never, options as never);
        pooledTricky.backward(input(b, pooledTricky.shape as number[], 53));
        return [pooled, x.grad as Tensor, pooledTricky, t.grad as Tensor];
      });
      expect(runs()).toBeGreaterThanOrEqual(before + 2);
    }
    await expectAgree('maxPool3d', (b) => {
      const x = input(b, [1, 2, 5, 6, 4], 54, { requiresGrad: true });
      const pooled = maxPool3d(x, 2, { stride: 1 });
      pooled.backward(input(b, pooled.shape as number[], 55));
      return [x.grad as Tensor];
    });
  });

  it('declines float16 and bfloat16 (the api runs them in float32) and runs the composites when switched off', async () => {
    cuda.configure({ composites: false });
    try {
      const before = runs();
      await expectAgree('switched off', (b) => [
        nn.functional.softmax(input(b, [4, 6], 61), -1),
        nn.functional.layerNorm(input(b, [4, 6], 62), [6]),
      ]);
      expect(runs()).toBe(before);
    } finally {
      cuda.configure({ composites: true });
    }
    await expectAgree('float16 softmax', (b) => [nn.functional.softmax(input(b, [4, 6], 63).cast('float16'), -1).cast('float32')], 1e-3);
  });

  it('batch norm asked to run through cuDNN says why it cannot where cuDNN is missing; auto falls back to the own kernels', async () => {
    if (cuda.libraries().cudnn.found) return; // gpu.checks.ts compares the engines where cuDNN is present
    cuda.configure({ normEngine: 'cudnn' });
    try {
      const x = input('cuda', [4, 3, 5], 71);
      expect(() => nn.functional.batchNormTraining(x)).toThrow(/cuda batchNorm: .*cuDNN declined: cuDNN .*not found/);
      x.dispose();
    } finally {
      cuda.configure({ normEngine: 'auto' });
    }
    const before = runs();
    await expectAgree('auto without cuDNN', (b) => [nn.functional.batchNormTraining(input(b, [4, 3, 5], 72)).output]);
    expect(runs()).toBe(before + 1);
  });

  it('refuses what crosses the boundary out of contract, with the reason', () => {
    const addon = cuda.context.addon;
    const x = cuda.fromTypedArray(Float32Array.from(values(12, 1)), [3, 4], 'float32');
    const strided = Int32Array.from([0, 2, 4, 3, 1, 4]);
    expect(() => addon.softmax(0, x.storage.id, strided, 1, false)).toThrow(/input must be contiguous/);
    expect(() => addon.softmax(0, x.storage.id, Int32Array.from([0, 2, 3, 4, 4, 1]), 2, false)).toThrow(
      /axis must be an integer in \[0, 1\]/,
    );
    expect(() => addon.softmax(2, x.storage.id, Int32Array.from([0, 2, 3, 4, 4, 1]), 1, false)).toThrow(/dtype/);
    expect(() =>
      addon.layerNorm(0, x.storage.id, Int32Array.from([0, 2, 3, 4, 4, 1]), x.storage.id, Int32Array.from([0, 1, 4, 1]), null, null, 1, -1),
    ).toThrow(/eps must be finite and at least 0/);
    expect(() =>
      addon.layerNorm(
        0,
        x.storage.id,
        Int32Array.from([0, 2, 3, 4, 4, 1]),
        x.storage.id,
        Int32Array.from([0, 1, 5, 1]),
        null,
        null,
        1,
        1e-5,
      ),
    ).toThrow(/weight does not have the shape/);
    expect(() => addon.batchNorm(0, x.storage.id, Int32Array.from([0, 1, 12, 1]), null, null, null, null, 1e-5, 0)).toThrow(
      /rank 2 or more/,
    );
    expect(() => addon.batchNorm(0, x.storage.id, Int32Array.from([0, 2, 3, 4, 4, 1]), null, null, null, null, 1e-5, 3)).toThrow(
      /engine must be an integer in \[0, 2\]/,
    );
    cuda.dispose(x);
  });
});
