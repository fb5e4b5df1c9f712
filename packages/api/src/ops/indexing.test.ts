import {
  AxisError,
  ConcretizationError,
  DTypeError,
  gather,
  IndexError,
  type IndexSpec,
  index,
  type NestedArray,
  newAxis,
  oneHot,
  repeatInterleave,
  ShapeError,
  scatterAdd,
  take,
  takeAlongAxis,
  tensor,
  ValueError,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';
import { arange, build, offset, pythonSlice, sizeOf } from './row-major-reference.test-support.js';

// Reference implementations over flat arrays (more in row-major-reference.test-support.ts), written
// point by point (each output element is traced back to its source), independently of the
// gather-based ops under test.

function unravel(shape: readonly number[], flat: number): number[] {
  const coords = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    coords[i] = flat % (shape[i] as number);
    flat = Math.floor(flat / (shape[i] as number));
  }
  return coords;
}

interface RefArray {
  shape: number[];
  values: number[];
}

function flatNested(value: NestedArray): RefArray {
  const shape: number[] = [];
  let probe = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0] as NestedArray;
  }
  const values: number[] = [];
  const visit = (v: NestedArray): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else values.push(Number(v));
  };
  visit(value);
  return { shape, values };
}

/** NumPy's x[specs] for a tensor holding 0..size-1 of `shape`; specs use JS values only. */
function referenceIndex(
  shape: readonly number[],
  specs: readonly (number | string | null | NestedArray[])[],
): { shape: number[]; values: NestedArray } {
  type Item =
    | { kind: 'int'; value: number }
    | { kind: 'slice'; picks?: number[]; text: string }
    | { kind: 'new' }
    | { kind: 'array'; array: RefArray }
    | { kind: 'mask'; array: RefArray };
  const raw: (Item | 'ellipsis')[] = specs.map((s) => {
    if (s === null) return { kind: 'new' };
    if (s === '...') return 'ellipsis';
    if (typeof s === 'number') return { kind: 'int', value: s };
    if (typeof s === 'string') return { kind: 'slice', text: s };
    const flat = flatNested(s);
    return JSON.stringify(s).includes('true') || JSON.stringify(s).includes('false')
      ? { kind: 'mask', array: flat }
      : { kind: 'array', array: flat };
  });
  const consumed = raw.reduce(
    (n, it) => n + (it === 'ellipsis' || it.kind === 'new' ? 0 : it.kind === 'mask' ? it.array.shape.length : 1),
    0,
  );
  const fill: Item[] = Array.from({ length: shape.length - consumed }, () => ({ kind: 'slice', text: ':' }));
  const expanded = raw.includes('ellipsis') ? raw.flatMap((it) => (it === 'ellipsis' ? fill : [it])) : [...(raw as Item[]), ...fill];
  // Masks become one integer array per covered axis (numpy's nonzero).
  const items: Item[] = [];
  for (const it of expanded) {
    if (it.kind !== 'mask') {
      items.push(it);
      continue;
    }
    const hits: number[][] = [];
    it.array.values.forEach((v, flat) => {
      if (v !== 0) hits.push(unravel(it.array.shape, flat));
    });
    for (let axis = 0; axis < it.array.shape.length; axis++) {
      items.push({ kind: 'array', array: { shape: [hits.length], values: hits.map((h) => h[axis] as number) } });
    }
  }
  const advanced = items.some((it) => it.kind === 'array');
  const arrays = items.filter((it) => it.kind === 'array' || (advanced && it.kind === 'int'));
  const asArray = (it: Item): RefArray => (it.kind === 'array' ? it.array : { shape: [], values: [(it as { value: number }).value] });
  const bShape: number[] = [];
  for (const a of arrays.map(asArray)) {
    const rank = Math.max(bShape.length, a.shape.length);
    const padded = [...new Array(rank - bShape.length).fill(1), ...bShape];
    const other = [...new Array(rank - a.shape.length).fill(1), ...a.shape];
    bShape.splice(0, bShape.length, ...padded.map((d, i) => (d === 1 ? (other[i] as number) : d)));
  }
  const positions = items.map((it, i) => (arrays.includes(it) ? i : -1)).filter((i) => i >= 0);
  const adjacent = positions.every((p, k) => k === 0 || p === (positions[k - 1] as number) + 1);
  // Output dims: descriptors in result order.
  type Dim = { kind: 'slice'; axis: number; picks: number[] } | { kind: 'new' } | { kind: 'b'; k: number };
  const dims: Dim[] = [];
  const bDims: Dim[] = bShape.map((_, k) => ({ kind: 'b', k }));
  if (advanced && !adjacent) dims.push(...bDims);
  let axis = 0;
  let placed = false;
  const itemAxis = new Map<Item, number>();
  for (const it of items) {
    if (it.kind === 'new') {
      dims.push({ kind: 'new' });
      continue;
    }
    itemAxis.set(it, axis);
    if (arrays.includes(it)) {
      if (adjacent && !placed) dims.push(...bDims);
      placed = true;
    } else if (it.kind === 'slice') {
      const [a, b, c] = it.text.split(':').map((t) => (t.trim() === '' ? null : Number(t)));
      dims.push({ kind: 'slice', axis, picks: pythonSlice(shape[axis] as number, a ?? null, b ?? null, c ?? 1) });
    }
    axis++;
  }
  const outShape = dims.map((d) => (d.kind === 'slice' ? d.picks.length : d.kind === 'new' ? 1 : (bShape[d.k] as number)));
  const values = build(outShape, (coords) => {
    const source = new Array<number>(shape.length).fill(0);
    const bCoords = new Array<number>(bShape.length).fill(0);
    dims.forEach((d, i) => {
      if (d.kind === 'slice') source[d.axis] = d.picks[coords[i] as number] as number;
      else if (d.kind === 'b') bCoords[d.k] = coords[i] as number;
    });
    for (const it of items) {
      const a = itemAxis.get(it);
      if (a === undefined) continue;
      const n = shape[a] as number;
      if (arrays.includes(it)) {
        const arr = asArray(it);
        const local = arr.shape.map((d, j) => (d === 1 ? 0 : (bCoords[bShape.length - arr.shape.length + j] as number)));
        const v = arr.values[offset(arr.shape, local)] as number;
        source[a] = v < 0 ? v + n : v;
      } else if (it.kind === 'int') source[a] = it.value < 0 ? it.value + n : it.value;
    }
    return offset(shape, source);
  });
  return { shape: outShape, values };
}

