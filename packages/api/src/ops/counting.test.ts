import '@flint/backend-cpu';
import {
  AxisError,
  bincount,
  bincountAsync,
  ConcretizationError,
  countNonzero,
  DTypeError,
  grad,
  histc,
  jit,
  memory,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

const f32 = (data: number[]) => tensor(data, { dtype: 'float32' });
const NaN_ = Number.NaN;

describe('countNonzero', () => {
  test('counts elements that are not zero, NaN included (torch.count_nonzero)', () => {
    const x = tensor([
      [0, 1, 2],
      [3, 0, NaN_],
    ]);
    const all = countNonzero(x);
    expect(all.dtype).toBe('int32');
    expect(all.shape).toEqual([]);
    expect(all.item()).toBe(4);
    expect(countNonzero(x, 1).arraySync()).toEqual([2, 2]);
    expect(countNonzero(x, [0, -1]).item()).toBe(4);
    expect(countNonzero(x, 0).arraySync()).toEqual([1, 1, 2]);
    expect(x.countNonzero(0).arraySync()).toEqual([1, 1, 2]);
    expect(countNonzero(tensor([true, false, true])).item()).toBe(2);
    expect(countNonzero(tensor([-0, 0.5])).item()).toBe(1);
  });

  test('0-d and empty inputs', () => {
    expect(countNonzero(tensor(3)).item()).toBe(1);
    expect(countNonzero(tensor(0), 0).item()).toBe(0);
    expect(countNonzero(f32([])).item()).toBe(0);
    expect(countNonzero(tensor([[], []], { dtype: 'float32' }), 1).arraySync()).toEqual([0, 0]);
  });

  test('checks its axes', () => {
    expect(() => countNonzero(tensor([1, 2]), 1)).toThrow(AxisError);
    expect(() => countNonzero(tensor([1, 2]), 1)).toThrow(/^countNonzero: axis 1 is out of range/);
    expect(() => countNonzero(tensor([[1, 2]]), [0, 0])).toThrow(/^countNonzero: axis 0 is repeated/);
  });
});

describe('histc', () => {
  test('equal-width bins over [min, max], max in the last bin, others ignored (torch.histc)', () => {
    const h = histc(f32([1, 2, 1]), { bins: 4, min: 0, max: 3 });
    expect(h.dtype).toBe('float32');
    expect(h.arraySync()).toEqual([0, 2, 1, 0]);
    expect(histc(f32([-1, 0, 0.5, 1, 2, NaN_, 3, 3.5]), { bins: 3, min: 0, max: 3 }).arraySync()).toEqual([2, 1, 2]);
    expect(tensor([0.25, 0.75], { dtype: 'float64' }).histc({ bins: 2, min: 0, max: 1 }).arraySync()).toEqual([1, 1]);
    expect(histc(f32([0.5])).shape).toEqual([100]);
  });

  test('min == max takes the range from the data, widened by 1 when it is a single value', () => {
    expect(histc(f32([1, 2, 3, 4]), { bins: 3 }).arraySync()).toEqual([1, 1, 2]);
    expect(histc(f32([1, 1, 1]), { bins: 4 }).arraySync()).toEqual([0, 0, 3, 0]);
    expect(histc(f32([2, 6]), { bins: 2, min: 5, max: 5 }).arraySync()).toEqual([1, 1]);
    expect(histc(f32([]), { bins: 4 }).arraySync()).toEqual([0, 0, 0, 0]);
  });

  test('traces under jit and vmap (the data range is computed on the device)', () => {
    const traced = jit((x: Tensor) => histc(x, { bins: 3 }));
    expect(traced(f32([1, 2, 3, 4])).arraySync()).toEqual([1, 1, 2]);
    const batched = vmap((x: Tensor) => histc(x, { bins: 2, min: 0, max: 2 }))(
      tensor(
        [
          [0.5, 1.5],
          [1.5, 1.75],
        ],
        { dtype: 'float32' },
      ),
    );
    expect(batched.arraySync()).toEqual([
      [1, 1],
      [0, 2],
    ]);
  });

  test('checks its arguments as PyTorch does', () => {
    expect(() => histc(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => histc(tensor([1, 2]))).toThrow(/^histc: x must be floating, got int32/);
    expect(() => histc(f32([1]), { bins: 0 })).toThrow(/^histc: bins must be a positive integer/);
    expect(() => histc(f32([1]), { bins: 2.5 })).toThrow(ValueError);
    expect(() => histc(f32([1]), { min: 3, max: 0 })).toThrow(/^histc: max must be at least min, got min 3 and max 0/);
    expect(() => histc(f32([1]), { min: Number.NaN })).toThrow(/^histc: min must be a finite number/);
  });
});

describe('bincount', () => {
  test('counts each value, with weights and a minimum length (torch.bincount)', () => {
    const counts = bincount(tensor([1, 1, 3]));
    expect(counts.dtype).toBe('int32');
    expect(counts.arraySync()).toEqual([0, 2, 0, 1]);
    expect(bincount(tensor([1, 1, 3]), { minlength: 6 }).arraySync()).toEqual([0, 2, 0, 1, 0, 0]);
    expect(bincount(tensor([1, 1, 3]), { minlength: 2 }).arraySync()).toEqual([0, 2, 0, 1]);
    const weighted = bincount(tensor([1, 1, 3]), { weights: f32([0.5, 1, 2]) });
    expect(weighted.dtype).toBe('float32');
    expect(weighted.arraySync()).toEqual([0, 1.5, 0, 2]);
    expect(bincount(tensor([0, 0]), { weights: tensor([0.25, 0.5], { dtype: 'float64' }) }).dtype).toBe('float64');
    const integerWeights = bincount(tensor([2, 0]), { weights: tensor([3, 4]) });
    expect(integerWeights.dtype).toBe('float32');
    expect(integerWeights.arraySync()).toEqual([4, 0, 3]);
    expect(tensor([2, 2], { dtype: 'uint8' }).bincount().arraySync()).toEqual([0, 0, 2]);
  });

  test('an empty input gives minlength zeros', () => {
    expect(bincount(tensor([], { dtype: 'int32' })).shape).toEqual([0]);
    expect(bincount(tensor([], { dtype: 'int32' }), { minlength: 2 }).arraySync()).toEqual([0, 0]);
  });

  test('a static length: values outside [0, length) are not counted, and it traces', () => {
    expect(bincount(tensor([1, 1, 3]), { length: 2 }).arraySync()).toEqual([0, 2]);
    expect(bincount(tensor([-1, 0, 4, 5]), { length: 5, weights: f32([1, 2, 3, 4]) }).arraySync()).toEqual([2, 0, 0, 0, 3]);
    expect(bincount(tensor([1]), { length: 0 }).shape).toEqual([0]);
    const traced = jit((x: Tensor) => bincount(x, { length: 4 }));
    expect(traced(tensor([3, 0, 3])).arraySync()).toEqual([1, 0, 0, 2]);
    const batched = vmap((x: Tensor) => bincount(x, { length: 3 }))(
      tensor([
        [0, 2],
        [1, 1],
      ]),
    );
    expect(batched.arraySync()).toEqual([
      [1, 0, 1],
      [0, 2, 0],
    ]);
  });

  test('the gradient with respect to the weights is the weight of each element bin', () => {
    const bins = tensor([1, 1, 0]);
    const cotangent = f32([10, 20]);
    const g = grad((w: Tensor) => bincount(bins, { weights: w }).mul(cotangent).sum())(f32([1, 2, 3]));
    expect(g.arraySync()).toEqual([20, 20, 10]);
    const dropped = grad((w: Tensor) => bincount(tensor([0, 5]), { weights: w, length: 2 }).sum())(f32([1, 1]));
    expect(dropped.arraySync()).toEqual([1, 0]);
  });

  test('errors as PyTorch: negative values, non-integers, rank, weights, lengths', () => {
    expect(() => bincount(tensor([1, -1, 3]))).toThrow(ValueError);
    expect(() => bincount(tensor([1, -1, 3]))).toThrow(/^bincount: x must hold non-negative integers, got -1/);
    expect(() => bincount(f32([1]))).toThrow(/^bincount: x must hold integers \(int32 or uint8\), got float32/);
    expect(() => bincount(tensor([true]))).toThrow(DTypeError);
    expect(() => bincount(tensor([[1]]))).toThrow(ShapeError);
    expect(() => bincount(tensor(1))).toThrow(/^bincount: x must be 1-D, got shape \[\]/);
    expect(() => bincount(tensor([1, 2]), { weights: f32([1]) })).toThrow(/^bincount: weights must be 1-D with x's length 2/);
    expect(() => bincount(tensor([1]), { minlength: -1 })).toThrow(/^bincount: minlength must be a non-negative integer/);
    expect(() => bincount(tensor([1]), { length: 1.5 })).toThrow(/^bincount: length must be a non-negative integer/);
    expect(() => bincount(tensor([1]), { length: 2, minlength: 3 })).toThrow(/^bincount: minlength 3 is more than length 2/);
  });

  test('without a length it cannot be traced: a ConcretizationError naming the op and the fix', () => {
    const traced = jit((x: Tensor) => bincount(x));
    expect(() => traced(tensor([1, 2]))).toThrow(ConcretizationError);
    expect(() => traced(tensor([1, 2]))).toThrow(/^bincount: the shape of its result depends on the values .* give `length`/);
    expect(() => vmap((x: Tensor) => bincount(x))(tensor([[1], [2]]))).toThrow(/^bincount: under vmap each example/);
  });
});

describe('bincount on a backend that reads asynchronously', () => {
  registerAsyncCpuBackend('cpu-async-counting');
  const on = (data: number[], dtype: 'int32' | 'float32' = 'int32') => tensor(data, { backend: 'cpu-async-counting', dtype });

  test('the synchronous form names the asynchronous one; that one works', async () => {
    expect(() => bincount(on([1, 2]))).toThrow(ValueError);
    expect(() => bincount(on([1, 2]))).toThrow(
      /^bincount: .*backend 'cpu-async-counting' reads asynchronously; use `await bincountAsync\(\.\.\.\)`/,
    );
    const counts = await bincountAsync(on([1, 1, 3]), { weights: on([1, 2, 3], 'float32') });
    expect(counts.backend).toBe('cpu-async-counting');
    expect(await counts.array()).toEqual([0, 3, 0, 3]);
    expect(await (await on([0, 0]).bincountAsync({ minlength: 3 })).array()).toEqual([2, 0, 0]);
    await expect(bincountAsync(on([-2]))).rejects.toThrow(/^bincountAsync: x must hold non-negative integers, got -2/);
  });

  test('with a static length nothing is read, so the synchronous form works', async () => {
    expect(await bincount(on([1, 1, 3]), { length: 3 }).array()).toEqual([0, 2, 0]);
    expect(await histc(on([1, 2, 3], 'float32'), { bins: 2 }).array()).toEqual([1, 2]);
    expect(await countNonzero(on([0, 2])).array()).toEqual(1);
  });

  test('the asynchronous form leaves nothing behind', async () => {
    const x = on([1, 1, 3]);
    const before = memory().buffers;
    const counts = await bincountAsync(x);
    expect(memory().buffers).toBe(before + 1);
    counts.dispose();
    expect(memory().buffers).toBe(before);
  });
});
