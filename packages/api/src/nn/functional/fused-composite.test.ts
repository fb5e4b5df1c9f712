import { compile, grad, jit, jvp, memory, Parameter, type Tensor, tensor, tidy, valueAndGrad, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { type calls, counted, expectAgree, input, values } from './fused-composite.test-support.js';

// The dispatch of softmax, logSoftmax and layerNorm to a backend's composite kernels, on a test
// backend whose kernels are JavaScript references over the portable backend's handles: which
// calls reach the kernels, and that every derivative through them equals the composite's (the
// 'cpu' backend, which has none). The mkl backend's oneDNN kernels have their own tests.

describe('composite kernels of a backend (Backend.composites)', () => {
  for (const log of [false, true]) {
    const op = log ? nn.functional.logSoftmax : nn.functional.softmax;
    const name = log ? 'logSoftmax' : 'softmax';

    it(`${name}: an eager call runs the kernel, along any axis`, () => {
      for (const axis of [0, 1, -1]) {
        const made = counted(() => expectAgree((backend) => [op(input(backend, [3, 4, 5], 1), axis)]));
        expect(made.softmax).toBe(1);
      }
    });

    it(`${name}: a plain backward() runs both kernels; with createGraph the backward pass is ops, and second derivatives agree`, () => {
      const plain = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [4, 6], 2, true);
          op(x, -1).backward(input(backend, [4, 6], 3));
          return [x.grad as Tensor];
        }),
      );
      expect(plain).toMatchObject({ softmax: 1, softmaxBackward: 1 });
      let duringRecordedBackward: typeof calls | null = null;
      const recorded = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [4, 6], 4, true);
          const loss = op(x, 0)
            .mul(input(backend, [4, 6], 5))
            .sum();
          const made = counted(() => loss.backward({ createGraph: true }));
          if (backend === 'cpu-fused') duringRecordedBackward = made;
          const first = x.grad as Tensor;
          x.grad = null;
          // A plain sweep through the recorded one reaches the softmax's node unrecorded: it may use the kernel.
          first.square().sum().backward();
          return [first, x.grad as unknown as Tensor];
        }, 1e-4),
      );
      expect(duringRecordedBackward).toMatchObject({ softmaxBackward: 0 });
      expect(recorded).toMatchObject({ softmax: 1, softmaxBackward: 1 });
    });

    it(`${name}: under grad, jvp, vmap and jit the derivatives agree, and grad and jit reach the kernels`, () => {
      const made: Record<string, typeof calls> = {};
      expectAgree((backend) => {
        const x = input(backend, [3, 5], 6);
        const f = (t: Tensor) =>
          op(t, -1)
            .mul(input(backend, [3, 5], 7))
            .sum();
        const compiled = jit(grad(f));
        const results: Tensor[] = [];
        const run = (label: string, fn: () => Tensor) => {
          const count = counted(() => results.push(fn()));
          if (backend === 'cpu-fused') made[label] = count;
        };
        run('grad', () => grad(f)(x));
        run('grad(grad)', () => grad((t: Tensor) => grad(f)(t).square().sum())(x));
        run('jvp', () => jvp((t: Tensor) => op(t, -1), [x], [input(backend, [3, 5], 8)])[1] as Tensor);
        run('vmap', () => vmap((t: Tensor) => op(t, 0), { inAxes: [1] })(x));
        run('jit', () => jit(f)(x));
        run('jit(grad)', () => compiled(x));
        run('grad(jit)', () => grad(jit(f))(x));
        return results;
      });
      // grad: the forward kernel one level down; its sweep at top level, which nothing records,
      // the backward kernel. Under grad(grad) the inner sweep is traced: the analytic VJP in ops.
      expect(made.grad).toMatchObject({ softmax: 1, softmaxBackward: 1 });
      expect(made['grad(grad)']).toMatchObject({ softmax: 1 });
      // jvp and vmap differentiate or batch the composite's primitives.
      expect(made.jvp).toMatchObject({ softmax: 0, softmaxBackward: 0 });
      expect(made.vmap).toMatchObject({ softmax: 0, softmaxBackward: 0 });
      // jit hands the traced composite, and the backward pass grad staged, to the kernels.
      expect(made.jit).toMatchObject({ softmax: 1, softmaxBackward: 0 });
      expect(made['jit(grad)']).toMatchObject({ softmax: 1, softmaxBackward: 1 });
      // The programs derived for grad(jit(f)) bind the traced region again as the op: both kernels.
      expect(made['grad(jit)']).toMatchObject({ softmax: 1, softmaxBackward: 1 });
    });

    it(`${name}: jit stages a softmax of a captured constant and keeps grad(jit(f)) compiled`, () => {
      const constant = input('cpu-fused', [2, 3], 9);
      const f = jit((t: Tensor) => t.mul(op(constant, -1)).sum());
      const x = input('cpu-fused', [2, 3], 10);
      const made = counted(() => f(x));
      expect(made.softmax).toBe(1);
      grad(f)(x);
      expect(f.stats.inline).toBe(0);
    });

    it(`${name}: a float64 input is declined and runs the composite`, () => {
      const made = counted(() => {
        const x = tensor([[1, 2, 3]], { backend: 'cpu-fused', dtype: 'float64', requiresGrad: true });
        const y = op(x, -1);
        expect(y.dtype).toBe('float64');
        y.sum().backward();
        expect(x.grad?.shape).toEqual([1, 3]);
      });
      // The forward kernel declines once, and so does the backward kernel the analytic VJP offers it to.
      expect(made).toMatchObject({ softmax: 0, declined: 2 });
    });
  }

  it('layerNorm: eager calls and both kinds of backward pass agree with the composite, weight and bias included', () => {
    for (const affine of [false, true]) {
      const plain = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [3, 2, 4], 11, true);
          const weight = affine ? input(backend, [2, 4], 12, true) : null;
          const bias = affine ? input(backend, [2, 4], 13, true) : null;
          nn.functional.layerNorm(x, [2, 4], { weight, bias }).backward(input(backend, [3, 2, 4], 14));
          return [x.grad as Tensor, ...(affine ? [weight?.grad as Tensor, bias?.grad as Tensor] : [])];
        }, 1e-4),
      );
      expect(plain).toMatchObject({ layerNorm: 1, layerNormBackward: 1 });
      const recorded = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [5, 4], 15, true);
          const weight = affine ? input(backend, [4], 16, true) : null;
          nn.functional
            .layerNorm(x, 4, { weight, eps: 0.1 })
            .mul(input(backend, [5, 4], 17))
            .sum()
            .backward({ createGraph: true });
          const first = x.grad as Tensor;
          const firstWeight = weight?.grad ?? null;
          x.grad = null;
          if (weight !== null) weight.grad = null;
          first.square().sum().backward();
          return [
            first,
            x.grad as unknown as Tensor,
            ...(weight === null ? [] : [firstWeight as Tensor, weight.grad as unknown as Tensor]),
          ];
        }, 1e-4),
      );
      expect(recorded).toMatchObject({ layerNorm: 1, layerNormBackward: 0 });
    }
  });

  it('layerNorm: jit(valueAndGrad) hands the forward and backward passes to the kernels, which decline float64, and agrees', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const x = input(backend, [3, 2, 4], 19);
      const weight = input(backend, [2, 4], 20);
      const bias = input(backend, [2, 4], 21);
      const target = input(backend, [3, 2, 4], 22);
      const loss = (x: Tensor, w: Tensor, b: Tensor) => nn.functional.layerNorm(x, [2, 4], { weight: w, bias: b }).mul(target).sum();
      const step = jit(valueAndGrad(loss, { argnums: [0, 1, 2] }));
      let results: Tensor[] = [];
      const count = counted(() => {
        const [value, gradients] = step(x, weight, bias) as [Tensor, Tensor[]];
        results = [value, ...gradients];
      });
      if (backend === 'cpu-fused') made.float32 = count;
      // grad alone never reads the forward pass's output: dead code, only the backward kernel runs.
      const gradOnly = counted(() => jit(grad(loss, { argnums: [0, 1, 2] }))(x, weight, bias));
      if (backend === 'cpu-fused') made.gradOnly = gradOnly;
      let derived: Tensor[] = [];
      const gradOfJit = counted(() => {
        derived = grad(jit(loss), { argnums: [0, 1, 2] })(x, weight, bias) as Tensor[];
      });
      if (backend === 'cpu-fused') made.gradOfJit = gradOfJit;
      // Inlined into another jitted function, the inner program's region is bound again too.
      const inlined = counted(() => jit((x: Tensor, w: Tensor, b: Tensor) => jit(loss)(x, w, b).mul(2))(x, weight, bias));
      if (backend === 'cpu-fused') made.inlined = inlined;
      const wide = (t: Tensor) => t.astype('float64');
      const declined = counted(() => jit(valueAndGrad(loss, { argnums: [0, 1, 2] }))(wide(x), wide(weight), wide(bias)));
      if (backend === 'cpu-fused') made.float64 = declined;
      return [...results, ...derived];
    }, 1e-4);
    expect(made.float32).toMatchObject({ layerNorm: 1, layerNormBackward: 1, declined: 0 });
    expect(made.gradOfJit).toMatchObject({ layerNorm: 1, layerNormBackward: 1 });
    expect(made.inlined).toMatchObject({ layerNorm: 1 });
    expect(made.gradOnly).toMatchObject({ layerNorm: 0, layerNormBackward: 1 });
    expect(made.float64).toMatchObject({ layerNorm: 0, layerNormBackward: 0 });
    expect(made.float64?.declined).toBeGreaterThan(0);
  });

  it('layerNorm over all of its dims with a bias: the backward kernel forms under jit, the bias cotangent being g', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const loss = (x: Tensor, w: Tensor, b: Tensor) => nn.functional.layerNorm(x, [2, 3], { weight: w, bias: b }).square().sum();
      const args = [input(backend, [2, 3], 26), input(backend, [2, 3], 27), input(backend, [2, 3], 28)] as const;
      let results: Tensor[] = [];
      const count = counted(() => {
        results = jit(grad(loss, { argnums: [0, 1, 2] }))(...args) as Tensor[];
      });
      if (backend === 'cpu-fused') made.jit = count;
      return [...results, ...(grad(loss, { argnums: [0, 1, 2] })(...args) as Tensor[])];
    }, 1e-4);
    expect(made.jit).toMatchObject({ layerNorm: 1, layerNormBackward: 1 });
  });

  it('softmax in a step compiled with compile(): its tape takes the analytic VJP, and both passes reach the kernels', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const weight = new Parameter(input(backend, [5, 4], 23));
      const x = input(backend, [3, 5], 24);
      const target = input(backend, [3, 4], 25);
      const step = () => {
        weight.grad = null;
        nn.functional.softmax(x.matmul(weight.value), -1).mul(target).sum().backward();
        return weight.grad as unknown as Tensor;
      };
      // The module that owns the weight, so that compile() treats it as state (its forward is the step's product).
      class Holder extends nn.Module<[Tensor], Tensor> {
        forward(input: Tensor): Tensor {
          return input.matmul(weight.value);
        }
      }
      const module = new Holder();
      module.registerParameter('weight', weight);
      const compiled = compile(step, { modules: [module] });
      let gradient: Tensor | null = null;
      const count = counted(() => {
        gradient = compiled() as Tensor;
      });
      if (backend === 'cpu-fused') made.compiled = count;
      return [gradient as unknown as Tensor];
    });
    expect(made.compiled).toMatchObject({ softmax: 1, softmaxBackward: 1 });
  });

  it('layerNorm: a backward kernel that leaves out a cotangent it owes raises a BackendError and keeps nothing', () => {
    const x = tensor(values(8, 30), { shape: [2, 4], backend: 'cpu-broken', requiresGrad: true });
    const weight = tensor(values(4, 31), { shape: [4], backend: 'cpu-broken', requiresGrad: true });
    const bias = tensor(values(4, 32), { shape: [4], backend: 'cpu-broken', requiresGrad: true });
    const live = () => memory().backends.find((b) => b.backend === 'cpu-broken')?.buffers ?? 0;
    const before = live();
    expect(() => tidy(() => nn.functional.layerNorm(x, [4], { weight, bias }).sum().backward())).toThrow(
      'cpu-broken: composites.layerNormBackward returned no cotangent for the weight although one was asked for',
    );
    expect(x.grad).toBeNull();
    expect(live()).toBe(before);
  });

  it('layerNorm: a weight of another dtype runs the composite, and shapes are checked first', () => {
    const x = input('cpu-fused', [2, 3], 18);
    const made = counted(() => {
      nn.functional.layerNorm(x, [3], { weight: tensor([1, 2, 3], { backend: 'cpu-fused', dtype: 'float64' }) });
    });
    expect(made.layerNorm).toBe(0);
    expect(() => nn.functional.layerNorm(x, [3], { bias: tensor([1, 2], { backend: 'cpu-fused' }) })).toThrow(
      'layerNorm: bias must have shape [3], got [2]',
    );
  });
});
