import { bind, Primitive, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const reduce = (p: Primitive, x: Tensor, axes: number[]): Tensor => bind(p as Primitive.ReduceSum, [x], { axes });

// 2 x 3 x 2, values 0..11.
const cube = () =>
  tensor(
    Array.from({ length: 12 }, (_, i) => i),
    { dtype: 'float32', shape: [2, 3, 2] },
  );

describe('reductions', () => {
  it('sums over any set of axes', () => {
    const x = cube();
    expect(values(reduce(Primitive.ReduceSum, x, [0, 1, 2]))).toEqual([66]);
    expect(values(reduce(Primitive.ReduceSum, x, [0]))).toEqual([6, 8, 10, 12, 14, 16]);
    expect(values(reduce(Primitive.ReduceSum, x, [1]))).toEqual([6, 9, 24, 27]);
    expect(values(reduce(Primitive.ReduceSum, x, [0, 2]))).toEqual([14, 22, 30]);
    expect(reduce(Primitive.ReduceSum, x, []).shape).toEqual([2, 3, 2]);
  });

  it('reduces strided views', () => {
    const x = bind(Primitive.Transpose, [cube()], { perm: [2, 0, 1] });
    expect(values(reduce(Primitive.ReduceSum, x, [2]))).toEqual([6, 24, 9, 27]);
    const flipped = bind(Primitive.Flip, [cube()], { axes: [1] });
    expect(values(reduce(Primitive.ReduceMax, flipped, [2]))).toEqual([5, 3, 1, 11, 9, 7]);
    const broadcast = bind(Primitive.Broadcast, [tensor([1, 2], { dtype: 'int32' })], { shape: [5, 2] });
    expect(values(reduce(Primitive.ReduceSum, broadcast, [0]))).toEqual([5, 10]);
  });

  it('gives identities for empty reductions', () => {
    const empty = tensor(new Float32Array(0), { shape: [2, 0] });
    expect(values(reduce(Primitive.ReduceSum, empty, [1]))).toEqual([0, 0]);
    expect(values(reduce(Primitive.ReduceProd, empty, [1]))).toEqual([1, 1]);
    expect(values(reduce(Primitive.ReduceMax, empty, [1]))).toEqual([-Infinity, -Infinity]);
    expect(values(reduce(Primitive.ReduceMin, empty, [1]))).toEqual([Infinity, Infinity]);
    const ints = tensor(new Int32Array(0), { shape: [1, 0] });
    expect(values(reduce(Primitive.ReduceMax, ints, [1]))).toEqual([-2147483648]);
    expect(values(reduce(Primitive.ReduceMin, ints, [1]))).toEqual([2147483647]);
    const bytes = tensor(new Uint8Array(0), { shape: [0] });
    expect(values(reduce(Primitive.ReduceMax, bytes, [0]))).toEqual([0]);
    expect(values(reduce(Primitive.ReduceMin, bytes, [0]))).toEqual([255]);
    expect(reduce(Primitive.ReduceSum, tensor(new Float32Array(0), { shape: [0, 3] }), [1]).shape).toEqual([0]);
  });

  it('wraps integer sums and products and propagates NaN in max/min', () => {
    const ints = tensor([2147483647, 1, 65536, 65536], { dtype: 'int32', shape: [2, 2] });
    expect(values(reduce(Primitive.ReduceSum, ints, [1]))).toEqual([-2147483648, 131072]);
    expect(values(reduce(Primitive.ReduceProd, ints, [1]))).toEqual([2147483647, 0]);
    expect(values(reduce(Primitive.ReduceSum, tensor([200, 100], { dtype: 'uint8' }), [0]))).toEqual([44]);
    expect(values(reduce(Primitive.ReduceProd, tensor([16, 32], { dtype: 'uint8' }), [0]))).toEqual([0]);
    const x = tensor([1, NaN, 3, 0], { dtype: 'float64' });
    expect(values(reduce(Primitive.ReduceMax, x, [0]))).toEqual([NaN]);
    expect(values(reduce(Primitive.ReduceMin, x, [0]))).toEqual([NaN]);
    expect(values(reduce(Primitive.ReduceMax, tensor([false, true, false]), [0]))).toEqual([1]);
    expect(values(reduce(Primitive.ReduceMin, tensor([false, true, false]), [0]))).toEqual([0]);
  });

  it('finds the first arg max/min, with NaN as the extreme', () => {
    const x = tensor(
      [
        [3, 1, 3, 1],
        [0, NaN, 5, NaN],
      ],
      { dtype: 'float32' },
    );
    const argmax = bind(Primitive.Argmax, [x], { axis: 1 });
    expect(argmax.dtype).toBe('int32');
    expect(values(argmax)).toEqual([0, 1]);
    expect(values(bind(Primitive.Argmin, [x], { axis: 1 }))).toEqual([1, 1]);
    expect(values(bind(Primitive.Argmax, [x], { axis: 0 }))).toEqual([0, 1, 1, 1]);
    expect(values(bind(Primitive.Argmin, [tensor([5, 2, 2, 7], { dtype: 'int32' })], { axis: 0 }))).toEqual([1]);
    const flipped = bind(Primitive.Flip, [tensor([1, 9, 9, 2], { dtype: 'uint8' })], { axes: [0] });
    expect(values(bind(Primitive.Argmax, [flipped], { axis: 0 }))).toEqual([1]);
  });
});

describe('cumulative scans', () => {
  it('scans forward and in reverse along any axis', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    );
    const scan = (op: 'sum' | 'prod' | 'max' | 'min', axis: number, reverse = false) =>
      values(bind(Primitive.Cumulative, [x], { op, axis, reverse }));
    expect(scan('sum', 1)).toEqual([1, 3, 6, 4, 9, 15]);
    expect(scan('sum', 0)).toEqual([1, 2, 3, 5, 7, 9]);
    expect(scan('sum', 1, true)).toEqual([6, 5, 3, 15, 11, 6]);
    expect(scan('prod', 1)).toEqual([1, 2, 6, 4, 20, 120]);
    expect(scan('max', 0, true)).toEqual([4, 5, 6, 4, 5, 6]);
    expect(scan('min', 1)).toEqual([1, 1, 1, 4, 4, 4]);
  });

  it('wraps int32 sums, propagates NaN and handles empty axes', () => {
    const ints = tensor([2147483647, 1, 1], { dtype: 'int32' });
    expect(values(bind(Primitive.Cumulative, [ints], { op: 'sum', axis: 0, reverse: false }))).toEqual([
      2147483647, -2147483648, -2147483647,
    ]);
    const x = tensor([1, NaN, 3], { dtype: 'float64' });
    expect(values(bind(Primitive.Cumulative, [x], { op: 'max', axis: 0, reverse: false }))).toEqual([1, NaN, NaN]);
    const empty = tensor(new Float32Array(0), { shape: [3, 0] });
    expect(bind(Primitive.Cumulative, [empty], { op: 'sum', axis: 1, reverse: false }).shape).toEqual([3, 0]);
  });
});

