import '@flint/backend-cpu';
import { clone, DTypeError, dispose, getBackend, grad, maskedFill, ShapeError, sum, type Tensor, tensor, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

describe('maskedFill', () => {
  test('puts the value where the mask is true, broadcasting the mask (torch.masked_fill)', () => {
    expect(maskedFill(tensor([1, 2, 3]), tensor([true, false, true]), 0).arraySync()).toEqual([0, 2, 0]);
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    );
    expect(maskedFill(x, tensor([[true], [false]]), Number.NEGATIVE_INFINITY).arraySync()).toEqual([
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [4, 5, 6],
    ]);
    expect(maskedFill(x, tensor([false, true, false]), tensor(9)).arraySync()).toEqual([
      [1, 9, 3],
      [4, 9, 6],
    ]);
    expect(maskedFill(zeros([0, 3]), tensor([true, false, true]), 1).shape).toEqual([0, 3]);
  });

  test("keeps x's dtype, casting the value as astype does", () => {
    const ints = maskedFill(tensor([1, 2], { dtype: 'int32' }), tensor([true, false]), 7.9);
    expect(ints.dtype).toBe('int32');
    expect(ints.arraySync()).toEqual([7, 2]);
    const halves = maskedFill(tensor([1, 2], { dtype: 'float16' }), tensor([false, true]), tensor(0.5, { dtype: 'float64' }));
    expect(halves.dtype).toBe('float16');
    expect(halves.arraySync()).toEqual([1, 0.5]);
    expect(maskedFill(tensor([true, true]), tensor([false, true]), false).arraySync()).toEqual([true, false]);
    expect(maskedFill(tensor([Number.NaN, 1]), tensor([true, false]), 0).arraySync()).toEqual([0, 1]);
  });

  test('passes the gradient to x only where kept, and to a tensor value the sum of the filled places', () => {
    const x = tensor([Number.POSITIVE_INFINITY, 2, 3], { dtype: 'float64' });
    const mask = tensor([true, false, true]);
    const f = (t: Tensor, v: Tensor) => sum(maskedFill(t, mask, v).mul(tensor([1, 2, 3], { dtype: 'float64' })));
    const [gx, gv] = grad(f, { argnums: [0, 1] })(x, tensor(5, { dtype: 'float64' })) as Tensor[];
    expect((gx as Tensor).arraySync()).toEqual([0, 2, 0]);
    expect((gv as Tensor).item()).toBe(4);
  });

  test('rejects non-bool masks and masks or values that widen x', () => {
    expect(() => maskedFill(tensor([1, 2]), tensor([1, 0]), 0)).toThrow(DTypeError);
    expect(() => maskedFill(tensor([1, 2]), tensor([1, 0]), 0)).toThrow(/^maskedFill: the mask must be a bool tensor, got int32/);
    expect(() => maskedFill(tensor([1, 2]), tensor([[true], [false]]), 0)).toThrow(ShapeError);
    expect(() => maskedFill(tensor([1, 2]), tensor([true, false]), tensor([1, 2, 3]))).toThrow(/maskedFill/);
  });

  test('is a method', () => {
    expect(
      tensor([1, 2])
        .maskedFill(tensor([false, true]), -1)
        .arraySync(),
    ).toEqual([1, -1]);
  });
});

describe('clone', () => {
  test('copies values, shape and dtype into memory of its own', () => {
    for (const dtype of ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'uint8', 'bool'] as const) {
      const x = tensor(
        [
          [1, 0],
          [3, 1],
        ],
        { dtype },
      );
      // Counted on the backend the tensors live on: memory() also sums the backends other test files
      // made, and a stand-in that wraps 'cpu' counts its buffers again.
      const before = getBackend().memory().buffers;
      const y = clone(x);
      expect(getBackend().memory().buffers, dtype).toBe(before + 1);
      expect(y).not.toBe(x);
      expect(y.dtype).toBe(dtype);
      expect(y.shape).toEqual([2, 2]);
      const values = x.arraySync();
      x.dispose();
      expect(y.arraySync(), dtype).toEqual(values);
      y.dispose();
    }
  });

  test('keeps NaN and -0, and is a method with the identity gradient', () => {
    const x = tensor([Number.NaN, -0, 2], { dtype: 'float32' });
    const y = x.clone();
    expect(Object.is(y.dataSync()[1], -0)).toBe(true);
    expect(Number.isNaN(y.dataSync()[0])).toBe(true);
    expect(grad((t: Tensor) => sum(clone(t).mul(3)))(tensor([1, 2], { dtype: 'float32' })).arraySync()).toEqual([3, 3]);
    dispose([x, y]);
  });
});