function lcg(seed: number): (lo: number, hi: number) => number {
  let state = seed;
  return (lo, hi) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return lo + (state % (hi - lo + 1));
  };
}

describe('index: basic', () => {
  const x = arange([2, 3, 4]);
  test('integers remove axes, negative ones count from the end', () => {
    expect(index(x, 1).arraySync()).toEqual(build([3, 4], ([i, j]) => 12 + (i as number) * 4 + (j as number)));
    expect(index(x, -1, -1, -1).arraySync()).toBe(23);
    expect(x.index(0, 2).arraySync()).toEqual([8, 9, 10, 11]);
  });
  test('slice strings, slice objects, negative steps', () => {
    expect(index(x, 1, ':', '::-1').arraySync()).toEqual(build([3, 4], ([i, j]) => 12 + (i as number) * 4 + 3 - (j as number)));
    expect(index(x, ':', '1:', '-3:-1').shape).toEqual([2, 2, 2]);
    expect(index(x, 0, 0, { start: 3, stop: 0, step: -2 }).arraySync()).toEqual([3, 1]);
    expect(index(x, 0, 0, { step: 3 }).arraySync()).toEqual([0, 3]);
    expect(index(x, 0, 0, ' 1 : 3 ').arraySync()).toEqual([1, 2]);
    expect(index(x, '5:').shape).toEqual([0, 3, 4]);
  });
  test('ellipsis and new axes', () => {
    expect(index(x, '...', 0).arraySync()).toEqual(build([2, 3], ([i, j]) => (i as number) * 12 + (j as number) * 4));
    expect(index(x, '...', null, 0).shape).toEqual([2, 3, 1]);
    expect(index(x, newAxis, 1, '...', newAxis).shape).toEqual([1, 3, 4, 1]);
    expect(index(x, 0, '...', 1, 2).arraySync()).toBe(6);
    expect(index(x).shape).toEqual([2, 3, 4]);
    expect(index(tensor(7), null).arraySync()).toEqual([7]);
    expect(index(tensor(7), '...').arraySync()).toBe(7);
  });
  test('zero-size axes', () => {
    const empty = arange([0, 3]);
    expect(index(empty, ':', 1).shape).toEqual([0]);
    expect(index(empty, '::-1', null).shape).toEqual([0, 1, 3]);
    expect(() => index(empty, 0)).toThrow(/index: index 0 is out of bounds for axis 0 with size 0/);
  });
  test('errors', () => {
    expect(() => index(x, 2)).toThrow(IndexError);
    expect(() => index(x, 2)).toThrow(/index: index 2 is out of bounds for axis 0 with size 2/);
    expect(() => index(x, 0, -4)).toThrow(/index -4 is out of bounds for axis 1 with size 3/);
    expect(() => index(x, 0, 0, 0, 0)).toThrow(/too many indices for a tensor of rank 3/);
    expect(() => index(x, '...', '...')).toThrow(/only one ellipsis/);
    expect(() => index(x, '1')).toThrow(/pass integer indices as numbers/);
    expect(() => index(x, '1:2, 3')).toThrow(IndexError);
    expect(() => index(x, 1.5)).toThrow(/1.5 is not an integer index/);
    expect(() => index(x, '::0')).toThrow(/step must be a non-zero integer/);
    expect(() => index(x, tensor([0.5]))).toThrow(IndexError);
  });
});

