import '@flint/backend-cpu';
import {
  AxisError,
  ConcretizationError,
  grad,
  jit,
  memory,
  ShapeError,
  type Tensor,
  tensor,
  type Unique,
  unique,
  uniqueAsync,
  uniqueConsecutive,
  uniqueConsecutiveAsync,
  ValueError,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

const f32 = (data: number[]) => tensor(data, { dtype: 'float32' });
const NaN_ = Number.NaN;

function parts(u: Partial<Unique>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(u)) out[k] = (v as Tensor).arraySync();
  return out;
}

describe('unique', () => {
  test('the sorted distinct values, the inverse indices and the counts (torch.unique)', () => {
    const x = tensor([3, 1, 3, 2, 3]);
    const values = unique(x);
    expect(values.dtype).toBe('int32');
    expect(values.arraySync()).toEqual([1, 2, 3]);
    const all = unique(x, { returnInverse: true, returnCounts: true });
    expect(all.inverseIndices.dtype).toBe('int32');
    expect(all.counts.dtype).toBe('int32');
    expect(parts(all)).toEqual({ values: [1, 2, 3], inverseIndices: [2, 0, 2, 1, 2], counts: [1, 1, 3] });
    expect(Object.keys(unique(x, { returnInverse: true }))).toEqual(['values', 'inverseIndices']);
    expect(parts(unique(x, { returnCounts: true }))).toEqual({ values: [1, 2, 3], counts: [1, 1, 3] });
    expect(x.unique().arraySync()).toEqual([1, 2, 3]);
    expect(parts(x.unique({ returnCounts: true, sorted: false }))).toEqual({ values: [1, 2, 3], counts: [1, 1, 3] });
  });

  test('the inverse has the input shape and rebuilds it', () => {
    const x = f32([5, -1, 5, 2, 0.5, -1]).reshape(2, 3);
    const { values, inverseIndices } = unique(x, { returnInverse: true });
    expect(inverseIndices.shape).toEqual([2, 3]);
    expect(values.index(inverseIndices).arraySync()).toEqual(x.arraySync());
  });

  test('each NaN is a value of its own, sorted last (as PyTorch 2)', () => {
    const u = unique(f32([NaN_, 1, NaN_, 1]), { returnInverse: true, returnCounts: true });
    expect(u.values.arraySync()).toEqual([1, NaN_, NaN_]);
    expect(u.inverseIndices.arraySync()).toEqual([1, 0, 2, 0]);
    expect(u.counts.arraySync()).toEqual([2, 1, 1]);
    expect(unique(f32([-0, 0, Infinity, -Infinity, Infinity])).arraySync()).toEqual([-Infinity, -0, Infinity]);
  });

  test('0-d, empty and bool inputs', () => {
    expect(parts(unique(tensor(5), { returnInverse: true, returnCounts: true }))).toEqual({ values: [5], inverseIndices: 0, counts: [1] });
    const empty = unique(f32([]), { returnInverse: true, returnCounts: true });
    expect([empty.values.shape, empty.inverseIndices.shape, empty.counts.shape]).toEqual([[0], [0], [0]]);
    const emptyMatrix = unique(tensor([[], []], { dtype: 'float32' }), { returnInverse: true });
    expect(emptyMatrix.inverseIndices.shape).toEqual([2, 0]);
    expect(parts(unique(tensor([true, false, true]), { returnCounts: true }))).toEqual({ values: [false, true], counts: [1, 2] });
  });

  test('unique slices along an axis, sorted lexicographically', () => {
    const rows = tensor([
      [1, 2],
      [1, 2],
      [0, 5],
      [1, 1],
    ]);
    const u = unique(rows, { axis: 0, returnInverse: true, returnCounts: true });
    expect(parts(u)).toEqual({
      values: [
        [0, 5],
        [1, 1],
        [1, 2],
      ],
      inverseIndices: [2, 2, 0, 1],
      counts: [1, 1, 2],
    });
    const columns = unique(rows, { axis: 1, returnCounts: true });
    expect(parts(columns)).toEqual({
      values: [
        [1, 2],
        [1, 2],
        [0, 5],
        [1, 1],
      ],
      counts: [1, 1],
    });
    const cube = tensor([[[1, 0]], [[1, 0]], [[0, 1]]]);
    expect(unique(cube, { axis: -3 }).arraySync()).toEqual([[[0, 1]], [[1, 0]]]);
    expect(unique(tensor([[], []], { dtype: 'float32' }).reshape(0, 2), { axis: 0 }).shape).toEqual([0, 2]);
  });

  test('checks the axis, the flags and empty slices as PyTorch', () => {
    expect(() => unique(tensor(3), { axis: 0 })).toThrow(AxisError);
    expect(() => unique(tensor([1, 2]), { axis: 1 })).toThrow(/^unique: axis 1 is out of range/);
    expect(() => unique(tensor([[], []], { dtype: 'float32' }), { axis: 0 })).toThrow(ShapeError);
    expect(() => unique(tensor([[], []], { dtype: 'float32' }), { axis: 0 })).toThrow(/^unique: x of shape \[2, ?0\] has slices of size 0/);
    expect(() => unique(tensor([1]), { returnCounts: 'yes' as unknown as boolean })).toThrow(ValueError);
    expect(() => unique(tensor([1]), { return_counts: true } as never)).toThrow(/spelled 'returnCounts'/);
  });

  test('under jit: a ConcretizationError; a gradient reaches the first element of each run', () => {
    expect(() => jit((x: Tensor) => unique(x))(tensor([1, 1]))).toThrow(ConcretizationError);
    expect(() => jit((x: Tensor) => unique(x))(tensor([1, 1]))).toThrow(/^unique: .*bincount\(x, \{ length \}\)/);
    const g = grad((x: Tensor) =>
      unique(x)
        .mul(f32([1, 10]))
        .sum(),
    )(f32([2, 1, 2, 1]));
    expect(g.arraySync()).toEqual([10, 1, 0, 0]);
  });
});

