import '@flint/backend-cpu';
import { arange, DTypeError, grad, jit, ShapeError, type Tensor, tensor, ValueError, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as F from './index.js';

// gridSample and affineGrid against values worked out by hand from PyTorch's formulas (GridSampler.h,
// AffineGridGenerator.cpp); sampling-torch-reference.test.ts compares every mode with PyTorch itself.
// Positions: alignCorners false maps x in [-1, 1] to ((x + 1) W - 1) / 2, true to (x + 1) (W - 1) / 2.

const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);
const closeTo = (actual: number[], expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, 12);
  });
};
/** A [1, 1, 1, n] grid of x coordinates (y = 0: the middle row). */
const xs = (...points: number[]) =>
  tensor(
    points.flatMap((x) => [x, 0]),
    { shape: [1, 1, points.length, 2], ...f64 },
  );
/** One row [0, 10, 20, 30]: x = 4 pixels, W = 4. */
const row = tensor([0, 10, 20, 30], { shape: [1, 1, 1, 4], ...f64 });

describe('nn.functional.gridSample (torch.nn.functional.grid_sample)', () => {
  it('bilinear: -1 and 1 are the outer edges (positions -0.5 and 3.5) or, with alignCorners, the centres of the corner pixels', () => {
    // Positions -0.5, 0.5, 1.25, 3.5: zeros padding halves the edge pixels.
    closeTo(values(F.gridSample(row, xs(-1, -0.5, -0.125, 1))), [0, 5, 12.5, 15]);
    closeTo(values(F.gridSample(row, xs(-1, -1 / 3, 1), { alignCorners: true })), [0, 10, 30]);
  });

  it('padding: border clips to the edge pixels, reflection folds at the edges (or at the corner centres with alignCorners)', () => {
    // Positions -1.5 and 4.25 (x = -1.5 and 1.375).
    closeTo(values(F.gridSample(row, xs(-1.5, 1.375))), [0, 0]);
    closeTo(values(F.gridSample(row, xs(-1.5, 1.375), { paddingMode: 'border' })), [0, 30]);
    // Reflected at -0.5 and 3.5: -1.5 -> 0.5, 4.25 -> 2.75.
    closeTo(values(F.gridSample(row, xs(-1.5, 1.375), { paddingMode: 'reflection' })), [5, 27.5]);
    // alignCorners: x = -1.5 is position -0.75, reflected at 0 to 0.75; x = 1.5 is 3.75 -> 2.25.
    closeTo(values(F.gridSample(row, xs(-1.5, 1.5), { paddingMode: 'reflection', alignCorners: true })), [7.5, 22.5]);
  });

  it('nearest rounds half to even, as PyTorch (nearbyint)', () => {
    // Positions 0.5, 1.5 and 2.5 read pixels 0, 2, 2.
    closeTo(values(F.gridSample(row, xs(-0.5, 0, 0.5), { mode: 'nearest' })), [0, 20, 20]);
  });

  it('bicubic is exact at pixel centres and weights four neighbours by the cubic convolution (A = -0.75) between them', () => {
    // Position 1.75: taps 0..3 (values 0, 10, 20, 30) weighted cf(1.75), cn(0.75), cn(0.25), cf(1.25) with
    // cn(t) = (1.25 t - 2.25) t² + 1 and cf(t) = ((-0.75 t + 3.75) t - 6) t + 3.
    const cn = (t: number) => (1.25 * t - 2.25) * t * t + 1;
    const cf = (t: number) => ((-0.75 * t + 3.75) * t - 6) * t + 3;
    const between = 10 * cn(0.75) + 20 * cn(0.25) + 30 * cf(1.25);
    closeTo(values(F.gridSample(row, xs(-0.75, -0.25, 0.125), { mode: 'bicubic', paddingMode: 'border' })), [0, 10, between]);
    expect(between).toBeCloseTo(17.03125, 12); // not 17.5: A = -0.75 does not reproduce lines
    // Position 0.5 of [5, 15, 25, 35]: tap -1 repeats the edge pixel with 'border', reads 0 with 'zeros'.
    const edge = (padding: 'border' | 'zeros') =>
      values(F.gridSample(row.add(5), xs(-0.5), { mode: 'bicubic', paddingMode: padding }))[0] as number;
    const inside = 5 * cn(0.5) + 15 * cn(0.5) + 25 * cf(1.5);
    expect(edge('border')).toBeCloseTo(5 * cf(1.5) + inside, 12);
    expect(edge('zeros')).toBeCloseTo(inside, 12);
  });

  it('5-d inputs sample trilinearly; the grid lists x, y, z', () => {
    const volume = arange(8, f64).reshape([1, 1, 2, 2, 2]); // 4z + 2y + x
    const grid = tensor([0, 0, 0, 1, -1, -1, -1, 1, 0.5], { shape: [1, 1, 1, 3, 3], ...f64 });
    const y = F.gridSample(volume, grid, { alignCorners: true });
    expect(y.shape).toEqual([1, 1, 1, 1, 3]);
    closeTo(values(y), [3.5, 1, 4 * 0.75 + 2]);
  });

  it('is differentiable in the input and in the grid', () => {
    // d/dx of bilinear sampling a ramp of slope 10 per pixel is 10 * W / 2 = 20 per unit of x.
    // Along y (H = 1, position 0) the neighbour below is outside and reads 0: d/dy = -value * H / 2.
    const dGrid = grad((g: Tensor) => F.gridSample(row, g).sum())(xs(-0.3, 0.1));
    closeTo(values(dGrid), [20, -4.5, 20, -8.5]);
    // Clipped (border) positions pass no derivative to the grid.
    closeTo(values(grad((g: Tensor) => F.gridSample(row, g, { paddingMode: 'border' }).sum())(xs(1.2))), [0, 0]);
    // Reflection turns it around past the edge (position 4.25 reads 2.75).
    closeTo(values(grad((g: Tensor) => F.gridSample(row, g, { paddingMode: 'reflection' }).sum())(xs(1.375))), [-20, 0]);
    // The input receives each point's weights: position 1.25 reads pixels 1 and 2 at 0.75 and 0.25.
    const dInput = grad((x: Tensor) => F.gridSample(x, xs(-0.125)).sum())(row);
    closeTo(values(dInput), [0, 0.75, 0.25, 0]);
  });

  it('runs under jit and vmap', () => {
    const grid = xs(-0.9, -0.2, 0.4, 1.1);
    const f = (x: Tensor, g: Tensor) => F.gridSample(x, g, { mode: 'bicubic', paddingMode: 'reflection' });
    closeTo(values(jit(f)(row, grid)), values(f(row, grid)));
    const images = arange(2 * 8, f64).reshape([2, 1, 1, 2, 4]);
    const mapped = vmap((x: Tensor) => f(x, grid))(images);
    closeTo(values(mapped.index(1)), values(f(images.index(1), grid)));
  });

  it('takes a nested-array grid in the input dtype, and refuses a grid of another dtype', () => {
    expect(F.gridSample(row, [[[[0, 0]]]]).shape).toEqual([1, 1, 1, 1]);
    expect(() => F.gridSample(row, tensor([0, 0], { shape: [1, 1, 1, 2], dtype: 'float32' }))).toThrow(DTypeError);
    expect(() => F.gridSample(row, tensor([0, 0], { shape: [1, 1, 1, 2], dtype: 'float32' }))).toThrow(
      "gridSample: grid must have the input's dtype float64, got float32",
    );
  });

  it('refuses bad shapes and options, naming them', () => {
    const grid = xs(0);
    expect(() => F.gridSample(tensor([1, 2, 3]), grid)).toThrow(ShapeError);
    expect(() => F.gridSample(tensor([1, 2, 3]), grid)).toThrow('gridSample: input must be [N, C, H, W] or [N, C, D, H, W], got [3]');
    expect(() => F.gridSample(row, tensor([0, 0, 0], { shape: [1, 1, 1, 3], ...f64 }))).toThrow(
      'gridSample: grid must be [N, H_out, W_out, 2] for the 4-d input [1, 1, 1, 4], got [1, 1, 1, 3]',
    );
    expect(() => F.gridSample(row, tensor([0, 0, 0, 0], { shape: [2, 1, 1, 2], ...f64 }))).toThrow(
      'gridSample: grid and input must have the same batch size, got grid [2, 1, 1, 2] and input [1, 1, 1, 4]',
    );
    const volume = arange(8, f64).reshape([1, 1, 2, 2, 2]);
    expect(() => F.gridSample(volume, tensor([0, 0, 0], { shape: [1, 1, 1, 1, 3], ...f64 }), { mode: 'bicubic' })).toThrow(
      "gridSample: mode 'bicubic' needs a 4-d input, got [1, 1, 2, 2, 2]",
    );
    expect(() => F.gridSample(row, grid, { mode: 'linear' as never })).toThrow(
      "gridSample: mode must be one of 'bilinear', 'nearest', 'bicubic', got \"linear\"",
    );
    expect(() => F.gridSample(row, grid, { paddingMode: 'constant' as never })).toThrow(ValueError);
    expect(() => F.gridSample(row, grid, { alignCorners: 'yes' as never })).toThrow('gridSample: alignCorners must be a boolean');
    expect(() => F.gridSample(row, grid, { padding_mode: 'border' } as never)).toThrow('paddingMode');
    expect(() => F.gridSample(tensor([], { shape: [1, 1, 0, 4], ...f64 }), grid)).toThrow('has an empty spatial dimension');
  });
});

