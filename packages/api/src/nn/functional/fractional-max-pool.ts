import type { DType } from '../../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape, sizeOf } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { batched, spatialArgument, unbatch } from '../../ops/channels-first.js';
import type { MaxPoolWithIndices, SpatialArg } from '../../ops/conv.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { add, floorDivide, mul, sub } from '../../ops/elementwise.js';
import { concat } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { Primitive } from '../../primitives/primitive.js';
import { uniform } from '../../random/distributions.js';
import { rand } from '../../random/generator.js';
import { checkKey } from '../../random/keys.js';
import { bind } from '../../tensor/dispatch.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';

// Fractional max pooling (Graham, 2014; torch.nn.functional.fractional_max_pool{2,3}d): windows of
// a fixed size whose starts advance by a fractional step, `in - kernel` spread over `out - 1`
// steps with a random offset u in [0, 1) per example, channel and axis:
//   start[i] = trunc((i + u) * alpha) - trunc(u * alpha),  alpha = (in - kernel) / (out - 1),
// and the last window ends at the input's end. As PyTorch's kernels, this is computed in the
// input's floating dtype (float32 unless float64), so that the same samples pick the same windows.
//
// Every example and channel has its own windows, so the starts are computed on the device from
// the samples (nothing is read back, and jit, vmap and asynchronous backends work as usual); each
// window's taps are gathered from the flattened input, argmax picks the window's first maximum,
// and the values are gathered at those positions, so the gradient goes to each window's maximum
// (a scatter-add, summed where windows overlap) and the indices name the same elements.

export interface FractionalMaxPoolOptions {
  /** The output's spatial size (one number for every axis); this or `outputRatio`. */
  readonly outputSize?: SpatialArg;
  /** The output's size as a fraction of the input's, in (0, 1): `floor(in * ratio)` per axis. */
  readonly outputRatio?: number | readonly number[];
  /** Also return the maxima's flat positions within each input plane (int32), for maxUnpool. Default false. */
  readonly returnIndices?: boolean;
  /**
   * The offsets u, in [0, 1), as a float tensor [N, C, n] (n spatial axes; [1, C, n] for an
   * unbatched input), PyTorch's `_random_samples`: for 2-d, u[..., 0] is the width's and
   * u[..., 1] the height's; for 3-d, the depth's, the height's and the width's.
   */
  readonly randomSamples?: Tensor | null;
  /** A random key (random.key / random.split) to draw the samples from; without it, and without samples, the global generator draws them. */
  readonly key?: Tensor;
}

/** A fractional max pooling function: a Tensor, or `{ values, indices }` with `returnIndices: true`. */
export interface FractionalMaxPoolFunction {
  (input: TensorLike, kernelSize: SpatialArg, options?: FractionalMaxPoolOptions & { readonly returnIndices?: false }): Tensor;
  (input: TensorLike, kernelSize: SpatialArg, options: FractionalMaxPoolOptions & { readonly returnIndices: true }): MaxPoolWithIndices;
  (input: TensorLike, kernelSize: SpatialArg, options?: FractionalMaxPoolOptions): Tensor | MaxPoolWithIndices;
}

// PyTorch: fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
// return_indices=False, _random_samples=None).
const FRACTIONAL_MAX_POOL_SIGNATURE = optionsSignature<FractionalMaxPoolOptions>(
  3,
  { outputSize: true, outputRatio: true, returnIndices: true, randomSamples: true, key: true },
  ['outputSize', 'outputRatio', 'returnIndices', 'randomSamples'],
);

/** The output's spatial sizes from `outputSize` or `outputRatio`, checked against the kernel. */
function outputSizes(op: string, sizes: readonly number[], kernel: readonly number[], options: FractionalMaxPoolOptions): number[] {
  const n = sizes.length;
  const hasSize = options.outputSize !== undefined && options.outputSize !== null;
  const hasRatio = options.outputRatio !== undefined && options.outputRatio !== null;
  if (hasSize === hasRatio) {
    throw new ValueError(`${op}: give exactly one of outputSize and outputRatio, got ${hasSize ? 'both' : 'neither'}`);
  }
  let out: number[];
  if (hasSize) out = spatialArgument(op, 'outputSize', options.outputSize, n, 1, 1);
  else {
    const ratio = options.outputRatio as number | readonly number[];
    const ratios = typeof ratio === 'number' ? new Array<number>(n).fill(ratio) : [...ratio];
    if (ratios.length !== n || ratios.some((r) => typeof r !== 'number' || !(r > 0 && r < 1))) {
      throw new ValueError(`${op}: outputRatio must be one number or ${n}, each strictly between 0 and 1, got ${JSON.stringify(ratio)}`);
    }
    out = ratios.map((r, i) => Math.floor((sizes[i] as number) * r));
    if (out.some((o) => o < 1)) {
      throw new ValueError(
        `${op}: outputRatio ${JSON.stringify(ratio)} of spatial size ${JSON.stringify(sizes)} leaves no output (${JSON.stringify(out)})`,
      );
    }
  }
  out.forEach((o, i) => {
    if (o + (kernel[i] as number) - 1 > (sizes[i] as number)) {
      throw new ValueError(
        `${op}: kernel ${JSON.stringify(kernel)} is too large for output size ${JSON.stringify(out)} from spatial size ${JSON.stringify(sizes)}: ` +
          `each output size plus its kernel size minus 1 must be at most the input's (dimension ${i})`,
      );
    }
  });
  return out;
}

