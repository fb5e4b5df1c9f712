import '@flint/backend-cpu';
import { argsort, bucketize, DTypeError, grad, jit, ShapeError, searchsorted, type Tensor, tensor, ValueError, vmap } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

// Reference: the insertion point of v in a sorted row, counted directly (entries < v, or <= v).
function insertionPoint(row: readonly number[], v: number, right: boolean): number {
  return row.filter((s) => (right ? s <= v : s < v)).length;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const f32 = (data: number[] | number[][]) => tensor(data, { dtype: 'float32' });

describe('searchsorted', () => {
  test('the first or the last place each value fits (torch.searchsorted)', () => {
    const sequence = tensor([1, 3, 5, 7]);
    const left = searchsorted(sequence, tensor([3, 6, 9, 0, 1, 7]));
    expect(left.dtype).toBe('int32');
    expect(left.arraySync()).toEqual([1, 3, 4, 0, 0, 3]);
    expect(searchsorted(sequence, tensor([3, 6, 9, 0, 1, 7]), { right: true }).arraySync()).toEqual([2, 3, 4, 0, 1, 4]);
    expect(searchsorted(sequence, tensor([3, 7]), { side: 'right' }).arraySync()).toEqual([2, 4]);
    expect(searchsorted(sequence, tensor([3, 7]), { side: 'left', right: false }).arraySync()).toEqual([1, 3]);
  });

  test('ties: left goes before every equal entry, right after', () => {
    const sequence = tensor([1, 2, 2, 2, 2, 3]);
    expect(searchsorted(sequence, tensor([2])).arraySync()).toEqual([1]);
    expect(searchsorted(sequence, tensor([2]), { right: true }).arraySync()).toEqual([5]);
    const ones = tensor([5, 5, 5]);
    expect(searchsorted(ones, tensor([5, 4, 6])).arraySync()).toEqual([0, 0, 3]);
    expect(searchsorted(ones, tensor([5, 4, 6]), { right: true }).arraySync()).toEqual([3, 0, 3]);
  });

  test('values of any shape search one row; a scalar gives a 0-d result', () => {
    const r = searchsorted(
      tensor([10, 20, 30]),
      tensor([
        [5, 25],
        [30, 35],
      ]),
    );
    expect(r.shape).toEqual([2, 2]);
    expect(r.arraySync()).toEqual([
      [0, 2],
      [2, 3],
    ]);
    const s = searchsorted(tensor([10, 20, 30]), 20);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    expect(
      tensor([10, 20, 30])
        .searchsorted(tensor([25]), { right: true })
        .arraySync(),
    ).toEqual([2]);
  });

  test('batched rows: each row of values searches its own row', () => {
    const rows = tensor([
      [1, 3, 5],
      [2, 4, 6],
    ]);
    expect(searchsorted(rows, tensor([[3], [3]])).arraySync()).toEqual([[1], [1]]);
    expect(
      searchsorted(
        rows,
        tensor([
          [3, 6],
          [3, 6],
        ]),
        { right: true },
      ).arraySync(),
    ).toEqual([
      [2, 3],
      [1, 3],
    ]);
    const batch = tensor([[[0, 1]], [[5, 6]]]);
    expect(searchsorted(batch, tensor([[[1, 2]], [[5, 4]]])).arraySync()).toEqual([[[1, 2]], [[0, 0]]]);
  });

  test('agrees with counting on random sorted rows, including many ties and long rows', () => {
    const next = seeded(7);
    for (const n of [1, 2, 3, 7, 8, 9, 64, 1000]) {
      const row = Array.from({ length: n }, () => Math.floor(next() * 20)).sort((a, b) => a - b);
      const values = Array.from({ length: 50 }, () => Math.floor(next() * 24) - 2 + (next() < 0.3 ? 0.5 : 0));
      for (const right of [false, true]) {
        const got = searchsorted(f32(row), f32(values), { right }).arraySync();
        expect(got, `n ${n}, right ${right}`).toEqual(values.map((v) => insertionPoint(row, v, right)));
      }
    }
  });

  test('an unsorted sequence with its sorter', () => {
    const sequence = tensor([30, 10, 20]);
    const sorter = argsort(sequence);
    expect(searchsorted(sequence, tensor([15, 30, 31]), { sorter }).arraySync()).toEqual([1, 2, 3]);
    expect(searchsorted(sequence, tensor([15, 30, 31]), { sorter: [1, 2, 0], right: true }).arraySync()).toEqual([1, 3, 3]);
    const rows = tensor([
      [3, 1, 2],
      [0, 9, 5],
    ]);
    expect(searchsorted(rows, tensor([[2], [6]]), { sorter: argsort(rows, -1) }).arraySync()).toEqual([[1], [2]]);
  });

  test('values compare in the common dtype; NaN follows PyTorch', () => {
    expect(searchsorted(tensor([1, 2, 3]), tensor([1.5, 2.5])).arraySync()).toEqual([1, 2]);
    expect(searchsorted(tensor([1, 2, 3]), 2.5).item()).toBe(2);
    // torch.searchsorted(tensor([1., 2., nan]), tensor([nan, 2.5, 5])) is [3, 3, 3].
    expect(searchsorted(f32([1, 2, Number.NaN]), f32([Number.NaN, 2.5, 5])).arraySync()).toEqual([3, 3, 3]);
    expect(searchsorted(f32([1, 2, 3]), f32([Number.NaN, -Infinity, Infinity])).arraySync()).toEqual([3, 0, 3]);
  });

  test('empty sequences and empty values', () => {
    expect(searchsorted(f32([]), f32([1, 2])).arraySync()).toEqual([0, 0]);
    expect(searchsorted(f32([1, 2]), f32([])).shape).toEqual([0]);
    expect(searchsorted(tensor([[1, 2]], { dtype: 'float32' }), tensor([[]], { dtype: 'float32' })).shape).toEqual([1, 0]);
  });

  test('errors name the op, the shapes and the options', () => {
    expect(() => searchsorted(tensor(1), tensor([1]))).toThrow(ShapeError);
    expect(() => searchsorted(tensor(1), tensor([1]))).toThrow(/^searchsorted: sortedSequence must have at least one axis/);
    expect(() => searchsorted(tensor([[1, 2]]), tensor([1]))).toThrow(
      /share every axis but the last with values, got sortedSequence \[1, ?2\]/,
    );
    expect(() => searchsorted(tensor([[1, 2]]), 1)).toThrow(/a scalar value can only search a 1-D sortedSequence/);
    expect(() => searchsorted(tensor([true, false]), tensor([true]))).toThrow(DTypeError);
    expect(() => searchsorted(tensor([1, 2]), tensor([1]), { side: 'left', right: true })).toThrow(
      /^searchsorted: side and right disagree/,
    );
    expect(() => searchsorted(tensor([1, 2]), tensor([1]), { side: 'middle' as 'left' })).toThrow(ValueError);
    expect(() => searchsorted(tensor([1, 2]), tensor([1]), { sorter: [0] })).toThrow(/^searchsorted: sorter must have the shape/);
    expect(() => searchsorted(tensor([1, 2]), tensor([1]), { sorter: f32([0, 1]) })).toThrow(DTypeError);
    expect(() => searchsorted(tensor([1, 2]), tensor([1]), { sorter: [0, 5] })).toThrow(/out of bounds/);
    // NumPy's positional side, and PyTorch's keyword spelled in snake case.
    expect(() => (searchsorted as (...args: unknown[]) => Tensor)(tensor([1, 2]), tensor([1]), 'right')).toThrow(/side: 'right'/);
  });

  test('traces under jit and vmap, and carries no gradient', () => {
    const sequence = f32([0, 1, 2, 3]);
    const values = f32([0.5, 2, 9]);
    const traced = jit((s: Tensor, v: Tensor) => searchsorted(s, v, { right: true }));
    expect(traced(sequence, values).arraySync()).toEqual([1, 3, 4]);
    const rows = f32([
      [0, 1, 2],
      [5, 6, 7],
    ]);
    const batched = vmap((s: Tensor, v: Tensor) => searchsorted(s, v))(
      rows,
      f32([
        [1.5, 9],
        [5, 6.5],
      ]),
    );
    expect(batched.arraySync()).toEqual([
      [2, 3],
      [0, 2],
    ]);
    // Only the values are batched: each searches the shared row.
    expect(vmap((v: Tensor) => searchsorted(sequence, v))(f32([[0.5], [2.5]])).arraySync()).toEqual([[1], [3]]);
    const g = grad((v: Tensor) => searchsorted(sequence, v).astype('float32').mul(v).sum())(values);
    expect(g.arraySync()).toEqual([1, 2, 4]);
    const zero = grad((v: Tensor) => searchsorted(sequence, v).astype('float32').sum())(values);
    expect(zero.arraySync()).toEqual([0, 0, 0]);
  });
});

describe('bucketize', () => {
  test('the bucket of each element (torch.bucketize)', () => {
    const boundaries = tensor([1, 3, 5]);
    expect(bucketize(tensor([0.5, 1, 4, 9, 5]), boundaries).arraySync()).toEqual([0, 0, 2, 3, 2]);
    expect(bucketize(tensor([0.5, 1, 4, 9, 5]), boundaries, { right: true }).arraySync()).toEqual([0, 1, 2, 3, 3]);
    expect(bucketize(3, boundaries).item()).toBe(1);
    expect(
      tensor([[1, 6]])
        .bucketize(boundaries)
        .arraySync(),
    ).toEqual([[0, 3]]);
    expect(bucketize(tensor([1, 2]), f32([])).arraySync()).toEqual([0, 0]);
  });

  test('boundaries must be 1-D numbers', () => {
    expect(() => bucketize(tensor([1]), tensor([[1, 2]]))).toThrow(/^bucketize: boundaries must be 1-D, got shape \[1, ?2\]/);
    expect(() => bucketize(tensor([true]), tensor([1, 2]))).toThrow(DTypeError);
    expect(() => bucketize(tensor([1]), tensor([1, 2]), { right: 1 as unknown as boolean })).toThrow(/^bucketize: right must be a boolean/);
  });
});

describe('on a backend that reads asynchronously', () => {
  registerAsyncCpuBackend('cpu-async-searching');
  test('searchsorted and bucketize need no read', async () => {
    const on = (data: number[]) => tensor(data, { backend: 'cpu-async-searching', dtype: 'float32' });
    expect(await searchsorted(on([1, 2, 3]), on([2, 5])).array()).toEqual([1, 3]);
    expect(await bucketize(on([2, 5]), on([1, 2, 3]), { right: true }).array()).toEqual([2, 3]);
  });
});
