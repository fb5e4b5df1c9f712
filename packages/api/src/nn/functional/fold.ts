import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { broadcastTo } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { zeros } from '../../ops/creation.js';
import { scatterAdd, take } from '../../ops/indexing.js';
import { pad, reshape, slice } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';

// im2col and col2im (torch.nn.functional.unfold / fold) over 2-d images. Both are gathers with an
// index table computed on the host from the sizes alone: unfold takes the padded image's elements
// at each block position (`take`, whose gradient is a scatter-add), and fold, its adjoint, adds
// each column back where unfold took it (`scatterAdd`, whose gradient is a gather).

/** A size per spatial axis, or one for both. */
export type Pair = number | readonly [number, number];

/** Options of unfold and fold. */
export interface UnfoldOptions {
  /** Spacing between kernel elements (default 1). */
  readonly dilation?: Pair;
  /** Zero padding on both sides of each spatial axis (default 0). */
  readonly padding?: Pair;
  /** Step between blocks (default 1). */
  readonly stride?: Pair;
}

// PyTorch: unfold(input, kernel_size, dilation=1, padding=0, stride=1) and
// fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1).
const UNFOLD_SIGNATURE = optionsSignature<UnfoldOptions>(3, { dilation: true, padding: true, stride: true }, [
  'dilation',
  'padding',
  'stride',
]);
const FOLD_SIGNATURE = optionsSignature<UnfoldOptions>(4, { dilation: true, padding: true, stride: true }, [
  'dilation',
  'padding',
  'stride',
]);

function pair(op: string, what: string, value: Pair | undefined, fallback: number, min: number): [number, number] {
  const v = value ?? fallback;
  const p: readonly unknown[] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [];
  if (p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= min)) {
    throw new ValueError(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [p[0] as number, p[1] as number];
}

interface Geometry {
  readonly kernel: [number, number];
  readonly dilation: [number, number];
  readonly padding: [number, number];
  readonly stride: [number, number];
  /** Blocks along each spatial axis. */
  readonly blocks: [number, number];
  /** The padded image's width. */
  readonly paddedWidth: number;
  /** Flat indices into the padded image, kernel position major then block: [kh kw L]. */
  readonly index: Int32Array;
}

function geometry(op: string, size: readonly [number, number], kernelSize: Pair, options: UnfoldOptions): Geometry {
  const kernel = pair(op, 'kernelSize', kernelSize, 1, 1);
  const dilation = pair(op, 'dilation', options.dilation, 1, 1);
  const padding = pair(op, 'padding', options.padding, 0, 0);
  const stride = pair(op, 'stride', options.stride, 1, 1);
  const padded = [size[0] + 2 * padding[0], size[1] + 2 * padding[1]] as const;
  const blocks = [0, 1].map(
    (a) => Math.floor(((padded[a] as number) - (dilation[a] as number) * ((kernel[a] as number) - 1) - 1) / (stride[a] as number)) + 1,
  ) as [number, number];
  if (blocks[0] < 1 || blocks[1] < 1) {
    throw new ShapeError(
      `${op}: the kernel ${formatShape(kernel)} (dilation ${formatShape(dilation)}) does not fit the padded size ${formatShape(padded)}; no block to extract`,
    );
  }
  const blockCount = blocks[0] * blocks[1];
  const index = new Int32Array(kernel[0] * kernel[1] * blockCount);
  let n = 0;
  for (let ki = 0; ki < kernel[0]; ki++) {
    for (let kj = 0; kj < kernel[1]; kj++) {
      for (let bi = 0; bi < blocks[0]; bi++) {
        for (let bj = 0; bj < blocks[1]; bj++) {
          index[n++] = (bi * stride[0] + ki * dilation[0]) * padded[1] + bj * stride[1] + kj * dilation[1];
        }
      }
    }
  }
  return { kernel, dilation, padding, stride, blocks, paddedWidth: padded[1], index };
}

/**
 * Extracts sliding blocks (im2col, torch.nn.functional.unfold): an input [N, C, H, W] (or
 * [C, H, W]) becomes [N, C kh kw, L], one column per block position, rows ordered by channel then
 * kernel row then kernel column, as PyTorch.
 *
 * @example
 * nn.functional.unfold(images, 3, { padding: 1 }); // [N, 9 C, H W]
 */
export const unfold = withCheckedOptions(
  'unfold',
  UNFOLD_SIGNATURE,
  (input: TensorLike, kernelSize: Pair, options: UnfoldOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'unfold';
      const x = toTensor(op, input);
      if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError(`${op}: input must be [N, C, H, W] or [C, H, W], got ${formatShape(x.shape)}`);
      const batched = x.ndim === 4 ? x : reshape(x, [1, ...x.shape]);
      const [n, c, h, w] = batched.shape as [number, number, number, number];
      const g = geometry(op, [h, w], kernelSize, options);
      const padded = pad(batched, [
        [0, 0],
        [0, 0],
        [g.padding[0], g.padding[0]],
        [g.padding[1], g.padding[1]],
      ]);
      const flat = reshape(padded, [n, c, -1]);
      const kernelArea = g.kernel[0] * g.kernel[1];
      const columns = reshape(take(flat, toTensor(op, g.index, undefined, x), 2), [n, c * kernelArea, g.blocks[0] * g.blocks[1]]);
      return x.ndim === 4 ? columns : reshape(columns, columns.shape.slice(1));
    });
  },
);

