import '@flint/backend-cpu';
import { compile, jit, matmul, mul, nn, noGrad, randn, sum, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';

const maxDifference = (a: Tensor, b: Tensor): number => {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
};

describe('compile', () => {
  it('compiles a module and reads its current parameters on every call', () => {
    const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const fast = compile(model);
    const x = randn([4, 6]);
    noGrad(() => {
      expect(maxDifference(fast(x), model.forward(x))).toBeLessThan(1e-6);
      // An optimizer replaces parameter values between calls; the compiled call sees the new ones.
      for (const p of model.parameters()) p.value = mul(p.value, 0.5);
      expect(maxDifference(fast(x), model.forward(x))).toBeLessThan(1e-6);
      expect(fast.cacheSize).toBe(1);
      fast(randn([2, 6]));
      expect(fast.cacheSize).toBe(2);
    });
    expect(fast.lower(x).toString()).toContain('contraction fusion');
  });

  it('runs eagerly while the tape records, so that backward() reaches the parameters', () => {
    const model = new nn.Linear(3, 2);
    const fast = compile(model);
    const loss = sum(fast(randn([5, 3])));
    loss.backward();
    for (const p of model.parameters()) expect(p.grad).not.toBeNull();
  });

  it('compiles a step function that reads modules, with their state as inputs', () => {
    const model = new nn.Linear(4, 4);
    const step = compile((x: Tensor) => sum(matmul(model.forward(x), x.transpose())), { modules: [model] });
    const x = randn([4, 4]);
    noGrad(() => {
      const before = step(x).item() as number;
      for (const p of model.parameters()) p.value = mul(p.value, 2);
      const after = step(x).item() as number;
      expect(Math.abs(after - (sum(matmul(model.forward(x), x.transpose())).item() as number))).toBeLessThan(1e-4);
      expect(after).not.toBeCloseTo(before, 3);
    });
  });

  it('threads a buffer the forward pass writes (the module holds the update), and refuses parameter assignments', () => {
    class Counter extends nn.Module<[Tensor], Tensor> {
      constructor() {
        super();
        this.registerBuffer('total', tensor([1, 2]));
      }
      forward(x: Tensor): Tensor {
        this.setBuffer('total', this.getBuffer('total').add(sum(x)));
        return x.mul(2);
      }
    }
    const counter = new Counter();
    const compiled = compile(counter);
    noGrad(() => {
      for (let i = 0; i < 3; i++) compiled(tensor([1, 2]));
    });
    expect(Array.from(counter.getBuffer('total').dataSync())).toEqual([10, 11]);
    // Writes of a module in eval mode are threaded too, without donating the buffer it read.
    counter.eval();
    noGrad(() => compiled(tensor([1, 1])));
    expect(Array.from(counter.getBuffer('total').dataSync())).toEqual([12, 13]);
    class Assigns extends nn.Module<[Tensor], Tensor> {
      readonly w = this.registerParameter('w', new nn.Parameter(tensor([1.5, 2])));
      forward(x: Tensor): Tensor {
        this.w.value = x;
        return x;
      }
    }
    expect(() => noGrad(() => compile(new Assigns())(randn([2])))).toThrow(ValueError);
    expect(jit).toBeTypeOf('function');
  });
});
