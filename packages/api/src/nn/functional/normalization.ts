import { runInFloat32 } from '../../amp/autocast.js';
import { isHalf } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { finfo } from '../../core/type-info.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { abs, add, clamp, div, mul, pow, rsqrt, sqrt, sub } from '../../ops/elementwise.js';
import { reshape } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { mean, sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, floatTensor } from './common.js';
import { alongChannels, batchNormWithStatistics, compositeBatchNorm } from './fused-batch-norm.js';
import { compositeLayerNorm } from './fused-composite.js';

// Where PyTorch's positional arguments go (see options-argument.ts). batchNormTraining is
// Flint's own, so none map there.
const BATCH_NORM_TRAINING_SIGNATURE = optionsSignature<Omit<BatchNormOptions, 'training'>>(2, { weight: true, bias: true, eps: true }, []);
const BATCH_NORM_SIGNATURE = optionsSignature<BatchNormOptions>(4, { weight: true, bias: true, training: true, eps: true }, [
  'weight',
  'bias',
  'training',
  'momentum',
  'eps',
]);
const LAYER_NORM_SIGNATURE = optionsSignature<LayerNormOptions>(3, { weight: true, bias: true, eps: true });
const GROUP_NORM_SIGNATURE = optionsSignature<GroupNormOptions>(3, { weight: true, bias: true, eps: true });
const RMS_NORM_SIGNATURE = optionsSignature<RmsNormOptions>(3, { weight: true, eps: true });
const NORMALIZE_SIGNATURE = optionsSignature<NormalizeOptions>(2, { p: true, axis: true, eps: true }, ['p', 'axis', 'eps', 'out']);

// Normalization layers as functions. Statistics use the biased variance (divide by n), as the
// layers of PyTorch do when normalizing; BatchNorm's running variance uses the unbiased one.

/** Machine epsilon of a float dtype: RMSNorm's default epsilon, as torch.finfo(dtype).eps. */
export function machineEpsilon(dtype: Tensor['dtype']): number {
  return finfo(dtype).eps;
}

/** `x` widened to float32 when it is float16 or bfloat16, the dtype its statistics are taken in. */
function statisticsInput(x: Tensor): Tensor {
  return isHalf(x.dtype) ? cast(x, 'float32') : x;
}

/**
 * Mean and biased variance over `axes`, kept as size-1 axes. A half input's statistics are taken
 * and kept in float32, as PyTorch's CPU kernels accumulate half in float: its centred squares
 * overflow float16 once a deviation passes 256.
 */
function moments(x: Tensor, axes: readonly number[]): [Tensor, Tensor] {
  const wide = statisticsInput(x);
  const m = mean(wide, axes, true);
  const centered = sub(wide, m);
  return [m, mean(mul(centered, centered), axes, true)];
}

/** `(x - mean) / sqrt(variance + eps)`, computed in the statistics' dtype and rounded back to `x`'s. */
function standardize(x: Tensor, m: Tensor, v: Tensor, eps: number): Tensor {
  return cast(mul(sub(statisticsInput(x), m), rsqrt(add(v, eps))), x.dtype);
}

function checkVector(op: string, what: string, v: Tensor | null | undefined, size: number): Tensor | null {
  if (v === undefined || v === null) return null;
  if (v.ndim !== 1 || v.shape[0] !== size) throw new ShapeError(`${op}: ${what} must have shape [${size}], got ${formatShape(v.shape)}`);
  return v;
}

