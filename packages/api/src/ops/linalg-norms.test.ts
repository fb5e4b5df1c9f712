import '@flint/backend-cpu';
import { AxisError, grad, linalg, norm, ShapeError, type Tensor, tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

const INF = Number.POSITIVE_INFINITY;
const m = () =>
  tensor(
    [
      [1, -2],
      [3, 4],
    ],
    { dtype: 'float64' },
  );
const close = (t: Tensor, expected: number | number[]) => {
  const value = t.arraySync();
  if (typeof expected === 'number') expect(value as number).toBeCloseTo(expected, 6);
  else for (const [i, v] of (value as number[]).entries()) expect(v).toBeCloseTo(expected[i] as number, 6);
};

describe('linalg.vectorNorm', () => {
  test('orders as torch.linalg.vector_norm (hand-computed)', () => {
    close(linalg.vectorNorm(m()), Math.sqrt(30));
    close(linalg.vectorNorm(m(), { ord: 1 }), 10);
    close(linalg.vectorNorm(m(), { ord: INF }), 4);
    close(linalg.vectorNorm(m(), { ord: -INF }), 1);
    close(linalg.vectorNorm(tensor([1, 0, -3, 0]), { ord: 0 }), 2);
    close(linalg.vectorNorm(tensor([1, -2, 3]), { ord: 3 }), 36 ** (1 / 3));
    close(linalg.vectorNorm(tensor([1, 4]), { ord: 0.5 }), 9);
    close(linalg.vectorNorm(tensor([1, 2]), { ord: -1 }), 2 / 3);
    // |0|^-1 is Infinity: the norm is 0, as NumPy and PyTorch give.
    close(linalg.vectorNorm(tensor([0, 2]), { ord: -1 }), 0);
  });

  test('reduces over axes, with keepdims', () => {
    close(linalg.vectorNorm(m(), { axis: 1 }), [Math.sqrt(5), 5]);
    close(linalg.vectorNorm(m(), { axis: 0, ord: 1 }), [4, 6]);
    expect(linalg.vectorNorm(m(), { axis: -1, keepdims: true }).shape).toEqual([2, 1]);
    expect(linalg.vectorNorm(m(), { keepdims: true }).shape).toEqual([1, 1]);
    expect(linalg.vectorNorm(m(), { axis: [0, 1] }).shape).toEqual([]);
    close(linalg.vectorNorm(tensor(-3), { axis: 0 }), 3);
  });

  test('dtypes: floats keep theirs, integers and bool give float32', () => {
    expect(linalg.vectorNorm(m()).dtype).toBe('float64');
    const ints = linalg.vectorNorm(tensor([3, 4], { dtype: 'int32' }));
    expect(ints.dtype).toBe('float32');
    expect(ints.item()).toBe(5);
    expect(linalg.vectorNorm(tensor([true, false, true]), { ord: 0 }).dtype).toBe('float32');
    const half = linalg.vectorNorm(tensor([3, 4], { dtype: 'float16' }));
    expect(half.dtype).toBe('float16');
    expect(half.item()).toBe(5);
  });

  test('NaN and infinity propagate; empty tensors', () => {
    expect(linalg.vectorNorm(tensor([1, Number.NaN])).item()).toBeNaN();
    expect(linalg.vectorNorm(tensor([1, -INF])).item()).toBe(INF);
    expect(linalg.vectorNorm(tensor([1, -INF]), { ord: 1 }).item()).toBe(INF);
    expect(linalg.vectorNorm(zeros([0])).item()).toBe(0);
    expect(linalg.vectorNorm(zeros([2, 0]), { axis: 1 }).arraySync()).toEqual([0, 0]);
    expect(() => linalg.vectorNorm(zeros([0]), { ord: INF })).toThrow(ShapeError);
  });

  test('the gradient at zero is 0, not NaN (PyTorch subgradient)', () => {
    const f = (ord: number) => (x: Tensor) => linalg.vectorNorm(x, { ord });
    expect(grad(f(2))(zeros([3], { dtype: 'float64' })).arraySync()).toEqual([0, 0, 0]);
    expect(grad(f(3))(zeros([3], { dtype: 'float64' })).arraySync()).toEqual([0, 0, 0]);
    expect(grad(f(0.5))(zeros([2], { dtype: 'float64' })).arraySync()).toEqual([0, 0]);
    close(grad(f(2))(tensor([3, 4], { dtype: 'float64' })), [0.6, 0.8]);
    // d/dx sum(|x|^p)^(1/p) = S^(1/p-1) |x|^(p-1) sign(x): S = 2, at x = 4 that is 1; 0 at x = 0.
    close(grad(f(0.5))(tensor([0, 4], { dtype: 'float64' })), [0, 1]);
  });

  test('checks its arguments, naming the op', () => {
    expect(() => linalg.vectorNorm(m(), { axis: 2 })).toThrow(AxisError);
    expect(() => linalg.vectorNorm(m(), { axis: 2 })).toThrow(/^linalg\.vectorNorm: axis 2 is out of range/);
    expect(() => linalg.vectorNorm(m(), { ord: Number.NaN })).toThrow(ValueError);
    expect(() => linalg.vectorNorm(m(), { ord: 'fro' as unknown as number })).toThrow(/ord must be a number/);
    // torch's positional form is refused with the fix.
    expect(() => (linalg.vectorNorm as (...a: unknown[]) => Tensor)(m(), 2)).toThrow(/^linalg\.vectorNorm: argument 2/);
  });
});

describe('linalg.matrixNorm', () => {
  test('orders as torch.linalg.matrix_norm (hand-computed)', () => {
    close(linalg.matrixNorm(m()), Math.sqrt(30));
    close(linalg.matrixNorm(m(), { ord: 1 }), 6);
    close(linalg.matrixNorm(m(), { ord: -1 }), 4);
    close(linalg.matrixNorm(m(), { ord: INF }), 7);
    close(linalg.matrixNorm(m(), { ord: -INF }), 3);
    // Transposed axes swap the roles of rows and columns.
    close(linalg.matrixNorm(m(), { ord: 1, axis: [1, 0] }), 7);
  });

  test('batches over the other axes, with keepdims', () => {
    const batch = tensor([
      [
        [1, -2],
        [3, 4],
      ],
      [
        [0, 0],
        [0, -5],
      ],
    ]);
    close(linalg.matrixNorm(batch, { ord: INF }), [7, 5]);
    expect(linalg.matrixNorm(batch, { ord: 1, keepdims: true }).shape).toEqual([2, 1, 1]);
    expect(linalg.matrixNorm(batch, { keepdims: true }).shape).toEqual([2, 1, 1]);
    close(linalg.matrixNorm(batch, { ord: -1, axis: [0, 2] }), [1, 3]);
  });

  test('refuses bad orders and shapes (the singular-value orders are in linalg-spectral.test.ts)', () => {
    expect(() => linalg.matrixNorm(m(), { ord: 3 })).toThrow(/ord must be 'fro', 'nuc', 1, -1, 2, -2, Infinity or -Infinity/);
    expect(() => linalg.matrixNorm(tensor([1, 2]))).toThrow(ShapeError);
    expect(() => linalg.matrixNorm(m(), { axis: [0, -2] })).toThrow(/the two axes must differ/);
    expect(() => linalg.matrixNorm(m(), { axis: [0, 2] })).toThrow(AxisError);
    expect(() => linalg.matrixNorm(zeros([0, 2]), { ord: 1 })).toThrow(ShapeError);
    expect(linalg.matrixNorm(zeros([0, 2])).item()).toBe(0);
  });
});

describe('linalg.norm and norm', () => {
  test('linalg.norm dispatches as torch.linalg.norm', () => {
    close(linalg.norm(m()), Math.sqrt(30));
    close(linalg.norm(m(), { ord: INF }), 7);
    close(linalg.norm(m(), { ord: 1 }), 6);
    close(linalg.norm(m(), { ord: 1, axis: 1 }), [3, 7]);
    close(linalg.norm(m(), { ord: INF, axis: [0, 1] }), 7);
    close(linalg.norm(tensor([3, -4]), { ord: INF }), 4);
    close(linalg.norm(zeros([2, 2, 2]).add(1)), Math.sqrt(8));
    expect(() => linalg.norm(zeros([2, 2, 2]), { ord: 1 })).toThrow(/must be 1-d or 2-d/);
    expect(() => linalg.norm(tensor([1, 2]), { ord: 'fro' })).toThrow(/is a matrix norm/);
    expect(() => linalg.norm(m(), { axis: [0, 1, 0] })).toThrow(AxisError);
  });

  test('norm and Tensor.norm take torch.norm common forms', () => {
    close(norm(m()), Math.sqrt(30));
    close(norm(m(), 'fro', 1), [Math.sqrt(5), 5]);
    close(
      norm(
        tensor([
          [3, 4],
          [6, 8],
        ]),
        2,
        1,
      ),
      [5, 10],
    );
    close(tensor([1, -2, 3]).norm(1), 6);
    close(m().norm(INF, 0), [3, 4]);
    expect(m().norm(2, 1, true).shape).toEqual([2, 1]);
    // (s1 + s2)^2 = |m|_F^2 + 2 |det m| = 30 + 20.
    close(norm(m(), 'nuc'), Math.sqrt(50));
  });
});
