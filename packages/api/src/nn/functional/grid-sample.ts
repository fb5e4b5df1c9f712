import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape, sizeOf } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, tensor, toTensor } from '../../ops/convert.js';
import { add, floor, greaterEqual, lessEqual, logicalAnd, mul, round, sub, where } from '../../ops/elementwise.js';
import { moveaxis, reshape, stack } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { sum } from '../../ops/reduce.js';
import { unbind } from '../../ops/tensor-split.js';
import { Primitive } from '../../primitives/primitive.js';
import { bind } from '../../tensor/dispatch.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { floatTensor, stopGradient } from './common.js';
import { cubicWeightTensors } from './cubic-interpolate.js';
import { type GridSamplePadding, padCoordinates, unnormalize } from './grid-coordinates.js';

// torch.nn.functional.grid_sample as a composite: the grid's coordinates become pixel positions
// (grid-coordinates.ts), each output point reads its neighbours (2 or 8 for bilinear, 16 for
// bicubic, 1 for nearest) with one Gather from the input laid out as [C, N * pixels], and
// weights them. The neighbours' indices are integers (their derivative is zero, as in PyTorch);
// the weights are tensors of the positions, so the derivative reaches the grid through them and
// the input through Gather's transpose (a scatter-add), on every backend, under vmap and jit.
// Neighbours outside the input read zeros: their index is redirected to a zero column appended
// to the table, which also keeps them out of the grid's derivative, as PyTorch's kernels skip them.

export type { GridSamplePadding } from './grid-coordinates.js';

/** How gridSample reads between pixels: torch's `mode`. */
export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';

/** Options of `gridSample` (PyTorch's names, camelCased). */
export interface GridSampleOptions {
  /** Default 'bilinear' (trilinear for 5-d inputs); 'bicubic' needs a 4-d input. */
  readonly mode?: GridSampleMode;
  /** What positions outside the input read; default 'zeros'. */
  readonly paddingMode?: GridSamplePadding;
  /**
   * True: -1 and 1 are the centres of the corner pixels; false (the default): their outer
   * edges, so that the result does not depend on the input's resolution.
   */
  readonly alignCorners?: boolean;
}

// PyTorch: grid_sample(input, grid, mode, padding_mode, align_corners).
const GRID_SAMPLE_SIGNATURE = optionsSignature<GridSampleOptions>(3, { mode: true, paddingMode: true, alignCorners: true });

const MODES: readonly GridSampleMode[] = ['bilinear', 'nearest', 'bicubic'];
const PADDINGS: readonly GridSamplePadding[] = ['zeros', 'border', 'reflection'];

/**
 * Samples `input` ([N, C, H, W] or [N, C, D, H, W]) at the points of `grid` ([N, H_out, W_out, 2]
 * or [N, D_out, H_out, W_out, 3]), whose last axis holds normalised (x, y[, z]) coordinates, -1
 * to 1 across the input's width, height (and depth), as torch.nn.functional.grid_sample: the
 * output is [N, C, H_out, W_out] (or [N, C, D_out, H_out, W_out]). Differentiable in the input
 * and in the grid (whose derivative is zero in 'nearest' mode); with PyTorch's unnormalisation,
 * clipping and reflection, so values and derivatives agree with PyTorch's.
 *
 * @example
 * const theta = tensor([[[1, 0, 0.1], [0, 1, 0]]]);                 // shift right by 5% of the width
 * const grid = nn.functional.affineGrid(theta, [1, 3, 32, 32]);
 * const moved = nn.functional.gridSample(images, grid, { paddingMode: 'border' });
 */
export const gridSample = withCheckedOptions(
  'gridSample',
  GRID_SAMPLE_SIGNATURE,
  (input: TensorLike, grid: TensorLike, options: GridSampleOptions = {}): Tensor =>
    tidy(() => {
      const op = 'gridSample';
      const x = floatTensor(op, input);
      if (x.ndim !== 4 && x.ndim !== 5) {
        throw new ShapeError(`${op}: input must be [N, C, H, W] or [N, C, D, H, W], got ${formatShape(x.shape)}`);
      }
      const g = gridTensor(op, grid, x);
      const { mode, padding, alignCorners } = checkedOptions(op, options, x);
      const sizes = x.shape.slice(2);
      const n = sizes.length;
      // The grid's last axis lists x first: x indexes the last spatial axis (W), y the one before.
      const components = unbind(g, -1);
      const positions = sizes.map((size, d) => unnormalize(components[n - 1 - d] as Tensor, size, alignCorners));
      const reader = new PointReader(x);
      const sampled =
        mode === 'bicubic'
          ? sampleBicubic(reader, positions, padding, alignCorners)
          : mode === 'nearest'
            ? sampleNearest(reader, positions, padding, alignCorners)
            : sampleLinear(reader, positions, padding, alignCorners);
      return moveaxis(sampled, 0, 1);
    }),
);

