import { type DType, lowestValue, toFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { batched, unbatch } from './channels-first.js';
import { type TensorLike, tensor, toTensor } from './convert.js';
import { div } from './elementwise.js';

// Adaptive pooling (torch.nn.functional.adaptive_{avg,max}_pool{1,2,3}d): output position i of a
// spatial axis of size `size` pools the input range [floor(i * size / out), ceil((i + 1) * size / out)).
// When `out` divides `size` the windows are equal and one ReduceWindow pools them; otherwise each
// axis is pooled on its own (both reductions are separable over a box): averaging contracts the
// axis with an averaging matrix, the maximum gathers each window's positions and pools them.

/** An output size per spatial axis (null keeps the input's), or one number for all. */
export type AdaptiveOutputSize = number | readonly (number | null)[];

interface AdaptiveGeometry {
  readonly x: Tensor;
  readonly unbatched: boolean;
  /** Input sizes of the spatial axes. */
  readonly sizes: number[];
  /** Output sizes of the spatial axes. */
  readonly out: number[];
}

function adaptiveGeometry(op: string, n: number, input: TensorLike, outputSize: AdaptiveOutputSize): AdaptiveGeometry {
  const t = toTensor(op, input);
  if (t.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const [x, unbatched] = batched(op, t, n);
  const requested = typeof outputSize === 'number' ? new Array<number | null>(n).fill(outputSize) : [...outputSize];
  if (requested.length !== n) throw new ValueError(`${op}: outputSize must be one integer or ${n}, got ${JSON.stringify(outputSize)}`);
  const sizes = x.shape.slice(2);
  const out = requested.map((o, i) => (o === null ? (sizes[i] as number) : o));
  for (const o of out) {
    if (!Number.isInteger(o) || o < 1)
      throw new ValueError(`${op}: outputSize must hold positive integers (or null to keep a size), got ${JSON.stringify(outputSize)}`);
  }
  if (sizes.some((s) => s === 0)) throw new ShapeError(`${op}: input ${formatShape(t.shape)} has an empty spatial dimension`);
  return { x, unbatched, sizes, out };
}

/** The input range [start, end) that output position `i` of `out` pools from an axis of `size`. */
function adaptiveWindow(i: number, size: number, out: number): [number, number] {
  return [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)];
}

/** The equal windows' size when every output size divides its input size, else undefined. */
function evenKernel(g: AdaptiveGeometry): number[] | undefined {
  if (!g.out.every((o, i) => (g.sizes[i] as number) % o === 0)) return undefined;
  return g.out.map((o, i) => (g.sizes[i] as number) / o);
}

function poolEqualWindows(x: Tensor, kernel: readonly number[], op: 'sum' | 'max'): Tensor {
  return bind(Primitive.ReduceWindow, [x], {
    op,
    window: [1, 1, ...kernel],
    strides: [1, 1, ...kernel],
    padding: [[0, 0], [0, 0], ...kernel.map(() => [0, 0] as const)],
    dilation: [1, 1, ...kernel.map(() => 1)],
  });
}

/** Averaging matrix [out, size]: row i averages its window. */
function averagingMatrix(size: number, out: number, dtype: DType, backend: string | undefined): Tensor {
  const data = dtype === 'float64' ? new Float64Array(out * size) : new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const [start, end] = adaptiveWindow(i, size, out);
    for (let j = start; j < end; j++) data[i * size + j] = 1 / (end - start);
  }
  return tensor(data, { shape: [out, size], dtype, ...(backend === undefined ? {} : { backend }) });
}

function adaptiveAvgPoolNd(op: string, n: number, input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  const g0 = adaptiveGeometry(op, n, input, outputSize);
  const g = { ...g0, x: cast(g0.x, toFloating(g0.x.dtype)) };
  const kernel = evenKernel(g);
  if (kernel !== undefined) {
    const window = kernel.reduce((a, b) => a * b, 1);
    return unbatch(div(poolEqualWindows(g.x, kernel, 'sum'), window), g.unbatched);
  }
  // Contracting axis 2 and appending the pooled axis at the end rotates the spatial axes back
  // into order after n steps.
  let y = g.x;
  for (let i = 0; i < n; i++) {
    const m = averagingMatrix(g.sizes[i] as number, g.out[i] as number, y.dtype, backendOf(y)?.name);
    y = bind(Primitive.DotGeneral, [y, m], { lhsContracting: [2], rhsContracting: [1], lhsBatch: [], rhsBatch: [] });
  }
  return unbatch(y, g.unbatched);
}

