import '@flint/backend-cpu';
import {
  AxisError,
  arange,
  diag,
  diagonal,
  grad,
  jit,
  reshape,
  ShapeError,
  sum,
  type Tensor,
  tensor,
  trace,
  tril,
  triu,
  ValueError,
  vmap,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

const m33 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
const m34 = () => reshape(arange(1, 13), [3, 4]);

describe('tril and triu', () => {
  test('match torch.tril and torch.triu for k = 0, k > 0 and k < 0', () => {
    expect(tril(m33()).arraySync()).toEqual([
      [1, 0, 0],
      [4, 5, 0],
      [7, 8, 9],
    ]);
    expect(tril(m33(), 1).arraySync()).toEqual([
      [1, 2, 0],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(tril(m33(), -1).arraySync()).toEqual([
      [0, 0, 0],
      [4, 0, 0],
      [7, 8, 0],
    ]);
    expect(triu(m33()).arraySync()).toEqual([
      [1, 2, 3],
      [0, 5, 6],
      [0, 0, 9],
    ]);
    expect(triu(m33(), 1).arraySync()).toEqual([
      [0, 2, 3],
      [0, 0, 6],
      [0, 0, 0],
    ]);
    expect(triu(m33(), -1).arraySync()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [0, 8, 9],
    ]);
    // Offsets past the matrix keep everything or nothing.
    expect(tril(m33(), 5).arraySync()).toEqual(m33().arraySync());
    expect(triu(m33(), 5).arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  test('work on non-square matrices and batches (the last two axes)', () => {
    // torch.triu(torch.arange(1, 13).reshape(3, 4), 1)
    expect(triu(m34(), 1).arraySync()).toEqual([
      [0, 2, 3, 4],
      [0, 0, 7, 8],
      [0, 0, 0, 12],
    ]);
    expect(tril(m34(), -1).arraySync()).toEqual([
      [0, 0, 0, 0],
      [5, 0, 0, 0],
      [9, 10, 0, 0],
    ]);
    const batch = reshape(arange(8), [2, 2, 2]);
    expect(tril(batch).arraySync()).toEqual([
      [
        [0, 0],
        [2, 3],
      ],
      [
        [4, 0],
        [6, 7],
      ],
    ]);
    expect(triu(zeros([2, 0, 3])).shape).toEqual([2, 0, 3]);
  });

  test('keep the dtype (bool, int, half) and zero NaN outside the triangle', () => {
    expect(tril(m33()).dtype).toBe('int32');
    const b = tril(
      tensor([
        [true, true],
        [true, true],
      ]),
    );
    expect(b.dtype).toBe('bool');
    expect(b.arraySync()).toEqual([
      [true, false],
      [true, true],
    ]);
    expect(
      triu(
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'float16' },
        ),
      ).dtype,
    ).toBe('float16');
    expect(
      triu(
        tensor([
          [Number.NaN, Number.NaN],
          [Number.NaN, Number.NaN],
        ]),
      ).arraySync(),
    ).toEqual([
      [Number.NaN, Number.NaN],
      [0, Number.NaN],
    ]);
  });

  test('pass the gradient only inside the triangle', () => {
    const g = grad((x: Tensor) => sum(tril(x, -1).mul(3)))(
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'float32' },
      ),
    );
    expect(g.arraySync()).toEqual([
      [0, 0, 0],
      [3, 0, 0],
    ]);
  });

  test('reject vectors and non-integer offsets, naming the op and the shape', () => {
    expect(() => tril(tensor([1, 2]))).toThrow(ShapeError);
    expect(() => triu(tensor([1, 2]))).toThrow(/^triu: the input must have at least 2 dimensions .* shape \[2\]/);
    expect(() => tril(m33(), 0.5)).toThrow(ValueError);
  });

  test('are methods, and batch under vmap', () => {
    expect(m33().tril().arraySync()).toEqual(tril(m33()).arraySync());
    expect(m33().triu(1).arraySync()).toEqual(triu(m33(), 1).arraySync());
    const batch = reshape(arange(18), [2, 3, 3]);
    expect(vmap((x: Tensor) => triu(x))(batch).arraySync()).toEqual(triu(batch).arraySync());
  });
});

describe('diagonal', () => {
  test('matches torch.diagonal with offsets, on axes 0 and 1 by default', () => {
    expect(diagonal(m34()).arraySync()).toEqual([1, 6, 11]);
    expect(diagonal(m34(), 1).arraySync()).toEqual([2, 7, 12]);
    expect(diagonal(m34(), 2).arraySync()).toEqual([3, 8]);
    expect(diagonal(m34(), -1).arraySync()).toEqual([5, 10]);
    expect(diagonal(m34(), -2).arraySync()).toEqual([9]);
    expect(diagonal(m34(), 4).shape).toEqual([0]);
    expect(diagonal(m34(), -3).shape).toEqual([0]);
  });

  test('moves the diagonal to the last axis for batches and other axis pairs', () => {
    const x = reshape(arange(24), [2, 3, 4]);
    // torch.diagonal(x, 0, -2, -1) -> [[0, 5, 10], [12, 17, 22]]
    expect(diagonal(x, 0, -2, -1).arraySync()).toEqual([
      [0, 5, 10],
      [12, 17, 22],
    ]);
    // torch.diagonal(x) (dims 0 and 1) -> shape [4, 2]: [[0, 16], [1, 17], [2, 18], [3, 19]]
    expect(diagonal(x).arraySync()).toEqual([
      [0, 16],
      [1, 17],
      [2, 18],
      [3, 19],
    ]);
    // torch.diagonal(x, 1, 2, 0): rows on axis 2, columns on axis 0, axis 1 first -> [[12], [16], [20]]
    expect(diagonal(x, 1, 2, 0).arraySync()).toEqual([[12], [16], [20]]);
    expect(x.diagonal(0, 1, 2).arraySync()).toEqual([
      [0, 5, 10],
      [12, 17, 22],
    ]);
  });

  test('rejects equal axes, axes out of range and vectors', () => {
    expect(() => diagonal(m33(), 0, 1, -1)).toThrow(/^diagonal: axis1 and axis2 must be different axes/);
    expect(() => diagonal(m33(), 0, 0, 2)).toThrow(AxisError);
    expect(() => diagonal(tensor([1, 2]))).toThrow(ShapeError);
  });

  test('passes the gradient to the diagonal only', () => {
    const g = grad((x: Tensor) => sum(diagonal(x, 1)))(
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'float32' },
      ),
    );
    expect(g.arraySync()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });
});

