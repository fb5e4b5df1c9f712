import '@flint/backend-cpu';
import { arange, grad, meshgrid, ShapeError, sum, type Tensor, tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

describe('meshgrid', () => {
  test("'ij' indexing (the default, as torch.meshgrid)", () => {
    const [rows, cols] = meshgrid([tensor([1, 2]), tensor([3, 4, 5])]) as [Tensor, Tensor];
    expect(rows.arraySync()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(cols.arraySync()).toEqual([
      [3, 4, 5],
      [3, 4, 5],
    ]);
  });

  test("'xy' indexing swaps the first two axes (numpy's default)", () => {
    // numpy.meshgrid([1, 2], [3, 4, 5]) -> xs [[1, 2], [1, 2], [1, 2]], ys [[3, 3], [4, 4], [5, 5]]
    const [xs, ys] = meshgrid([tensor([1, 2]), tensor([3, 4, 5])], { indexing: 'xy' }) as [Tensor, Tensor];
    expect(xs.arraySync()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(ys.arraySync()).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    const three = meshgrid([arange(2), arange(3), arange(4)], { indexing: 'xy' });
    expect(three.map((t) => t.shape)).toEqual([
      [3, 2, 4],
      [3, 2, 4],
      [3, 2, 4],
    ]);
    // numpy: the third grid varies along the last axis only.
    expect((three[2] as Tensor).arraySync()).toEqual(Array.from({ length: 3 }, () => Array.from({ length: 2 }, () => [0, 1, 2, 3])));
    expect((three[0] as Tensor).arraySync()).toEqual(
      Array.from({ length: 3 }, () => [
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ]),
    );
  });

  test('keeps dtypes, takes 0-D inputs, empty inputs and one input', () => {
    const [a, b] = meshgrid([tensor([1.5, 2.5]), tensor(7, { dtype: 'int32' })]) as [Tensor, Tensor];
    expect([a.dtype, b.dtype]).toEqual(['float32', 'int32']);
    expect(a.shape).toEqual([2, 1]);
    expect(b.arraySync()).toEqual([[7], [7]]);
    expect(meshgrid([zeros([0]), arange(3)]).map((t) => t.shape)).toEqual([
      [0, 3],
      [0, 3],
    ]);
    expect((meshgrid([arange(3)], { indexing: 'xy' })[0] as Tensor).arraySync()).toEqual([0, 1, 2]);
    expect(meshgrid([])).toEqual([]);
  });

  test('sums the gradient over the grid', () => {
    const g = grad((x: Tensor) => {
      const [gx, gy] = meshgrid([x, tensor([1, 2, 3], { dtype: 'float32' })]) as [Tensor, Tensor];
      return sum(gx.mul(gy));
    })(tensor([1, 2], { dtype: 'float32' }));
    expect(g.arraySync()).toEqual([6, 6]);
  });

  test('rejects matrices, unknown indexing and varargs', () => {
    expect(() => meshgrid([zeros([2, 2])])).toThrow(ShapeError);
    expect(() => meshgrid([arange(2)], { indexing: 'yx' as 'xy' })).toThrow(/^meshgrid: indexing must be 'ij' or 'xy'/);
    expect(() => (meshgrid as (...args: unknown[]) => Tensor[])(arange(2), arange(3))).toThrow(ValueError);
  });
});