describe('index: advanced', () => {
  const shape = [3, 4, 5];
  const x = arange(shape);
  const check = (...specs: (number | string | null | NestedArray[])[]): void => {
    const expected = referenceIndex(shape, specs);
    const got = index(x, ...(specs as IndexSpec[]));
    expect(got.shape, JSON.stringify(specs)).toEqual(expected.shape);
    expect(got.arraySync(), JSON.stringify(specs)).toEqual(expected.values);
  };

  test('one integer array gathers along its axis', () => {
    expect(index(x, [2, 0]).shape).toEqual([2, 4, 5]);
    expect(index(arange([5]), [4, -1, 0]).arraySync()).toEqual([4, 4, 0]);
    expect(
      index(arange([2, 3]), ':', [
        [2, 0],
        [1, 1],
      ]).arraySync(),
    ).toEqual([
      [
        [2, 0],
        [1, 1],
      ],
      [
        [5, 3],
        [4, 4],
      ],
    ]);
    expect(index(x, tensor([1, 0]), 0, 0).arraySync()).toEqual([20, 0]);
    expect(index(x, tensor(new Uint8Array([1]))).shape).toEqual([1, 4, 5]);
    check(':', [3, -1]);
    check('...', [[0], [4]]);
    check([], ':');
  });
  test('adjacent arrays keep their place, separated ones move to the front', () => {
    check([0, 2], [1, 3]);
    check(':', [0, 2], [1, 3]);
    check([0, 2], ':', [1, 3]);
    check(':', 1, [0, 4]);
    check(1, ':', [0, 4]);
    check([[0], [2]], [1, 3, 0]);
    check([[0], [2]], '::-1', [1, 3, 0]);
    check([0, 1], null, [1, 2]);
  });
  test('boolean masks select the true positions', () => {
    const m = tensor([
      [1, 5, 2],
      [7, 3, 9],
    ]);
    expect(index(m, m.greater(4)).arraySync()).toEqual([5, 7, 9]);
    expect(m.index([true, false]).arraySync()).toEqual([[1, 5, 2]]);
    expect(m.index(':', [false, true, true]).arraySync()).toEqual([
      [5, 2],
      [3, 9],
    ]);
    expect(m.index(m.less(0)).shape).toEqual([0]);
    check([true, false, true], 1);
    check(':', [
      [true, false, false, true, true],
      [false, false, false, false, true],
      [true, true, true, true, true],
      [false, false, false, false, false],
    ]);
    check([true, false, true], ':', [1, 0]);
    expect(() => index(m, [true, false, true])).toThrow(/boolean mask of shape \[3\] does not match the indexed axes 0..0 of shape \[2\]/);
  });
  test('matches a point-by-point reference on random mixed indices', () => {
    const random = lcg(11);
    const randomSlice = (): string => {
      const part = (): string => (random(0, 2) === 0 ? '' : String(random(-6, 6)));
      const step = random(0, 3) === 0 ? '' : `:${[1, 2, -1, -2][random(0, 3)]}`;
      return `${part()}:${part()}${step}`;
    };
    for (let trial = 0; trial < 80; trial++) {
      const specs: (number | string | null | NestedArray[])[] = [];
      let axis = 0;
      let ellipsis = false;
      while (axis < 3 && random(0, 5) !== 0) {
        const kind = random(0, 5);
        const n = shape[axis] as number;
        if (kind === 0) {
          specs.push(random(-n, n - 1));
          axis++;
        } else if (kind === 1) {
          specs.push(randomSlice());
          axis++;
        } else if (kind === 2) specs.push(null);
        else if (kind === 3 && !ellipsis) {
          specs.push('...');
          ellipsis = true;
          axis = Math.max(axis, 3 - (3 - axis) + random(0, 1));
        } else {
          const rows = random(1, 2);
          const values = Array.from({ length: rows * 2 }, () => random(-n, n - 1));
          specs.push(rows === 1 ? values.slice(0, 2) : [[values[0] as number], [values[1] as number]]);
          axis++;
        }
      }
      check(...specs);
    }
  });
  test('zero-size results and inputs', () => {
    expect(index(x, [], []).shape).toEqual([0, 5]);
    expect(index(arange([0, 3]), [], [], null).shape).toEqual([0, 1]);
    expect(index(x, ':', [[0], [1]], [[]]).shape).toEqual([3, 2, 0]);
  });
  test('works on bool and float64 tensors', () => {
    expect(index(tensor([true, false, true]), [2, 1]).arraySync()).toEqual([true, false]);
    expect(index(tensor([[0.25, 0.5]], { dtype: 'float64' }), [0, 0], [1, 0]).arraySync()).toEqual([0.5, 0.25]);
  });
  test('errors name the bad index and the axis', () => {
    expect(() => index(x, [0, 3])).toThrow(/index: index 3 is out of bounds for axis 0 with size 3/);
    expect(() => index(x, ':', tensor([-5]))).toThrow(/index -5 is out of bounds for axis 1 with size 4/);
    expect(() => index(x, [0, 1], [0, 1, 2])).toThrow(ShapeError);
    expect(() => index(x, [0.5])).toThrow(IndexError);
    expect(() => index(x, [true, 1] as unknown as NestedArray[])).toThrow(/mixes booleans and numbers/);
  });
});