function gridTensor(op: string, grid: TensorLike, x: Tensor): Tensor {
  if (!isTensor(grid) && !Array.isArray(grid) && !ArrayBuffer.isView(grid)) {
    throw new ValueError(`${op}: grid must be a tensor or nested array, got ${grid === null ? 'null' : typeof grid}`);
  }
  const g = isTensor(grid) ? grid : toTensor(op, grid, x.dtype, x);
  const n = x.ndim - 2;
  const expected = n === 2 ? '[N, H_out, W_out, 2]' : '[N, D_out, H_out, W_out, 3]';
  if (g.ndim !== x.ndim || g.shape[g.ndim - 1] !== n) {
    throw new ShapeError(`${op}: grid must be ${expected} for the ${x.ndim}-d input ${formatShape(x.shape)}, got ${formatShape(g.shape)}`);
  }
  if (g.shape[0] !== x.shape[0]) {
    throw new ShapeError(
      `${op}: grid and input must have the same batch size, got grid ${formatShape(g.shape)} and input ${formatShape(x.shape)}`,
    );
  }
  if (g.dtype !== x.dtype) throw new DTypeError(`${op}: grid must have the input's dtype ${x.dtype}, got ${g.dtype}`);
  return g;
}

function checkedOptions(
  op: string,
  options: GridSampleOptions,
  x: Tensor,
): { mode: GridSampleMode; padding: GridSamplePadding; alignCorners: boolean } {
  const mode = options.mode ?? 'bilinear';
  if (!MODES.includes(mode)) {
    throw new ValueError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  }
  if (mode === 'bicubic' && x.ndim !== 4) throw new ShapeError(`${op}: mode 'bicubic' needs a 4-d input, got ${formatShape(x.shape)}`);
  const padding = options.paddingMode ?? 'zeros';
  if (!PADDINGS.includes(padding)) {
    throw new ValueError(`${op}: paddingMode must be one of ${PADDINGS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(padding)}`);
  }
  const alignCorners = options.alignCorners ?? false;
  if (typeof alignCorners !== 'boolean') throw new ValueError(`${op}: alignCorners must be a boolean, got ${JSON.stringify(alignCorners)}`);
  if (x.shape.slice(2).some((s) => s === 0)) throw new ShapeError(`${op}: input ${formatShape(x.shape)} has an empty spatial dimension`);
  return { mode, padding, alignCorners };
}

/**
 * The neighbours of every sampling point along one spatial axis: `positions` [k, N, ...out]
 * holds k integral pixel positions per point, `weights` (when the mode weights them) their
 * weights, shaped alike.
 */
interface AxisNeighbours {
  readonly positions: Tensor;
  readonly weights?: Tensor;
}

/**
 * Reads the input's pixels at integral positions: the input laid out as [C, N * pixels + 1],
 * each point's flat index `n * pixels + sum(position * stride)`, or the last column, of zeros,
 * for points outside.
 */
class PointReader {
  private readonly table: Tensor;
  private readonly strides: number[];
  private readonly batchOffset: Tensor;
  /** The zero column's index. */
  private readonly outside: number;
  readonly sizes: number[];

  constructor(x: Tensor) {
    this.sizes = x.shape.slice(2);
    const pixels = sizeOf(this.sizes);
    const batch = x.shape[0] as number;
    this.outside = batch * pixels;
    const table = reshape(moveaxis(x, 1, 0), [x.shape[1] as number, this.outside]);
    this.table = bind(Primitive.Pad, [table], {
      widths: [
        [0, 0],
        [0, 1],
      ],
      value: 0,
    });
    this.strides = this.sizes.map((_, d) => sizeOf(this.sizes.slice(d + 1)));
    const backend = backendOf(x)?.name;
    this.batchOffset = tensor(
      Int32Array.from({ length: batch }, (_, b) => b * pixels),
      { shape: [batch, ...this.sizes.map(() => 1)], ...(backend === undefined ? {} : { backend }) },
    );
  }

