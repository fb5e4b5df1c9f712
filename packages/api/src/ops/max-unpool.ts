import { isFloating } from '../core/dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, sizeOf } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { batched, spatialArgument, unbatch } from './channels-first.js';
import type { SpatialArg } from './conv.js';
import { type TensorLike, toTensor } from './convert.js';
import { add, div, floorDivide, greaterEqual, less, logicalAnd, maximum, mul, where } from './elementwise.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';

// Max unpooling (torch.nn.functional.max_unpool{1,2,3}d): the inverse of max pooling with
// `returnIndices`, a tensor of zeros with each input value put at its index, a flat position
// within its output plane. One ScatterAdd over the flattened planes does it, so the gradient
// with respect to the input is the gather of the output's gradient at the indices.
//
// Two indices may name one position (max pooling with overlapping windows reports a maximum once
// per window that holds it). PyTorch's CPU kernel keeps the last value written there and its CUDA
// kernel any one; here the position takes the average of its values, the same value in the max
// pooling case, and deterministic. Where that happens each of the values gets its share of the
// gradient (PyTorch gives each the whole of it, so that max pooling's backward then counts it once
// per window).

export interface MaxUnpoolOptions {
  /** The pool's stride. Default: the kernel size. */
  readonly stride?: SpatialArg;
  /** The pool's padding. Default 0. */
  readonly padding?: SpatialArg;
  /**
   * The output's spatial size (or its whole shape [N, C, ...spatial], as PyTorch takes it), to
   * undo a pool whose rounding lost positions: each size must lie strictly within one stride of
   * the default `(in - 1) * stride - 2 * padding + kernel`. Default: that size.
   */
  readonly outputSize?: readonly number[] | null;
}

const MAX_UNPOOL_SIGNATURE = optionsSignature<MaxUnpoolOptions>(4, { stride: true, padding: true, outputSize: true });

/** The output's spatial sizes: the default, or `outputSize` checked against it as PyTorch checks it. */
function unpooledSizes(
  op: string,
  inSizes: readonly number[],
  kernel: number[],
  stride: number[],
  pad: number[],
  requested: MaxUnpoolOptions['outputSize'],
): number[] {
  const n = inSizes.length;
  const defaults = inSizes.map((size, i) => (size - 1) * (stride[i] as number) - 2 * (pad[i] as number) + (kernel[i] as number));
  if (requested === undefined || requested === null) {
    defaults.forEach((size, i) => {
      if (size < 0) {
        throw new ValueError(
          `${op}: the output size ${JSON.stringify(defaults)} is negative in spatial dimension ${i}: padding ${JSON.stringify(pad)} is too large for kernel ${JSON.stringify(kernel)}`,
        );
      }
    });
    return defaults;
  }
  if (!Array.isArray(requested) || (requested.length !== n && requested.length !== n + 2)) {
    throw new ValueError(
      `${op}: outputSize must hold ${n} sizes (or the ${n + 2} of a whole shape [N, C, ...]), got ${JSON.stringify(requested)}`,
    );
  }
  const sizes = requested.slice(requested.length - n);
  sizes.forEach((size, i) => {
    const low = (defaults[i] as number) - (stride[i] as number);
    const high = (defaults[i] as number) + (stride[i] as number);
    if (!Number.isInteger(size) || size < 0 || size <= low || size >= high) {
      throw new ValueError(
        `${op}: outputSize ${JSON.stringify(requested)} is invalid: spatial dimension ${i} must lie strictly between ${low} and ${high} (the default size ${defaults[i]} plus or minus the stride)`,
      );
    }
  });
  return sizes;
}

