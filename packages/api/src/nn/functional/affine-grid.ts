import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { type TensorLike, tensor } from '../../ops/convert.js';
import { matmul } from '../../ops/linalg.js';
import { reshape, transpose } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { floatTensor } from './common.js';

// torch.nn.functional.affine_grid (AffineGridGenerator.cpp): a base grid of the output's pixel
// positions in normalised coordinates, (x, y[, z], 1) per pixel, computed on the host, times the
// transposed affine matrices: one matmul, so the grid is differentiable in theta.

/** Options of `affineGrid`. */
export interface AffineGridOptions {
  /**
   * As gridSample's: true puts -1 and 1 at the centres of the corner pixels, false (the
   * default) at their outer edges. Use the same value in both.
   */
  readonly alignCorners?: boolean;
}

// PyTorch: affine_grid(theta, size, align_corners).
const AFFINE_GRID_SIGNATURE = optionsSignature<AffineGridOptions>(3, { alignCorners: true });

/**
 * PyTorch's linspace_from_neg_one: `steps` points from -1 to 1 (the centres of `steps` pixels
 * with alignCorners), scaled by (steps - 1) / steps without it (the pixels' centres when -1 and 1
 * are the outer edges); one step is [0].
 */
function normalisedCentres(steps: number, alignCorners: boolean): number[] {
  if (steps <= 1) return [0];
  const step = 2 / (steps - 1);
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => {
    // Counted from both ends, as torch.linspace.
    const value = i < half ? -1 + step * i : 1 - step * (steps - 1 - i);
    return alignCorners ? value : (value * (steps - 1)) / steps;
  });
}

/**
 * The sampling grid of a batch of affine maps, for gridSample (torch.nn.functional.affine_grid):
 * `theta` is [N, 2, 3] for a 4-d `size` [N, C, H, W], giving an [N, H, W, 2] grid, or [N, 3, 4]
 * for a 5-d `size` [N, C, D, H, W], giving [N, D, H, W, 3]; each output pixel's normalised
 * (x, y[, z]) is mapped by its batch element's matrix. Differentiable in `theta`.
 *
 * @example
 * const rotate = tensor([[[0, -1, 0], [1, 0, 0]]]);           // 90 degrees
 * const grid = nn.functional.affineGrid(rotate, [1, 3, 8, 8]);  // [1, 8, 8, 2]
 * nn.functional.gridSample(images, grid);
 */
export const affineGrid = withCheckedOptions(
  'affineGrid',
  AFFINE_GRID_SIGNATURE,
  (theta: TensorLike, size: readonly number[], options: AffineGridOptions = {}): Tensor =>
    tidy(() => {
      const op = 'affineGrid';
      const t = floatTensor(op, theta, 'theta');
      if (!Array.isArray(size) || (size.length !== 4 && size.length !== 5)) {
        throw new ValueError(`${op}: size must be [N, C, H, W] (2-d maps) or [N, C, D, H, W] (3-d maps), got ${JSON.stringify(size)}`);
      }
      if (size.some((s) => !Number.isInteger(s) || s < 1)) {
        throw new ValueError(`${op}: size must hold positive integers, got ${JSON.stringify(size)}`);
      }
      const n = size.length - 2;
      const batch = size[0] as number;
      if (t.ndim !== 3 || t.shape[1] !== n || t.shape[2] !== n + 1) {
        throw new ShapeError(
          `${op}: theta must be [N, ${n}, ${n + 1}] for the ${size.length}-d size ${formatShape(size)}, got ${formatShape(t.shape)}`,
        );
      }
      if (t.shape[0] !== batch) {
        throw new ShapeError(`${op}: theta holds ${t.shape[0]} matrices, but size asks for a batch of ${batch}`);
      }
      const alignCorners = options.alignCorners ?? false;
      if (typeof alignCorners !== 'boolean')
        throw new ValueError(`${op}: alignCorners must be a boolean, got ${JSON.stringify(alignCorners)}`);
      const spatial = size.slice(2);
      // Per axis, its centres; a row per pixel: (x, y[, z], 1), x along the last axis.
      const centres = spatial.map((s) => normalisedCentres(s, alignCorners));
      const pixels = spatial.reduce((a, b) => a * b, 1);
      const base = new Float64Array(pixels * (n + 1));
      for (let p = 0; p < pixels; p++) {
        let rest = p;
        for (let d = n - 1; d >= 0; d--) {
          const s = spatial[d] as number;
          base[p * (n + 1) + (n - 1 - d)] = (centres[d] as number[])[rest % s] as number;
          rest = Math.floor(rest / s);
        }
        base[p * (n + 1) + n] = 1;
      }
      const backend = backendOf(t)?.name;
      const rows = tensor(base, { shape: [pixels, n + 1], dtype: t.dtype, ...(backend === undefined ? {} : { backend }) });
      return reshape(matmul(rows, transpose(t, 1, 2)), [batch, ...spatial, n]);
    }),
);
