import { compile, grad, jit, jvp, noGrad, type Tensor, tensor, valueAndGrad, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { type calls, counted, expectAgree, input } from './fused-composite.test-support.js';

// Batch norm's dispatch to a backend's composite kernels (batchNorm, batchNormBackward), on the
// test backend whose kernels are JavaScript references ('cpu-fused'), against 'cpu', which has
// none: which calls reach the kernels, and that every derivative agrees, through the output and
// through the batch statistics.

const F = nn.functional;

/** A loss reading the output, and optionally the batch statistics, with distinct weights per element. */
function loss(backend: 'cpu-fused' | 'cpu', x: Tensor, weight: Tensor | null, bias: Tensor | null, statistics: boolean): Tensor {
  const { output, mean, unbiasedVariance } = F.batchNormTraining(x, { weight, bias, eps: 0.01 });
  let total = output.mul(input(backend, [...x.shape], 40)).sum();
  if (statistics) total = total.add(mean.mul(input(backend, [...mean.shape], 41)).sum()).add(unbiasedVariance.sum());
  return total;
}

describe('batch norm on a backend with composite kernels (Backend.composites)', () => {
  it('an eager call runs the kernel for ranks 2 to 4, with and without weight and bias, and agrees', () => {
    for (const shape of [
      [6, 3],
      [4, 3, 5],
      [2, 3, 4, 2],
    ]) {
      for (const affine of [false, true]) {
        const made = counted(() =>
          expectAgree((backend) => {
            const weight = affine ? input(backend, [3], 1) : null;
            const bias = affine ? input(backend, [3], 2) : null;
            const { output, mean, unbiasedVariance } = F.batchNormTraining(input(backend, shape, 3), { weight, bias });
            return [output, mean, unbiasedVariance];
          }),
        );
        expect(made).toMatchObject({ batchNorm: 1, declined: 0 });
      }
    }
  });

  it('a plain backward() runs both kernels; the statistics add their terms in ops; all cotangents agree', () => {
    for (const statistics of [false, true]) {
      const made = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [4, 3, 5], 4, true);
          const weight = input(backend, [3], 5, true);
          const bias = input(backend, [3], 6, true);
          loss(backend, x, weight, bias, statistics).backward();
          return [x.grad as Tensor, weight.grad as Tensor, bias.grad as Tensor];
        }, 1e-4),
      );
      expect(made).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
    }
  });

  it('with createGraph the backward pass is ops, and second derivatives agree, through the statistics too', () => {
    let duringRecordedBackward: typeof calls | null = null;
    const made = counted(() =>
      expectAgree((backend) => {
        const x = input(backend, [5, 2, 3], 7, true);
        const weight = input(backend, [2], 8, true);
        const recorded = counted(() => loss(backend, x, weight, null, true).backward({ createGraph: true }));
        if (backend === 'cpu-fused') duringRecordedBackward = recorded;
        const first = x.grad as Tensor;
        const firstWeight = weight.grad as Tensor;
        x.grad = null;
        weight.grad = null;
        first.square().sum().add(firstWeight.square().sum()).backward();
        return [first, firstWeight, x.grad as unknown as Tensor, weight.grad as unknown as Tensor];
      }, 1e-4),
    );
    expect(duringRecordedBackward).toMatchObject({ batchNormBackward: 0 });
    expect(made).toMatchObject({ batchNorm: 1 });
  });

  it('under grad, jvp, vmap and jit the derivatives agree, and jit hands both passes to the kernels', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const x = input(backend, [4, 3, 2], 9);
      const weight = input(backend, [3], 10);
      const bias = input(backend, [3], 11);
      const f = (x: Tensor, w: Tensor, b: Tensor) => loss(backend, x, w, b, false);
      const results: Tensor[] = [];
      const run = (label: string, fn: () => Tensor[]) => {
        const count = counted(() => results.push(...fn()));
        if (backend === 'cpu-fused') made[label] = count;
      };
      run('grad', () => grad(f, { argnums: [0, 1, 2] })(x, weight, bias) as Tensor[]);
      run('grad(grad)', () => [grad((t: Tensor) => (grad(f)(t, weight, bias) as Tensor).square().sum())(x)]);
      run('jvp', () => [jvp((t: Tensor) => F.batchNormTraining(t).output, [x], [input(backend, [4, 3, 2], 12)])[1] as Tensor]);
      run('vmap', () => [vmap((t: Tensor) => F.batchNormTraining(t).output, { inAxes: [2] })(x)]);
      run('jit(valueAndGrad)', () => {
        const [value, gradients] = jit(valueAndGrad(f, { argnums: [0, 1, 2] }))(x, weight, bias) as [Tensor, Tensor[]];
        return [value, ...gradients];
      });
      run('grad(jit)', () => grad(jit(f), { argnums: [0, 1, 2] })(x, weight, bias) as Tensor[]);
      run('backward() through jit', () => {
        const [xr, wr, br] = [x, weight, bias].map((t) => t.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
        jit(f)(xr, wr, br).backward();
        return [xr.grad as Tensor, wr.grad as Tensor, br.grad as Tensor];
      });
      run(
        'jit(grad) with the statistics',
        () => jit(grad((x: Tensor, w: Tensor) => loss(backend, x, w, null, true), { argnums: [0, 1] }))(x, weight) as Tensor[],
      );
      return results;
    }, 1e-4);
    // grad: the forward kernel one level down, the backward kernel in its sweep, which nothing records.
    expect(made.grad).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
    expect(made.jvp).toMatchObject({ batchNorm: 0, batchNormBackward: 0 });
    expect(made.vmap).toMatchObject({ batchNorm: 0, batchNormBackward: 0 });
    expect(made['jit(valueAndGrad)']).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
    expect(made['jit(grad) with the statistics']).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
    // The forward and backward programs derived from jit(f) bind its region again as batch norm.
    expect(made['grad(jit)']).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
    expect(made['backward() through jit']).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
  });

  it('a BatchNorm2d training step compiled with compile() reaches both kernels and updates the running statistics alike', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const layer = new nn.BatchNorm2d(3, { backend });
      layer.train();
      const x = input(backend, [2, 3, 2, 2], 13);
      const target = input(backend, [2, 3, 2, 2], 14);
      const step = () => {
        layer.zeroGrad();
        layer.forward(x).mul(target).sum().backward();
        return layer.weight?.grad as unknown as Tensor;
      };
      const compiled = compile(step, { modules: [layer] });
      let gradient: Tensor | null = null;
      const count = counted(() => {
        gradient = compiled() as Tensor;
      });
      if (backend === 'cpu-fused') made.compiled = count;
      return [gradient as unknown as Tensor, layer.runningMean, layer.runningVar];
    }, 1e-4);
    expect(made.compiled).toMatchObject({ batchNorm: 1, batchNormBackward: 1 });
  });

  it('inference: the kernel computes what nothing differentiates; recorded or traced calls run the primitives, and agree', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const x = input(backend, [3, 2, 4], 17);
      const [mean, variance] = [input(backend, [2], 18), input(backend, [2], 19).abs()];
      const weight = input(backend, [2], 20, true);
      const bias = input(backend, [2], 21);
      const infer = (x: Tensor) => F.batchNorm(x, mean, variance, { weight, bias, eps: 0.1 });
      const results: Tensor[] = [];
      const run = (label: string, fn: () => Tensor[]) => {
        const count = counted(() => results.push(...fn()));
        if (backend === 'cpu-fused') made[label] = count;
      };
      run('noGrad', () => noGrad(() => [infer(x), F.batchNorm(x, mean, variance)]));
      run('recorded', () => {
        const y = infer(x);
        y.mul(input(backend, [3, 2, 4], 22))
          .sum()
          .backward();
        return [y, weight.grad as Tensor];
      });
      run('jit', () => [jit(infer)(x)]);
      return results;
    });
    expect(made.noGrad).toMatchObject({ batchNormInference: 2 });
    expect(made.recorded).toMatchObject({ batchNormInference: 0 });
    expect(made.jit).toMatchObject({ batchNormInference: 0 });
  });

  it('float64 is declined and a weight of another dtype runs the composite; shapes are checked first', () => {
    const made = counted(() => {
      const x = tensor(
        [
          [1, 2],
          [3, 5],
        ],
        { backend: 'cpu-fused', dtype: 'float64', requiresGrad: true },
      );
      F.batchNormTraining(x).output.sum().backward();
      expect(x.grad?.dtype).toBe('float64');
      F.batchNormTraining(input('cpu-fused', [3, 2], 15), { weight: tensor([1, 2], { backend: 'cpu-fused', dtype: 'float64' }) });
    });
    expect(made).toMatchObject({ batchNorm: 0, batchNormBackward: 0, declined: 2 });
    expect(() => F.batchNormTraining(input('cpu-fused', [3, 2], 16), { bias: tensor([1, 2, 3], { backend: 'cpu-fused' }) })).toThrow(
      'batchNorm: bias must have shape [2], got [3]',
    );
  });
});
