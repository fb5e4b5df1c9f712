import type { Tensor } from '@flint/api';
import fc from 'fast-check';
import * as F from '../../../packages/api/src/nn/functional/index.js';
import { floatOperand, type Operand } from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';
import { rampWeightedSums } from './weighted-sums.js';

// Spatial sampling (nn/functional: gridSample, affineGrid, interpolate's bicubic, area and
// antialiased modes). gridSample is piecewise smooth in the grid: bilinear weights bend at
// integral pixel positions, nearest jumps at half-integers, clipping at the borders and
// reflection at the reflection points (integers with alignCorners, half-integers without).
// The grids here put every point at a pixel position whose fractional part is in
// [0.15, 0.35] or [0.65, 0.85], away from all of these, inside the input or up to two pixels out.

type SampleParams = { alignCorners: boolean };

/** Normalised coordinates of `count` pixel positions along an axis of `size`, away from every kink. */
function gridCoordinates(count: number, size: number, alignCorners: boolean): fc.Arbitrary<number[]> {
  const position = fc
    .tuple(fc.integer({ min: -2, max: size + 1 }), fc.double({ min: 0.15, max: 0.35, noNaN: true }), fc.boolean())
    .map(([k, f, upper]) => k + (upper ? f + 0.5 : f));
  // gridSample's unnormalisation, inverted.
  const normalise = (p: number) => (alignCorners ? (size > 1 ? (2 * p) / (size - 1) - 1 : 0) : (2 * p + 1) / size - 1);
  return fc.array(position, { minLength: count, maxLength: count }).map((ps) => ps.map(normalise));
}

/** A grid [N, ...points, n] for an input of spatial `sizes` (x last in `sizes`, first in the grid's last axis). */
function gridOperand(batch: number, points: readonly number[], sizes: readonly number[], alignCorners: boolean): fc.Arbitrary<Operand> {
  const n = sizes.length;
  const count = batch * points.reduce((a, b) => a * b, 1);
  return fc.tuple(...sizes.map((size) => gridCoordinates(count, size, alignCorners))).map((perAxis) => {
    const data: number[] = [];
    for (let i = 0; i < count; i++) for (let c = 0; c < n; c++) data.push((perAxis[n - 1 - c] as number[])[i] as number);
    return { shape: [batch, ...points, n], data, dtype: 'float64' as const };
  });
}

const PADDINGS = ['zeros', 'border', 'reflection'] as const;

/** gridSample of operands [input, grid] in each of `modes` with each padding mode, weighted and summed. */
const everyPadding =
  (modes: readonly F.GridSampleMode[]) =>
  (xs: Tensor[], p: SampleParams): Tensor => {
    const [x, grid] = xs as [Tensor, Tensor];
    return rampWeightedSums(
      modes.flatMap((mode) => PADDINGS.map((paddingMode) => F.gridSample(x, grid, { mode, paddingMode, alignCorners: p.alignCorners }))),
    );
  };

export const samplingCases: CompositeCase[] = [
  composite(
    'gridSample 4-d (bilinear, nearest, bicubic; zeros, border, reflection; alignCorners both ways)',
    ['gridSample'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 3 }), fc.boolean())
      .chain(([h, w, alignCorners]) =>
        fc
          .tuple(floatOperand([1, 2, h, w]), gridOperand(1, [2, 2], [h, w], alignCorners))
          .map((operands) => ({ operands, params: { alignCorners } })),
      ),
    everyPadding(['bilinear', 'nearest', 'bicubic']),
    { smooth: true, numRuns: 2 },
  ),
  composite(
    'gridSample 5-d (trilinear, nearest; zeros, border, reflection)',
    ['gridSample'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 3 }), fc.boolean())
      .chain(([d, w, alignCorners]) =>
        fc
          .tuple(floatOperand([1, 1, d, 2, w]), gridOperand(1, [1, 2, 2], [d, 2, w], alignCorners))
          .map((operands) => ({ operands, params: { alignCorners } })),
      ),
    everyPadding(['bilinear', 'nearest']),
    { numRuns: 2 },
  ),
  composite(
    'affineGrid (2-d and 3-d maps, alignCorners both ways)',
    ['affineGrid'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.boolean())
      .chain(([size, alignCorners]) =>
        fc.tuple(floatOperand([2, 2, 3]), floatOperand([1, 3, 4])).map((operands) => ({ operands, params: { size, alignCorners } })),
      ),
    (xs, p: { size: number; alignCorners: boolean }) => {
      const [theta2, theta3] = xs as [Tensor, Tensor];
      return rampWeightedSums([
        F.affineGrid(theta2, [2, 1, p.size, 3], { alignCorners: p.alignCorners }),
        F.affineGrid(theta3, [1, 2, 2, p.size, 2], { alignCorners: p.alignCorners }),
      ]);
    },
    { smooth: true, numRuns: 4 },
  ),
  composite(
    'interpolate (bicubic, area, antialiased bilinear and bicubic)',
    ['interpolate'],
    fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.boolean())
      .chain(([size, out, alignCorners]) =>
        fc.tuple(floatOperand([1, 1, size, 4]), floatOperand([1, 2, 5])).map((operands) => ({ operands, params: { out, alignCorners } })),
      ),
    (xs, p: { out: number; alignCorners: boolean }) => {
      const [image, line] = xs as [Tensor, Tensor];
      const { out, alignCorners } = p;
      return rampWeightedSums([
        F.interpolate(image, { size: [out, 3], mode: 'bicubic', alignCorners }),
        F.interpolate(image, { scaleFactor: 1.5, mode: 'bicubic' }),
        F.interpolate(image, { size: [out, 2], mode: 'area' }),
        F.interpolate(line, { size: out, mode: 'area' }),
        F.interpolate(image, { size: [out, 3], mode: 'bilinear', antialias: true, alignCorners }),
        F.interpolate(image, { size: [out, 7], mode: 'bicubic', antialias: true }),
      ]);
    },
    { numRuns: 4 },
  ),
];
