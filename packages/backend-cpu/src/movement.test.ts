import { bind, getBackend, Primitive, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { emptyPool } from './storage.js';
import type { CpuHandle } from './view.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const handle = (t: Tensor): CpuHandle => t._handle as CpuHandle;
const range = (n: number, shape: number[]) =>
  tensor(
    Array.from({ length: n }, (_, i) => i),
    { dtype: 'int32', shape },
  );

describe('view primitives', () => {
  it('transpose, broadcast, slice and flip share storage', () => {
    const x = range(6, [2, 3]);
    const views = [
      bind(Primitive.Transpose, [x], { perm: [1, 0] }),
      bind(Primitive.Broadcast, [x], { shape: [4, 2, 3] }),
      bind(Primitive.Slice, [x], { starts: [0, 0], stops: [2, 3], steps: [1, 2] }),
      bind(Primitive.Flip, [x], { axes: [1] }),
      bind(Primitive.Reshape, [x], { shape: [3, 2] }),
    ];
    for (const v of views) expect(handle(v).storage).toBe(handle(x).storage);
    expect(handle(x).storage.life.refs).toBe(6);
    expect(values(views[0]!)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(values(views[1]!)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(handle(views[1]!).strides[0]).toBe(0);
    expect(values(views[2]!)).toEqual([0, 2, 3, 5]);
    expect(values(views[3]!)).toEqual([2, 1, 0, 5, 4, 3]);
    expect(values(views[4]!)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('slices with steps and offsets, and composes views', () => {
    const x = range(24, [4, 6]);
    const s = bind(Primitive.Slice, [x], { starts: [1, 1], stops: [4, 6], steps: [2, 3] });
    expect(s.shape).toEqual([2, 2]);
    expect(values(s)).toEqual([7, 10, 19, 22]);
    const f = bind(Primitive.Flip, [s], { axes: [0, 1] });
    expect(values(f)).toEqual([22, 19, 10, 7]);
    const t = bind(Primitive.Transpose, [f], { perm: [1, 0] });
    expect(values(t)).toEqual([22, 10, 19, 7]);
    expect(handle(t).storage).toBe(handle(x).storage);
  });

  it('reshapes a view without copying when the strides allow, and copies otherwise', () => {
    const x = range(24, [2, 3, 4]);
    const merged = bind(Primitive.Reshape, [bind(Primitive.Slice, [x], { starts: [0, 0, 0], stops: [2, 3, 2], steps: [1, 1, 1] })], {
      shape: [6, 2],
    });
    expect(values(merged)).toEqual([0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21]);
    // Splitting a strided dim is a view.
    const column = bind(Primitive.Slice, [range(24, [24, 1])], { starts: [0, 0], stops: [24, 1], steps: [2, 1] });
    const split = bind(Primitive.Reshape, [column], { shape: [3, 4] });
    expect(handle(split).storage).toBe(handle(column).storage);
    expect(values(split)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
    // Merging transposed dims needs a copy.
    const t = bind(Primitive.Transpose, [range(6, [2, 3])], { perm: [1, 0] });
    const flat = bind(Primitive.Reshape, [t], { shape: [6] });
    expect(handle(flat).storage).not.toBe(handle(t).storage);
    expect(values(flat)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(values(bind(Primitive.Reshape, [range(6, [6])], { shape: [1, 2, 1, 3, 1] }))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(bind(Primitive.Reshape, [tensor(new Float32Array(0), { shape: [0, 4] })], { shape: [2, 0, 3] }).shape).toEqual([2, 0, 3]);
    expect(values(bind(Primitive.Reshape, [tensor([7], { dtype: 'float32' })], { shape: [] }))).toEqual([7]);
  });
});

describe('copying movement', () => {
  it('pads with a constant, including bools and strided inputs', () => {
    const x = range(4, [2, 2]);
    const padded = bind(Primitive.Pad, [x], {
      widths: [
        [1, 0],
        [0, 2],
      ],
      value: -1,
    });
    expect(padded.shape).toEqual([3, 4]);
    expect(values(padded)).toEqual([-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1]);
    const t = bind(Primitive.Transpose, [x], { perm: [1, 0] });
    expect(
      values(
        bind(Primitive.Pad, [t], {
          widths: [
            [0, 0],
            [1, 1],
          ],
          value: 0,
        }),
      ),
    ).toEqual([0, 0, 2, 0, 0, 1, 3, 0]);
    expect(values(bind(Primitive.Pad, [tensor([false])], { widths: [[1, 1]], value: 5 }))).toEqual([1, 0, 1]);
  });

  it('concatenates along any axis, including empty parts and views', () => {
    const a = range(4, [2, 2]);
    const b = bind(Primitive.Flip, [range(2, [2, 1])], { axes: [0] });
    const empty = tensor(new Int32Array(0), { shape: [2, 0] });
    expect(values(bind(Primitive.Concat, [a, empty, b], { axis: 1 }))).toEqual([0, 1, 1, 2, 3, 0]);
    const c = bind(Primitive.Concat, [a, bind(Primitive.Transpose, [a], { perm: [1, 0] })], { axis: 0 });
    expect(c.shape).toEqual([4, 2]);
    expect(values(c)).toEqual([0, 1, 2, 3, 0, 2, 1, 3]);
  });
});

describe('every dtype', () => {
  for (const dtype of ['float32', 'float64', 'int32', 'uint8', 'bool'] as const) {
    it(`moves ${dtype} data through views and copies`, () => {
      const source = dtype === 'bool' ? [1, 0, 0, 1, 1, 0] : [1, 2, 3, 4, 5, 6];
      const x = tensor(source, { dtype, shape: [2, 3] });
      const t = bind(Primitive.Transpose, [x], { perm: [1, 0] });
      const pick = (indices: number[]) => indices.map((i) => source[i]!);
      expect(t.dtype).toBe(dtype);
      expect(values(t)).toEqual(pick([0, 3, 1, 4, 2, 5]));
      const both = bind(Primitive.Concat, [t, bind(Primitive.Flip, [t], { axes: [0] })], { axis: 1 });
      expect(values(both)).toEqual(pick([0, 3, 2, 5, 1, 4, 1, 4, 2, 5, 0, 3]));
      const gathered = bind(Primitive.Gather, [t, tensor([2, 0], { dtype: 'int32' })], { axis: 0 });
      expect(values(gathered)).toEqual(pick([2, 5, 0, 3]));
      const padded = bind(Primitive.Pad, [bind(Primitive.Slice, [x], { starts: [1, 0], stops: [2, 3], steps: [1, 2] })], {
        widths: [
          [0, 0],
          [1, 0],
        ],
        value: 0,
      });
      expect(values(padded)).toEqual([0, ...pick([3, 5])]);
      const copy = bind(Primitive.Reshape, [t], { shape: [6] });
      expect(copy.dtype).toBe(dtype);
      expect(values(copy)).toEqual(pick([0, 3, 1, 4, 2, 5]));
      const rows = bind(Primitive.Reshape, [tensor([true, false, true])], { shape: [3, 1] });
      const condition = bind(Primitive.Broadcast, [rows], { shape: [3, 2] });
      const chosen = bind(Primitive.Where, [condition, t, bind(Primitive.Flip, [t], { axes: [1] })], {});
      expect(values(chosen)).toEqual(pick([0, 3, 4, 1, 2, 5]));
    });
  }
});

describe('gather and scatterAdd', () => {
  it('takes along an axis with repeated indices', () => {
    const x = range(6, [2, 3]);
    const indices = tensor(
      [
        [2, 0],
        [2, 2],
      ],
      { dtype: 'int32' },
    );
    const out = bind(Primitive.Gather, [x, indices], { axis: 1 });
    expect(out.shape).toEqual([2, 2, 2]);
    expect(values(out)).toEqual([2, 0, 2, 2, 5, 3, 5, 5]);
    const rows = bind(Primitive.Gather, [bind(Primitive.Flip, [x], { axes: [0] }), tensor([0, 0, 1], { dtype: 'int32' })], { axis: 0 });
    expect(values(rows)).toEqual([3, 4, 5, 3, 4, 5, 0, 1, 2]);
    const scalarIndex = bind(Primitive.Gather, [x, tensor(1, { dtype: 'int32' })], { axis: 1 });
    expect(scalarIndex.shape).toEqual([2]);
    expect(values(scalarIndex)).toEqual([1, 4]);
  });

  it('adds updates at the indices, summing repeats', () => {
    const target = tensor(
      [
        [1, 1, 1],
        [1, 1, 1],
      ],
      { dtype: 'float32' },
    );
    const indices = tensor([0, 2, 0], { dtype: 'int32' });
    const updates = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    );
    const out = bind(Primitive.ScatterAdd, [target, indices, updates], { axis: 1 });
    expect(values(out)).toEqual([5, 1, 3, 11, 1, 6]);
    expect(values(target)).toEqual([1, 1, 1, 1, 1, 1]);
    const ints = bind(
      Primitive.ScatterAdd,
      [tensor([2147483647, 0], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), tensor([1], { dtype: 'int32' })],
      { axis: 0 },
    );
    expect(values(ints)).toEqual([-2147483648, 0]);
  });
});

describe('iota and full', () => {
  it('fills index values along an axis', () => {
    expect(values(bind(Primitive.Iota, [], { shape: [2, 3], dtype: 'int32', axis: 1 }))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(values(bind(Primitive.Iota, [], { shape: [2, 3], dtype: 'float32', axis: 0 }))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(bind(Primitive.Iota, [], { shape: [0, 3], dtype: 'int32', axis: 1 }).shape).toEqual([0, 3]);
  });

  it('fills a value cast to the dtype', () => {
    expect(values(bind(Primitive.Full, [], { shape: [2], dtype: 'int32', value: -2.7 }))).toEqual([-2, -2]);
    expect(values(bind(Primitive.Full, [], { shape: [2], dtype: 'bool', value: 0.5 }))).toEqual([1, 1]);
    expect(values(bind(Primitive.Full, [], { shape: [], dtype: 'float64', value: Math.PI }))).toEqual([Math.PI]);
    expect(values(bind(Primitive.Full, [], { shape: [1], dtype: 'uint8', value: 257 }))).toEqual([1]);
  });
});

describe('memory', () => {
  it('counts storages, not views, and returns to its start after disposing', () => {
    const backend = getBackend('cpu');
    const start = backend.memory();
    const x = tensor(new Float32Array(8), { shape: [2, 4] });
    expect(backend.memory()).toEqual({ buffers: start.buffers + 1, bytes: start.bytes + 32 });
    const t = bind(Primitive.Transpose, [x], { perm: [1, 0] });
    const s = bind(Primitive.Slice, [t], { starts: [0, 0], stops: [4, 2], steps: [2, 1] });
    expect(backend.memory().buffers).toBe(start.buffers + 1);
    const y = bind(Primitive.Neg, [s], {});
    expect(backend.memory()).toEqual({ buffers: start.buffers + 2, bytes: start.bytes + 32 + 16 });
    x.dispose();
    expect(values(s)).toEqual([-0, -0, -0, -0].map(Math.abs));
    t.dispose();
    t.dispose();
    backend.dispose(handle(y));
    backend.dispose(handle(y));
    expect(backend.memory().buffers).toBe(start.buffers + 1);
    s.dispose();
    expect(backend.memory()).toEqual(start);
  });

  it('recycles freed large arrays and still writes every element of the result', () => {
    // The pool is the process's: emptied, it returns what this test frees (one that earlier test
    // files filled to its bound would refuse them).
    emptyPool();
    const x = bind(Primitive.Full, [], { shape: [8192], dtype: 'float32', value: 7 });
    const recycled = handle(x).storage.data;
    x.dispose();
    const zeros = tensor(new Float32Array(8190));
    const padded = bind(Primitive.Pad, [zeros], { widths: [[1, 1]], value: 0 });
    expect(handle(padded).storage.data).toBe(recycled);
    expect(values(padded).every((v) => v === 0)).toBe(true);
    padded.dispose();
    const ints = bind(Primitive.Full, [], { shape: [4096, 2], dtype: 'int32', value: 1 });
    const intData = handle(ints).storage.data;
    ints.dispose();
    const sums = bind(Primitive.ReduceSum, [bind(Primitive.Full, [], { shape: [4096, 2, 3], dtype: 'int32', value: 2 })], { axes: [2] });
    expect(handle(sums).storage.data).toBe(intData);
    expect(values(sums).every((v) => v === 6)).toBe(true);
  });
});
