import { describe, expect, test } from 'vitest';
import '@flint/backend-cpu';
import {
  AxisError,
  broadcastArrays,
  chunk,
  concat,
  expand,
  flatten,
  flip,
  IndexError,
  moveaxis,
  type NestedArray,
  narrow,
  pad,
  permute,
  repeat,
  reshape,
  resolveSlice,
  roll,
  ShapeError,
  slice,
  split,
  squeeze,
  stack,
  swapaxes,
  type Tensor,
  tensor,
  tile,
  transpose,
  unflatten,
  unsqueeze,
  unstack,
  ValueError,
} from '@flint/api';
import { arange, build, offset, pythonSlice } from './row-major-reference.test-support.js';

// Small reference implementations over flat arrays (more in row-major-reference.test-support.ts),
// written independently of the ops under test.

/** A deterministic generator of small integers, so failures reproduce. */
function lcg(seed: number): (lo: number, hi: number) => number {
  let state = seed;
  return (lo, hi) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return lo + (state % (hi - lo + 1));
  };
}

describe('reshape', () => {
  test('keeps row-major order and infers one -1', () => {
    const x = arange([2, 3]);
    expect(reshape(x, [3, 2]).arraySync()).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(reshape(x, [-1]).shape).toEqual([6]);
    expect(reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(x.reshape(1, -1, 2).shape).toEqual([1, 3, 2]);
    expect(x.reshape([6]).arraySync()).toEqual([0, 1, 2, 3, 4, 5]);
  });
  test('scalars and zero-size tensors', () => {
    expect(reshape(tensor(5), [1, 1]).arraySync()).toEqual([[5]]);
    expect(reshape(tensor([5]), []).arraySync()).toBe(5);
    expect(reshape(arange([0, 3]), [3, 0, 2]).shape).toEqual([3, 0, 2]);
    expect(reshape(arange([0, 3]), [-1, 3]).shape).toEqual([0, 3]);
  });
  test('errors name the sizes', () => {
    const x = arange([2, 3]);
    expect(() => reshape(x, [4, 2])).toThrow(ShapeError);
    expect(() => reshape(x, [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/);
    expect(() => reshape(x, [4, -1])).toThrow(/-1 dimension cannot be inferred/);
    expect(() => reshape(x, [-1, -1])).toThrow(/only one dimension can be -1/);
    expect(() => reshape(x, [2, -3])).toThrow(ShapeError);
    expect(() => reshape(arange([0]), [0, -1])).toThrow(ShapeError);
  });
});

describe('flatten, unflatten, squeeze, unsqueeze', () => {
  test('flatten merges an inclusive range of axes', () => {
    const x = arange([2, 3, 4]);
    expect(flatten(x).shape).toEqual([24]);
    expect(flatten(x, 1).shape).toEqual([2, 12]);
    expect(flatten(x, 0, 1).shape).toEqual([6, 4]);
    expect(flatten(x, -2, -1).arraySync()).toEqual(build([2, 12], ([i, j]) => (i as number) * 12 + (j as number)));
    expect(flatten(tensor(3)).shape).toEqual([1]);
    expect(flatten(arange([2, 0, 3]), 1).shape).toEqual([2, 0]);
    expect(() => flatten(x, 2, 1)).toThrow(AxisError);
    expect(() => flatten(x, 3)).toThrow(/flatten: axis 3 is out of range/);
  });
  test('unflatten splits one axis', () => {
    const x = arange([2, 12]);
    expect(unflatten(x, 1, [3, -1]).shape).toEqual([2, 3, 4]);
    expect(x.unflatten(-1, [2, 2, 3]).arraySync()).toEqual(
      build([2, 2, 2, 3], ([a, b, c, d]) => offset([2, 2, 2, 3], [a, b, c, d] as number[])),
    );
    expect(() => unflatten(x, 1, [5, -1])).toThrow(/cannot split axis 1 of size 12/);
    expect(() => unflatten(x, 1, [-1, -1])).toThrow(ShapeError);
  });
  test('squeeze removes size-1 axes', () => {
    const x = arange([1, 3, 1]);
    expect(squeeze(x).shape).toEqual([3]);
    expect(squeeze(x, -1).shape).toEqual([1, 3]);
    expect(x.squeeze([0, 2]).arraySync()).toEqual([0, 1, 2]);
    expect(squeeze(tensor(2)).shape).toEqual([]);
    expect(squeeze(arange([1, 0])).shape).toEqual([0]);
    expect(() => squeeze(x, 1)).toThrow(/squeeze: cannot remove axis 1 of size 3 from shape \[1, 3, 1\]/);
    expect(() => squeeze(x, 3)).toThrow(AxisError);
  });
  test('unsqueeze inserts at result positions', () => {
    const x = arange([3]);
    expect(unsqueeze(x, 0).arraySync()).toEqual([[0, 1, 2]]);
    expect(unsqueeze(x, -1).arraySync()).toEqual([[0], [1], [2]]);
    expect(x.unsqueeze([0, 2]).shape).toEqual([1, 3, 1]);
    expect(unsqueeze(tensor(1), 0).shape).toEqual([1]);
    expect(() => unsqueeze(x, 2)).toThrow(AxisError);
    expect(() => unsqueeze(x, -3)).toThrow(AxisError);
  });
});

describe('transpose, permute, swapaxes, moveaxis, T, mT', () => {
  const shape = [2, 3, 4];
  const x = arange(shape);
  /** Reference: result[coords] = x[coords permuted back]. */
  const permuted = (perm: number[]): NestedArray =>
    build(
      perm.map((p) => shape[p] as number),
      (coords) => {
        const source = new Array<number>(3);
        perm.forEach((p, i) => {
          source[p] = coords[i] as number;
        });
        return offset(shape, source);
      },
    );

  test('transpose: reverse, permutation array, or two axes to swap', () => {
    expect(transpose(x).arraySync()).toEqual(permuted([2, 1, 0]));
    expect(transpose(x, [1, 0, 2]).arraySync()).toEqual(permuted([1, 0, 2]));
    expect(transpose(x, [-1, 0, 1]).arraySync()).toEqual(permuted([2, 0, 1]));
    expect(transpose(x, 0, 2).arraySync()).toEqual(permuted([2, 1, 0]));
    expect(x.transpose(1, -1).arraySync()).toEqual(permuted([0, 2, 1]));
    expect(x.transpose().shape).toEqual([4, 3, 2]);
    expect(transpose(tensor(1)).shape).toEqual([]);
  });
  test('permute accepts varargs or an array', () => {
    expect(permute(x, 2, 0, 1).arraySync()).toEqual(permuted([2, 0, 1]));
    expect(x.permute([1, 2, 0]).arraySync()).toEqual(permuted([1, 2, 0]));
    expect(() => permute(x, 0, 0, 1)).toThrow(/permute: \[0,0,1\] is not a permutation/);
    expect(() => permute(x, 0, 1)).toThrow(AxisError);
  });
  test('swapaxes and moveaxis', () => {
    expect(swapaxes(x, 0, -1).arraySync()).toEqual(permuted([2, 1, 0]));
    expect(moveaxis(x, 0, -1).arraySync()).toEqual(permuted([1, 2, 0]));
    expect(moveaxis(x, -1, 0).arraySync()).toEqual(permuted([2, 0, 1]));
    expect(x.moveaxis([0, 1], [2, 0]).arraySync()).toEqual(permuted([1, 2, 0]));
    expect(() => moveaxis(x, [0, 0], [1, 2])).toThrow(AxisError);
    expect(() => moveaxis(x, [0], [1, 2])).toThrow(ValueError);
  });
  test('T reverses all axes, mT swaps the last two', () => {
    expect(x.T.arraySync()).toEqual(permuted([2, 1, 0]));
    expect(x.mT.arraySync()).toEqual(permuted([0, 2, 1]));
    expect(arange([3]).T.shape).toEqual([3]);
    expect(() => arange([3]).mT).toThrow(/mT: needs a tensor of rank at least 2/);
  });
  test('errors', () => {
    expect(() => transpose(x, [0, 1])).toThrow(AxisError);
    expect(() => transpose(x, 0, 3)).toThrow(AxisError);
    // A single axis matches no signature of transpose; a JavaScript caller that passes one gets a clear error.
    // @ts-expect-error
    expect(() => transpose(x, 1)).toThrow(/transpose: got the single axis 1/);
  });
  test('zero-size axes', () => {
    expect(transpose(arange([0, 2, 3]), [2, 0, 1]).shape).toEqual([3, 0, 2]);
  });
});

describe('expand, broadcastTo, broadcastArrays', () => {
  test('expand: -1 keeps, new leading axes, only size-1 axes grow', () => {
    const x = tensor([[1], [2], [3]]);
    expect(expand(x, -1, 2).arraySync()).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(x.expand([2, 3, 2]).shape).toEqual([2, 3, 2]);
    expect(x.expand(3, 0).shape).toEqual([3, 0]);
    expect(() => expand(x, 2, 2)).toThrow(/expand: cannot expand \[3, 1\] to \[2, 2\]: axis 0 has size 3/);
    expect(() => expand(x, -1, 3, 2)).toThrow(/-1 is not allowed for the new leading axis/);
    expect(() => expand(x, 2)).toThrow(ShapeError);
  });
  test('broadcastTo method and broadcastArrays', () => {
    expect(tensor([1, 2]).broadcastTo([2, 2]).arraySync()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(() => tensor([1, 2]).broadcastTo([3])).toThrow(ShapeError);
    const [a, b] = broadcastArrays(tensor([[1], [2]]), [10, 20, 30]) as [Tensor, Tensor];
    expect(a.arraySync()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(b.arraySync()).toEqual([
      [10, 20, 30],
      [10, 20, 30],
    ]);
    expect(() => broadcastArrays(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(ShapeError);
  });
});

describe('slice and narrow', () => {
  test('resolveSlice follows Python', () => {
    expect(resolveSlice(5, null, null, -1)).toEqual({ start: 4, step: -1, count: 5 });
    expect(resolveSlice(5, -2, null, 1)).toEqual({ start: 3, step: 1, count: 2 });
    expect(resolveSlice(5, 10, -10, -2)).toEqual({ start: 4, step: -2, count: 3 });
    expect(() => resolveSlice(5, 0, 5, 0)).toThrow(ValueError);
  });

  test('matches a walked Python slice on random bounds and steps, negative ones included', () => {
    const random = lcg(7);
    const shape = [5, 4, 3];
    const x = arange(shape);
    const bound = (n: number): number | null => (random(0, 4) === 0 ? null : random(-n - 2, n + 2));
    for (let trial = 0; trial < 60; trial++) {
      const starts = shape.map(bound);
      const stops = shape.map(bound);
      const steps = shape.map(() => {
        const s = random(-3, 3);
        return s === 0 ? 1 : s;
      });
      const picks = shape.map((n, i) => pythonSlice(n, starts[i] as number | null, stops[i] as number | null, steps[i] as number));
      const expected = build(
        picks.map((p) => p.length),
        (coords) =>
          offset(
            shape,
            coords.map((c, i) => (picks[i] as number[])[c] as number),
          ),
      );
      const got = slice(x, starts, stops, steps);
      expect(got.shape, JSON.stringify({ starts, stops, steps })).toEqual(picks.map((p) => p.length));
      expect(got.arraySync(), JSON.stringify({ starts, stops, steps })).toEqual(expected);
    }
  });

  test('leading axes only, defaults and errors', () => {
    const x = arange([3, 4]);
    expect(slice(x, [1], [null]).arraySync()).toEqual([
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
    expect(x.slice([null, -1], [null, null], [-1, -2]).arraySync()).toEqual([
      [11, 9],
      [7, 5],
      [3, 1],
    ]);
    expect(slice(x, [5], [9]).shape).toEqual([0, 4]);
    expect(() => slice(x, [0, 0, 0], [1, 1, 1])).toThrow(IndexError);
    expect(() => slice(x, [0], [1], [0])).toThrow(/slice step must be a non-zero integer/);
    expect(() => slice(x, [0, 1], [1])).toThrow(ValueError);
  });

  test('narrow', () => {
    const x = arange([10]);
    expect(narrow(x, 0, 2, 3).arraySync()).toEqual([2, 3, 4]);
    expect(narrow(x, 0, -3, 3).arraySync()).toEqual([7, 8, 9]);
    expect(narrow(x, 0, 10, 0).shape).toEqual([0]);
    expect(() => narrow(x, 0, 8, 3)).toThrow(/narrow: start 8 with length 3 exceeds axis 0 of size 10/);
    expect(() => narrow(x, 0, 11, 0)).toThrow(IndexError);
  });
});

describe('concat, stack', () => {
  test('concat joins along an axis and promotes dtypes', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([
      [3.5, 4.5],
      [5.5, 6.5],
    ]);
    const c = concat([a, b]);
    expect(c.dtype).toBe('float32');
    expect(c.arraySync()).toEqual([
      [1, 2],
      [3.5, 4.5],
      [5.5, 6.5],
    ]);
    expect(
      concat(
        [
          tensor([[1], [2]]),
          tensor([
            [3, 4],
            [5, 6],
          ]),
        ],
        -1,
      ).arraySync(),
    ).toEqual([
      [1, 3, 4],
      [2, 5, 6],
    ]);
    expect(concat([tensor([true]), tensor([2])]).arraySync()).toEqual([1, 2]);
    expect(concat([[1, 2], tensor([3])]).arraySync()).toEqual([1, 2, 3]);
  });
  test('concat with zero-size pieces and one piece', () => {
    expect(concat([arange([0, 2]), arange([1, 2]), arange([0, 2])]).arraySync()).toEqual([[0, 1]]);
    expect(concat([arange([2, 0]), arange([2, 0])], 1).shape).toEqual([2, 0]);
    expect(concat([arange([2])]).arraySync()).toEqual([0, 1]);
  });
  test('concat errors', () => {
    expect(() => concat([])).toThrow(/concat: expected at least one tensor/);
    expect(() => concat([tensor(1), tensor(2)])).toThrow(/cannot concatenate scalars/);
    expect(() => concat([arange([2, 3]), arange([2, 2])])).toThrow(/concat: shapes \[2, 3\], \[2, 2\] must agree on every axis except 0/);
    expect(() => concat([arange([2, 3]), arange([3])])).toThrow(ShapeError);
    expect(() => concat([arange([2])], 1)).toThrow(AxisError);
  });
  test('stack adds an axis', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    expect(stack([a, b]).arraySync()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(stack([a, b], 1).arraySync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(stack([a, b], -1).shape).toEqual([3, 2]);
    expect(stack([tensor(1), tensor(2.5)]).arraySync()).toEqual([1, 2.5]);
    expect(stack([arange([0]), arange([0])]).shape).toEqual([2, 0]);
    expect(() => stack([a, tensor([1, 2])])).toThrow(/stack: all tensors must have the same shape, got \[3\], \[2\]/);
    expect(() => stack([a, b], 2)).toThrow(AxisError);
  });
});

describe('split, chunk, unstack', () => {
  const values = (ts: Tensor[]): NestedArray[] => ts.map((t) => t.arraySync());
  test('split by size or by a list of sizes (torch.split)', () => {
    const x = arange([5]);
    expect(values(split(x, 2))).toEqual([[0, 1], [2, 3], [4]]);
    expect(values(split(x, 5))).toEqual([[0, 1, 2, 3, 4]]);
    expect(values(split(x, 7))).toEqual([[0, 1, 2, 3, 4]]);
    expect(values(split(x, [1, 0, 4]))).toEqual([[0], [], [1, 2, 3, 4]]);
    const m = arange([2, 3]);
    expect(values(m.split([2, 1], 1))).toEqual([
      [
        [0, 1],
        [3, 4],
      ],
      [[2], [5]],
    ]);
    expect(split(arange([0, 2]), 3).map((t) => t.shape)).toEqual([[0, 2]]);
    expect(() => split(x, [1, 2])).toThrow(/split: sizes \[1,2\] add up to 3, but axis 0 has size 5/);
    expect(() => split(x, 0)).toThrow(ValueError);
  });
  test('chunk (torch.chunk)', () => {
    expect(values(chunk(arange([5]), 3))).toEqual([[0, 1], [2, 3], [4]]);
    expect(values(chunk(arange([6]), 4))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(values(chunk(arange([2, 4]), 2, 1))).toEqual([
      [
        [0, 1],
        [4, 5],
      ],
      [
        [2, 3],
        [6, 7],
      ],
    ]);
    expect(chunk(arange([0]), 3).map((t) => t.shape)).toEqual([[0], [0], [0]]);
    expect(() => chunk(arange([4]), 0)).toThrow(/chunk: chunks must be a positive integer/);
  });
  test('unstack', () => {
    expect(values(unstack(arange([2, 2])))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(values(arange([2, 2]).unstack(1))).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(unstack(arange([0, 3]))).toEqual([]);
  });
});

describe('pad', () => {
  /** Reference: numpy.pad over a 2-D nested array, by mapping each result position to a source. */
  function referencePad(rows: number[][], widths: [number, number][], mode: 'constant' | 'reflect' | 'edge', value = 0): number[][] {
    const source = (i: number, n: number): number => {
      if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
      if (mode === 'reflect') {
        let k = i;
        while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
        return k;
      }
      return i >= 0 && i < n ? i : -1;
    };
    const n0 = rows.length;
    const n1 = (rows[0] as number[]).length;
    const [[a0, b0], [a1, b1]] = widths as [[number, number], [number, number]];
    return build([n0 + a0 + b0, n1 + a1 + b1], ([i, j]) => {
      const r = source((i as number) - a0, n0);
      const c = source((j as number) - a1, n1);
      return r < 0 || c < 0 ? value : ((rows[r] as number[])[c] as number);
    }) as number[][];
  }
  const rows = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  test('constant', () => {
    expect(pad(tensor([1, 2, 3]), 2).arraySync()).toEqual([0, 0, 1, 2, 3, 0, 0]);
    expect(
      pad(
        tensor(rows),
        [
          [1, 0],
          [0, 2],
        ],
        { value: 9 },
      ).arraySync(),
    ).toEqual(
      referencePad(
        rows,
        [
          [1, 0],
          [0, 2],
        ],
        'constant',
        9,
      ),
    );
    expect(tensor(rows).pad([1, 2]).arraySync()).toEqual(
      referencePad(
        rows,
        [
          [1, 2],
          [1, 2],
        ],
        'constant',
      ),
    );
    expect(pad(tensor([true]), 1, { value: true }).arraySync()).toEqual([true, true, true]);
    expect(
      pad(arange([0, 2]), [
        [1, 1],
        [0, 0],
      ]).arraySync(),
    ).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
  test('reflect and edge, corners included', () => {
    for (const mode of ['reflect', 'edge'] as const) {
      for (const widths of [
        [
          [1, 1],
          [2, 2],
        ],
        [
          [0, 1],
          [2, 0],
        ],
        [
          [1, 0],
          [1, 2],
        ],
      ] as [number, number][][]) {
        expect(pad(tensor(rows), widths, { mode }).arraySync(), `${mode} ${JSON.stringify(widths)}`).toEqual(
          referencePad(rows, widths, mode),
        );
      }
    }
    expect(pad(tensor([1, 2, 3]), [[2, 1]], { mode: 'reflect' }).arraySync()).toEqual([3, 2, 1, 2, 3, 2]);
    expect(pad(tensor([1, 2, 3]), [1, 2], { mode: 'edge' }).arraySync()).toEqual([1, 1, 2, 3, 3, 3]);
    expect(pad(tensor([7]), 3, { mode: 'edge' }).arraySync()).toEqual([7, 7, 7, 7, 7, 7, 7]);
  });
  test('errors', () => {
    expect(() => pad(tensor([1, 2, 3]), 3, { mode: 'reflect' })).toThrow(
      /pad: reflect padding of \[3, 3\] needs axis 0 to have size above each width, it has size 3/,
    );
    expect(() => pad(arange([0]), 1, { mode: 'edge' })).toThrow(ValueError);
    expect(() => pad(tensor([1]), -1)).toThrow(/widths must be non-negative integers/);
    expect(() => pad(tensor(rows), [[1, 1]])).toThrow(/1 \[before, after\] pairs given for a tensor of rank 2/);
    expect(() => pad(tensor(rows), 1, { mode: 'wrap' as 'edge' })).toThrow(/unknown mode "wrap"/);
  });
});

describe('flip, roll, tile, repeat', () => {
  test('flip', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(flip(x, 1).arraySync()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(flip(x, 0).arraySync()).toEqual([
      [3, 4],
      [1, 2],
    ]);
    expect(x.flip().arraySync()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(flip(x, [-1, 0]).arraySync()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(flip(arange([0, 2]), 0).shape).toEqual([0, 2]);
    expect(() => flip(x, [0, 0])).toThrow(AxisError);
  });
  test('roll', () => {
    expect(roll(tensor([1, 2, 3, 4]), 1).arraySync()).toEqual([4, 1, 2, 3]);
    expect(roll(tensor([1, 2, 3, 4]), -5).arraySync()).toEqual([2, 3, 4, 1]);
    expect(
      roll(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        [1, -1],
        [0, 1],
      ).arraySync(),
    ).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(
      roll(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        1,
      ).arraySync(),
    ).toEqual([
      [4, 1],
      [2, 3],
    ]);
    expect(
      tensor([[1, 2, 3]])
        .roll(2, 1)
        .arraySync(),
    ).toEqual([[2, 3, 1]]);
    expect(roll(arange([0, 3]), 2, 0).shape).toEqual([0, 3]);
    expect(() => roll(tensor([1]), [1, 2])).toThrow(ValueError);
    expect(() => roll(tensor([1]), [1, 2], [0])).toThrow(/roll: shifts \[1,2\] and axes \[0\] must have equal lengths/);
  });
  test('tile (numpy.tile)', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(tile(tensor([1, 2]), 2).arraySync()).toEqual([1, 2, 1, 2]);
    expect(tile(tensor([1, 2]), [2, 1]).arraySync()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(tile(x, 2).arraySync()).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    expect(x.tile([2, 1]).arraySync()).toEqual([
      [1, 2],
      [3, 4],
      [1, 2],
      [3, 4],
    ]);
    expect(tile(x, [0, 2]).shape).toEqual([0, 4]);
    expect(tile(tensor(5), 3).arraySync()).toEqual([5, 5, 5]);
    expect(() => tile(x, -1)).toThrow(ValueError);
  });
  test('repeat (torch.Tensor.repeat = tile, with at least one count per axis)', () => {
    expect(repeat(tensor([1, 2]), 2).arraySync()).toEqual([1, 2, 1, 2]);
    expect(tensor([1, 2]).repeat(2, 2).arraySync()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    expect(
      tensor([[1], [2]])
        .repeat([1, 3])
        .arraySync(),
    ).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(() => tensor([[1, 2]]).repeat(2)).toThrow(/repeat: 1 repetition counts given for a tensor of rank 2/);
  });
});
