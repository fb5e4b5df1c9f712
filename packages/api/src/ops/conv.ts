import { type DType, promoteTypes, toFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, type Shape, shapesEqual, sizeOf } from '../core/shape.js';
import { windowOutputSize } from '../primitives/linalg.js';
import { type PadPair, Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, releasing, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { broadcastTo, cast } from './broadcast.js';
import { batched, spatialArgument, unbatch } from './channels-first.js';
import { type TensorLike, toTensor } from './convert.js';
import { add, div } from './elementwise.js';
import { maxPoolIndices } from './max-pool-indices.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';

// Convolution and pooling in PyTorch's layout (channels first: NCW, NCHW, NCDHW), written over
// the Conv and ReduceWindow primitives. Transposed convolutions are ordinary convolutions of the
// stride-dilated input with the flipped, transposed kernel, so their gradients come for free.

/** An int for every spatial dimension, or one int for all of them. */
export type SpatialArg = number | readonly number[];

/** Padding of a convolution: per-dimension amounts, or PyTorch's 'same' / 'valid'. */
export type ConvPadding = SpatialArg | 'same' | 'valid';

export interface ConvOptions {
  /** Added to every output channel: shape [outChannels]. */
  readonly bias?: Tensor | null;
  /** Default 1. */
  readonly stride?: SpatialArg;
  /** Zero padding on both sides of each spatial dimension, 'valid' (none) or 'same' (stride 1 only). Default 0. */
  readonly padding?: ConvPadding;
  /** Spacing between kernel elements. Default 1. */
  readonly dilation?: SpatialArg;
  /** Splits input and output channels into this many independent groups. Default 1. */
  readonly groups?: number;
}

export interface ConvTransposeOptions {
  readonly bias?: Tensor | null;
  readonly stride?: SpatialArg;
  /** As PyTorch: `dilation * (kernel - 1) - padding` zeros pad each side of the dilated input, so padding trims the output. Default 0. */
  readonly padding?: SpatialArg;
  /** Extra size added to one side of the output, to pick among the input sizes a strided conv maps to the same output size. */
  readonly outputPadding?: SpatialArg;
  readonly dilation?: SpatialArg;
  readonly groups?: number;
}

// Where PyTorch's positional parameters go in the options objects (see options-argument.ts).
const CONV_SIGNATURE = optionsSignature<ConvOptions>(3, { bias: true, stride: true, padding: true, dilation: true, groups: true });
const CONV_TRANSPOSE_SIGNATURE = optionsSignature<ConvTransposeOptions>(
  3,
  { bias: true, stride: true, padding: true, outputPadding: true, dilation: true, groups: true },
  ['bias', 'stride', 'padding', 'outputPadding', 'groups', 'dilation'],
);

function reshape(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : bind(Primitive.Reshape, [x], { shape: [...shape] });
}

function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return perm.every((p, i) => p === i) ? x : bind(Primitive.Transpose, [x], { perm: [...perm] });
}

