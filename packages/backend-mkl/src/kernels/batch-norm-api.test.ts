import '@flint/backend-cpu';
import { compile, grad, initBackend, jit, nn, noGrad, type Tensor, tensor, tidy, valueAndGrad } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';
import { expectClose, randomValues } from '../values.test-support.js';

// The api's batch norm on mkl, which reaches the addon's batch norm loops (native/batch_norm.cc)
// through Backend.composites, against the composite on the portable backend: eager calls, backward(),
// grad, jit and compile(), the BatchNorm2d layer's training and evaluation. The kernels alone are
// checked in batch-norm.test.ts.

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;

type BackendName = 'mkl' | 'cpu';

/** Runs `fn` on mkl and on cpu (inside tidy) and expects what it read to agree within `tolerance`. */
function expectAgree(fn: (backend: BackendName) => Tensor[], tolerance: number): void {
  const [mkl, cpu] = (['mkl', 'cpu'] as const).map((backend) => tidy(() => fn(backend).map((t) => t.dataSync() as Float32Array)));
  expect(mkl?.length).toBe(cpu?.length);
  mkl?.forEach((values, i) => {
    expectClose(values, cpu?.[i] as Float32Array, tolerance);
  });
}

const input = (backend: BackendName, shape: number[], seed: number, requiresGrad = false) =>
  tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ).map((v) => v * 3 + 0.5),
    { shape, backend, requiresGrad },
  );

describe.skipIf(missing !== undefined)('batch norm on mkl through the fused kernels', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });
  const runs = () => ({
    forward: mkl.compositeRuns('batchNorm'),
    backward: mkl.compositeRuns('batchNormBackward'),
    inference: mkl.compositeRuns('batchNormInference'),
  });
  const since = (before: ReturnType<typeof runs>) => {
    const now = runs();
    return { forward: now.forward - before.forward, backward: now.backward - before.backward, inference: now.inference - before.inference };
  };

  it('training: output, statistics and every cotangent of backward() agree with the composite, ranks 2 to 5', () => {
    for (const shape of [
      [16, 5],
      [4, 6, 9],
      [3, 8, 5, 4],
      [2, 3, 4, 3, 2],
    ]) {
      const before = runs();
      expectAgree((backend) => {
        const channels = shape[1] as number;
        const x = input(backend, shape, 1, true);
        const weight = input(backend, [channels], 2, true);
        const bias = input(backend, [channels], 3, true);
        const { output, mean, unbiasedVariance } = nn.functional.batchNormTraining(x, { weight, bias });
        output
          .mul(input(backend, shape, 4))
          .sum()
          .backward();
        return [output, mean, unbiasedVariance, x.grad as Tensor, weight.grad as Tensor, bias.grad as Tensor];
      }, 2e-5);
      expect(since(before)).toMatchObject({ forward: 1, backward: 1 });
    }
  });

  it('grad(jit(f)), jit(grad(f)) and a compile()d BatchNorm2d step run both kernels and agree', () => {
    const counts: Record<string, ReturnType<typeof since>> = {};
    expectAgree((backend) => {
      const x = input(backend, [8, 4, 6, 6], 5);
      const weight = input(backend, [4], 6);
      const bias = input(backend, [4], 7);
      const target = input(backend, [8, 4, 6, 6], 8);
      const loss = (x: Tensor, w: Tensor, b: Tensor) => nn.functional.batchNormTraining(x, { weight: w, bias: b }).output.mul(target).sum();
      const results: Tensor[] = [];
      const run = (label: string, fn: () => Tensor[]) => {
        const before = runs();
        results.push(...fn());
        if (backend === 'mkl') counts[label] = since(before);
      };
      run('grad(jit)', () => grad(jit(loss), { argnums: [0, 1, 2] })(x, weight, bias) as Tensor[]);
      run('jit(valueAndGrad)', () => {
        const [value, gradients] = jit(valueAndGrad(loss, { argnums: [0, 1, 2] }))(x, weight, bias) as [Tensor, Tensor[]];
        return [value, ...gradients];
      });
      const layer = new nn.BatchNorm2d(4, { backend });
      const step = compile(
        () => {
          layer.zeroGrad();
          layer.forward(x).mul(target).sum().backward();
          return layer.weight?.grad as unknown as Tensor;
        },
        { modules: [layer] },
      );
      run('compile', () => [step() as Tensor, layer.runningMean, layer.runningVar]);
      return results;
    }, 5e-5);
    expect(counts['grad(jit)']).toMatchObject({ forward: 1, backward: 1 });
    expect(counts['jit(valueAndGrad)']).toMatchObject({ forward: 1, backward: 1 });
    expect(counts.compile).toMatchObject({ forward: 1, backward: 1 });
  });

  it('evaluation under noGrad runs the inference kernel and agrees; a BatchNorm1d trains and evaluates alike on both', () => {
    const before = runs();
    expectAgree((backend) => {
      const layer = new nn.BatchNorm1d(6, { backend });
      for (let i = 0; i < 3; i++)
        tidy(() =>
          layer
            .forward(input(backend, [10, 6], 10 + i))
            .sum()
            .backward(),
        );
      layer.eval();
      return [noGrad(() => layer.forward(input(backend, [10, 6], 20))), layer.runningMean, layer.runningVar, layer.weight?.grad as Tensor];
    }, 2e-5);
    expect(since(before)).toMatchObject({ forward: 3, backward: 3, inference: 1 });
  });
});
