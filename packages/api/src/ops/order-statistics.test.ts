import '@flint/backend-cpu';
import { grad, IndexError, indexSelect, kthvalue, median, quantile, ShapeError, type Tensor, tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

const NaN_ = Number.NaN;

describe('kthvalue', () => {
  test('the k-th smallest and its position (torch.kthvalue)', () => {
    const { values, indices } = kthvalue(tensor([5, 1, 4, 2]), 2);
    expect(values.item()).toBe(2);
    expect(indices.item()).toBe(3);
    expect(indices.dtype).toBe('int32');
    const rows = kthvalue(
      tensor([
        [3, 1, 2],
        [9, 7, 8],
      ]),
      1,
      1,
    );
    expect(rows.values.arraySync()).toEqual([1, 7]);
    expect(rows.indices.arraySync()).toEqual([1, 1]);
    expect(
      tensor([
        [3, 1, 2],
        [9, 7, 8],
      ])
        .kthvalue(2, 0, true)
        .values.arraySync(),
    ).toEqual([[9, 7, 8]]);
    expect(kthvalue(tensor([1, NaN_, 0]), 3).values.item()).toBeNaN();
    expect(kthvalue(tensor(4), 1).values.item()).toBe(4);
  });

  test('checks k and the axis', () => {
    expect(() => kthvalue(tensor([1, 2, 3]), 4)).toThrow(IndexError);
    expect(() => kthvalue(tensor([1, 2, 3]), 0)).toThrow(/^kthvalue: k must be an integer from 1 to 3/);
    expect(() => kthvalue(tensor([1, 2, 3]), 1, 1)).toThrow(/^kthvalue: axis 1 is out of range/);
  });
});

describe('median', () => {
  test('the lower median, NaN propagating (torch.median)', () => {
    expect(median(tensor([4, 1, 3, 2])).item()).toBe(2);
    expect(median(tensor([4, 1, 3])).item()).toBe(3);
    const m = median(
      tensor([
        [1, 5, 3],
        [2, NaN_, 0],
      ]),
      1,
    ).arraySync() as number[];
    expect(m[0]).toBe(3);
    expect(m[1]).toBeNaN();
    expect(
      median(
        tensor([
          [1, 5, 3],
          [2, 4, 0],
        ]),
        0,
        true,
      ).arraySync(),
    ).toEqual([[1, 4, 0]]);
    expect(
      tensor([
        [1, 5],
        [3, 2],
      ]).median(undefined, true).shape,
    ).toEqual([1, 1]);
    expect(median(tensor([3, 1], { dtype: 'int32' })).dtype).toBe('int32');
    expect(() => median(zeros([0]))).toThrow(ShapeError);
  });

  test('sends the gradient to the median element', () => {
    expect(grad((x: Tensor) => median(x))(tensor([4, 1, 3, 2], { dtype: 'float64' })).arraySync()).toEqual([0, 0, 0, 1]);
  });
});

describe('quantile', () => {
  test('linear interpolation as torch.quantile (hand-computed)', () => {
    expect(quantile(tensor([1, 2, 3, 4]), 0.5).item()).toBe(2.5);
    expect(quantile(tensor([4, 1, 3, 2]), [0, 1 / 3, 1]).arraySync()).toEqual([1, 2, 4]);
    expect(
      quantile(
        tensor([
          [1, 2],
          [3, 6],
        ]),
        0.25,
        { axis: 0 },
      ).arraySync(),
    ).toEqual([1.5, 3]);
    expect(
      quantile(
        tensor([
          [1, 2],
          [3, 6],
        ]),
        [0.25, 1],
        { axis: 1, keepdims: true },
      ).shape,
    ).toEqual([2, 2, 1]);
    expect(
      tensor([
        [1, 2],
        [3, 6],
      ])
        .quantile(0.5, { keepdims: true })
        .arraySync(),
    ).toEqual([[2.5]]);
  });

  test('other interpolations', () => {
    const x = tensor([1, 2, 3, 4]);
    expect(quantile(x, 0.5, { interpolation: 'lower' }).item()).toBe(2);
    expect(quantile(x, 0.5, { interpolation: 'higher' }).item()).toBe(3);
    expect(quantile(x, 0.5, { interpolation: 'nearest' }).item()).toBe(3);
    expect(quantile(x, 0.5, { interpolation: 'midpoint' }).item()).toBe(2.5);
    expect(quantile(x, 0.2, { interpolation: 'nearest' }).item()).toBe(2);
  });

  test('dtypes, NaN and errors', () => {
    expect(quantile(tensor([1, 2], { dtype: 'int32' }), 0.5).dtype).toBe('float32');
    expect(quantile(tensor([1, 2], { dtype: 'float64' }), 0.5).dtype).toBe('float64');
    expect(quantile(tensor([1, NaN_, 3]), 0).item()).toBeNaN();
    expect(() => quantile(tensor([1, 2]), 1.5)).toThrow(ValueError);
    expect(() => quantile(tensor([1, 2]), 0.5, { interpolation: 'cubic' as 'linear' })).toThrow(/^quantile: interpolation must be one of/);
    expect(() => quantile(zeros([0]), 0.5)).toThrow(ShapeError);
    expect(() => (quantile as (...a: unknown[]) => Tensor)(tensor([1, 2]), 0.5, 0)).toThrow(/^quantile: argument 3/);
  });

  test('gradient splits between the two neighbours', () => {
    const g = grad((x: Tensor) => quantile(x, 0.5))(tensor([4, 1, 3, 2], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([0, 0, 0.5, 0.5]);
  });
});

describe('indexSelect', () => {
  test('selects slices along an axis (torch.index_select)', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(indexSelect(x, 0, [2, 0]).arraySync()).toEqual([
      [5, 6],
      [1, 2],
    ]);
    expect(x.indexSelect(1, tensor([1])).arraySync()).toEqual([[2], [4], [6]]);
    expect(indexSelect(x, 0, tensor(1)).shape).toEqual([1, 2]);
    expect(indexSelect(x, -1, [-1]).arraySync()).toEqual([[2], [4], [6]]);
    expect(indexSelect(x, 0, tensor([], { dtype: 'int32' })).shape).toEqual([0, 2]);
    expect(indexSelect(x, 1, []).shape).toEqual([3, 0]);
  });

  test('checks the index', () => {
    const x = tensor([1, 2, 3]);
    expect(() => indexSelect(x, 0, [[0]])).toThrow(/^indexSelect: index must be 0-d or 1-d/);
    expect(() => indexSelect(x, 0, [3])).toThrow(IndexError);
    expect(() => indexSelect(x, 1, [0])).toThrow(/^indexSelect: axis 1 is out of range/);
  });
});