/** Checks that a layer's weight and bias (when given) have the shape they scale and shift. */
function checkAffine(op: string, weight: Tensor | null | undefined, bias: Tensor | null | undefined, shape: readonly number[]): void {
  for (const [what, v] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (v === undefined || v === null) continue;
    if (v.ndim !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: ${what} must have shape ${formatShape(shape)}, got ${formatShape(v.shape)}`);
    }
  }
}

function affine(
  op: string,
  y: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  shape: readonly number[],
  reshapeTo: (v: Tensor) => Tensor,
): Tensor {
  checkAffine(op, weight, bias, shape);
  let out = y;
  for (const [what, v] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (v === undefined || v === null) continue;
    const broadcastable = reshapeTo(cast(v, y.dtype));
    out = what === 'weight' ? mul(out, broadcastable) : add(out, broadcastable);
  }
  return out;
}

/** Options of batchNorm. */
export interface BatchNormOptions {
  /** Scale per channel, shape [C]. */
  readonly weight?: Tensor | null;
  /** Shift per channel, shape [C]. */
  readonly bias?: Tensor | null;
  /** Normalize with the batch's statistics (true) or with the running ones (false, the default). */
  readonly training?: boolean;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/** The statistics one training step of batch normalization computed. */
export interface BatchStatistics {
  readonly output: Tensor;
  /** Per channel, shape [C]; float32 for a half input. */
  readonly mean: Tensor;
  /** Unbiased (n - 1) variance per channel, shape [C]: what the running variance averages; float32 for a half input. */
  readonly unbiasedVariance: Tensor;
}

function checkBatchInput(op: string, x: Tensor): void {
  if (x.ndim < 2) throw new ShapeError(`${op}: input must be [N, C] or [N, C, ...], got ${formatShape(x.shape)}`);
}

/**
 * Batch normalization with the batch's own statistics; also returns them (per channel), so that
 * a layer can update its running averages.
 */
export const batchNormTraining = withCheckedOptions(
  'batchNormTraining',
  BATCH_NORM_TRAINING_SIGNATURE,
  (input: TensorLike, options: Omit<BatchNormOptions, 'training'> = {}): BatchStatistics => {
    const op = 'batchNorm';
    return runInFloat32(op, [input], (input) => batchNormTrainingImpl(op, input, options));
  },
);

function batchNormTrainingImpl(op: string, input: TensorLike, options: Omit<BatchNormOptions, 'training'>): BatchStatistics {
  const x = floatTensor(op, input);
  checkBatchInput(op, x);
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
  const channels = x.shape[1] as number;
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const count = x.size / Math.max(channels, 1);
  if (count <= 1)
    throw new ValueError(`${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`);
  const weight = checkVector(op, 'weight', options.weight, channels);
  const bias = checkVector(op, 'bias', options.bias, channels);
  const { output, mean, variance } = compositeBatchNorm(x, weight, bias, eps, (x, weight, bias) => {
    const [m, v] = moments(x, axes);
    const normalized = standardize(x, m, v, eps);
    const output = affine(op, normalized, weight, bias, [channels], (w) => alongChannels(w, x.ndim));
    return [output, reshape(m, [channels]), reshape(v, [channels])];
  });
  return { output, mean, unbiasedVariance: mul(variance, count / (count - 1)) };
}

/**
 * Batch normalization over the channel axis 1 of [N, C, ...] (torch.nn.functional.batch_norm):
 * with `training`, normalizes by the batch's mean and biased variance; otherwise by
 * `runningMean` and `runningVar`. This function never changes the running statistics (tensors
 * are immutable); `nn.BatchNorm1d/2d` updates its own.
 *
 * @example
 * nn.functional.batchNorm(x, runningMean, runningVar, { weight, bias });           // inference
 * nn.functional.batchNorm(x, null, null, { training: true });                        // batch statistics
 */
export const batchNorm = withCheckedOptions(
  'batchNorm',
  BATCH_NORM_SIGNATURE,
  (input: TensorLike, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'batchNorm';
      const { training, ...affine } = options;
      if (training === true) return batchNormTraining(input, affine).output;
      return runInFloat32(op, [input, runningMean, runningVar], (input, runningMean, runningVar) =>
        batchNormInference(op, input, runningMean, runningVar, affine),
      );
    });
  },
);

function batchNormInference(
  op: string,
  input: TensorLike,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions,
): Tensor {
  const x = floatTensor(op, input);
  checkBatchInput(op, x);
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
  const channels = x.shape[1] as number;
  if (runningMean === null || runningVar === null) {
    throw new ValueError(`${op}: runningMean and runningVar are needed when not training`);
  }
  const mean = cast(checkVector(op, 'runningMean', runningMean, channels) as Tensor, x.dtype);
  const variance = cast(checkVector(op, 'runningVar', runningVar, channels) as Tensor, x.dtype);
  const weight = checkVector(op, 'weight', options.weight, channels);
  const bias = checkVector(op, 'bias', options.bias, channels);
  return batchNormWithStatistics(x, mean, variance, weight, bias, eps, () => {
    const normalized = mul(sub(x, alongChannels(mean, x.ndim)), rsqrt(add(alongChannels(variance, x.ndim), eps)));
    return affine(op, normalized, weight, bias, [channels], (w) => alongChannels(w, x.ndim));
  });
}

/** Options of layerNorm. */
export interface LayerNormOptions {
  /** Scale, shaped like `normalizedShape`. */
  readonly weight?: Tensor | null;
  /** Shift, shaped like `normalizedShape`. */
  readonly bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

function trailingAxes(op: string, x: Tensor, normalizedShape: readonly number[]): number[] {
  const n = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - n);
  if (n === 0 || n > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(
      `${op}: normalizedShape ${formatShape(normalizedShape)} must match the last dimensions of the input ${formatShape(x.shape)}`,
    );
  }
  return Array.from({ length: n }, (_, i) => x.ndim - n + i);
}

function shapeList(normalizedShape: number | readonly number[]): number[] {
  return typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
}

/**
 * Layer normalization over the trailing `normalizedShape` dimensions (torch.nn.functional.layer_norm).
 * Eagerly, on a backend with a fused kernel (Backend.composites: oneDNN's on mkl), that kernel
 * computes it.
 *
 * @example
 * nn.functional.layerNorm(x, [x.shape.at(-1)!], { weight, bias });
 */
export const layerNorm = withCheckedOptions(
  'layerNorm',
  LAYER_NORM_SIGNATURE,
  (input: TensorLike, normalizedShape: number | readonly number[], options: LayerNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'layerNorm';
      return runInFloat32(op, [input], (input) => {
        const x = floatTensor(op, input);
        const shape = shapeList(normalizedShape);
        const axes = trailingAxes(op, x, shape);
        const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
        checkAffine(op, options.weight, options.bias, shape);
        return compositeLayerNorm(x, options.weight ?? null, options.bias ?? null, axes.length, eps, (x, weight, bias) => {
          const [m, v] = moments(x, axes);
          return affine(op, standardize(x, m, v, eps), weight, bias, shape, (w) => w);
        });
      });
    });
  },
);

/** Options of groupNorm. */
export interface GroupNormOptions {
  /** Scale per channel, shape [C]. */
  readonly weight?: Tensor | null;
  /** Shift per channel, shape [C]. */
  readonly bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/**
 * Group normalization (torch.nn.functional.group_norm): the C channels of [N, C, ...] split into
 * `numGroups` groups, each normalized over its channels and all spatial positions.
 *
 * @example
 * nn.functional.groupNorm(x, 4, { weight, bias });
 */
export const groupNorm = withCheckedOptions(
  'groupNorm',
  GROUP_NORM_SIGNATURE,
  (input: TensorLike, numGroups: number, options: GroupNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'groupNorm';
      return runInFloat32(op, [input], (input) => groupNormImpl(op, input, numGroups, options));
    });
  },
);

function groupNormImpl(op: string, input: TensorLike, numGroups: number, options: GroupNormOptions): Tensor {
  const x = floatTensor(op, input);
  if (x.ndim < 2) throw new ShapeError(`${op}: input must be [N, C, ...], got ${formatShape(x.shape)}`);
  const channels = x.shape[1] as number;
  if (!Number.isInteger(numGroups) || numGroups < 1 || channels % numGroups !== 0) {
    throw new ValueError(`${op}: numGroups must be a positive integer dividing the ${channels} channels, got ${numGroups}`);
  }
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
  const batch = x.shape[0] as number;
  const grouped = reshape(x, [batch, numGroups, -1]);
  const [m, v] = moments(grouped, [2]);
  const normalized = reshape(standardize(grouped, m, v, eps), x.shape);
  return affine(
    op,
    normalized,
    checkVector(op, 'weight', options.weight, channels),
    checkVector(op, 'bias', options.bias, channels),
    [channels],
    (w) => alongChannels(w, x.ndim),
  );
}

/** Options of rmsNorm. */
export interface RmsNormOptions {
  /** Scale, shaped like `normalizedShape`. */
  readonly weight?: Tensor | null;
  /** Added to the mean square; default the machine epsilon of the input's dtype, as PyTorch. */
  readonly eps?: number | null;
}

/**
 * Root-mean-square normalization `x / sqrt(mean(x²) + eps) * weight` over the trailing
 * `normalizedShape` dimensions (torch.nn.functional.rms_norm).
 *
 * @example
 * nn.functional.rmsNorm(x, [512], { weight });
 */
export const rmsNorm = withCheckedOptions(
  'rmsNorm',
  RMS_NORM_SIGNATURE,
  (input: TensorLike, normalizedShape: number | readonly number[], options: RmsNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'rmsNorm';
      return runInFloat32(op, [input], (input) => {
        const x = floatTensor(op, input);
        const shape = shapeList(normalizedShape);
        const axes = trailingAxes(op, x, shape);
        const eps =
          options.eps === undefined || options.eps === null ? machineEpsilon(x.dtype) : checkNumber(op, 'eps', options.eps, { min: 0 });
        // A half input's mean square is taken in float32, where squares past 256 do not overflow.
        const wide = statisticsInput(x);
        const normalized = cast(mul(wide, rsqrt(add(mean(mul(wide, wide), axes, true), eps))), x.dtype);
        return affine(op, normalized, options.weight, null, shape, (w) => w);
      });
    });
  },
);

/** Options of normalize. */
export interface NormalizeOptions {
  /** The exponent of the norm (default 2). */
  readonly p?: number;
  /** The axis along which vectors are normalized (default 1). */
  readonly axis?: number;
  /** Lower bound of the divisor (default 1e-12). */
  readonly eps?: number;
}

/**
 * Divides vectors along `axis` by their p-norm, `x / max(||x||_p, eps)` (torch.nn.functional.normalize).
 *
 * @example
 * nn.functional.normalize(embeddings, { axis: -1 });
 */
export const normalize = withCheckedOptions(
  'normalize',
  NORMALIZE_SIGNATURE,
  (input: TensorLike, options: NormalizeOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'normalize';
      return runInFloat32(op, [input], (input) => {
        const x = floatTensor(op, input);
        const p = checkNumber(op, 'p', options.p ?? 2, { min: 0, minExclusive: true });
        const eps = checkNumber(op, 'eps', options.eps ?? 1e-12, { min: 0 });
        const axis = options.axis ?? 1;
        const norm = p === 2 ? sqrt(sum(mul(x, x), axis, true)) : pow(sum(pow(abs(x), p), axis, true), 1 / p);
        // clamp, as PyTorch's clamp_min: a norm equal to eps passes its whole gradient.
        return div(x, clamp(norm, eps));
      });
    });
  },
);