/**
 * Combines sliding blocks into an image (col2im, torch.nn.functional.fold), the adjoint of
 * `unfold`: an input [N, C kh kw, L] (or [C kh kw, L]) becomes [N, C, outputSize...], each
 * column's values added where unfold took them, overlaps summed.
 *
 * @example
 * nn.functional.fold(columns, [8, 8], 3, { padding: 1 });
 */
export const fold = withCheckedOptions(
  'fold',
  FOLD_SIGNATURE,
  (input: TensorLike, outputSize: Pair, kernelSize: Pair, options: UnfoldOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'fold';
      const x = toTensor(op, input);
      if (x.ndim !== 2 && x.ndim !== 3)
        throw new ShapeError(`${op}: input must be [N, C kh kw, L] or [C kh kw, L], got ${formatShape(x.shape)}`);
      const batched = x.ndim === 3 ? x : reshape(x, [1, ...x.shape]);
      const [n, rows, length] = batched.shape as [number, number, number];
      const size = pair(op, 'outputSize', outputSize, 1, 1);
      const g = geometry(op, size, kernelSize, options);
      const kernelArea = g.kernel[0] * g.kernel[1];
      if (rows % kernelArea !== 0) {
        throw new ShapeError(
          `${op}: input's axis 1 (${rows}) must be divisible by the kernel size ${g.kernel[0]} × ${g.kernel[1]} = ${kernelArea}`,
        );
      }
      const blockCount = g.blocks[0] * g.blocks[1];
      if (length !== blockCount) {
        throw new ShapeError(
          `${op}: input has ${length} blocks, but outputSize ${formatShape(size)}, kernel ${formatShape(g.kernel)}, dilation ${formatShape(g.dilation)}, padding ${formatShape(g.padding)} and stride ${formatShape(g.stride)} give ${blockCount} (${g.blocks[0]} × ${g.blocks[1]})`,
        );
      }
      const c = rows / kernelArea;
      const paddedHeight = size[0] + 2 * g.padding[0];
      const values = reshape(batched, [n, c, kernelArea * length]);
      const backend = backendOf(x)?.name;
      const index = broadcastTo(reshape(toTensor(op, g.index, undefined, x), [1, 1, -1]), values.shape);
      const image = scatterAdd(
        zeros([n, c, paddedHeight * g.paddedWidth], { dtype: x.dtype, ...(backend === undefined ? {} : { backend }) }),
        2,
        index,
        values,
      );
      const full = reshape(image, [n, c, paddedHeight, g.paddedWidth]);
      const cropped = slice(full, [0, 0, g.padding[0], g.padding[1]], [n, c, g.padding[0] + size[0], g.padding[1] + size[1]]);
      return x.ndim === 3 ? cropped : reshape(cropped, cropped.shape.slice(1));
    });
  },
);
