// The references are the suite's ground truth, so they are checked against published values.
import { describe, expect, it } from 'vitest';
import { threefry2x32 } from './creation.js';
import { binaryReference, castValue, unaryReference } from './elementwise.js';
import { erf } from './erf.js';
import { convReference, dotGeneralReference } from './linalg.js';
import type { RefArray } from './ndarray.js';
import { argReference, reduceReference } from './reduce.js';
import { argsortReference } from './scan.js';

const f64 = (data: number[], shape = [data.length]): RefArray => ({ shape, dtype: 'float64', data });
const i32 = (data: number[], shape = [data.length]): RefArray => ({ shape, dtype: 'int32', data });

describe('erf reference', () => {
  // Values from Abramowitz and Stegun, table 7.1, and from high-precision evaluation.
  it.each([
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [-1.5, -0.9661051464753108],
    [4.5, 0.9999999998033839],
  ])('erf(%d)', (x, expected) => {
    expect(Math.abs(erf(x) - expected)).toBeLessThan(1e-15);
  });

  it('keeps the sign of zero, saturates and propagates NaN', () => {
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
    expect(erf(1e-300)).toBeCloseTo(1.1283791670955126e-300, 310);
  });
});

describe('threefry reference', () => {
  // Known-answer vectors of Threefry-2x32-20 from the Random123 distribution (kat_vectors).
  it.each([
    [
      [0, 0],
      [0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x13198a2e, 0x03707344],
      [0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
  ] as const)('key %j, counter %j', (key, counter, expected) => {
    expect(threefry2x32(key, counter)).toEqual(expected);
  });
});

describe('elementwise references', () => {
  it('round half to even, with -0 for negatives rounding to zero', () => {
    const out = unaryReference('round', [f64([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.4, 0.49999999999999994, 1e300])]).out.data;
    expect(out.map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([0, 2, 2, '-0', -2, -2, '-0', 0, 1e300]);
  });

  it('Python remainder and floor division, with integer division by zero giving 0', () => {
    expect(binaryReference('mod', [f64([5, -5, 5, -5]), f64([3, 3, -3, -3])]).out.data).toEqual([2, 1, -1, -2]);
    expect(binaryReference('mod', [i32([7, -7, 7, 0]), i32([2, 2, 0, 0])]).out.data).toEqual([1, 1, 0, 0]);
    expect(binaryReference('floorDivide', [i32([7, -7, 7, -7, 3]), i32([2, 2, -2, -2, 0])]).out.data).toEqual([3, -4, -4, 3, 0]);
    expect(binaryReference('div', [i32([7, -7, 1]), i32([2, 2, 0])]).out.data).toEqual([3, -3, 0]);
  });

  it('integer arithmetic wraps like two’s-complement int32', () => {
    expect(binaryReference('add', [i32([2 ** 31 - 1]), i32([1])]).out.data).toEqual([-(2 ** 31)]);
    expect(binaryReference('mul', [i32([2 ** 31 - 1]), i32([2 ** 31 - 1])]).out.data).toEqual([1]);
    expect(binaryReference('pow', [i32([3]), i32([21])]).out.data).toEqual([Math.imul(Math.imul(3 ** 10, 3 ** 10), 3)]);
  });

  it('C pow special cases', () => {
    expect(binaryReference('pow', [f64([1, -1, Number.NaN, -8]), f64([Number.NaN, Infinity, 0, 1 / 3])]).out.data).toEqual([
      1,
      1,
      1,
      Number.NaN,
    ]);
  });

  it('casts truncate toward zero and map NaN to 0', () => {
    expect([
      castValue(-2.7, 'float32', 'int32'),
      castValue(Number.NaN, 'float64', 'int32'),
      castValue(-1, 'int32', 'uint8'),
      castValue(Number.NaN, 'float32', 'bool'),
    ]).toEqual([-2, 0, 255, 1]);
  });
});

describe('structured references', () => {
  it('sum, max and argmax over axes', () => {
    const x = f64([1, 5, 3, 4, 2, 6], [2, 3]);
    expect(reduceReference('sum', [x], [1]).out.data).toEqual([9, 12]);
    expect(reduceReference('max', [x], [0]).out.data).toEqual([4, 5, 6]);
    expect(reduceReference('max', [f64([], [0])], [0]).out.data).toEqual([-Infinity]);
    expect(argReference('max', [f64([1, Number.NaN, 9])], 0).out.data).toEqual([1]);
  });

  it('matmul as dotGeneral', () => {
    const a = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = f64([7, 8, 9, 10, 11, 12], [3, 2]);
    const out = dotGeneralReference(a, b, { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }).out;
    expect(out.shape).toEqual([2, 2]);
    expect(out.data).toEqual([58, 64, 139, 154]);
  });

  it('1-d convolution with padding and stride', () => {
    const x = f64([1, 2, 3, 4, 5], [1, 1, 5]);
    const w = f64([1, 0, -1], [1, 1, 3]);
    const out = convReference(x, w, { strides: [2], padding: [[1, 1]], lhsDilation: [1], rhsDilation: [1], groups: 1 }).out;
    // Padded input 0 1 2 3 4 5 0; windows at 0, 2, 4: (0-2), (2-4), (4-0).
    expect(out.shape).toEqual([1, 1, 3]);
    expect(out.data).toEqual([-2, -2, 4]);
  });

  it('stable argsort with NaN last ascending and first descending', () => {
    const x = f64([2, Number.NaN, 1, 2, -0, 0]);
    expect(argsortReference(x, { axis: 0, descending: false }).out.data).toEqual([4, 5, 2, 0, 3, 1]);
    expect(argsortReference(x, { axis: 0, descending: true }).out.data).toEqual([1, 0, 3, 2, 4, 5]);
  });
});
