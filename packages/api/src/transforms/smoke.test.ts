import '@flint/backend-cpu';
import { grad, jvp, tensor, vmap, type Tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';

describe('smoke', () => {
  it('grad of sum of squares', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64' });
    const g = grad((t: Tensor) => t.mul(t).sum())(x);
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
  });
  it('grad grad of x^3', () => {
    const x = tensor(2, { dtype: 'float64' });
    const f = (t: Tensor) => t.mul(t).mul(t);
    expect(grad(grad(f))(x).item()).toBeCloseTo(12);
  });
  it('jvp', () => {
    const x = tensor([0, 1], { dtype: 'float64' });
    const [y, t] = jvp((a: Tensor) => a.sin(), [x], [tensor([1, 1], { dtype: 'float64' })]);
    expect(Array.from(t.dataSync())[1]).toBeCloseTo(Math.cos(1));
    expect(y.shape).toEqual([2]);
  });
  it('vmap', () => {
    const x = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const y = vmap((a: Tensor) => a.mul(a).sum())(x);
    expect(Array.from(y.dataSync())).toEqual([5, 25]);
  });
  it('backward', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    x.mul(x).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6]);
  });
});