describe('uniqueConsecutive', () => {
  test('collapses runs, keeping their order (torch.unique_consecutive)', () => {
    const x = tensor([1, 1, 2, 2, 3, 1, 1, 2]);
    expect(uniqueConsecutive(x).arraySync()).toEqual([1, 2, 3, 1, 2]);
    expect(parts(uniqueConsecutive(x, { returnInverse: true, returnCounts: true }))).toEqual({
      values: [1, 2, 3, 1, 2],
      inverseIndices: [0, 0, 1, 1, 2, 3, 3, 4],
      counts: [2, 2, 1, 2, 1],
    });
    expect(x.uniqueConsecutive({ returnCounts: true }).counts.arraySync()).toEqual([2, 2, 1, 2, 1]);
    expect(uniqueConsecutive(f32([NaN_, NaN_, 1])).arraySync()).toEqual([NaN_, NaN_, 1]);
    expect(uniqueConsecutive(f32([])).shape).toEqual([0]);
  });

  test('runs of slices along an axis', () => {
    const x = tensor([
      [1, 1],
      [1, 1],
      [2, 3],
      [1, 1],
    ]);
    expect(parts(uniqueConsecutive(x, { axis: 0, returnInverse: true, returnCounts: true }))).toEqual({
      values: [
        [1, 1],
        [2, 3],
        [1, 1],
      ],
      inverseIndices: [0, 0, 1, 2],
      counts: [2, 1, 1],
    });
  });
});

describe('on a backend that reads asynchronously', () => {
  registerAsyncCpuBackend('cpu-async-unique');
  const on = (data: number[]) => tensor(data, { backend: 'cpu-async-unique', dtype: 'float32' });

  test('the synchronous forms name the asynchronous ones; those work', async () => {
    expect(() => unique(on([1, 2]))).toThrow(/^unique: .*reads asynchronously; use `await uniqueAsync\(\.\.\.\)`/);
    expect(() => uniqueConsecutive(on([1, 2]))).toThrow(/use `await uniqueConsecutiveAsync\(\.\.\.\)`/);
    const u = await uniqueAsync(on([3, 1, 3]), { returnInverse: true, returnCounts: true });
    expect(u.values.backend).toBe('cpu-async-unique');
    expect([await u.values.array(), await u.inverseIndices.array(), await u.counts.array()]).toEqual([
      [1, 3],
      [1, 0, 1],
      [1, 2],
    ]);
    expect(await (await on([2, 2, 1]).uniqueAsync()).array()).toEqual([1, 2]);
    expect(await (await uniqueConsecutiveAsync(on([2, 2, 1, 2]))).array()).toEqual([2, 1, 2]);
    expect(await (await on([2, 2, 1]).uniqueConsecutiveAsync({ returnCounts: true })).counts.array()).toEqual([2, 1]);
  });

  test('the asynchronous form leaves only its result', async () => {
    const x = on([3, 1, 3, 3, 0]);
    const before = memory().buffers;
    const u = await uniqueAsync(x, { returnInverse: true, returnCounts: true });
    expect(memory().buffers).toBe(before + 3);
    for (const t of [u.values, u.inverseIndices, u.counts]) t.dispose();
    expect(memory().buffers).toBe(before);
  });
});