describe('nn.functional.affineGrid (torch.nn.functional.affine_grid)', () => {
  const identity = tensor([1, 0, 0, 0, 1, 0], { shape: [1, 2, 3], ...f64 });

  it('maps the pixel centres: (2i + 1) / W - 1, or -1 to 1 in steps with alignCorners', () => {
    const grid = F.affineGrid(identity, [1, 3, 2, 4]);
    expect(grid.shape).toEqual([1, 2, 4, 2]);
    const x = [-0.75, -0.25, 0.25, 0.75];
    closeTo(
      values(grid),
      [-0.5, 0.5].flatMap((y) => x.flatMap((v) => [v, y])),
    );
    const aligned = F.affineGrid(identity, [1, 3, 2, 3], { alignCorners: true });
    closeTo(
      values(aligned),
      [-1, 1].flatMap((y) => [-1, 0, 1].flatMap((v) => [v, y])),
    );
    // One pixel along an axis sits at 0.
    closeTo(values(F.affineGrid(identity, [1, 1, 1, 1])), [0, 0]);
  });

  it('with gridSample, the identity map reproduces the input and a shift moves it', () => {
    const image = arange(12, f64).reshape([1, 1, 3, 4]);
    for (const mode of ['bilinear', 'nearest', 'bicubic'] as const) {
      closeTo(values(F.gridSample(image, F.affineGrid(identity, [1, 1, 3, 4]), { mode })), values(image));
    }
    // Shifting x by 2 / W reads one pixel to the right.
    const shift = tensor([1, 0, 0.5, 0, 1, 0], { shape: [1, 2, 3], ...f64 });
    const moved = F.gridSample(image, F.affineGrid(shift, [1, 1, 3, 4]), { paddingMode: 'border' });
    closeTo(values(moved), [1, 2, 3, 3, 5, 6, 7, 7, 9, 10, 11, 11]);
  });

  it('is differentiable in theta, and maps 3-d grids with [N, 3, 4] matrices', () => {
    // d(sum of grid)/dtheta: each row sums the base coordinates: x and y centres sum to 0, the constant column to H * W.
    const g = grad((t: Tensor) => F.affineGrid(t, [1, 1, 2, 3]).sum())(identity);
    closeTo(values(g), [0, 0, 6, 0, 0, 6]);
    const theta3 = tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.5], { shape: [1, 3, 4], ...f64 });
    const grid3 = F.affineGrid(theta3, [1, 1, 2, 1, 1], { alignCorners: true });
    expect(grid3.shape).toEqual([1, 2, 1, 1, 3]);
    closeTo(values(grid3), [0, 0, -0.5, 0, 0, 1.5]);
  });

  it('refuses bad sizes and theta shapes, naming them', () => {
    expect(() => F.affineGrid(identity, [1, 1, 4])).toThrow(
      'affineGrid: size must be [N, C, H, W] (2-d maps) or [N, C, D, H, W] (3-d maps), got [1,1,4]',
    );
    expect(() => F.affineGrid(identity, [1, 1, 0, 4])).toThrow('affineGrid: size must hold positive integers, got [1,1,0,4]');
    expect(() => F.affineGrid(identity, [1, 1, 2, 2, 2])).toThrow(
      'affineGrid: theta must be [N, 3, 4] for the 5-d size [1, 1, 2, 2, 2], got [1, 2, 3]',
    );
    expect(() => F.affineGrid(identity, [2, 1, 2, 2])).toThrow('affineGrid: theta holds 1 matrices, but size asks for a batch of 2');
    expect(() => F.affineGrid(identity, [1, 1, 2, 2], { align_corners: true } as never)).toThrow('alignCorners');
  });
});
