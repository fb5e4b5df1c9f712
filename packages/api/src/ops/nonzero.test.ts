import '@flint/backend-cpu';
import {
  argwhere,
  argwhereAsync,
  ConcretizationError,
  DTypeError,
  grad,
  index,
  jit,
  maskedSelect,
  maskedSelectAsync,
  memory,
  nonzero,
  nonzeroAsync,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  vjp,
  vmap,
  where,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

const f32 = (data: number[] | number[][]) => tensor(data, { dtype: 'float32' });
const values = (ts: readonly Tensor[]) => ts.map((t) => t.arraySync());

describe('nonzero and argwhere', () => {
  test('the coordinates of the nonzero elements, in row-major order (torch.nonzero)', () => {
    const x = tensor([
      [1, 0, 3],
      [0, 0, -2],
    ]);
    const positions = nonzero(x);
    expect(positions.dtype).toBe('int32');
    expect(positions.arraySync()).toEqual([
      [0, 0],
      [0, 2],
      [1, 2],
    ]);
    expect(values(nonzero(x, { asTuple: true }))).toEqual([
      [0, 0, 1],
      [0, 2, 2],
    ]);
    expect(argwhere(x).arraySync()).toEqual(positions.arraySync());
    expect(x.nonzero().arraySync()).toEqual(positions.arraySync());
    expect(values(x.nonzero({ asTuple: true }))).toEqual([
      [0, 0, 1],
      [0, 2, 2],
    ]);
    expect(x.argwhere().shape).toEqual([3, 2]);
  });

  test('NaN is nonzero; bool, 3-d and long inputs', () => {
    expect(nonzero(f32([0, Number.NaN, -0, 0.5])).arraySync()).toEqual([[1], [3]]);
    expect(nonzero(tensor([false, true, true])).arraySync()).toEqual([[1], [2]]);
    const cube = tensor([
      [
        [0, 1],
        [1, 0],
      ],
      [
        [0, 0],
        [0, 1],
      ],
    ]);
    expect(nonzero(cube).arraySync()).toEqual([
      [0, 0, 1],
      [0, 1, 0],
      [1, 1, 1],
    ]);
    const long = Array.from({ length: 1000 }, (_, i) => (i % 7 === 3 ? 1 : 0));
    const expected = long.flatMap((v, i) => (v === 1 ? [i] : []));
    expect(nonzero(tensor(long), { asTuple: true })[0]?.arraySync()).toEqual(expected);
  });

  test('0-d, empty and all-false inputs', () => {
    const scalar = nonzero(tensor(5));
    expect(scalar.shape).toEqual([1, 0]);
    expect(nonzero(tensor(0)).shape).toEqual([0, 0]);
    expect(values(nonzero(tensor(5), { asTuple: true }))).toEqual([[0]]);
    expect(values(nonzero(tensor(0), { asTuple: true }))).toEqual([[]]);
    expect(nonzero(f32([])).shape).toEqual([0, 1]);
    expect(
      nonzero(
        tensor([
          [0, 0],
          [0, 0],
        ]),
      ).shape,
    ).toEqual([0, 2]);
    const empty = nonzero(tensor([[false, false]]), { asTuple: true });
    expect(empty.map((t) => t.shape)).toEqual([[0], [0]]);
  });

  test('the tuple indexes the tensor, as numpy.nonzero', () => {
    const x = tensor([
      [5, 0],
      [0, 7],
    ]);
    const [rows, columns] = nonzero(x, { asTuple: true });
    expect(index(x, rows as Tensor, columns as Tensor).arraySync()).toEqual([5, 7]);
  });

  test('where with one argument points to nonzero', () => {
    expect(() => (where as (c: unknown) => Tensor)(tensor([true]))).toThrow(ValueError);
    expect(() => (where as (c: unknown) => Tensor)(tensor([true]))).toThrow(/use nonzero\(condition, \{ asTuple: true \}\)/);
  });

  test('under jit and vmap: a ConcretizationError naming the op and a static alternative', () => {
    expect(() => jit((x: Tensor) => nonzero(x))(tensor([1, 0]))).toThrow(ConcretizationError);
    expect(() => jit((x: Tensor) => nonzero(x))(tensor([1, 0]))).toThrow(
      /^nonzero: the shape of its result depends on the values of its input, which do not exist yet while jit traces; use a mask with where/,
    );
    expect(() =>
      vmap((x: Tensor) => argwhere(x))(
        tensor([
          [1, 0],
          [1, 1],
        ]),
      ),
    ).toThrow(/^argwhere: under vmap each example could need a result of a different shape/);
  });

  test('checks its options', () => {
    expect(() => nonzero(tensor([1]), { asTuple: 1 as unknown as boolean })).toThrow(/^nonzero: asTuple must be a boolean/);
    expect(() => (nonzero as (...args: unknown[]) => Tensor)(tensor([1]), true)).toThrow(
      /^nonzero: argument 2 is the options object \{ asTuple \}/,
    );
  });
});

describe('maskedSelect', () => {
  test('the elements where the mask is true, as a vector (torch.masked_select)', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const picked = maskedSelect(
      x,
      tensor([
        [true, false],
        [false, true],
      ]),
    );
    expect(picked.dtype).toBe('int32');
    expect(picked.arraySync()).toEqual([1, 4]);
    expect(x.maskedSelect(x.greater(1)).arraySync()).toEqual([2, 3, 4]);
    expect(maskedSelect(f32([1, 2, 3]), tensor([true, false, true])).dtype).toBe('float32');
  });

  test('x and the mask broadcast together', () => {
    expect(maskedSelect(tensor([1, 2, 3]), tensor([[true], [false]])).arraySync()).toEqual([1, 2, 3]);
    expect(maskedSelect(tensor([[1], [2]]), tensor([true, false, true])).arraySync()).toEqual([1, 1, 2, 2]);
    expect(maskedSelect(tensor(7), tensor([true, true])).arraySync()).toEqual([7, 7]);
  });

  test('all-false, empty and 0-d', () => {
    expect(maskedSelect(f32([1, 2]), tensor([false, false])).shape).toEqual([0]);
    expect(maskedSelect(f32([]), tensor([], { dtype: 'bool' })).shape).toEqual([0]);
    expect(maskedSelect(tensor(3), tensor(true)).arraySync()).toEqual([3]);
    expect(maskedSelect(tensor(3), tensor(false)).shape).toEqual([0]);
  });

  test('the mask must be bool and broadcast with x', () => {
    expect(() => maskedSelect(tensor([1, 2]), tensor([1, 0]))).toThrow(DTypeError);
    expect(() => maskedSelect(tensor([1, 2]), tensor([1, 0]))).toThrow(/^maskedSelect: mask must be bool, got int32/);
    expect(() => maskedSelect(tensor([1, 2]), tensor([true, false, true]))).toThrow(ShapeError);
    expect(() => maskedSelect(tensor([1, 2]), tensor([true, false, true]))).toThrow(/^maskedSelect:/);
  });

  test('its gradient scatters the cotangent back to the selected places', () => {
    const mask = tensor([
      [true, false, true],
      [false, true, false],
    ]);
    const x = f32([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const weights = f32([10, 20, 30]);
    const g = grad((t: Tensor) => maskedSelect(t, mask).mul(weights).sum())(x);
    expect(g.arraySync()).toEqual([
      [10, 0, 20],
      [0, 30, 0],
    ]);
    // A mask broadcast over x's rows: each row's selected elements get their own cotangent.
    const [out, pullback] = vjp((t: Tensor) => maskedSelect(t, tensor([false, true, true])), x);
    expect(out.arraySync()).toEqual([2, 3, 5, 6]);
    expect((pullback(f32([1, 2, 3, 4])) as Tensor[])[0]?.arraySync()).toEqual([
      [0, 1, 2],
      [0, 3, 4],
    ]);
    // A mask computed from x itself (read through grad's trace) and a broadcast x.
    const fromX = grad((t: Tensor) => maskedSelect(t, t.greater(2)).square().sum())(f32([1, 3, 4]));
    expect(fromX.arraySync()).toEqual([0, 6, 8]);
    const broadcastX = grad((t: Tensor) => maskedSelect(t, tensor([[true], [true]])).sum())(f32([1, 2]));
    expect(broadcastX.arraySync()).toEqual([2, 2]);
  });

  test('backward() on the imperative tape agrees', () => {
    const x = f32([1, 2, 3]).requiresGrad_();
    maskedSelect(x, tensor([true, false, true]))
      .mul(f32([4, 5]))
      .sum()
      .backward();
    expect(x.grad?.arraySync()).toEqual([4, 0, 5]);
  });

  test('a mask under vmap is an error; an unbatched mask with batched x is fine', () => {
    const mask = tensor([true, false, true]);
    const batched = vmap((t: Tensor) => maskedSelect(t, mask))(
      f32([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(batched.arraySync()).toEqual([
      [1, 3],
      [4, 6],
    ]);
    expect(() => vmap((t: Tensor) => maskedSelect(t, t.greater(0)))(f32([[1], [-1]]))).toThrow(ConcretizationError);
    expect(() => jit((t: Tensor) => maskedSelect(t, mask))(f32([1, 2, 3]))).toThrow(/^maskedSelect: .*use where\(mask, x, 0\)/);
  });
});

describe('on a backend that reads asynchronously', () => {
  registerAsyncCpuBackend('cpu-async-nonzero');
  const on = (data: number[] | boolean[], dtype: 'float32' | 'bool' = 'float32') => tensor(data, { backend: 'cpu-async-nonzero', dtype });

  test('the synchronous forms name the asynchronous ones', () => {
    expect(() => nonzero(on([1, 0]))).toThrow(ValueError);
    expect(() => nonzero(on([1, 0]))).toThrow(
      /^nonzero: .*backend 'cpu-async-nonzero' reads asynchronously; use `await nonzeroAsync\(\.\.\.\)`/,
    );
    expect(() => argwhere(on([1, 0]))).toThrow(/use `await argwhereAsync/);
    expect(() => maskedSelect(on([1, 0]), on([true, false], 'bool'))).toThrow(/use `await maskedSelectAsync/);
  });

  test('the asynchronous forms give the same results, on the input backend', async () => {
    const x = on([0, 4, 0, 5]);
    const positions = await nonzeroAsync(x);
    expect(positions.backend).toBe('cpu-async-nonzero');
    expect(await positions.array()).toEqual([[1], [3]]);
    const tuple = await nonzeroAsync(x, { asTuple: true });
    expect(await Promise.all(tuple.map((t) => t.array()))).toEqual([[1, 3]]);
    expect(await (await argwhereAsync(x)).array()).toEqual([[1], [3]]);
    expect(await (await x.nonzeroAsync()).array()).toEqual([[1], [3]]);
    expect(await (await maskedSelectAsync(x, on([true, true, false, true], 'bool'))).array()).toEqual([0, 4, 5]);
    expect(await (await x.maskedSelectAsync(on([false, false, false, false], 'bool'))).array()).toEqual([]);
    expect(await (await argwhereAsync(on([]))).array()).toEqual([]);
  });

  test('the asynchronous forms leave only their result', async () => {
    const x = on([0, 4, 0, 5]);
    const mask = on([true, false, true, true], 'bool');
    const before = memory().buffers;
    const picked = await maskedSelectAsync(x, mask);
    const positions = await nonzeroAsync(x, { asTuple: true });
    expect(memory().buffers).toBe(before + 2);
    picked.dispose();
    for (const p of positions) p.dispose();
    expect(memory().buffers).toBe(before);
    expect(x.isDisposed).toBe(false);
  });
});
