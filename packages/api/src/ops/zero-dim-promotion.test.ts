import '@flint/backend-cpu';
import { add, grad, jit, mul, ones, type Tensor, tensor, vmap, where } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { resultDType } from './convert.js';

// A 0-dim tensor next to a dimensioned one promotes like a scalar (PyTorch's result_type): it
// does not widen within its category, it lifts to a higher one with its own dtype.

describe('0-dim tensor operands', () => {
  it('do not widen a dimensioned tensor of the same or a higher category', () => {
    const half = ones([3], { dtype: 'float16' });
    const scale = tensor(2, { dtype: 'float32' });
    expect(add(half, scale).dtype).toBe('float16');
    expect(mul(scale, half).dtype).toBe('float16');
    expect(Array.from(mul(half, scale).dataSync())).toEqual([2, 2, 2]);
    expect(add(ones([2], { dtype: 'float32' }), tensor(1, { dtype: 'float64' })).dtype).toBe('float32');
    expect(add(ones([2], { dtype: 'uint8' }), tensor(7, { dtype: 'int32' })).dtype).toBe('uint8');
  });

  it('lift a lower category to their own dtype, not the default', () => {
    const ints = tensor([1, 2], { dtype: 'int32' });
    const out = add(ints, tensor(0.5, { dtype: 'float64' }));
    expect(out.dtype).toBe('float64');
    expect(Array.from(out.dataSync())).toEqual([1.5, 2.5]);
    expect(add(tensor([true, false]), tensor(3, { dtype: 'uint8' })).dtype).toBe('uint8');
  });

  it('promote fully with another 0-dim tensor, and weakly with a JavaScript scalar', () => {
    expect(add(tensor(1, { dtype: 'float16' }), tensor(1, { dtype: 'float64' })).dtype).toBe('float64');
    expect(add(tensor(1, { dtype: 'int32' }), 0.5).dtype).toBe('float32');
    expect(add(tensor(1, { dtype: 'float16' }), 0.5).dtype).toBe('float16');
  });

  it('count as dimensioned when they have any axis, even of size 1, and arrays count as dimensioned', () => {
    expect(add(ones([3], { dtype: 'float16' }), ones([1], { dtype: 'float32' })).dtype).toBe('float32');
    expect(resultDType(tensor(1, { dtype: 'float16' }), new Float32Array([1]))).toBe('float32');
    expect(resultDType(tensor(1, { dtype: 'int32' }), [2])).toBe('int32');
    expect(resultDType(ones([2], { dtype: 'uint8' }), tensor(300, { dtype: 'int32' }))).toBe('uint8');
  });

  it('apply to where', () => {
    const x = ones([2], { dtype: 'float16' });
    expect(where(tensor([true, false]), x, tensor(0, { dtype: 'float64' })).dtype).toBe('float16');
  });

  it('get gradients of their own shape and dtype through the broadcast', () => {
    const x = tensor([1, 2, 3], { dtype: 'float32' });
    const gradient = grad((s: Tensor) => mul(x, s).sum())(tensor(2, { dtype: 'float64' }));
    expect(gradient.shape).toEqual([]);
    expect(gradient.dtype).toBe('float64');
    expect(gradient.item()).toBe(6);
    const gx = grad((v: Tensor) =>
      add(v, tensor(5, { dtype: 'float64' }))
        .square()
        .sum(),
    )(x);
    expect(gx.dtype).toBe('float32');
    expect(Array.from(gx.dataSync())).toEqual([12, 14, 16]);
  });

  it('accumulate gradients of their own shape on the tape', () => {
    const s = tensor(0.5, { dtype: 'float32' }).requiresGrad_();
    const half = ones([4], { dtype: 'float16' });
    const y = mul(half, s);
    expect(y.dtype).toBe('float16');
    y.sum().backward();
    expect(s.grad?.shape).toEqual([]);
    expect(s.grad?.dtype).toBe('float32');
    expect(s.grad?.item()).toBe(4);
  });

  it('promote by the logical rank under vmap and the same way under jit', () => {
    const half = ones([2], { dtype: 'float16' });
    // Each example of a batch of float64 numbers is a 0-dim tensor.
    expect(vmap((s: Tensor) => add(half, s))(tensor([1, 2, 3], { dtype: 'float64' })).dtype).toBe('float16');
    expect(jit((a: Tensor, s: Tensor) => add(a, s))(half, tensor(2, { dtype: 'float32' })).dtype).toBe('float16');
  });
});
