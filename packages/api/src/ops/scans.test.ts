import '@flint/backend-cpu';
import { cummax, cummin, grad, logcumsumexp, type Tensor, tensor, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

const INF = Number.POSITIVE_INFINITY;

describe('cummax and cummin', () => {
  test('running extremes along an axis', () => {
    expect(cummax(tensor([1, 3, 2, 5]), 0).arraySync()).toEqual([1, 3, 3, 5]);
    expect(cummin(tensor([4, 3, 5, 1]), 0).arraySync()).toEqual([4, 3, 3, 1]);
    expect(
      tensor([
        [1, 0, 2],
        [0, 5, 1],
      ])
        .cummax(1)
        .arraySync(),
    ).toEqual([
      [1, 1, 2],
      [0, 5, 5],
    ]);
    expect(
      cummin(
        tensor([
          [1, 0, 2],
          [0, 5, 1],
        ]),
        0,
      ).arraySync(),
    ).toEqual([
      [1, 0, 2],
      [0, 0, 1],
    ]);
    const nan = cummax(tensor([1, Number.NaN, 2]), 0).arraySync() as number[];
    expect(nan[0]).toBe(1);
    expect(nan[1]).toBeNaN();
    expect(nan[2]).toBeNaN();
    expect(cummax(tensor([1, 7, 3, 2, 9, 4], { dtype: 'int32' }), 0).arraySync()).toEqual([1, 7, 7, 7, 9, 9]);
    expect(cummax(tensor([1, 7], { dtype: 'int32' }), 0).dtype).toBe('int32');
    expect(cummax(zeros([0, 2]), 0).shape).toEqual([0, 2]);
    expect(cummax(tensor(3), 0).item()).toBe(3);
    expect(() => cummax(tensor([1, 2]), 1)).toThrow(/^cummax: axis 1 is out of range/);
  });

  test('gradient goes to the element each running maximum came from', () => {
    const g = grad((x: Tensor) => cummax(x, 0).sum())(tensor([1, 3, 2, 5, 4], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([1, 2, 0, 2, 0]);
  });
});

describe('logcumsumexp', () => {
  test('log of the running sum of exponentials, stably', () => {
    const v = logcumsumexp(tensor([0, 0, Math.log(2)], { dtype: 'float64' }), 0).arraySync() as number[];
    expect(v[0]).toBeCloseTo(0, 12);
    expect(v[1]).toBeCloseTo(Math.log(2), 12);
    expect(v[2]).toBeCloseTo(Math.log(4), 12);
    expect(logcumsumexp(tensor([-200, 0]), 0).arraySync()).toEqual([-200, 0]);
    const big = logcumsumexp(tensor([1000, 1000]), 0).arraySync() as number[];
    expect(big[0]).toBe(1000);
    expect(big[1]).toBeCloseTo(1000 + Math.log(2), 3);
    expect(logcumsumexp(tensor([-INF, 0, -INF]), 0).arraySync()).toEqual([-INF, 0, 0]);
    expect(logcumsumexp(tensor([0, INF, 1]), 0).arraySync()).toEqual([0, INF, INF]);
    expect(
      logcumsumexp(
        tensor([
          [0, 0],
          [0, 0],
        ]),
        1,
      ).shape,
    ).toEqual([2, 2]);
  });

  test('dtypes', () => {
    expect(logcumsumexp(tensor([1, 2], { dtype: 'int32' }), 0).dtype).toBe('float32');
    expect(logcumsumexp(tensor([1, 2], { dtype: 'float16' }), 0).dtype).toBe('float16');
    expect(logcumsumexp(tensor([1, 2], { dtype: 'float64' }), 0).dtype).toBe('float64');
  });

  test('gradient: running softmax weights, finite at -Infinity', () => {
    const g = grad((x: Tensor) => logcumsumexp(x, 0).sum())(tensor([0, 0], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([1.5, 0.5]);
    const h = grad((x: Tensor) => logcumsumexp(x, 0).sum())(tensor([-INF, 0], { dtype: 'float64' }));
    // d/dx0 log(exp(x0)) = 1 even at -Infinity; the later sum sends it nothing.
    expect(h.arraySync()).toEqual([1, 1]);
  });
});