/** The offsets u as [N, C, n] in `dtype`: the given samples, or drawn from the key or the global generator. */
function samplesFor(op: string, x: Tensor, n: number, dtype: DType, options: FractionalMaxPoolOptions): Tensor {
  const [batch, channels] = x.shape as [number, number];
  const shape = [batch, channels, n];
  const given = options.randomSamples;
  if (given !== undefined && given !== null) {
    if (options.key !== undefined) throw new ValueError(`${op}: give randomSamples or key, not both`);
    if (!isTensor(given)) throw new ValueError(`${op}: randomSamples must be a float tensor of shape ${formatShape(shape)}`);
    if (given.shape.length !== 3 || given.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(
        `${op}: randomSamples must have shape ${formatShape(shape)} ([N, C, ${n}]) for input ${formatShape(x.shape)}, got ${formatShape(given.shape)}`,
      );
    }
    if (given.dtype === 'bool') throw new DTypeError(`${op}: randomSamples must be floats in [0, 1), got bool`);
    return cast(given, dtype);
  }
  if (options.key !== undefined) return uniform(checkKey(op, options.key), shape, { dtype });
  const backend = backendOf(x)?.name;
  return rand(shape, { dtype, ...(backend === undefined ? {} : { backend }) });
}

/** int32 [N, C, out]: each window's start along an axis of `size`, from the offsets `u` [N, C] (PyTorch's generate_intervals). */
function windowStarts(u: Tensor, size: number, out: number, kernel: number): Tensor {
  const [batch, channels] = u.shape as [number, number];
  const backend = backendOf(u);
  const last = bind(Primitive.Full, [], { shape: [batch, channels, 1], dtype: 'int32', value: size - kernel }, backend);
  if (out === 1) return last;
  // alpha rounded to the dtype once, as the kernels' scalar_t division gives it.
  const alpha = (size - kernel) / (out - 1);
  const offsets = bind(Primitive.Reshape, [u], { shape: [batch, channels, 1] });
  const steps = bind(Primitive.Iota, [], { shape: [1, 1, out - 1], dtype: u.dtype, axis: 2 }, backend);
  const truncated = (t: Tensor): Tensor => cast(t, 'int32');
  const front = sub(truncated(mul(add(steps, offsets), alpha)), truncated(mul(offsets, alpha)));
  return concat([front, last], 2);
}

