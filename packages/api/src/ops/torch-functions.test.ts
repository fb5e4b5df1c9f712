import '@flint/backend-cpu';
import {
  AxisError,
  amax,
  amin,
  arange,
  bmm,
  cdist,
  diff,
  fliplr,
  flipud,
  frac,
  grad,
  lerp,
  mm,
  mv,
  ones,
  rot90,
  ShapeError,
  scatter,
  type Tensor,
  tensor,
  trunc,
  ValueError,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

const m = () =>
  tensor([
    [1, 2],
    [3, 4],
  ]);

describe('amax and amin', () => {
  test('reduce as max and min, keeping the dtype', () => {
    expect(
      amax(
        tensor([
          [1, 5],
          [7, 2],
        ]),
        1,
      ).arraySync(),
    ).toEqual([5, 7]);
    expect(
      amin(
        tensor([
          [1, 5],
          [7, 2],
        ]),
        1,
      ).arraySync(),
    ).toEqual([1, 2]);
    expect(amax(m()).item()).toBe(4);
    expect(m().amin(0, true).arraySync()).toEqual([[1, 2]]);
    expect(amax(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('int32');
    expect(amax(tensor([1, Number.NaN])).item()).toBeNaN();
    expect(() => amax(m(), 2)).toThrow(AxisError);
  });

  test('split the gradient evenly among ties, as torch.amax', () => {
    const g = grad((x: Tensor) => amax(x))(tensor([1, 3, 3], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([0, 0.5, 0.5]);
    const h = grad((x: Tensor) => amin(x, 1).sum())(
      tensor(
        [
          [2, 2],
          [1, 4],
        ],
        { dtype: 'float64' },
      ),
    );
    expect(h.arraySync()).toEqual([
      [0.5, 0.5],
      [1, 0],
    ]);
  });
});

describe('lerp', () => {
  test('interpolates, exact at both ends (torch.lerp)', () => {
    expect(lerp(tensor([0, 10]), tensor([10, 20]), 0.25).arraySync()).toEqual([2.5, 12.5]);
    expect(lerp(tensor([1, 2]), tensor([5, 7]), tensor([0, 1])).arraySync()).toEqual([1, 7]);
    expect(lerp(tensor(1), tensor(5), 0.75).item()).toBe(4);
    expect(
      tensor([0.1, 0.3])
        .lerp(tensor([0.7, 0.9]), 1)
        .arraySync(),
    ).toEqual(tensor([0.7, 0.9]).arraySync());
    expect(lerp(tensor([[0], [1]]), tensor([2, 4]), 0.5).shape).toEqual([2, 2]);
  });

  test('computes integers in float32, keeps float64', () => {
    expect(lerp(tensor([1, 2]), tensor([3, 4]), 0.5).dtype).toBe('float32');
    expect(lerp(tensor([1, 2], { dtype: 'int32' }), tensor([3, 4], { dtype: 'int32' }), 0.5).arraySync()).toEqual([2, 3]);
    expect(lerp(tensor([1], { dtype: 'float64' }), 2, 0.5).dtype).toBe('float64');
    expect(lerp(tensor([1]), tensor([Number.NaN]), 0.5).item()).toBeNaN();
  });

  test('gradients: 1 - w, w and end - start', () => {
    const [ga, gb, gw] = grad((a: Tensor, b: Tensor, w: Tensor) => lerp(a, b, w).sum(), { argnums: [0, 1, 2] })(
      tensor([1, 2], { dtype: 'float64' }),
      tensor([5, 8], { dtype: 'float64' }),
      tensor([0.25, 0.75], { dtype: 'float64' }),
    ) as Tensor[];
    expect(ga?.arraySync()).toEqual([0.75, 0.25]);
    expect(gb?.arraySync()).toEqual([0.25, 0.75]);
    expect(gw?.arraySync()).toEqual([4, 6]);
  });
});

describe('trunc and frac', () => {
  test('round toward zero and keep the signed fraction', () => {
    expect(trunc(tensor([-1.7, 2.5, 3, -4])).arraySync()).toEqual([-1, 2, 3, -4]);
    expect(Object.is((trunc(tensor([-0.2])).arraySync() as number[])[0], -0)).toBe(true);
    expect(frac(tensor([-1.75, 2.5, 3])).arraySync()).toEqual([-0.75, 0.5, 0]);
    expect(tensor([5.25]).frac().arraySync()).toEqual([0.25]);
    const special = trunc(tensor([Number.NaN, Number.POSITIVE_INFINITY])).arraySync() as number[];
    expect(special[0]).toBeNaN();
    expect(special[1]).toBe(Number.POSITIVE_INFINITY);
    expect(frac(tensor([Number.POSITIVE_INFINITY])).item()).toBeNaN();
    expect(trunc(zeros([0])).shape).toEqual([0]);
  });

  test('dtypes: trunc passes integers through, frac refuses them', () => {
    const ints = tensor([1, -2], { dtype: 'int32' });
    expect(trunc(ints)).toBe(ints);
    expect(trunc(tensor([1.5], { dtype: 'float16' })).dtype).toBe('float16');
    expect(() => frac(ints)).toThrow(ValueError);
    expect(grad((x: Tensor) => frac(x).sum())(tensor([1.5, -2.25], { dtype: 'float64' })).arraySync()).toEqual([1, 1]);
  });
});

describe('mm, bmm and mv', () => {
  test('multiply as matmul', () => {
    expect(mm(m(), m()).arraySync()).toEqual([
      [7, 10],
      [15, 22],
    ]);
    expect(bmm(ones([5, 2, 3]), ones([5, 3, 4])).shape).toEqual([5, 2, 4]);
    expect(mv(m(), tensor([1, 1])).arraySync()).toEqual([3, 7]);
    expect(
      m()
        .mv(tensor([1, 0]))
        .arraySync(),
    ).toEqual([1, 3]);
    expect(mm(zeros([2, 0]), zeros([0, 3])).arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  test('refuse other ranks and mismatched shapes, as torch', () => {
    expect(() => mm(tensor([1, 2]), m())).toThrow(/^mm: the first operand must be a matrix \(2-d\), got shape \[2\]/);
    expect(() => mm(ones([2, 3]), ones([2, 3]))).toThrow(/^mm: shapes \[2, 3\] and \[2, 3\] cannot be multiplied/);
    expect(() => bmm(m(), m())).toThrow(ShapeError);
    expect(() => bmm(ones([2, 2, 3]), ones([1, 3, 4]))).toThrow(/^bmm: expected the second operand of shape \[2, 3, \*\]/);
    expect(() => mv(m(), m())).toThrow(/^mv: expects a 2-d matrix and a 1-d vector/);
    expect(() => mv(m(), tensor([1, 2, 3]))).toThrow(/cannot be multiplied/);
  });
});

describe('flipud, fliplr and rot90', () => {
  test('flip and rotate as numpy.rot90', () => {
    expect(flipud(m()).arraySync()).toEqual([
      [3, 4],
      [1, 2],
    ]);
    expect(m().fliplr().arraySync()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(flipud(tensor([1, 2, 3])).arraySync()).toEqual([3, 2, 1]);
    expect(rot90(m()).arraySync()).toEqual([
      [2, 4],
      [1, 3],
    ]);
    expect(rot90(m(), 2).arraySync()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(rot90(m(), -1).arraySync()).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(rot90(m(), 3).arraySync()).toEqual(rot90(m(), -1).arraySync());
    expect(rot90(m(), 1, [1, 0]).arraySync()).toEqual(rot90(m(), -1).arraySync());
    expect(rot90(m(), 4).arraySync()).toEqual(m().arraySync());
    expect(arange(8).reshape([2, 2, 2]).rot90(1, [1, 2]).arraySync()).toEqual([
      [
        [1, 3],
        [0, 2],
      ],
      [
        [5, 7],
        [4, 6],
      ],
    ]);
    expect(rot90(zeros([0, 3])).shape).toEqual([3, 0]);
  });

  test('check ranks and axes', () => {
    expect(() => fliplr(tensor([1, 2]))).toThrow(/^fliplr: expects at least 2 dimensions/);
    expect(() => flipud(tensor(1))).toThrow(ShapeError);
    expect(() => rot90(tensor([1, 2]))).toThrow(ShapeError);
    expect(() => rot90(m(), 1, [0, 0])).toThrow(/^rot90: the two axes must differ/);
    expect(() => rot90(m(), 1, [0, 2])).toThrow(AxisError);
    expect(() => rot90(m(), 0.5)).toThrow(ValueError);
  });
});

describe('diff', () => {
  test('forward differences as numpy.diff', () => {
    expect(diff(tensor([1, 4, 9, 16])).arraySync()).toEqual([3, 5, 7]);
    expect(diff(tensor([1, 4, 9, 16]), { n: 2 }).arraySync()).toEqual([2, 2]);
    expect(diff(tensor([1, 4, 9, 16]), { n: 5 }).shape).toEqual([0]);
    expect(diff(tensor([1, 4]), { n: 0 }).arraySync()).toEqual([1, 4]);
    expect(
      diff(
        tensor([
          [1, 2],
          [4, 8],
        ]),
        { axis: 0 },
      ).arraySync(),
    ).toEqual([[3, 6]]);
    expect(
      tensor([
        [1, 2],
        [4, 8],
      ])
        .diff()
        .arraySync(),
    ).toEqual([[1], [4]]);
    expect(diff(tensor([1, 4, 9, 16]), { prepend: [0], append: tensor([20]) }).arraySync()).toEqual([1, 3, 5, 7, 4]);
    expect(diff(tensor([true, true, false])).arraySync()).toEqual([false, true]);
    expect(diff(tensor([1, 3], { dtype: 'int32' })).dtype).toBe('int32');
    expect(diff(tensor([1, Number.POSITIVE_INFINITY])).item()).toBe(Number.POSITIVE_INFINITY);
  });

  test('checks its arguments', () => {
    expect(() => diff(tensor(1))).toThrow(ShapeError);
    expect(() => diff(tensor([1, 2]), { axis: 1 })).toThrow(AxisError);
    expect(() => diff(tensor([1, 2]), { n: -1 })).toThrow(ValueError);
    expect(() => diff(m(), { prepend: [0] })).toThrow(/^diff: prepend and append must have the rank of x/);
    expect(() => (diff as (...a: unknown[]) => Tensor)(tensor([1, 2]), 1)).toThrow(/^diff: argument 2/);
  });
});

describe('scatter', () => {
  test('overwrites as torch.scatter, or adds with reduce', () => {
    expect(scatter(zeros([2, 3]), 1, [[2], [0]], 7).arraySync()).toEqual([
      [0, 0, 7],
      [7, 0, 0],
    ]);
    // Duplicate targets get the mean of their sources (PyTorch leaves the winner unspecified).
    expect(scatter(tensor([1, 2, 3, 4]), 0, [0, 0, 3], tensor([5, 7, 9])).arraySync()).toEqual([6, 2, 3, 9]);
    expect(scatter(tensor([1.5, 2]), 0, [0, 0], tensor([5, 8])).arraySync()).toEqual([6.5, 2]);
    expect(scatter(ones([3]), 0, [0, 0], tensor([1, 2]), { reduce: 'add' }).arraySync()).toEqual([4, 1, 1]);
    const ints = scatter(tensor([1, 2, 3], { dtype: 'int32' }), 0, [1], tensor([9], { dtype: 'int32' }));
    expect(ints.dtype).toBe('int32');
    expect(ints.arraySync()).toEqual([1, 9, 3]);
    expect(tensor([1, 2]).scatter(0, [1], 5).arraySync()).toEqual([1, 5]);
  });

  test('gradients reach x where not written and src where written', () => {
    const [gx, gs] = grad(
      (x: Tensor, s: Tensor) =>
        scatter(x, 0, [1], s)
          .mul(tensor([1, 2, 3], { dtype: 'float64' }))
          .sum(),
      {
        argnums: [0, 1],
      },
    )(tensor([1, 2, 3], { dtype: 'float64' }), tensor([5], { dtype: 'float64' })) as Tensor[];
    expect(gx?.arraySync()).toEqual([1, 0, 3]);
    expect(gs?.arraySync()).toEqual([2]);
  });

  test('checks its arguments', () => {
    expect(() => scatter(zeros([3]), 0, [3], 1)).toThrow(/out of bounds/);
    expect(() => scatter(zeros([3]), 0, [0], 1, { reduce: 'multiply' as 'add' })).toThrow(/^scatter: reduce must be 'add' or omitted/);
    expect(() => (scatter as (...a: unknown[]) => Tensor)(zeros([3]), 0, [0], 1, 'add')).toThrow(/^scatter: argument 5/);
  });
});

describe('cdist', () => {
  test('pairwise row distances as torch.cdist (hand-computed)', () => {
    const d = cdist(
      tensor(
        [
          [0, 0],
          [1, 1],
        ],
        { dtype: 'float64' },
      ),
      tensor([[3, 4]], { dtype: 'float64' }),
    ).arraySync() as number[][];
    expect(d[0]?.[0]).toBeCloseTo(5, 12);
    expect(d[1]?.[0]).toBeCloseTo(Math.sqrt(13), 12);
    expect(
      cdist(
        tensor([
          [0, 0],
          [1, 1],
        ]),
        tensor([[3, 4]]),
        { p: 1 },
      ).arraySync(),
    ).toEqual([[7], [5]]);
    expect(
      cdist(
        tensor([
          [0, 0],
          [1, 1],
        ]),
        tensor([[3, 4]]),
        { p: Number.POSITIVE_INFINITY },
      ).arraySync(),
    ).toEqual([[4], [3]]);
    expect(cdist(ones([2, 1, 2]), ones([3, 2])).shape).toEqual([2, 1, 3]);
    expect(cdist(zeros([0, 2]), ones([3, 2])).shape).toEqual([0, 3]);
  });

  test('gradient 0 at zero distance; errors', () => {
    const g = grad((x: Tensor) => cdist(x, x).sum())(tensor([[1, 2]], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([[0, 0]]);
    expect(() => cdist(tensor([1, 2]), ones([2, 2]))).toThrow(/^cdist: expects tensors of at least 2 dimensions/);
    expect(() => cdist(ones([2, 2]), ones([2, 3]))).toThrow(/same number of columns/);
    expect(() => cdist(ones([2, 2]), ones([2, 2]), { p: -1 })).toThrow(ValueError);
  });
});
