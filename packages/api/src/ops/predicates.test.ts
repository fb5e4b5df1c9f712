import '@flint/backend-cpu';
import {
  all,
  allclose,
  type Backend,
  ConcretizationError,
  getBackend,
  isclose,
  isfinite,
  isinf,
  isnan,
  jit,
  registerBackend,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

const bools = (t: Tensor): boolean[] => Array.from(t.dataSync(), (v) => v !== 0);
const special = () => tensor([1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 3e38]);

describe('isnan, isinf, isfinite', () => {
  test('classify NaN and infinities as torch does, returning bool', () => {
    for (const dtype of ['float32', 'float64', 'float16', 'bfloat16'] as const) {
      const x = special().astype(dtype);
      expect(isnan(x).dtype).toBe('bool');
      expect(bools(isnan(x)), dtype).toEqual([false, true, false, false, false, false]);
      // 3e38 overflows float16 and rounds to a finite bfloat16.
      const big = dtype === 'float16';
      expect(bools(isinf(x)), dtype).toEqual([false, false, true, true, false, big]);
      expect(bools(isfinite(x)), dtype).toEqual([true, false, false, false, true, !big]);
    }
  });

  test('integer and bool tensors hold neither NaN nor infinity', () => {
    for (const x of [tensor([1, -2, 3], { dtype: 'int32' }), tensor([0, 255], { dtype: 'uint8' }), tensor([true, false])]) {
      expect(bools(isnan(x))).toEqual(x.shape[0] === 3 ? [false, false, false] : [false, false]);
      expect(bools(isinf(x))).toEqual(x.shape[0] === 3 ? [false, false, false] : [false, false]);
      expect(bools(isfinite(x))).toEqual(x.shape[0] === 3 ? [true, true, true] : [true, true]);
      expect(isfinite(x).dtype).toBe('bool');
    }
  });

  test('keep the shape, including empty and 0-dim tensors, and take JavaScript values', () => {
    expect(isnan(zeros([2, 0, 3])).shape).toEqual([2, 0, 3]);
    expect(isinf(tensor(Number.NEGATIVE_INFINITY)).item()).toBe(true);
    expect(isfinite([[1, Number.NaN]]).shape).toEqual([1, 2]);
    expect(bools(isnan([[1, Number.NaN]]))).toEqual([false, true]);
  });

  test('are methods', () => {
    const x = tensor([Number.NaN, 1]);
    expect(bools(x.isnan())).toEqual([true, false]);
    expect(bools(x.isinf())).toEqual([false, false]);
    expect(bools(x.isfinite())).toEqual([false, true]);
  });
});

describe('isclose', () => {
  test('matches torch.isclose with the default tolerances (rtol 1e-5, atol 1e-8)', () => {
    const a = tensor([1, 1, 100, 0, 1e-9, Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1], { dtype: 'float64' });
    const b = tensor(
      [1 + 1e-6, 1 + 1e-4, 100.0009, 1e-9, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
      {
        dtype: 'float64',
      },
    );
    // torch.isclose(a, b) -> [True, False, True, True, True, False, True, False, False]
    expect(bools(isclose(a, b))).toEqual([true, false, true, true, true, false, true, false, false]);
    expect(isclose(a, b).dtype).toBe('bool');
  });

  test('is asymmetric in b, as torch and numpy are', () => {
    // |a - b| = 1; 0.01 * |b| is 1 only when b is 100.
    expect(isclose(99, tensor(100), { rtol: 0.01, atol: 0 }).item()).toBe(true);
    expect(isclose(100, tensor(99), { rtol: 0.01, atol: 0 }).item()).toBe(false);
  });

  test('equalNan, rtol and atol', () => {
    const a = tensor([Number.NaN, 1, 1]);
    const b = tensor([Number.NaN, 1.5, 2]);
    expect(bools(isclose(a, b, { equalNan: true, atol: 0.5, rtol: 0 }))).toEqual([true, true, false]);
    expect(bools(isclose(a, b, { rtol: 0.5 }))).toEqual([false, true, true]);
  });

  test('broadcasts and compares integers exactly for equality', () => {
    const out = isclose(tensor([[1], [2]], { dtype: 'int32' }), tensor([1, 2, 3], { dtype: 'int32' }));
    expect(out.shape).toEqual([2, 3]);
    expect(bools(out)).toEqual([true, false, false, false, true, false]);
    expect(bools(isclose(tensor([2 ** 30 + 1], { dtype: 'int32' }), tensor([2 ** 30 + 1], { dtype: 'int32' })))).toEqual([true]);
  });

  test('rejects bad tolerances and torch-style positional tolerances', () => {
    expect(() => isclose(tensor([1]), tensor([1]), { rtol: -1 })).toThrow(ValueError);
    expect(() => isclose(tensor([1]), tensor([1]), { atol: Number.NaN })).toThrow(/atol must be a non-negative finite number/);
    expect(() => (isclose as (...args: unknown[]) => Tensor)(tensor([1]), tensor([1]), 1e-3)).toThrow(/isclose/);
    expect(() => isclose(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/^isclose: shapes \[2\] and \[3\]/);
  });

  test('is a method', () => {
    expect(bools(tensor([1, 2]).isclose(tensor([1, 2.5])))).toEqual([true, false]);
  });
});

describe('allclose', () => {
  test('returns a JavaScript boolean', () => {
    expect(allclose(tensor([1, 2]), tensor([1, 2 + 1e-6]))).toBe(true);
    expect(allclose(tensor([1, 2]), tensor([1, 2.1]))).toBe(false);
    expect(allclose(tensor([1, Number.NaN]), tensor([1, Number.NaN]))).toBe(false);
    expect(allclose(tensor([1, Number.NaN]), tensor([1, Number.NaN]), { equalNan: true })).toBe(true);
    expect(allclose(zeros([0]), zeros([0]))).toBe(true);
    expect(tensor([1, 2]).allclose([1, 2.05], { atol: 0.1 })).toBe(true);
  });

  test('cannot give a value inside a traced function', () => {
    const f = jit((x: Tensor) => {
      allclose(x, x);
      return x;
    });
    expect(() => f(tensor([1]))).toThrow(ConcretizationError);
  });

  test('rejects mismatched shapes naming allclose', () => {
    expect(() => allclose(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/allclose/);
    expect(() => allclose(tensor([1]), tensor([1]), { equalNan: 1 as unknown as boolean })).toThrow(/equalNan must be a boolean/);
  });

  test('compares bools as 0 and 1', () => {
    expect(allclose(tensor([true, false]), tensor([true, false]))).toBe(true);
    expect(allclose(tensor([true, false]), tensor([true, true]))).toBe(false);
  });
});

describe('allclose on a backend that reads asynchronously', () => {
  const cpu = getBackend('cpu');
  const asyncBackend: Backend = {
    name: 'async-cpu-predicates',
    capabilities: { ...cpu.capabilities, syncRead: false },
    kernels: cpu.kernels,
    fromTypedArray: (data, shape, dtype) => cpu.fromTypedArray(data, shape, dtype),
    read: (handle) => cpu.read(handle),
    dispose: (handle) => cpu.dispose(handle),
    memory: () => cpu.memory(),
  };
  registerBackend({ name: 'async-cpu-predicates', priority: -100, create: () => asyncBackend });
  const onAsync = (values: number[]) => tensor(values, { dtype: 'float32', backend: 'async-cpu-predicates' });

  test('says what to await instead, and the suggested form works', async () => {
    expect(() => allclose(onAsync([1, 2]), onAsync([1, 2]))).toThrow(
      /^allclose: backend 'async-cpu-predicates' reads asynchronously, so allclose cannot return a boolean; use `\(await all\(isclose\(a, b\)\)\.data\(\)\)\[0\] === 1`/,
    );
    expect((await all(isclose(onAsync([1, 2]), onAsync([1, 2]))).data())[0] === 1).toBe(true);
    expect((await all(isclose(onAsync([1, 2]), [1, 3])).data())[0] === 1).toBe(false);
  });
});