describe('diag', () => {
  test('builds a matrix from a vector, with offsets (torch.diag)', () => {
    expect(diag(tensor([1, 2, 3])).arraySync()).toEqual([
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 3],
    ]);
    expect(diag(tensor([1, 2]), 1).arraySync()).toEqual([
      [0, 1, 0],
      [0, 0, 2],
      [0, 0, 0],
    ]);
    expect(diag(tensor([1, 2]), -2).arraySync()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 2, 0, 0],
    ]);
    expect(diag(tensor([true]), 1).arraySync()).toEqual([
      [false, true],
      [false, false],
    ]);
    expect(diag(tensor([1.5, Number.NaN])).arraySync()).toEqual([
      [1.5, 0],
      [0, Number.NaN],
    ]);
    expect(diag(zeros([0])).shape).toEqual([0, 0]);
    expect(diag(zeros([0]), 2).arraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  test('takes the diagonal of a matrix', () => {
    expect(diag(m34()).arraySync()).toEqual([1, 6, 11]);
    expect(diag(m34(), -1).arraySync()).toEqual([5, 10]);
    expect(m33().diag().arraySync()).toEqual([1, 5, 9]);
    expect(tensor([4, 5]).diag().shape).toEqual([2, 2]);
  });

  test('has the identity gradient on the diagonal', () => {
    const v = tensor([1, 2, 3], { dtype: 'float32' });
    expect(grad((x: Tensor) => sum(diag(x, -1).mul(tensor([[1, 2, 3, 4]]))))(v).arraySync()).toEqual([1, 2, 3]);
  });

  test('rejects other ranks', () => {
    expect(() => diag(zeros([2, 2, 2]))).toThrow(/^diag: the input must be a vector \(1-D\) or a matrix \(2-D\), got shape \[2, 2, 2\]/);
    expect(() => diag(tensor(1))).toThrow(ShapeError);
  });
});

describe('trace', () => {
  test('sums the diagonal, as torch.trace and numpy.trace', () => {
    expect(trace(m33()).item()).toBe(15);
    expect(trace(m34(), 1).item()).toBe(21);
    expect(trace(m34(), -2).item()).toBe(9);
    expect(trace(m34(), 5).item()).toBe(0);
    expect(
      trace(
        tensor([
          [true, true],
          [false, true],
        ]),
      ).dtype,
    ).toBe('int32');
    expect(
      trace(
        tensor([
          [true, true],
          [false, true],
        ]),
      ).item(),
    ).toBe(2);
    expect(trace(reshape(arange(8), [2, 2, 2]), 0, -2, -1).arraySync()).toEqual([3, 11]);
    expect(m33().trace().item()).toBe(15);
  });

  test('has the identity matrix as its gradient', () => {
    expect(
      grad((x: Tensor) => trace(x))(
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'float32' },
        ),
      ).arraySync(),
    ).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });
});

describe('under jit', () => {
  test('tril, triu, diagonal, diag and trace give the eager values', () => {
    const x = reshape(arange(24), [2, 3, 4]).astype('float32');
    const f = jit((t: Tensor) => [
      tril(t, 1),
      triu(t, -1),
      diagonal(t, 1, -1, -2),
      diag(diagonal(t, 0, 1, 2).sum(0), -1),
      trace(t, 0, 1, 2),
    ]);
    const eager = [tril(x, 1), triu(x, -1), diagonal(x, 1, -1, -2), diag(diagonal(x, 0, 1, 2).sum(0), -1), trace(x, 0, 1, 2)];
    const traced = f(x) as Tensor[];
    for (const [i, want] of eager.entries()) expect((traced[i] as Tensor).arraySync(), `output ${i}`).toEqual(want.arraySync());
  });
});