/** The int32 indices, shaped like the input. */
function checkedIndices(op: string, indices: TensorLike, x: Tensor): Tensor {
  const t = isTensor(indices) ? indices : toTensor(op, indices, 'int32', x);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8') {
    throw new DTypeError(`${op}: indices must be an integer tensor (int32, as max pooling returns them), got ${t.dtype}`);
  }
  if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${op}: indices must have the shape of the input ${formatShape(x.shape)}, got ${formatShape(t.shape)}`);
  }
  return cast(t, 'int32');
}

interface IndexScan {
  /** Whether some plane names one position twice. */
  readonly repeats: boolean;
}

/**
 * Checks the indices against the output plane where they can be read now (a backend that reads
 * synchronously, not traced, not too many to copy): an IndexError names the first one out of
 * range. Returns null where they cannot be read; the scatter then drops such indices instead.
 */
function scanIndices(op: string, indices: Tensor, planes: number, inPlane: number, outSizes: readonly number[]): IndexScan | null {
  const backend = indices._backend;
  if (backend === null || backend.readSync === undefined || indices.size > 1 << 20) return null;
  const values = indices.dataSync();
  const outPlane = sizeOf(outSizes);
  // The plane (plus one) that last wrote each position: no clearing between planes.
  const writer = new Int32Array(outPlane);
  let repeats = false;
  for (let plane = 0; plane < planes; plane++) {
    for (let j = 0; j < inPlane; j++) {
      const v = values[plane * inPlane + j] as number;
      if (!(v >= 0 && v < outPlane)) {
        throw new IndexError(
          `${op}: index ${v} (input plane ${plane}, position ${j}) is out of range for an output plane of ${formatShape(outSizes)} (${outPlane} positions)`,
        );
      }
      if (writer[v] === plane + 1) repeats = true;
      writer[v] = plane + 1;
    }
  }
  return { repeats };
}

function maxUnpoolNd(
  op: string,
  n: number,
  input: TensorLike,
  indicesLike: TensorLike,
  kernelSize: SpatialArg,
  options: MaxUnpoolOptions,
): Tensor {
  const t = toTensor(op, input);
  if (t.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const indices = checkedIndices(op, indicesLike, t);
  const [x, unbatched] = batched(op, t, n);
  const kernel = spatialArgument(op, 'kernelSize', kernelSize, n, 1, 1);
  const stride = options.stride === undefined ? kernel : spatialArgument(op, 'stride', options.stride, n, 1, 1);
  const pad = spatialArgument(op, 'padding', options.padding, n, 0, 0);
  const outSizes = unpooledSizes(op, x.shape.slice(2), kernel, stride, pad, options.outputSize);
  const [batch, channels] = x.shape as [number, number];
  const planes = batch * channels;
  const inPlane = sizeOf(x.shape.slice(2));
  const outPlane = sizeOf(outSizes);
  const scan = scanIndices(op, indices, planes, inPlane, outSizes);
  const backend = backendOf(x);
  // Each index offset to its plane in the flattened output.
  const planeStarts = mul(bind(Primitive.Iota, [], { shape: [planes], dtype: 'int32', axis: 0 }, backend), outPlane);
  let flat = add(
    bind(Primitive.Reshape, [indices], { shape: [planes, inPlane] }),
    bind(Primitive.Reshape, [planeStarts], { shape: [planes, 1] }),
  );
  // Unread indices may be out of range: they go to one spare slot past the end, cut off below.
  let slots = planes * outPlane;
  if (scan === null) {
    const local = bind(Primitive.Reshape, [indices], { shape: [planes, inPlane] });
    flat = where(logicalAnd(greaterEqual(local, 0), less(local, outPlane)), flat, slots);
    slots += 1;
  }
  const flatIndices = bind(Primitive.Reshape, [flat], { shape: [planes * inPlane] });
  const zeros = bind(Primitive.Broadcast, [bind(Primitive.Full, [], { shape: [1], dtype: x.dtype, value: 0 }, backend)], {
    shape: [slots],
  });
  const scatter = (updates: Tensor): Tensor => bind(Primitive.ScatterAdd, [zeros, flatIndices, updates], { axis: 0 });
  let out = scatter(bind(Primitive.Reshape, [x], { shape: [planes * inPlane] }));
  if (scan === null || scan.repeats) {
    // Positions named more than once take the average of their values.
    const ones = bind(Primitive.Full, [], { shape: [planes * inPlane], dtype: x.dtype, value: 1 }, backend);
    const counts = maximum(scatter(ones), 1);
    out = isFloating(x.dtype) ? div(out, counts) : floorDivide(out, counts);
  }
  if (slots > planes * outPlane) out = bind(Primitive.Slice, [out], { starts: [0], stops: [planes * outPlane], steps: [1] });
  return unbatch(bind(Primitive.Reshape, [out], { shape: [batch, channels, ...outSizes] }), unbatched);
}

/**
 * 1-d max unpooling over [N, C, L] (or [C, L]), as torch.nn.functional.max_unpool1d: zeros of
 * the unpooled length with each input value put at its index (as maxPool1d's `returnIndices`
 * gives them). Differentiable with respect to the input.
 *
 * @example
 * const { values, indices } = maxPool1d(x, 2, { returnIndices: true });
 * maxUnpool1d(values, indices, 2); // x's maxima in place, zeros elsewhere
 */
export const maxUnpool1d = withCheckedOptions(
  'maxUnpool1d',
  MAX_UNPOOL_SIGNATURE,
  (input: TensorLike, indices: TensorLike, kernelSize: SpatialArg, options: MaxUnpoolOptions = {}): Tensor =>
    tidy(() => maxUnpoolNd('maxUnpool1d', 1, input, indices, kernelSize, options)),
);

/**
 * 2-d max unpooling over [N, C, H, W] (or [C, H, W]), as torch.nn.functional.max_unpool2d: the
 * indices are flat positions within each output H x W plane, as maxPool2d returns them. Indices
 * are checked (an IndexError) where the backend reads synchronously; elsewhere one out of range is
 * dropped. A position named twice takes the average of its values.
 *
 * @example
 * const { values, indices } = maxPool2d(x, 2, { returnIndices: true });
 * maxUnpool2d(values, indices, 2, { outputSize: x.shape });
 */
export const maxUnpool2d = withCheckedOptions(
  'maxUnpool2d',
  MAX_UNPOOL_SIGNATURE,
  (input: TensorLike, indices: TensorLike, kernelSize: SpatialArg, options: MaxUnpoolOptions = {}): Tensor =>
    tidy(() => maxUnpoolNd('maxUnpool2d', 2, input, indices, kernelSize, options)),
);

/**
 * 3-d max unpooling over [N, C, D, H, W] (or [C, D, H, W]), as torch.nn.functional.max_unpool3d.
 *
 * @example
 * const { values, indices } = maxPool3d(volume, 2, { returnIndices: true });
 * maxUnpool3d(values, indices, 2);
 */
export const maxUnpool3d = withCheckedOptions(
  'maxUnpool3d',
  MAX_UNPOOL_SIGNATURE,
  (input: TensorLike, indices: TensorLike, kernelSize: SpatialArg, options: MaxUnpoolOptions = {}): Tensor =>
    tidy(() => maxUnpoolNd('maxUnpool3d', 3, input, indices, kernelSize, options)),
);