/**
 * Max-pools spatial axis `axis` of `x` to `out` positions: pads the axis with one lowest value,
 * gathers each window's positions into `longest` consecutive slots (a short window points its
 * spare slots at the padding), and max-pools those slot groups with a ReduceWindow, whose
 * gradient goes to the first maximum of each window, as PyTorch's does.
 */
function maxPoolAxis(x: Tensor, axis: number, out: number): Tensor {
  const size = x.shape[axis] as number;
  if (size === out) return x;
  const windows = Array.from({ length: out }, (_, i) => adaptiveWindow(i, size, out));
  const longest = Math.max(...windows.map(([start, end]) => end - start));
  const positions = new Int32Array(out * longest).fill(size);
  windows.forEach(([start, end], i) => {
    for (let j = start; j < end; j++) positions[i * longest + j - start] = j;
  });
  const backend = backendOf(x)?.name;
  const index = tensor(positions, { shape: [out * longest], ...(backend === undefined ? {} : { backend }) });
  const widths = x.shape.map((_, a) => (a === axis ? ([0, 1] as const) : ([0, 0] as const)));
  const padded = bind(Primitive.Pad, [x], { widths, value: lowestValue(x.dtype) });
  const gathered = bind(Primitive.Gather, [padded, index], { axis });
  const window = x.shape.map((_, a) => (a === axis ? longest : 1));
  return bind(Primitive.ReduceWindow, [gathered], {
    op: 'max',
    window,
    strides: window,
    padding: window.map(() => [0, 0] as const),
    dilation: window.map(() => 1),
  });
}

function adaptiveMaxPoolNd(op: string, n: number, input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  const g = adaptiveGeometry(op, n, input, outputSize);
  const kernel = evenKernel(g);
  if (kernel !== undefined) return unbatch(poolEqualWindows(g.x, kernel, 'max'), g.unbatched);
  // The last axis first: each window's gradient then reaches its first maximum in row-major
  // order, as the even path's single ReduceWindow (and PyTorch) choose it.
  let y = g.x;
  for (let i = n - 1; i >= 0; i--) y = maxPoolAxis(y, i + 2, g.out[i] as number);
  return unbatch(y, g.unbatched);
}

/**
 * 1-d adaptive average pooling to `outputSize` positions; integer inputs give float32.
 *
 * @example
 * adaptiveAvgPool1d(x, 1); // global average over W
 */
export function adaptiveAvgPool1d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveAvgPoolNd('adaptiveAvgPool1d', 1, input, outputSize));
}

/**
 * 2-d adaptive average pooling to an `outputSize` grid (a number for a square, or [h, w], where
 * null keeps the input's size), as torch.nn.functional.adaptive_avg_pool2d.
 *
 * @example
 * adaptiveAvgPool2d(features, 1);      // [N, C, 1, 1]
 * adaptiveAvgPool2d(features, [7, 7]);
 */
export function adaptiveAvgPool2d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveAvgPoolNd('adaptiveAvgPool2d', 2, input, outputSize));
}

/**
 * 3-d adaptive average pooling over [N, C, D, H, W] to an `outputSize` box.
 *
 * @example
 * adaptiveAvgPool3d(volume, [1, 7, 7]);
 */
export function adaptiveAvgPool3d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveAvgPoolNd('adaptiveAvgPool3d', 3, input, outputSize));
}

/**
 * 1-d adaptive max pooling to `outputSize` positions (torch.nn.functional.adaptive_max_pool1d,
 * without `return_indices`).
 *
 * @example
 * adaptiveMaxPool1d(x, 1); // global maximum over W
 */
export function adaptiveMaxPool1d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveMaxPoolNd('adaptiveMaxPool1d', 1, input, outputSize));
}

/**
 * 2-d adaptive max pooling to an `outputSize` grid (torch.nn.functional.adaptive_max_pool2d,
 * without `return_indices`). A window's gradient goes to its first maximum, as PyTorch's does.
 *
 * @example
 * adaptiveMaxPool2d(features, 1);      // global max pooling: [N, C, 1, 1]
 * adaptiveMaxPool2d(features, [3, 3]);
 */
export function adaptiveMaxPool2d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveMaxPoolNd('adaptiveMaxPool2d', 2, input, outputSize));
}

/**
 * 3-d adaptive max pooling over [N, C, D, H, W] to an `outputSize` box.
 *
 * @example
 * adaptiveMaxPool3d(volume, 1);
 */
export function adaptiveMaxPool3d(input: TensorLike, outputSize: AdaptiveOutputSize): Tensor {
  return tidy(() => adaptiveMaxPoolNd('adaptiveMaxPool3d', 3, input, outputSize));
}
