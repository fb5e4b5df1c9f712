import '@flint/backend-cpu';
import { AxisError, argsort, type DType, sort, type Tensor, tensor, topk, ValueError } from '@flint/api';
import { describe, expect, test } from 'vitest';

function expectTensor(actual: Tensor, shape: number[], dtype: DType, expected: readonly number[]): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  const data = Array.from(actual.dataSync());
  expect(data).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    if (Number.isNaN(want)) expect(data[i], `element ${i}`).toBeNaN();
    else expect(data[i], `element ${i}`).toBe(want);
  });
}

const NaN_ = Number.NaN;
const inf = Number.POSITIVE_INFINITY;

describe('sort', () => {
  test('ascending along the last axis by default', () => {
    expectTensor(sort(tensor([3, 1, 2])), [3], 'int32', [1, 2, 3]);
    expectTensor(
      sort(
        tensor([
          [3, 1, 2],
          [0, -1, 5],
        ]),
      ),
      [2, 3],
      'int32',
      [1, 2, 3, -1, 0, 5],
    );
  });

  test('descending, and along other axes (including negative ones)', () => {
    const x = tensor([
      [3, 1, 2],
      [0, -1, 5],
    ]);
    expectTensor(sort(x, -1, true), [2, 3], 'int32', [3, 2, 1, 5, 0, -1]);
    expectTensor(sort(x, 0), [2, 3], 'int32', [0, -1, 2, 3, 1, 5]);
    expectTensor(sort(x, -2, true), [2, 3], 'int32', [3, 1, 5, 0, -1, 2]);
    expectTensor(x.sort(0, true), [2, 3], 'int32', [3, 1, 5, 0, -1, 2]);
  });

  test('a middle axis of a rank-3 tensor', () => {
    // x[i, j, k] = values below; sorting along axis 1 sorts each (i, k) column of j.
    const x = tensor([
      [
        [5, 0],
        [1, 9],
        [3, 4],
      ],
      [
        [2, 2],
        [8, 1],
        [0, 7],
      ],
    ]);
    expectTensor(sort(x, 1), [2, 3, 2], 'int32', [1, 0, 3, 4, 5, 9, 0, 1, 2, 2, 8, 7]);
  });

  test('every dtype keeps its dtype', () => {
    expectTensor(sort(tensor([2.5, -1.5, 0])), [3], 'float32', [-1.5, 0, 2.5]);
    expectTensor(sort(tensor([1e300, -1e300], { dtype: 'float64' })), [2], 'float64', [-1e300, 1e300]);
    expectTensor(sort(tensor([200, 3, 255], { dtype: 'uint8' })), [3], 'uint8', [3, 200, 255]);
    expectTensor(sort(tensor([true, false, true])), [3], 'bool', [0, 1, 1]);
    expectTensor(sort(tensor([2147483647, -2147483648, 0])), [3], 'int32', [-2147483648, 0, 2147483647]);
  });

  test('NaN sorts last ascending and first descending; infinities in order', () => {
    const x = tensor([1, NaN_, -inf, inf, 0]);
    expectTensor(sort(x), [5], 'float32', [-inf, 0, 1, inf, NaN_]);
    expectTensor(sort(x, 0, true), [5], 'float32', [NaN_, inf, 1, 0, -inf]);
  });

  test('empty tensors, axes of size 1, and scalars', () => {
    expectTensor(sort(tensor(new Float32Array(0), { shape: [2, 0] })), [2, 0], 'float32', []);
    expectTensor(sort(tensor([[4], [2]])), [2, 1], 'int32', [4, 2]);
    expectTensor(sort(tensor(3.5)), [], 'float32', [3.5]);
  });

  test('bad axes and flags are clear errors', () => {
    expect(() => sort(tensor([1, 2]), 1)).toThrow(AxisError);
    expect(() => sort(tensor([1, 2]), 1)).toThrow(/sort: axis 1 is out of range for a tensor of rank 1/);
    expect(() => sort(tensor(1), 2)).toThrow(AxisError);
    expect(() => sort(tensor([1, 2]), 0, 'desc' as unknown as boolean)).toThrow(/sort: descending must be a boolean, got "desc"/);
  });
});

