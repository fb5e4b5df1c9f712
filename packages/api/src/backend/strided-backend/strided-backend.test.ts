import { describe, expect, it } from 'vitest';
import type { Aval } from '../../core/aval.js';
import { PRIMITIVE_COUNT, Primitive } from '../../primitives/primitive.js';
import { disposeHandle, isContiguous, type SharedStorage, type StridedHandle, view, wrapStorage } from './handle.js';
import { type StridedKernels, stridedKernelTable } from './kernel-table.js';
import { flipKernel, reshapeKernel, transposeKernel } from './views.js';

interface TestStorage extends SharedStorage {
  readonly name: string;
}

type Handle = StridedHandle<TestStorage>;

const storage = (name: string): TestStorage => ({ name, refs: 1 });
const aval = (shape: readonly number[]): Aval => ({ shape, dtype: 'float32' }) as Aval;

describe('strided handles', () => {
  it('views share the storage and take a reference each', () => {
    const base = wrapStorage(storage('a'), [2, 3], 'float32');
    const transposed = transposeKernel([base], { perm: [1, 0] });
    expect(transposed.storage).toBe(base.storage);
    expect(transposed.shape).toEqual([3, 2]);
    expect(transposed.strides).toEqual([1, 3]);
    expect(base.storage.refs).toBe(2);
    const flipped = flipKernel([base], { axes: [1] });
    expect(flipped.offset).toBe(2);
    expect(flipped.strides).toEqual([3, -1]);
    expect(base.storage.refs).toBe(3);
  });

  it('disposing a handle twice drops one reference', () => {
    const base = wrapStorage(storage('a'), [4], 'float32');
    const other = view(base, [2], [2], 0);
    const released: string[] = [];
    const release = (s: TestStorage): void => {
      s.refs--;
      released.push(s.name);
    };
    disposeHandle(other, release);
    disposeHandle(other, release);
    expect(released).toEqual(['a']);
    expect(base.storage.refs).toBe(1);
  });

  it('reshape views when the strides allow and packs a copy otherwise', () => {
    const packs: Handle[] = [];
    const reshape = reshapeKernel((_context: null, x: Handle) => {
      packs.push(x);
      return storage('packed');
    });
    const base = wrapStorage(storage('a'), [2, 3], 'float32');
    const flat = reshape(null, [base], aval([6]));
    expect(flat.storage).toBe(base.storage);
    expect(packs).toHaveLength(0);
    const transposed = transposeKernel([base], { perm: [1, 0] });
    expect(isContiguous(transposed.shape, transposed.strides)).toBe(false);
    const packed = reshape(null, [transposed], aval([6]));
    expect(packs).toEqual([transposed]);
    expect(packed.storage.name).toBe('packed');
    expect(packed.storage.refs).toBe(1);
    expect(packed.strides).toEqual([1]);
  });
});

describe('stridedKernelTable', () => {
  it('has a kernel for every primitive and passes the context to the backend kernels', () => {
    const seen: string[] = [];
    const made =
      (name: string) =>
      (context: string, _inputs: readonly Handle[], ...rest: unknown[]) => {
        seen.push(`${name}:${context}`);
        return wrapStorage(storage(name), (rest[rest.length - 1] as Aval).shape, 'float32');
      };
    const kernels: StridedKernels<string, TestStorage> = {
      unary: () => made('unary'),
      binary: () => made('binary'),
      where: made('where'),
      cast: made('cast'),
      reduce: () => made('reduce'),
      argReduce: () => made('argReduce'),
      packContiguous: () => storage('packed'),
      pad: made('pad'),
      concat: made('concat'),
      gather: made('gather'),
      scatterAdd: made('scatterAdd'),
      dotGeneral: made('dotGeneral'),
      conv: made('conv'),
      reduceWindow: made('reduceWindow'),
      cumulative: made('cumulative'),
      argsort: made('argsort'),
      iota: (context, _params, out) => made('iota')(context, [], out),
      full: (context, _params, out) => made('full')(context, [], out),
      randomBits: made('randomBits'),
      randomUniform: made('randomUniform'),
    };
    const table = stridedKernelTable('ctx', kernels);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) expect(typeof table[p as Primitive]).toBe('function');
    const x = wrapStorage(storage('x'), [2], 'float32');
    table[Primitive.Add]([x, x], {}, aval([2]));
    table[Primitive.ReduceSum]([x], { axes: [0] }, aval([]));
    table[Primitive.Iota]([], { axis: 0 } as never, aval([3]));
    expect(seen).toEqual(['binary:ctx', 'reduce:ctx', 'iota:ctx']);
  });
});