describe('argsort', () => {
  it('is stable, with NaN last ascending and first descending', () => {
    const x = tensor([3, NaN, 1, 3, 1, NaN], { dtype: 'float32' });
    expect(values(bind(Primitive.Argsort, [x], { axis: 0, descending: false }))).toEqual([2, 4, 0, 3, 1, 5]);
    expect(values(bind(Primitive.Argsort, [x], { axis: 0, descending: true }))).toEqual([1, 5, 0, 3, 2, 4]);
  });

  it('sorts along a leading axis of a strided view', () => {
    const m = tensor(
      [
        [3, 1],
        [1, 2],
        [2, 0],
      ],
      { dtype: 'int32' },
    );
    expect(values(bind(Primitive.Argsort, [m], { axis: 0, descending: false }))).toEqual([1, 2, 2, 0, 0, 1]);
    const t = bind(Primitive.Transpose, [m], { perm: [1, 0] });
    expect(values(bind(Primitive.Argsort, [t], { axis: 1, descending: true }))).toEqual([0, 2, 1, 1, 0, 2]);
  });

  it('matches a stable reference sort on a long run with ties and NaNs', () => {
    const n = 1037;
    const raw = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : ((i * 7919) % 41) - 20));
    const x = tensor(raw, { dtype: 'float64', shape: [1, n] });
    const indices = Array.from({ length: n }, (_, i) => i);
    const numbers = indices.filter((i) => !Number.isNaN(raw[i]!));
    const nans = indices.filter((i) => Number.isNaN(raw[i]!));
    const ascending = [...numbers].sort((a, b) => raw[a]! - raw[b]!);
    const descending = [...numbers].sort((a, b) => raw[b]! - raw[a]!);
    expect(values(bind(Primitive.Argsort, [x], { axis: 1, descending: false }))).toEqual([...ascending, ...nans]);
    expect(values(bind(Primitive.Argsort, [x], { axis: 1, descending: true }))).toEqual([...nans, ...descending]);
  });
});
