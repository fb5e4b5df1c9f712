import '@flint/backend-cpu';
import * as flint from '@flint/api';
import {
  AxisError,
  all,
  any,
  argmax,
  argmin,
  cumprod,
  cumsum,
  type DType,
  logSumExp,
  max,
  mean,
  min,
  prod,
  std,
  sum,
  type Tensor,
  tensor,
  ValueError,
  variance,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

/** Checks shape, dtype and values; NaN matches NaN, infinities match exactly, others to `digits`. */
function expectTensor(actual: Tensor, shape: number[], dtype: DType, expected: readonly number[], digits = 5): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  const data = Array.from(actual.dataSync());
  expect(data).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    const got = data[i] as number;
    if (Number.isNaN(want)) expect(got, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(want)) expect(got, `element ${i}`).toBe(want);
    else expect(got, `element ${i}`).toBeCloseTo(want, digits);
  });
}

const m23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe('sum', () => {
  test('over everything, one axis, a negative axis, and a list of axes', () => {
    expectTensor(sum(m23()), [], 'int32', [21]);
    expectTensor(sum(m23(), 0), [3], 'int32', [5, 7, 9]);
    expectTensor(sum(m23(), -1), [2], 'int32', [6, 15]);
    const cube = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expectTensor(sum(cube, [0, 2]), [2], 'int32', [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    expectTensor(sum(cube, [2, 0]), [2], 'int32', [14, 22]);
  });

  test('keepdims leaves size-1 axes that broadcast back against the input', () => {
    const s = sum(m23(), 1, true);
    expectTensor(s, [2, 1], 'int32', [6, 15]);
    expectTensor(m23().sub(s), [2, 3], 'int32', [-5, -4, -3, -11, -10, -9]);
    expectTensor(sum(m23(), undefined, true), [1, 1], 'int32', [21]);
  });

  test('bool and uint8 accumulate in int32 (no uint8 overflow); int32 and floats keep their dtype', () => {
    expectTensor(sum(tensor([true, true, false, true])), [], 'int32', [3]);
    expectTensor(sum(tensor([200, 100, 50], { dtype: 'uint8' })), [], 'int32', [350]);
    expectTensor(sum(tensor([1.5, 2.25], { dtype: 'float64' })), [], 'float64', [3.75]);
    expectTensor(sum(tensor([0.5, 0.25])), [], 'float32', [0.75]);
  });

  test('NaN and infinities propagate', () => {
    expectTensor(sum(tensor([1, Number.NaN, 2])), [], 'float32', [Number.NaN]);
    expectTensor(sum(tensor([1, Number.POSITIVE_INFINITY])), [], 'float32', [Number.POSITIVE_INFINITY]);
    expectTensor(sum(tensor([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])), [], 'float32', [Number.NaN]);
  });

  test('the sum of nothing is 0', () => {
    const empty = tensor(new Float32Array(0), { shape: [0, 3] });
    expectTensor(sum(empty, 0), [3], 'float32', [0, 0, 0]);
    expectTensor(sum(empty, 1), [0], 'float32', []);
    expectTensor(sum(empty), [], 'float32', [0]);
  });

  test('a scalar reduces over axis 0 or -1, or all axes, to itself; an empty axis list reduces nothing', () => {
    expectTensor(sum(tensor(7)), [], 'int32', [7]);
    expectTensor(sum(tensor(7), 0), [], 'int32', [7]);
    expectTensor(sum(tensor(7), -1, true), [], 'int32', [7]);
    expectTensor(sum(m23(), []), [2, 3], 'int32', [1, 2, 3, 4, 5, 6]);
  });

  test('accepts JavaScript arrays and is a method', () => {
    expectTensor(
      sum(
        [
          [1, 2],
          [3, 4],
        ],
        0,
      ),
      [2],
      'int32',
      [4, 6],
    );
    expectTensor(m23().sum(1, true), [2, 1], 'int32', [6, 15]);
  });

  test('bad axes and options are clear errors naming sum', () => {
    expect(() => sum(m23(), 2)).toThrow(AxisError);
    expect(() => sum(m23(), 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => sum(m23(), -3)).toThrow(AxisError);
    expect(() => sum(m23(), [0, -2])).toThrow(/sum: axis 0 is repeated/);
    expect(() => sum(m23(), 0.5)).toThrow(AxisError);
    expect(() => sum(tensor(1), 1)).toThrow(/sum: axis 1 is out of range for a tensor of rank 1/);
    expect(() => sum(m23(), '0' as unknown as number)).toThrow(/sum: axis must be an integer/);
    expect(() => sum(m23(), 0, 'yes' as unknown as boolean)).toThrow(/sum: keepdims must be a boolean/);
  });
});

describe('prod', () => {
  test('values, axes and keepdims', () => {
    expectTensor(prod(m23()), [], 'int32', [720]);
    expectTensor(prod(m23(), 1), [2], 'int32', [6, 120]);
    expectTensor(m23().prod(0, true), [1, 3], 'int32', [4, 10, 18]);
    expectTensor(prod(tensor([0.5, -4])), [], 'float32', [-2]);
  });

  test('bool and uint8 multiply in int32; the product of nothing is 1', () => {
    expectTensor(prod(tensor([true, true])), [], 'int32', [1]);
    expectTensor(prod(tensor([true, false])), [], 'int32', [0]);
    expectTensor(prod(tensor([16, 16, 2], { dtype: 'uint8' })), [], 'int32', [512]);
    expectTensor(prod(tensor(new Int32Array(0), { shape: [2, 0] }), 1), [2], 'int32', [1, 1]);
    expectTensor(prod(tensor([], { dtype: 'float64' })), [], 'float64', [1]);
  });
});

describe('mean', () => {
  test('floats keep their dtype; integers and bools give float32', () => {
    expectTensor(
      mean(
        tensor([
          [1, 2],
          [3, 5],
        ]),
        0,
      ),
      [2],
      'float32',
      [2, 3.5],
    );
    expectTensor(mean(tensor([1, 2], { dtype: 'float64' })), [], 'float64', [1.5]);
    expectTensor(mean(tensor([true, false, false, false])), [], 'float32', [0.25]);
    expectTensor(mean(tensor([255, 255], { dtype: 'uint8' })), [], 'float32', [255]);
  });

  test('several axes and keepdims', () => {
    const x = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expectTensor(mean(x, [0, 1]), [2], 'float32', [4, 5]);
    expectTensor(x.mean(-1, true), [2, 2, 1], 'float32', [1.5, 3.5, 5.5, 7.5]);
  });

  test('the mean of nothing is NaN', () => {
    expectTensor(mean(tensor(new Float32Array(0), { shape: [0, 2] }), 0), [2], 'float32', [Number.NaN, Number.NaN]);
    expectTensor(mean(tensor([])), [], 'float32', [Number.NaN]);
  });
});

describe('max and min', () => {
  test('values along axes keep the dtype', () => {
    const x = tensor([
      [1, 5, -2],
      [7, 2, 0],
    ]);
    expectTensor(max(x), [], 'int32', [7]);
    expectTensor(min(x), [], 'int32', [-2]);
    expectTensor(max(x, 1), [2], 'int32', [5, 7]);
    expectTensor(min(x, 0), [3], 'int32', [1, 2, -2]);
    expectTensor(x.max(-1, true), [2, 1], 'int32', [5, 7]);
    expectTensor(x.min([0, 1], true), [1, 1], 'int32', [-2]);
  });

  test('every dtype, including the extremes of each', () => {
    expectTensor(max(tensor([-2147483648, -5])), [], 'int32', [-5]);
    expectTensor(min(tensor([2147483647, 5])), [], 'int32', [5]);
    expectTensor(max(tensor([0, 255, 3], { dtype: 'uint8' })), [], 'uint8', [255]);
    expectTensor(min(tensor([255, 254], { dtype: 'uint8' })), [], 'uint8', [254]);
    expectTensor(max(tensor([false, true])), [], 'bool', [1]);
    expectTensor(min(tensor([false, true])), [], 'bool', [0]);
    expectTensor(max(tensor([-1e300, -1e301], { dtype: 'float64' })), [], 'float64', [-1e300]);
    expectTensor(min(tensor([Number.POSITIVE_INFINITY, 3])), [], 'float32', [3]);
    expectTensor(max(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])), [], 'float32', [Number.NEGATIVE_INFINITY]);
  });

  test('NaN propagates', () => {
    expectTensor(max(tensor([1, Number.NaN, 3])), [], 'float32', [Number.NaN]);
    expectTensor(
      min(
        tensor([
          [Number.NaN, 1],
          [2, 3],
        ]),
        1,
      ),
      [2],
      'float32',
      [Number.NaN, 2],
    );
  });

  test('an empty axis is a ValueError naming the op, the axis and the shape', () => {
    const empty = tensor(new Float32Array(0), { shape: [2, 0] });
    expect(() => max(empty, 1)).toThrow(ValueError);
    expect(() => max(empty, 1)).toThrow('max: cannot take the maximum over axis 1 of size 0 (input shape [2, 0])');
    expect(() => min(empty)).toThrow(/min: cannot take the minimum over axis 1 of size 0/);
    expect(() => min(tensor([]))).toThrow(ValueError);
    // Reducing a non-empty axis of a tensor with another empty axis is fine.
    expectTensor(max(empty, 0), [0], 'float32', []);
  });
});

describe('argmax and argmin', () => {
  test('along an axis, int32 results', () => {
    const x = tensor([
      [1, 5, 3],
      [7, 2, 7],
    ]);
    expectTensor(argmax(x, 1), [2], 'int32', [1, 0]);
    expectTensor(argmin(x, 1), [2], 'int32', [0, 1]);
    expectTensor(argmax(x, 0), [3], 'int32', [1, 0, 1]);
    expectTensor(argmin(x, -2), [3], 'int32', [0, 1, 0]);
  });

  test('without an axis, the index into the flattened tensor', () => {
    expectTensor(
      argmax(
        tensor([
          [1, 5],
          [7, 2],
        ]),
      ),
      [],
      'int32',
      [2],
    );
    expectTensor(
      argmin(
        tensor([
          [1, 5],
          [7, 0],
        ]),
      ),
      [],
      'int32',
      [3],
    );
    expectTensor(
      argmax(
        tensor([
          [1, 5],
          [7, 2],
        ]),
        undefined,
        true,
      ),
      [1, 1],
      'int32',
      [2],
    );
  });

  test('keepdims, methods, and the first of equal extremes', () => {
    const x = tensor([
      [2, 9, 9],
      [4, 4, 1],
    ]);
    expectTensor(x.argmax(1, true), [2, 1], 'int32', [1, 0]);
    expectTensor(x.argmin(1), [2], 'int32', [0, 2]);
    expectTensor(argmax(tensor([3, 3, 3])), [], 'int32', [0]);
  });

  test('NaN counts as the maximum; bools, uint8 and float64 work', () => {
    expectTensor(argmax(tensor([1, Number.NaN, 5])), [], 'int32', [1]);
    expectTensor(argmax(tensor([false, true, true])), [], 'int32', [1]);
    expectTensor(argmin(tensor([9, 3, 200], { dtype: 'uint8' })), [], 'int32', [1]);
    expectTensor(argmax(tensor([-1, -0.5], { dtype: 'float64' })), [], 'int32', [1]);
  });

  test('a scalar has index 0', () => {
    expectTensor(argmax(tensor(4)), [], 'int32', [0]);
    expectTensor(argmin(tensor(4), 0), [], 'int32', [0]);
  });

  test('errors: empty input, a list of axes, an axis out of range', () => {
    expect(() => argmax(tensor([]))).toThrow('argmax: cannot search an empty tensor (shape [0])');
    expect(() => argmin(tensor(new Float32Array(0), { shape: [3, 0] }), 1)).toThrow(ValueError);
    expect(() => argmin(tensor(new Float32Array(0), { shape: [3, 0] }), 1)).toThrow(/argmin: cannot search axis 1 of size 0/);
    expect(() => argmax(m23(), [0, 1] as unknown as number)).toThrow(/argmax: axis must be a single integer/);
    expect(() => argmax(m23(), 2)).toThrow(AxisError);
  });
});

describe('variance and std', () => {
  const data = [2, 4, 4, 4, 5, 5, 7, 9]; // mean 5, squared deviations sum to 32
  test('correction defaults to 1 (the sample variance), as in PyTorch', () => {
    expectTensor(variance(tensor(data)), [], 'float32', [32 / 7]);
    expectTensor(std(tensor(data)), [], 'float32', [Math.sqrt(32 / 7)]);
  });

  test('correction 0 gives the population variance', () => {
    expectTensor(variance(tensor(data), undefined, { correction: 0 }), [], 'float32', [4]);
    expectTensor(std(tensor(data), 0, { correction: 0 }), [], 'float32', [2]);
  });

  test('axes, keepdims as an option or a boolean, and methods', () => {
    const x = tensor([
      [1, 2],
      [3, 5],
    ]);
    expectTensor(variance(x, 1, { correction: 0, keepdims: true }), [2, 1], 'float32', [0.25, 1]);
    expectTensor(variance(x, 0, true), [1, 2], 'float32', [2, 4.5]);
    expectTensor(x.var(0), [2], 'float32', [2, 4.5]);
    expectTensor(x.std(1, { correction: 0 }), [2], 'float32', [0.5, 1]);
    expectTensor(std(x, [0, 1], { keepdims: true }), [1, 1], 'float32', [Math.sqrt((1.75 ** 2 + 0.75 ** 2 + 0.25 ** 2 + 2.25 ** 2) / 3)]);
  });

  test('is exported as var too, as torch.var', () => {
    expect((flint as Record<string, unknown>).var).toBe(variance);
  });

  test('large offsets do not cancel (two-pass algorithm)', () => {
    const x = tensor([1e8 + 1, 1e8 + 2, 1e8 + 3], { dtype: 'float64' });
    expectTensor(variance(x), [], 'float64', [1]);
  });

  test('float64 stays float64; too few elements give NaN or inf, as PyTorch', () => {
    expectTensor(variance(tensor([1, 3], { dtype: 'float64' })), [], 'float64', [2]);
    expectTensor(variance(tensor([5])), [], 'float32', [Number.NaN]);
    expectTensor(variance(tensor([1, 3]), 0, { correction: 2 }), [], 'float32', [Number.POSITIVE_INFINITY]);
    expectTensor(variance(tensor([])), [], 'float32', [Number.NaN]);
  });

  test('bad options are ValueErrors naming the op', () => {
    expect(() => variance(tensor(data), 0, { correction: -1 })).toThrow(/var: correction must be a non-negative finite number, got -1/);
    expect(() => std(tensor(data), 0, { correction: Number.NaN })).toThrow(ValueError);
    expect(() => std(tensor(data), 0, { keepdims: 1 as unknown as boolean })).toThrow(/std: keepdims must be a boolean/);
  });
});

describe('logSumExp', () => {
  const reference = (values: number[]) => Math.log(values.reduce((s, v) => s + Math.exp(v), 0));

  test('matches the direct formula for moderate values', () => {
    const rows = [
      [0, 1, 2],
      [-1, 0.5, 3],
    ];
    expectTensor(logSumExp(tensor(rows), 1), [2], 'float32', rows.map(reference), 4);
    expectTensor(logSumExp(tensor(rows)), [], 'float32', [reference(rows.flat())], 4);
    expectTensor(
      tensor(rows).logSumExp(0, true),
      [1, 3],
      'float32',
      [0, 1, 2].map((j) => reference([rows[0]![j]!, rows[1]![j]!])),
      4,
    );
  });

  test('large values do not overflow, tiny ones do not underflow', () => {
    expectTensor(logSumExp(tensor([1000, 1000])), [], 'float32', [1000 + Math.LN2], 3);
    expectTensor(logSumExp(tensor([-1000, -1000], { dtype: 'float64' })), [], 'float64', [-1000 + Math.LN2], 9);
  });

  test('infinite and NaN rows', () => {
    const inf = Number.POSITIVE_INFINITY;
    const x = tensor([
      [-inf, -inf],
      [-inf, 0],
      [inf, 1],
      [Number.NaN, 1],
    ]);
    expectTensor(logSumExp(x, 1), [4], 'float32', [-inf, 0, inf, Number.NaN]);
  });

  test('an empty axis gives -Infinity; integers compute in float32', () => {
    expectTensor(logSumExp(tensor(new Float32Array(0), { shape: [2, 0] }), 1), [2], 'float32', [
      Number.NEGATIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expectTensor(logSumExp(tensor([0, 0])), [], 'float32', [Math.LN2]);
  });
});

describe('all and any', () => {
  test('over axes, with keepdims, give bool', () => {
    const x = tensor([
      [true, false],
      [true, true],
    ]);
    expectTensor(all(x, 1), [2], 'bool', [0, 1]);
    expectTensor(any(x, 1), [2], 'bool', [1, 1]);
    expectTensor(all(x), [], 'bool', [0]);
    expectTensor(x.any(0, true), [1, 2], 'bool', [1, 1]);
    expectTensor(x.all(0, true), [1, 2], 'bool', [1, 0]);
  });

  test('numbers count as true where non-zero, NaN included', () => {
    expectTensor(
      any(
        tensor([
          [0, 0],
          [0, 3],
        ]),
        1,
      ),
      [2],
      'bool',
      [0, 1],
    );
    expectTensor(all(tensor([0.5, -1, Number.NaN])), [], 'bool', [1]);
    expectTensor(all(tensor([1, 0], { dtype: 'uint8' })), [], 'bool', [0]);
  });

  test('the empty conjunction is true and the empty disjunction false', () => {
    const empty = tensor(new Int32Array(0), { shape: [2, 0] });
    expectTensor(all(empty, 1), [2], 'bool', [1, 1]);
    expectTensor(any(empty, 1), [2], 'bool', [0, 0]);
    expectTensor(all(empty, 1, true), [2, 1], 'bool', [1, 1]);
    expectTensor(any(tensor([])), [], 'bool', [0]);
  });
});

describe('cumsum and cumprod', () => {
  test('running sums and products along an axis', () => {
    expectTensor(cumsum(tensor([1, 2, 3, 4]), 0), [4], 'int32', [1, 3, 6, 10]);
    expectTensor(cumsum(m23(), 0), [2, 3], 'int32', [1, 2, 3, 5, 7, 9]);
    expectTensor(cumsum(m23(), -1), [2, 3], 'int32', [1, 3, 6, 4, 9, 15]);
    expectTensor(cumprod(m23(), 1), [2, 3], 'int32', [1, 2, 6, 4, 20, 120]);
    expectTensor(m23().cumprod(0), [2, 3], 'int32', [1, 2, 3, 4, 10, 18]);
    expectTensor(tensor([0.5, 0.25]).cumsum(0), [2], 'float32', [0.5, 0.75]);
  });

  test('bool and uint8 accumulate in int32; floats keep their dtype', () => {
    expectTensor(cumsum(tensor([true, true, false, true]), 0), [4], 'int32', [1, 2, 2, 3]);
    expectTensor(cumsum(tensor([200, 100], { dtype: 'uint8' }), 0), [2], 'int32', [200, 300]);
    expectTensor(cumprod(tensor([16, 16], { dtype: 'uint8' }), 0), [2], 'int32', [16, 256]);
    expectTensor(cumprod(tensor([0.5, 4], { dtype: 'float64' }), 0), [2], 'float64', [0.5, 2]);
  });

  test('NaN poisons the rest of the scan only', () => {
    expectTensor(cumsum(tensor([1, Number.NaN, 2]), 0), [3], 'float32', [1, Number.NaN, Number.NaN]);
    expectTensor(
      cumsum(
        tensor([
          [1, Number.NaN],
          [2, 3],
        ]),
        0,
      ),
      [2, 2],
      'float32',
      [1, Number.NaN, 3, Number.NaN],
    );
  });

  test('empty tensors and scalars', () => {
    expectTensor(cumsum(tensor(new Float32Array(0), { shape: [0, 2] }), 0), [0, 2], 'float32', []);
    expectTensor(cumsum(tensor(5), 0), [], 'int32', [5]);
  });

  test('the axis is required and checked', () => {
    expect(() => cumsum(m23(), undefined as unknown as number)).toThrow(/cumsum: axis must be an integer/);
    expect(() => cumprod(m23(), 2)).toThrow(AxisError);
    expect(() => cumprod(m23(), 2)).toThrow(/cumprod: axis 2 is out of range for a tensor of rank 2/);
  });
});