describe('argsort', () => {
  test('positions that sort, int32', () => {
    expectTensor(argsort(tensor([3, 1, 2])), [3], 'int32', [1, 2, 0]);
    expectTensor(
      argsort(
        tensor([
          [3, 1],
          [0, 5],
        ]),
        0,
        true,
      ),
      [2, 2],
      'int32',
      [0, 1, 1, 0],
    );
    expectTensor(tensor([0.5, -2, 9]).argsort(-1, true), [3], 'int32', [2, 0, 1]);
  });

  test('is stable in both directions', () => {
    const x = tensor([2, 1, 2, 1, 2]);
    expectTensor(argsort(x), [5], 'int32', [1, 3, 0, 2, 4]);
    expectTensor(argsort(x, 0, true), [5], 'int32', [0, 2, 4, 1, 3]);
  });

  test('NaN positions go last ascending, first descending', () => {
    expectTensor(argsort(tensor([NaN_, 1, 0])), [3], 'int32', [2, 1, 0]);
    expectTensor(argsort(tensor([1, NaN_, 0]), 0, true), [3], 'int32', [1, 0, 2]);
  });

  test('a scalar sorts to position 0', () => {
    expectTensor(argsort(tensor(9)), [], 'int32', [0]);
  });
});

describe('topk', () => {
  test('the k largest along the last axis, sorted, with their positions', () => {
    const { values, indices } = topk(tensor([1, 9, 3, 7]), 2);
    expectTensor(values, [2], 'int32', [9, 7]);
    expectTensor(indices, [2], 'int32', [1, 3]);
  });

  test('the k smallest when largest is false, along any axis', () => {
    const x = tensor([
      [4, 1, 8],
      [2, 6, 0],
    ]);
    const smallest = topk(x, 2, -1, false);
    expectTensor(smallest.values, [2, 2], 'int32', [1, 4, 0, 2]);
    expectTensor(smallest.indices, [2, 2], 'int32', [1, 0, 2, 0]);
    const down = x.topk(1, 0);
    expectTensor(down.values, [1, 3], 'int32', [4, 6, 8]);
    expectTensor(down.indices, [1, 3], 'int32', [0, 1, 0]);
  });

  test('ties keep the earlier position; NaN counts as the largest; floats keep their dtype', () => {
    expectTensor(topk(tensor([5, 7, 7, 1]), 2).indices, [2], 'int32', [1, 2]);
    const withNaN = topk(tensor([1, NaN_, 3]), 2);
    expectTensor(withNaN.values, [2], 'float32', [NaN_, 3]);
    expectTensor(withNaN.indices, [2], 'int32', [1, 2]);
  });

  test('k = 0 and k = the axis size', () => {
    expectTensor(topk(tensor([[1, 2]]), 0).values, [1, 0], 'int32', []);
    expectTensor(topk(tensor([3, 1, 2]), 3).values, [3], 'int32', [3, 2, 1]);
    expectTensor(topk(tensor(4), 1).values, [], 'int32', [4]);
  });

  test('k out of range is a ValueError naming k, the axis and the shape', () => {
    expect(() => topk(tensor([[1, 2, 3]]), 4)).toThrow(ValueError);
    expect(() => topk(tensor([[1, 2, 3]]), 4)).toThrow(
      'topk: k must be an integer from 0 to 3 (the size of axis 1 of shape [1, 3]), got 4',
    );
    expect(() => topk(tensor([1, 2]), -1)).toThrow(ValueError);
    expect(() => topk(tensor([1, 2]), 1.5)).toThrow(ValueError);
    expect(() => topk(tensor([1, 2]), 1, 3)).toThrow(AxisError);
  });
});