describe('take, takeAlongAxis, gather', () => {
  test('take flattens without an axis and wraps negative indices', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(take(x, [1, -1]).arraySync()).toEqual([2, 4]);
    expect(take(x, 3).arraySync()).toBe(4);
    expect(take(x, [1, 0], 0).arraySync()).toEqual([
      [3, 4],
      [1, 2],
    ]);
    expect(
      x
        .take(
          [
            [0, 0],
            [1, 1],
          ],
          1,
        )
        .arraySync(),
    ).toEqual([
      [
        [1, 1],
        [2, 2],
      ],
      [
        [3, 3],
        [4, 4],
      ],
    ]);
    expect(take(x, tensor([-2]), -1).arraySync()).toEqual([[1], [3]]);
    expect(take(x, [], 0).shape).toEqual([0, 2]);
    expect(take(arange([0, 2]), [], 0).shape).toEqual([0, 2]);
  });
  test('take errors', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => take(x, [4])).toThrow(IndexError);
    expect(() => take(x, [0, 4])).toThrow(/take: index 4 is out of bounds for axis 0 with size 4/);
    expect(() => take(x, [-3], 1)).toThrow(/take: index -3 is out of bounds for axis 1 with size 2/);
    expect(() => take(x, tensor([0], { dtype: 'float32' }))).toThrow(
      /take: indices must be an integer tensor \(int32 or uint8\), got float32/,
    );
    expect(() => take(x, [0], 2)).toThrow(AxisError);
    expect(() => take(arange([0]), [0], 0)).toThrow(IndexError);
  });
  test('takeAlongAxis picks one element per index and broadcasts the other axes', () => {
    const x = tensor([
      [10, 30, 20],
      [60, 40, 50],
    ]);
    expect(takeAlongAxis(x, tensor([[1], [0]]), 1).arraySync()).toEqual([[30], [60]]);
    expect(
      takeAlongAxis(
        x,
        [
          [2, 0, -1],
          [1, 1, 1],
        ],
        -1,
      ).arraySync(),
    ).toEqual([
      [20, 10, 20],
      [40, 40, 40],
    ]);
    expect(takeAlongAxis(x, [[1, 0, 1]], 0).arraySync()).toEqual([[60, 30, 50]]);
    // indices [1, 2] broadcast against x's two rows.
    expect(x.takeAlongAxis([[2, 0]], 1).arraySync()).toEqual([
      [20, 10],
      [50, 60],
    ]);
    expect(takeAlongAxis(tensor([5, 6, 7]), [2, 2, 0], 0).arraySync()).toEqual([7, 7, 5]);
    expect(takeAlongAxis(x, tensor([[], []], { dtype: 'int32' }), 1).shape).toEqual([2, 0]);
  });
  test('takeAlongAxis on rank 3 against a reference', () => {
    const shape = [2, 3, 4];
    const x = arange(shape);
    const random = lcg(3);
    for (let axis = 0; axis < 3; axis++) {
      const idxShape = shape.map((d, i) => (i === axis ? 5 : d));
      const idxValues = Array.from({ length: sizeOf(idxShape) }, () => random(-(shape[axis] as number), (shape[axis] as number) - 1));
      const idx = tensor(Int32Array.from(idxValues), { shape: idxShape });
      const expected = build(idxShape, (coords) => {
        const v = idxValues[offset(idxShape, coords)] as number;
        const source = [...coords];
        source[axis] = v < 0 ? v + (shape[axis] as number) : v;
        return offset(shape, source);
      });
      expect(takeAlongAxis(x, idx, axis).arraySync()).toEqual(expected);
    }
  });
  test('takeAlongAxis errors', () => {
    const x = arange([2, 3]);
    expect(() => takeAlongAxis(x, [0, 1], 1)).toThrow(/indices must have the same rank as x \(2\)/);
    expect(() => takeAlongAxis(x, [[3]], 1)).toThrow(/takeAlongAxis: index 3 is out of bounds for axis 1 with size 3/);
    expect(() => takeAlongAxis(x, [[0], [0], [0]], 1)).toThrow(ShapeError);
    expect(() => takeAlongAxis(tensor(1), [0], 0)).toThrow(ShapeError);
  });
  test('gather follows torch.gather, with index smaller than x off the axis', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(
      gather(
        x,
        1,
        tensor([
          [0, 0],
          [1, 0],
        ]),
      ).arraySync(),
    ).toEqual([
      [1, 1],
      [4, 3],
    ]);
    expect(gather(x, 0, [[1, 0]]).arraySync()).toEqual([[3, 2]]);
    const y = arange([3, 4]);
    expect(y.gather(1, [[3], [0]]).arraySync()).toEqual([[3], [4]]);
    expect(gather(x, 1, [[0, 1, 1]]).arraySync()).toEqual([[1, 2, 2]]);
    expect(() => gather(x, 0, [[0, 0, 0]])).toThrow(/gather: index has size 3 on axis 1, more than x's 2/);
    expect(() => gather(x, 0, [0])).toThrow(ShapeError);
    expect(() => gather(x, 1, [[2]])).toThrow(IndexError);
  });
});