function fractionalMaxPoolNd(
  op: string,
  n: 2 | 3,
  input: TensorLike,
  kernelSize: SpatialArg,
  options: FractionalMaxPoolOptions,
): Tensor | MaxPoolWithIndices {
  const returnIndices = options.returnIndices ?? false;
  if (typeof returnIndices !== 'boolean')
    throw new ValueError(`${op}: returnIndices must be a boolean, got ${JSON.stringify(returnIndices)}`);
  const t = toTensor(op, input);
  if (t.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors`);
  const [x, unbatched] = batched(op, t, n);
  const sizes = x.shape.slice(2);
  if (sizes.some((s) => s === 0)) throw new ShapeError(`${op}: input ${formatShape(t.shape)} has an empty spatial dimension`);
  const kernel = spatialArgument(op, 'kernelSize', kernelSize, n, 1, 1);
  const out = outputSizes(op, sizes, kernel, options);
  const dtype: DType = x.dtype === 'float64' ? 'float64' : 'float32';
  const samples = samplesFor(op, x, n, dtype, options);
  const [batch, channels] = x.shape as [number, number];
  const backend = backendOf(x);
  // PyTorch's sample order: 2-d [width, height], 3-d [depth, height, width].
  const sampleOf = n === 2 ? [1, 0] : [0, 1, 2];
  const planeStrides = sizes.map((_, i) => sizeOf(sizes.slice(i + 1)));
  const windows = sizes.length;
  // Each axis's window starts, shaped to broadcast over [N, C, ...out].
  const starts = sizes.map((size, i) => {
    const u = bind(
      Primitive.Reshape,
      [
        bind(Primitive.Slice, [samples], {
          starts: [0, 0, sampleOf[i] as number],
          stops: [batch, channels, (sampleOf[i] as number) + 1],
          steps: [1, 1, 1],
        }),
      ],
      {
        shape: [batch, channels],
      },
    );
    const s = windowStarts(u, size, out[i] as number, kernel[i] as number);
    return bind(Primitive.Reshape, [s], { shape: [batch, channels, ...out.map((o, j) => (j === i ? o : 1))] });
  });
  // The plane position of every tap: [N, C, ...out, ...kernel], then the taps flattened last.
  const tapShape = [batch, channels, ...out, ...kernel];
  let taps: Tensor | null = null;
  for (let i = 0; i < windows; i++) {
    const start = bind(Primitive.Reshape, [starts[i] as Tensor], { shape: [...(starts[i] as Tensor).shape, ...kernel.map(() => 1)] });
    const offset = bind(Primitive.Iota, [], { shape: kernel.map((k, j) => (j === i ? k : 1)), dtype: 'int32', axis: i }, backend);
    const term = mul(add(start, offset), planeStrides[i] as number);
    taps = taps === null ? term : add(taps, term);
  }
  const window = sizeOf(kernel);
  const positions = bind(Primitive.Reshape, [bind(Primitive.Broadcast, [taps as Tensor], { shape: tapShape })], {
    shape: [batch, channels, ...out, window],
  });
  // Offsets of each plane in the flattened input.
  const inPlane = sizeOf(sizes);
  const planeStarts = bind(
    Primitive.Reshape,
    [mul(bind(Primitive.Iota, [], { shape: [batch * channels], dtype: 'int32', axis: 0 }, backend), inPlane)],
    {
      shape: [batch, channels, ...out.map(() => 1)],
    },
  );
  const flatInput = bind(Primitive.Reshape, [x], { shape: [batch * channels * inPlane] });
  const candidates = bind(
    Primitive.Gather,
    [flatInput, add(positions, bind(Primitive.Reshape, [planeStarts], { shape: [batch, channels, ...out.map(() => 1), 1] }))],
    { axis: 0 },
  );
  const chosen = bind(Primitive.Argmax, [candidates], { axis: 2 + windows });
  // The chosen tap's offset along each axis, from its row-major position in the window.
  let indices: Tensor | null = null;
  let rest = chosen;
  for (let i = windows - 1; i >= 0; i--) {
    const k = kernel[i] as number;
    const quotient = floorDivide(rest, k);
    const along = sub(rest, mul(quotient, k));
    const term = mul(add(starts[i] as Tensor, along), planeStrides[i] as number);
    indices = indices === null ? term : add(indices, term);
    rest = quotient;
  }
  const planeIndices = indices as Tensor;
  const values = bind(Primitive.Gather, [flatInput, add(planeIndices, planeStarts)], { axis: 0 });
  if (!returnIndices) return unbatch(values, unbatched);
  return { values: unbatch(values, unbatched), indices: unbatch(planeIndices, unbatched) };
}

/**
 * 2-d fractional max pooling over [N, C, H, W] (or [C, H, W]), as
 * torch.nn.functional.fractional_max_pool2d: `kernelSize` windows at pseudo-random fractional
 * strides that shrink the input to `outputSize` (or `outputRatio` of it). The offsets come from
 * `randomSamples` ([N, C, 2] in [0, 1), PyTorch's `_random_samples`: width's, then height's), or
 * are drawn from `key`, or from the global generator (`manualSeed`). With `returnIndices: true`
 * it returns `{ values, indices }` as maxPool2d does.
 *
 * @example
 * nn.functional.fractionalMaxPool2d(x, 3, { outputRatio: 0.5, key: random.key(0) });
 * const { values, indices } = nn.functional.fractionalMaxPool2d(x, 2, { outputSize: [13, 12], returnIndices: true });
 */
export const fractionalMaxPool2d: FractionalMaxPoolFunction = withCheckedOptions(
  'fractionalMaxPool2d',
  FRACTIONAL_MAX_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: FractionalMaxPoolOptions = {}): Tensor | MaxPoolWithIndices =>
    tidy(() => fractionalMaxPoolNd('fractionalMaxPool2d', 2, input, kernelSize, options)),
) as FractionalMaxPoolFunction;

/**
 * 3-d fractional max pooling over [N, C, D, H, W] (or [C, D, H, W]), as
 * torch.nn.functional.fractional_max_pool3d; `randomSamples` is [N, C, 3] (depth's, height's,
 * width's offsets).
 *
 * @example
 * nn.functional.fractionalMaxPool3d(volume, 2, { outputSize: 5 });
 */
export const fractionalMaxPool3d: FractionalMaxPoolFunction = withCheckedOptions(
  'fractionalMaxPool3d',
  FRACTIONAL_MAX_POOL_SIGNATURE,
  (input: TensorLike, kernelSize: SpatialArg, options: FractionalMaxPoolOptions = {}): Tensor | MaxPoolWithIndices =>
    tidy(() => fractionalMaxPoolNd('fractionalMaxPool3d', 3, input, kernelSize, options)),
) as FractionalMaxPoolFunction;