  /**
   * `t` [k, N, ...out] of axis `d` reshaped so that every axis's neighbours get a dimension of
   * their own: [1, .., k, .., 1, N, ...out], the n neighbour dimensions first.
   */
  spread(t: Tensor, d: number): Tensor {
    const [k, ...rest] = t.shape;
    const n = this.sizes.length;
    return reshape(t, [...new Array<number>(d).fill(1), k as number, ...new Array<number>(n - 1 - d).fill(1), ...rest]);
  }

  /**
   * The pixels at every combination of one neighbour per axis, [C, k_0, .., k_n-1, N, ...out];
   * zeros outside the input.
   */
  read(axes: readonly AxisNeighbours[]): Tensor {
    let index = this.batchOffset;
    let inside: Tensor | undefined;
    axes.forEach((axis, d) => {
      const p = this.spread(axis.positions, d);
      const within = logicalAnd(greaterEqual(p, 0), lessEqual(p, (this.sizes[d] as number) - 1));
      index = add(index, mul(cast(p, 'int32'), this.strides[d] as number));
      inside = inside === undefined ? within : logicalAnd(inside, within);
    });
    return bind(Primitive.Gather, [this.table, where(inside as Tensor, index, this.outside)], { axis: 1 });
  }
}

/**
 * Bilinear (trilinear) sampling: the 2^n pixels around each position, weighted by the products
 * of `upper - p` and `p - lower` per axis (x first, as PyTorch multiplies them).
 */
function sampleLinear(reader: PointReader, positions: readonly Tensor[], padding: GridSamplePadding, alignCorners: boolean): Tensor {
  const axes = positions.map((raw, d): AxisNeighbours => {
    const p = padCoordinates(raw, reader.sizes[d] as number, padding, alignCorners);
    const lower = stopGradient(floor(p));
    const upper = add(lower, 1);
    return { positions: stack([lower, upper], 0), weights: stack([sub(upper, p), sub(p, lower)], 0) };
  });
  const values = reader.read(axes);
  let weight: Tensor | undefined;
  for (let d = axes.length - 1; d >= 0; d--) {
    const w = reader.spread((axes[d] as AxisNeighbours).weights as Tensor, d);
    weight = weight === undefined ? w : mul(weight, w);
  }
  return sum(
    mul(values, weight as Tensor),
    axes.map((_, d) => d + 1),
  );
}

/** Nearest sampling: the pixel at the rounded position (half to even, as PyTorch's nearbyint). */
function sampleNearest(reader: PointReader, positions: readonly Tensor[], padding: GridSamplePadding, alignCorners: boolean): Tensor {
  const axes = positions.map((raw, d): AxisNeighbours => {
    const p = padCoordinates(raw, reader.sizes[d] as number, padding, alignCorners);
    return { positions: stopGradient(reshape(round(p), [1, ...p.shape])) };
  });
  const values = reader.read(axes);
  return reshape(values, [values.shape[0] as number, ...values.shape.slice(axes.length + 1)]);
}

/**
 * Bicubic sampling (4-d inputs): the 4 x 4 pixels around each position, each axis weighted by
 * the cubic convolution (A = -0.75) of the fraction past the pixel, along x first as PyTorch.
 * Padding applies to each neighbour's position, not to the sampling position.
 */
function sampleBicubic(reader: PointReader, positions: readonly Tensor[], padding: GridSamplePadding, alignCorners: boolean): Tensor {
  const axes = positions.map((p, d): AxisNeighbours => {
    const base = stopGradient(floor(p));
    const offsets = tensor([-1, 0, 1, 2], { shape: [4, ...p.shape.map(() => 1)], dtype: p.dtype, ...backendOption(p) });
    const neighbours = padCoordinates(add(reshape(base, [1, ...p.shape]), offsets), reader.sizes[d] as number, padding, alignCorners);
    return { positions: neighbours, weights: stack(cubicWeightTensors(sub(p, base)), 0) };
  });
  const [rows, columns] = axes as [AxisNeighbours, AxisNeighbours];
  // values [C, 4 rows, 4 columns, N, ...out]: along x within each row, then along y.
  const values = reader.read(axes);
  const alongRows = sum(mul(values, reader.spread(columns.weights as Tensor, 1)), 2);
  return sum(mul(alongRows, rows.weights as Tensor), 1);
}

function backendOption(x: Tensor): { backend?: string } {
  const backend = backendOf(x)?.name;
  return backend === undefined ? {} : { backend };
}