describe('scatterAdd', () => {
  test('adds src at the indexed positions; repeats add up', () => {
    expect(scatterAdd(tensor([0, 0, 0]), 0, tensor([0, 2, 0]), tensor([1, 2, 3])).arraySync()).toEqual([4, 0, 2]);
    expect(scatterAdd(tensor([1.5, 0, 0]), 0, [-1], [2]).arraySync()).toEqual([1.5, 0, 2]);
    expect(tensor([0, 0]).scatterAdd(0, [1, 1, 1], 2).arraySync()).toEqual([0, 6]);
  });
  test('matches torch.scatter_add on rank 2 and 3 against a reference', () => {
    const random = lcg(5);
    // [x's shape, index's shape, src's shape]
    const cases: [number[], number[], number[]][] = [
      [
        [3, 4],
        [2, 3],
        [2, 4],
      ],
      [
        [2, 3, 4],
        [2, 3, 2],
        [2, 3, 4],
      ],
      [
        [4, 2],
        [6, 2],
        [6, 2],
      ],
    ];
    for (const [shape, dims, srcShape] of cases) {
      for (let axis = 0; axis < shape.length; axis++) {
        const n = shape[axis] as number;
        const idxValues = Array.from({ length: sizeOf(dims) }, () => random(0, n - 1));
        const srcValues = Array.from({ length: sizeOf(srcShape) }, () => random(-5, 5));
        const baseValues = Array.from({ length: sizeOf(shape) }, () => random(-5, 5));
        // Skip combinations torch would reject (index larger than x off the axis).
        if (dims.some((d, i) => i !== axis && d > (shape[i] as number))) continue;
        const expected = [...baseValues];
        for (let flat = 0; flat < idxValues.length; flat++) {
          const coords = unravel(dims, flat);
          const target = [...coords];
          target[axis] = idxValues[flat] as number;
          const at = offset(shape, target);
          expected[at] = (expected[at] as number) + (srcValues[offset(srcShape, coords)] as number);
        }
        const got = scatterAdd(
          tensor(Int32Array.from(baseValues), { shape }),
          axis,
          tensor(Int32Array.from(idxValues), { shape: dims }),
          tensor(Int32Array.from(srcValues), { shape: srcShape }),
        );
        expect(Array.from(got.dataSync()), `${JSON.stringify(shape)} axis ${axis}`).toEqual(expected);
      }
    }
  });
  test('casts src to x dtype; empty index returns x; errors', () => {
    const out = scatterAdd(tensor([0, 0]), 0, [1], tensor([2.7]));
    expect(out.dtype).toBe('int32');
    expect(out.arraySync()).toEqual([0, 2]);
    expect(scatterAdd(arange([2, 2]), 0, tensor([[], []], { dtype: 'int32' }), arange([2, 2])).arraySync()).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(() => scatterAdd(arange([2, 2]), 0, [[2]], [[1]])).toThrow(/scatterAdd: index 2 is out of bounds for axis 0 with size 2/);
    expect(() => scatterAdd(arange([2, 2]), 0, [[0, 0]], [[1]])).toThrow(/index has size 2 on axis 1, more than src's 1/);
    expect(() => scatterAdd(arange([2, 2]), 0, [[0, 0, 0]], [[1, 1, 1]])).toThrow(/more than x's 2/);
    expect(() => scatterAdd(arange([2, 2]), 0, [0], [1])).toThrow(ShapeError);
    expect(() => scatterAdd(tensor([true]), 0, [0], [true])).toThrow(DTypeError);
  });
});

describe('oneHot', () => {
  test('float32 by default, dtype option, inferred class count', () => {
    const h = oneHot(tensor([0, 2]), 3);
    expect(h.dtype).toBe('float32');
    expect(h.arraySync()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(oneHot(tensor([[1], [0]]), 2, { dtype: 'int32' }).arraySync()).toEqual([[[0, 1]], [[1, 0]]]);
    expect(tensor([1, 3]).oneHot().shape).toEqual([2, 4]);
    expect(oneHot(tensor(1), 2).arraySync()).toEqual([0, 1]);
    expect(oneHot(tensor([], { dtype: 'int32' }), 3).shape).toEqual([0, 3]);
  });
  test('errors', () => {
    expect(() => oneHot(tensor([0, 3]), 3)).toThrow(/oneHot: class index 3 is out of range for 3 classes/);
    expect(() => oneHot(tensor([-1]), 3)).toThrow(IndexError);
    expect(() => oneHot(tensor([0.5]), 3)).toThrow(DTypeError);
    expect(() => oneHot(tensor([0]), -1)).toThrow(ValueError);
  });
});

describe('repeatInterleave', () => {
  test('one count or one count per element', () => {
    expect(repeatInterleave(tensor([1, 2]), 2).arraySync()).toEqual([1, 1, 2, 2]);
    expect(
      repeatInterleave(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        2,
      ).arraySync(),
    ).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(
      repeatInterleave(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        2,
        1,
      ).arraySync(),
    ).toEqual([
      [1, 1, 2, 2],
      [3, 3, 4, 4],
    ]);
    expect(
      repeatInterleave(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        [1, 2],
        0,
      ).arraySync(),
    ).toEqual([
      [1, 2],
      [3, 4],
      [3, 4],
    ]);
    expect(
      tensor([1, 2, 3])
        .repeatInterleave(tensor([0, 2, 1]))
        .arraySync(),
    ).toEqual([2, 2, 3]);
    expect(repeatInterleave(tensor([1, 2]), 0).shape).toEqual([0]);
    expect(repeatInterleave(arange([0, 2]), 3, 0).shape).toEqual([0, 2]);
  });
  test('errors', () => {
    expect(() => repeatInterleave(tensor([1, 2]), [1, 2, 3])).toThrow(/repeatInterleave: 3 repeat counts given for axis 0 of size 2/);
    expect(() => repeatInterleave(tensor([1, 2]), -1)).toThrow(ValueError);
    expect(() => repeatInterleave(tensor([1, 2]), 1, 1)).toThrow(AxisError);
  });
});

describe('indices that cannot be read synchronously', () => {
  registerAsyncCpuBackend('cpu-async');
  const onAsync = (data: NestedArray, dtype?: 'int32' | 'bool') => tensor(data, { backend: 'cpu-async', ...(dtype ? { dtype } : {}) });

  test('integer indices are wrapped and clamped into range (as JAX does) instead of checked', async () => {
    const x = onAsync([10, 20, 30]);
    expect(await take(x, onAsync([-1, 0, 7, -9])).array()).toEqual([30, 10, 30, 10]);
    expect(
      await takeAlongAxis(
        onAsync([
          [1, 2],
          [3, 4],
        ]),
        onAsync([[1], [-1]]),
        1,
      ).array(),
    ).toEqual([[2], [4]]);
    expect(await index(x, onAsync([2, -3])).array()).toEqual([30, 10]);
    expect(() => take(onAsync([], 'int32'), onAsync([0]))).toThrow(/take: cannot index axis 0, which has size 0/);
  });
  test('data-dependent shapes need readable values', () => {
    const x = onAsync([10, 20, 30]);
    expect(() => index(x, onAsync([true, false, true], 'bool'))).toThrow(ConcretizationError);
    expect(() => oneHot(onAsync([0, 1]))).toThrow(/oneHot: numClasses is needed/);
    expect(() => repeatInterleave(x, onAsync([1, 2, 3]))).toThrow(ConcretizationError);
  });
});