function checkGroups(op: string, groups: number | undefined): number {
  const g = groups ?? 1;
  if (!Number.isInteger(g) || g < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${String(groups)}`);
  return g;
}

/** Promotes input and weight (and bias) to one floating dtype. */
function floatOperands(op: string, input: TensorLike, weight: TensorLike): [Tensor, Tensor, DType] {
  const like = isTensor(input) ? input : isTensor(weight) ? weight : undefined;
  const x = toTensor(op, input, undefined, like);
  const w = toTensor(op, weight, undefined, like ?? x);
  const promoted = promoteTypes(x.dtype, w.dtype);
  if (promoted === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const dtype = toFloating(promoted);
  return [cast(x, dtype), cast(w, dtype), dtype];
}

function addBias(op: string, out: Tensor, bias: Tensor | null | undefined, dtype: DType): Tensor {
  if (bias === undefined || bias === null) return out;
  const channels = out.shape[1] as number;
  if (bias.shape.length !== 1 || bias.shape[0] !== channels) {
    throw new ShapeError(`${op}: bias must have shape [${channels}] (one value per output channel), got ${formatShape(bias.shape)}`);
  }
  const b = reshape(cast(bias, dtype), [1, channels, ...new Array<number>(out.shape.length - 2).fill(1)]);
  // The unbiased output is this op's intermediate, and the sum's derivative reads neither operand:
  // freed now, an eager training step does not hold it (6 MiB for a LeNet's first layer at batch 64)
  // until its scope ends.
  return releasing(add(out, b), out);
}

function convNd(op: string, n: number, input: TensorLike, weight: TensorLike, options: ConvOptions): Tensor {
  const [x0, w, dtype] = floatOperands(op, input, weight);
  const [x, unbatched] = batched(op, x0, n);
  if (w.shape.length !== n + 2) {
    throw new ShapeError(
      `${op}: weight must have shape [outChannels, inChannels / groups, ${'k, '.repeat(n).slice(0, -2)}], got ${formatShape(w.shape)}`,
    );
  }
  const groups = checkGroups(op, options.groups);
  const stride = spatialArgument(op, 'stride', options.stride, n, 1, 1);
  const dilation = spatialArgument(op, 'dilation', options.dilation, n, 1, 1);
  const channels = x.shape[1] as number;
  const outChannels = w.shape[0] as number;
  if ((w.shape[1] as number) * groups !== channels) {
    throw new ShapeError(
      `${op}: input ${formatShape(x0.shape)} has ${channels} channels but weight ${formatShape(w.shape)} expects ${w.shape[1]} x groups (${groups}) = ${(w.shape[1] as number) * groups}`,
    );
  }
  if (outChannels % groups !== 0) {
    throw new ShapeError(`${op}: weight ${formatShape(w.shape)} has ${outChannels} output channels, not divisible by groups (${groups})`);
  }
  const kernel = w.shape.slice(2);
  let padding: PadPair[];
  if (options.padding === 'same') {
    if (stride.some((s) => s !== 1))
      throw new ValueError(`${op}: padding='same' needs stride 1 (as in PyTorch), got stride ${JSON.stringify(stride)}`);
    // Any odd total goes on the high side, as PyTorch does.
    padding = kernel.map((k, i) => {
      const total = (dilation[i] as number) * (k - 1);
      const low = Math.floor(total / 2);
      return [low, total - low] as const;
    });
  } else if (options.padding === 'valid') {
    padding = kernel.map(() => [0, 0] as const);
  } else {
    padding = spatialArgument(op, 'padding', options.padding, n, 0, 0).map((p) => [p, p] as const);
  }
  for (let i = 0; i < n; i++) {
    const size = x.shape[i + 2] as number;
    const pair = padding[i] as PadPair;
    const effective = (dilation[i] as number) * ((kernel[i] as number) - 1) + 1;
    if (size + pair[0] + pair[1] < effective) {
      throw new ShapeError(
        `${op}: input ${formatShape(x0.shape)} padded by ${JSON.stringify(padding.map((p) => p[0]))} is smaller than the (dilated) kernel ${formatShape(kernel)} in spatial dimension ${i} (${size + pair[0] + pair[1]} < ${effective})`,
      );
    }
  }
  const out = bind(Primitive.Conv, [x, w], {
    strides: stride,
    padding,
    lhsDilation: new Array<number>(n).fill(1),
    rhsDilation: dilation,
    groups,
  });
  return unbatch(addBias(op, out, options.bias, dtype), unbatched);
}

/**
 * 1-d convolution (cross-correlation) of an [N, C, W] input with an [O, C / groups, k] weight.
 *
 * @example
 * conv1d(x, w, { stride: 2, padding: 1 });
 */
export const conv1d = withCheckedOptions(
  'conv1d',
  CONV_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvOptions = {}): Tensor => convNd('conv1d', 1, input, weight, options),
);

/**
 * 2-d convolution (cross-correlation) of an [N, C, H, W] input with an [O, C / groups, kH, kW]
 * weight, as torch.nn.functional.conv2d.
 *
 * @example
 * const y = conv2d(images, kernels, { bias, padding: 'same' }); // [N, O, H, W]
 */
export const conv2d = withCheckedOptions(
  'conv2d',
  CONV_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvOptions = {}): Tensor => convNd('conv2d', 2, input, weight, options),
);

/**
 * 3-d convolution of an [N, C, D, H, W] input with an [O, C / groups, kD, kH, kW] weight.
 *
 * @example
 * conv3d(volume, w, { padding: 1 });
 */
export const conv3d = withCheckedOptions(
  'conv3d',
  CONV_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvOptions = {}): Tensor => convNd('conv3d', 3, input, weight, options),
);

function convTransposeNd(op: string, n: number, input: TensorLike, weight: TensorLike, options: ConvTransposeOptions): Tensor {
  const [x0, w, dtype] = floatOperands(op, input, weight);
  const [x, unbatched] = batched(op, x0, n);
  if (w.shape.length !== n + 2) {
    throw new ShapeError(
      `${op}: weight must have shape [inChannels, outChannels / groups, ${'k, '.repeat(n).slice(0, -2)}], got ${formatShape(w.shape)}`,
    );
  }
  const groups = checkGroups(op, options.groups);
  const stride = spatialArgument(op, 'stride', options.stride, n, 1, 1);
  const dilation = spatialArgument(op, 'dilation', options.dilation, n, 1, 1);
  const pad = spatialArgument(op, 'padding', options.padding, n, 0, 0);
  const outputPadding = spatialArgument(op, 'outputPadding', options.outputPadding, n, 0, 0);
  outputPadding.forEach((p, i) => {
    if (p >= (stride[i] as number) && p >= (dilation[i] as number)) {
      throw new ValueError(
        `${op}: outputPadding ${JSON.stringify(outputPadding)} must be smaller than either stride ${JSON.stringify(stride)} or dilation ${JSON.stringify(dilation)} in every dimension`,
      );
    }
  });
  const channels = x.shape[1] as number;
  const inChannels = w.shape[0] as number;
  if (inChannels !== channels) {
    throw new ShapeError(
      `${op}: input ${formatShape(x0.shape)} has ${channels} channels but weight ${formatShape(w.shape)} expects ${inChannels} (weight layout [inChannels, outChannels / groups, ...kernel])`,
    );
  }
  if (inChannels % groups !== 0) {
    throw new ShapeError(`${op}: ${inChannels} input channels are not divisible by groups (${groups})`);
  }
  const kernel = w.shape.slice(2);
  const outPerGroup = w.shape[1] as number;
  const inPerGroup = inChannels / groups;
  // [C_in, C_out/g, k...] -> [g, C_in/g, C_out/g, k...] -> [g, C_out/g, C_in/g, k...] -> [C_out, C_in/g, k...], flipped.
  const spatialAxes = kernel.map((_, i) => i + 3);
  let forward = reshape(w, [groups, inPerGroup, outPerGroup, ...kernel]);
  forward = transpose(forward, [0, 2, 1, ...spatialAxes]);
  forward = reshape(forward, [groups * outPerGroup, inPerGroup, ...kernel]);
  forward = bind(Primitive.Flip, [forward], { axes: kernel.map((_, i) => i + 2) });
  const padding = kernel.map((k, i) => {
    const reach = (dilation[i] as number) * (k - 1);
    return [reach - (pad[i] as number), reach - (pad[i] as number) + (outputPadding[i] as number)] as const;
  });
  for (let i = 0; i < n; i++) {
    const size = x.shape[i + 2] as number;
    const outSize = windowOutputSize(
      size,
      kernel[i] as number,
      1,
      (padding[i] as PadPair)[0],
      (padding[i] as PadPair)[1],
      dilation[i],
      stride[i],
    );
    if (
      outSize <= 0 ||
      (size - 1) * (stride[i] as number) -
        2 * (pad[i] as number) +
        (dilation[i] as number) * ((kernel[i] as number) - 1) +
        (outputPadding[i] as number) +
        1 <=
        0
    ) {
      throw new ShapeError(
        `${op}: padding ${JSON.stringify(pad)} leaves no output for input ${formatShape(x0.shape)} and kernel ${formatShape(kernel)}`,
      );
    }
  }
  const out = bind(Primitive.Conv, [x, forward], {
    strides: new Array<number>(n).fill(1),
    padding,
    lhsDilation: stride,
    rhsDilation: dilation,
    groups,
  });
  return unbatch(addBias(op, out, options.bias, dtype), unbatched);
}

/**
 * Transposed 1-d convolution (the gradient of conv1d with respect to its input), weight layout
 * [C_in, C_out / groups, k] as in PyTorch. Output length:
 * `(W - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1`.
 *
 * @example
 * convTranspose1d(x, w, { stride: 2 });
 */
export const convTranspose1d = withCheckedOptions(
  'convTranspose1d',
  CONV_TRANSPOSE_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvTransposeOptions = {}): Tensor =>
    convTransposeNd('convTranspose1d', 1, input, weight, options),
);

/**
 * Transposed 2-d convolution ("deconvolution"), weight layout [C_in, C_out / groups, kH, kW].
 *
 * @example
 * convTranspose2d(features, w, { stride: 2, padding: 1, outputPadding: 1 }); // doubles H and W
 */
export const convTranspose2d = withCheckedOptions(
  'convTranspose2d',
  CONV_TRANSPOSE_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvTransposeOptions = {}): Tensor =>
    convTransposeNd('convTranspose2d', 2, input, weight, options),
);

/**
 * Transposed 3-d convolution, weight layout [C_in, C_out / groups, kD, kH, kW].
 *
 * @example
 * convTranspose3d(x, w, { stride: 2 });
 */
export const convTranspose3d = withCheckedOptions(
  'convTranspose3d',
  CONV_TRANSPOSE_SIGNATURE,
  (input: TensorLike, weight: TensorLike, options: ConvTransposeOptions = {}): Tensor =>
    convTransposeNd('convTranspose3d', 3, input, weight, options),
);

// ---- pooling ---------------------------------------------------------------------------------

export interface MaxPoolOptions {
  /** Default: the kernel size (non-overlapping windows). */
  readonly stride?: SpatialArg;
  /** Implicit -Infinity padding on both sides; at most half the (dilated) kernel. Default 0. */
  readonly padding?: SpatialArg;
  readonly dilation?: SpatialArg;
  /** Round the output size up instead of down, keeping windows that start inside the input or left padding. */
  readonly ceilMode?: boolean;
  /** Also return each maximum's flat position within its input plane (int32), for maxUnpool. Default false. */
  readonly returnIndices?: boolean;
}

/** Max pooling's result with `returnIndices: true`. */
export interface MaxPoolWithIndices {
  /** The pooled values, differentiable as without indices. */
  readonly values: Tensor;
  /**
   * int32, shaped like `values`: where each maximum lies, as a flat (row-major) position within
   * its input plane (the spatial axes of one example and channel), torch's `indices`.
   */
  readonly indices: Tensor;
}

/**
 * A max pooling function: a Tensor, or `{ values, indices }` with `returnIndices: true`.
 */
export interface MaxPoolFunction {
  (input: TensorLike, kernelSize: SpatialArg, options?: MaxPoolOptions & { readonly returnIndices?: false }): Tensor;
  (input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions & { readonly returnIndices: true }): MaxPoolWithIndices;
  (input: TensorLike, kernelSize: SpatialArg, options?: MaxPoolOptions): Tensor | MaxPoolWithIndices;
}

export interface AvgPoolOptions {
  readonly stride?: SpatialArg;
  /** Implicit zero padding on both sides; at most half the kernel. Default 0. */
  readonly padding?: SpatialArg;
  readonly ceilMode?: boolean;
  /** Whether the zero padding counts in the divisor (PyTorch's default, true). */
  readonly countIncludePad?: boolean;
}

const MAX_POOL_SIGNATURE = optionsSignature<MaxPoolOptions>(
  3,
  { stride: true, padding: true, dilation: true, ceilMode: true, returnIndices: true },
  ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'],
);
const AVG_POOL_SIGNATURE = optionsSignature<AvgPoolOptions>(3, { stride: true, padding: true, ceilMode: true, countIncludePad: true }, [
  'stride',
  'padding',
  'ceilMode',
  'countIncludePad',
  'divisorOverride',
]);

interface PoolGeometry {
  readonly x: Tensor;
  readonly unbatched: boolean;
  readonly kernel: number[];
  readonly stride: number[];
  readonly pad: number[];
  readonly dilation: number[];
  /** Padding added on the high side so that ceil-mode windows exist. */
  readonly extra: number[];
}

function poolGeometry(op: string, n: number, input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions): PoolGeometry {
  const [x, unbatched] = batched(op, toTensor(op, input), n);
  const kernel = spatialArgument(op, 'kernelSize', kernelSize, n, 1, 1);
  const stride = options.stride === undefined ? kernel : spatialArgument(op, 'stride', options.stride, n, 1, 1);
  const pad = spatialArgument(op, 'padding', options.padding, n, 0, 0);
  const dilation = spatialArgument(op, 'dilation', options.dilation, n, 1, 1);
  const extra: number[] = [];
  for (let i = 0; i < n; i++) {
    const size = x.shape[i + 2] as number;
    const effective = (dilation[i] as number) * ((kernel[i] as number) - 1) + 1;
    const p = pad[i] as number;
    const s = stride[i] as number;
    if (p > Math.floor(effective / 2)) {
      throw new ValueError(
        `${op}: padding ${JSON.stringify(pad)} must be at most half the kernel size ${JSON.stringify(kernel)} (dilated: ${effective})`,
      );
    }
    const span = size + 2 * p - effective;
    if (span < 0) {
      throw new ShapeError(
        `${op}: input ${formatShape(x.shape)} padded by ${p} is smaller than the kernel (${effective}) in spatial dimension ${i}`,
      );
    }
    let out = Math.floor(span / s) + 1;
    if (options.ceilMode === true) {
      out = Math.ceil(span / s) + 1;
      // As PyTorch: the last window must start inside the input or the left padding.
      if ((out - 1) * s >= size + p) out--;
    }
    extra.push(Math.max(0, (out - 1) * s + effective - (size + 2 * p)));
  }
  return { x, unbatched, kernel, stride, pad, dilation, extra };
}

function windowParams(g: PoolGeometry, op: 'sum' | 'max') {
  return {
    op,
    window: [1, 1, ...g.kernel],
    strides: [1, 1, ...g.stride],
    padding: [[0, 0] as const, [0, 0] as const, ...g.pad.map((p, i) => [p, p + (g.extra[i] as number)] as const)],
    dilation: [1, 1, ...g.dilation],
  };
}

function maxPoolNd(op: string, n: number, input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions): Tensor | MaxPoolWithIndices {
  const returnIndices = options.returnIndices ?? false;
  if (typeof returnIndices !== 'boolean')
    throw new ValueError(`${op}: returnIndices must be a boolean, got ${JSON.stringify(returnIndices)}`);
  const g = poolGeometry(op, n, input, kernelSize, options);
  if (g.x.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const params = windowParams(g, 'max');
  const values = bind(Primitive.ReduceWindow, [g.x], params);
  if (!returnIndices) return unbatch(values, g.unbatched);
  const indices = tidy(() => maxPoolIndices(g.x, values, params));
  return { values: unbatch(values, g.unbatched), indices: unbatch(indices, g.unbatched) };
}

function avgPoolNd(op: string, n: number, input: TensorLike, kernelSize: SpatialArg, options: AvgPoolOptions): Tensor {
  const { dilation: _ignored, ...rest } = options as MaxPoolOptions;
  const g0 = poolGeometry(op, n, input, kernelSize, rest);
  if (g0.x.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const g: PoolGeometry = { ...g0, x: cast(g0.x, toFloating(g0.x.dtype)) };
  const sums = bind(Primitive.ReduceWindow, [g.x], windowParams(g, 'sum'));
  const countIncludePad = options.countIncludePad ?? true;
  const window = sizeOf(g.kernel);
  const hasPad = g.pad.some((p) => p > 0);
  const hasExtra = g.extra.some((e) => e > 0);
  if ((countIncludePad || !hasPad) && !hasExtra) return unbatch(div(sums, window), g.unbatched);
  // The divisor varies by window: count the positions of each window that lie in the input (and in
  // the padding, when it counts), by pooling a tensor of ones shaped like one channel.
  const spatialShape = g.x.shape.slice(2);
  let ones = bind(Primitive.Full, [], { shape: spatialShape, dtype: g.x.dtype, value: 1 }, backendOf(g.x));
  if (countIncludePad && hasPad) ones = bind(Primitive.Pad, [ones], { widths: g.pad.map((p) => [p, p] as const), value: 1 });
  const counts = bind(Primitive.ReduceWindow, [ones], {
    op: 'sum',
    window: g.kernel,
    strides: g.stride,
    padding: g.pad.map((p, i) => (countIncludePad ? [0, g.extra[i] as number] : [p, p + (g.extra[i] as number)]) as PadPair),
    dilation: g.dilation,
  });
  return unbatch(div(sums, broadcastTo(counts, sums.shape)), g.unbatched);
}

/**
 * 1-d max pooling over [N, C, W] (or [C, W]).
 *
 * @example
 * maxPool1d(x, 2); // halves W
 */
export const maxPool1d: MaxPoolFunction = withCheckedOptions(
  'maxPool1d',
  MAX_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions = {}): Tensor | MaxPoolWithIndices =>
    maxPoolNd('maxPool1d', 1, input, kernelSize, options),
) as MaxPoolFunction;

/**
 * 2-d max pooling over [N, C, H, W] (or [C, H, W]), as torch.nn.functional.max_pool2d. With
 * `returnIndices: true` it returns `{ values, indices }`, the indices int32 flat positions within
 * each H x W plane (for maxUnpool2d).
 *
 * @example
 * maxPool2d(x, 2);                          // 2x2 windows, stride 2
 * maxPool2d(x, 3, { stride: 2, padding: 1 });
 * const { values, indices } = maxPool2d(x, 2, { returnIndices: true });
 */
export const maxPool2d: MaxPoolFunction = withCheckedOptions(
  'maxPool2d',
  MAX_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions = {}): Tensor | MaxPoolWithIndices =>
    maxPoolNd('maxPool2d', 2, input, kernelSize, options),
) as MaxPoolFunction;

/**
 * 3-d max pooling over [N, C, D, H, W].
 *
 * @example
 * maxPool3d(volume, 2);
 */
export const maxPool3d: MaxPoolFunction = withCheckedOptions(
  'maxPool3d',
  MAX_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: MaxPoolOptions = {}): Tensor | MaxPoolWithIndices =>
    maxPoolNd('maxPool3d', 3, input, kernelSize, options),
) as MaxPoolFunction;

/**
 * 1-d average pooling over [N, C, W]; integer inputs give float32.
 *
 * @example
 * avgPool1d(x, 3, { stride: 1, padding: 1 });
 */
export const avgPool1d = withCheckedOptions(
  'avgPool1d',
  AVG_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: AvgPoolOptions = {}): Tensor =>
    tidy(() => avgPoolNd('avgPool1d', 1, input, kernelSize, options)),
);

/**
 * 2-d average pooling over [N, C, H, W], as torch.nn.functional.avg_pool2d (padding counts in
 * the divisor unless `countIncludePad: false`).
 *
 * @example
 * avgPool2d(x, 2);
 */
export const avgPool2d = withCheckedOptions(
  'avgPool2d',
  AVG_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: AvgPoolOptions = {}): Tensor =>
    tidy(() => avgPoolNd('avgPool2d', 2, input, kernelSize, options)),
);

/**
 * 3-d average pooling over [N, C, D, H, W].
 *
 * @example
 * avgPool3d(volume, 2);
 */
export const avgPool3d = withCheckedOptions(
  'avgPool3d',
  AVG_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: AvgPoolOptions = {}): Tensor =>
    tidy(() => avgPoolNd('avgPool3d', 3, input, kernelSize, options)),
);
