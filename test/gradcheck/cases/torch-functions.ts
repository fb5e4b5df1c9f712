import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { axesSubset, distinctOperand, floatOperand, shapes } from '../generators.js';
import { type CompositeCase, smoothCase } from './composite-case.js';

// ops/torch-functions.ts (amax/amin, lerp, trunc, frac, mm/bmm/mv, flipud/fliplr/rot90, diff,
// indexSelect), ops/scans.ts and ops/order-statistics.ts. Order statistics and running extremes
// sample distinct values, so no sample sits on a tie.

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
const INTEGERS = [-2, -1, 0, 1, 2];
type Reduction = { axes: number[]; keepdims: boolean };
const distinctReduction = shapes(0, 3, 1).chain((shape) =>
  fc
    .tuple(distinctOperand(shape), axesSubset(shape.length, false), fc.boolean())
    .map(([x, axes, keepdims]) => ({ operands: [x], params: { axes, keepdims } })),
);
const matrices = (batch: boolean) =>
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
    .chain(([n, k, p, b]) =>
      fc
        .tuple(floatOperand(batch ? [b, n, k] : [n, k]), floatOperand(batch ? [b, k, p] : [k, p]), floatOperand([k]))
        .map((operands) => ({ operands: batch ? operands.slice(0, 2) : operands })),
    );

/** A distinct-valued tensor of rank 1 to 3 and one of its axes. */
const distinctAlongAxis = shapes(1, 3, 1).chain((shape) =>
  fc
    .tuple(distinctOperand(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }))
    .map(([x, axis]) => ({ operands: [x], params: axis })),
);
const axisOf = (p: never): number => p as unknown as number;

export const torchFunctionCases: CompositeCase[] = [
  smoothCase(
    'scatter',
    ['scatter'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
      .chain(([n, m]) =>
        fc
          .tuple(
            floatOperand([n, 4]),
            floatOperand([n, m]),
            fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n * m, maxLength: n * m }),
          )
          .map(([x, src, index]) => ({ operands: [x, src], params: { index, shape: [n, m] } })),
      ),
    (xs, p) => {
      const { index, shape } = p as unknown as { index: number[]; shape: number[] };
      const rows = Array.from({ length: shape[0] as number }, (_, i) =>
        index.slice(i * (shape[1] as number), (i + 1) * (shape[1] as number)),
      );
      return flint.scatter(at(xs, 0), 1, rows, at(xs, 1)).add(flint.scatter(at(xs, 0), 1, rows, at(xs, 1), { reduce: 'add' }));
    },
  ),
  smoothCase(
    'cdist',
    ['cdist'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, 2, 3))
      .chain(([p, r, m, order]) =>
        fc.tuple(floatOperand([p, m], { grid: 0 }), floatOperand([r, m], { grid: 0.25 })).map((operands) => ({ operands, params: order })),
      ),
    (xs, order) => flint.cdist(at(xs, 0), at(xs, 1), { p: order as unknown as number }),
    false,
  ),
  smoothCase('cummax and cummin', ['cummax', 'cummin'], distinctAlongAxis, (xs, p) =>
    flint.cummax(at(xs, 0), axisOf(p)).add(flint.cummin(at(xs, 0), axisOf(p)).mul(2)),
  ),
  smoothCase('logcumsumexp', ['logcumsumexp'], distinctAlongAxis, (xs, p) => flint.logcumsumexp(at(xs, 0), axisOf(p))),
  smoothCase(
    'kthvalue, median and quantile',
    ['kthvalue', 'median', 'quantile'],
    distinctAlongAxis,
    (xs, p) => {
      const x = at(xs, 0);
      const axis = axisOf(p);
      const n = x.shape.at(axis) as number;
      return flint
        .kthvalue(x, n, axis)
        .values.add(flint.median(x, axis))
        .add(flint.quantile(x, [0.3, 0.8], { axis }).sum(0));
    },
    false,
  ),
  smoothCase(
    'indexSelect',
    ['indexSelect'],
    shapes(1, 3, 1).chain((shape) =>
      fc
        .tuple(floatOperand(shape), fc.array(fc.integer({ min: 0, max: (shape[0] as number) - 1 }), { minLength: 0, maxLength: 4 }))
        .map(([x, index]) => ({ operands: [x], params: index })),
    ),
    (xs, p) => flint.indexSelect(at(xs, 0), 0, p as unknown as number[]),
  ),
  smoothCase(
    'amax and amin',
    ['amax', 'amin'],
    distinctReduction,
    (xs, p) => {
      const { axes, keepdims } = p as unknown as Reduction;
      return flint.amax(at(xs, 0), axes, keepdims).add(flint.amin(at(xs, 0), axes, keepdims).mul(2));
    },
    false,
  ),
  smoothCase(
    'lerp',
    ['lerp'],
    shapes().chain((s) =>
      fc.tuple(floatOperand(s), floatOperand(s), floatOperand(s, { avoid: [-0.5, 0.5], gap: 0.1 })).map((operands) => ({ operands })),
    ),
    (xs) => flint.lerp(at(xs, 0), at(xs, 1), at(xs, 2)),
  ),
  smoothCase(
    'trunc and frac',
    ['trunc', 'frac'],
    shapes().chain((s) => floatOperand(s, { avoid: INTEGERS, gap: 0.1 }).map((x) => ({ operands: [x] }))),
    (xs) => flint.frac(at(xs, 0)).add(flint.trunc(at(xs, 0))),
    false,
  ),
  smoothCase('mm and mv', ['mm', 'mv'], matrices(false), (xs) =>
    flint
      .mm(at(xs, 0), at(xs, 1))
      .sum(1)
      .add(flint.mv(at(xs, 0), at(xs, 2)).sum()),
  ),
  smoothCase('bmm', ['bmm'], matrices(true), (xs) => flint.bmm(at(xs, 0), at(xs, 1))),
  smoothCase(
    'flipud, fliplr and rot90',
    ['flipud', 'fliplr', 'rot90'],
    fc
      .tuple(shapes(2, 3, 1), fc.integer({ min: -3, max: 4 }))
      .chain(([s, k]) => floatOperand(s).map((x) => ({ operands: [x], params: k }))),
    (xs, k) => {
      const x = at(xs, 0);
      return flint
        .rot90(flint.fliplr(flint.flipud(x)), k as unknown as number, [-1, 0])
        .mul(flint.rot90(x, k as unknown as number, [-1, 0]));
    },
  ),
  smoothCase(
    'diff',
    ['diff'],
    fc
      .tuple(shapes(1, 3, 1), fc.integer({ min: 0, max: 3 }))
      .chain(([s, n]) => fc.tuple(floatOperand(s), floatOperand(s)).map((operands) => ({ operands, params: n }))),
    (xs, n) => flint.diff(at(xs, 0), { n: n as unknown as number, axis: 0, append: at(xs, 1) }),
  ),
];
