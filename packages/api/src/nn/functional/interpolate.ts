import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d } from '../../ops/adaptive-pool.js';
import { type TensorLike, tensor } from '../../ops/convert.js';
import { add, mul } from '../../ops/elementwise.js';
import { take } from '../../ops/indexing.js';
import { matmul } from '../../ops/linalg.js';
import { transpose } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { type AntialiasMode, antialiasWeights } from './antialias.js';
import { floatTensor } from './common.js';
import { cubicWeights } from './cubic-interpolate.js';

// torch.nn.functional.interpolate as a composite: every spatial axis is resampled on its own
// (the modes are separable), nearest modes by one `take` along the axis, linear modes by two
// `take`s weighted by constant per-position weights, bicubic by four. The indices and weights
// are computed here with PyTorch's index math (UpSample.h: nearest_idx,
// nearest_neighbor_exact_compute_source_index, area_pixel_compute_source_index,
// guard_index_and_lambda), so the result matches PyTorch's and its derivative is take's (a
// scatter-add) on every backend, under jit and vmap too. 'area' is adaptive average pooling, as
// in PyTorch; antialiasing contracts each axis with a constant [out, in] matrix (antialias.ts).

/** How `interpolate` samples: torch.nn.functional.interpolate's `mode`. */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';

/** Options of `interpolate` (PyTorch's names, camelCased). Give exactly one of `size` and `scaleFactor`. */
export interface InterpolateOptions {
  /** The output's spatial sizes: one number for every spatial dimension, or one per dimension. */
  readonly size?: number | readonly number[];
  /** Multiplier of the spatial sizes (output size = floor(input size * scaleFactor)); one number or one per dimension. */
  readonly scaleFactor?: number | readonly number[];
  /**
   * Default 'nearest'. 'linear', 'bilinear' and 'trilinear' need 3-d, 4-d and 5-d inputs,
   * 'bicubic' a 4-d input; 'area' is adaptive average pooling to the output size.
   */
  readonly mode?: InterpolateMode;
  /**
   * Linear and bicubic modes only: true aligns the centres of the corner pixels (source = dst * (in - 1) / (out - 1));
   * false (the default) aligns the corners of the corner pixels (source = (dst + 0.5) * scale - 0.5, clamped at 0
   * in the linear modes).
   */
  readonly alignCorners?: boolean;
  /**
   * 'bilinear' and 'bicubic' on 4-d inputs: when downsampling, average every input under the
   * filter stretched by the scale (as Pillow and PyTorch's antialias=True) instead of sampling
   * 2 or 4 neighbours. Default false.
   */
  readonly antialias?: boolean;
  /**
   * With `scaleFactor`: true computes the sampling scale from the output size (in / out), as if
   * `size` had been given; false (the default) uses 1 / scaleFactor, as PyTorch.
   */
  readonly recomputeScaleFactor?: boolean;
}

// PyTorch: interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias).
const INTERPOLATE_SIGNATURE = optionsSignature<InterpolateOptions>(
  2,
  { size: true, scaleFactor: true, mode: true, alignCorners: true, recomputeScaleFactor: true, antialias: true },
  ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor', 'antialias'],
);

const MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'];
/** The input rank of each interpolating mode (the modes that take alignCorners). */
const INTERPOLATING_RANK: Readonly<Record<string, number>> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };
const ADAPTIVE_AVERAGE = [adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d];

/**
 * Resamples the spatial dimensions of an [N, C, L], [N, C, H, W] or [N, C, D, H, W] input to
 * `size`, or by `scaleFactor` (torch.nn.functional.interpolate), with PyTorch's index math in
 * every mode: 'nearest' reads `floor(dst * scale)` (scale = in / out, or 1 / scaleFactor),
 * 'nearest-exact' reads `floor((dst + 0.5) * scale)`, the linear modes weight the two
 * neighbours of PyTorch's `area_pixel_compute_source_index`, 'bicubic' the four of its cubic
 * convolution (A = -0.75, indices clamped at the borders), and 'area' averages as
 * `adaptiveAvgPool{1,2,3}d`. `antialias` low-pass filters when downsampling, as PyTorch's.
 * Differentiable in the input.
 *
 * @example
 * nn.functional.interpolate(images, { scaleFactor: 2 });                                   // nearest, [N, C, 2H, 2W]
 * nn.functional.interpolate(images, { size: [32, 32], mode: 'bilinear', alignCorners: false });
 * nn.functional.interpolate(images, { size: [56, 56], mode: 'bicubic', antialias: true });  // thumbnails as Pillow
 * nn.functional.interpolate(images, { scaleFactor: 0.5, mode: 'area' });
 */
export const interpolate = withCheckedOptions(
  'interpolate',
  INTERPOLATE_SIGNATURE,
  (input: TensorLike, options: InterpolateOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'interpolate';
      const x = floatTensor(op, input);
      if (x.ndim < 3 || x.ndim > 5) {
        throw new ShapeError(`${op}: input must be [N, C, L], [N, C, H, W] or [N, C, D, H, W], got ${formatShape(x.shape)}`);
      }
      const mode = options.mode ?? 'nearest';
      if (!MODES.includes(mode)) {
        throw new ValueError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
      }
      const rank = INTERPOLATING_RANK[mode];
      if (rank !== undefined && rank !== x.ndim) {
        throw new ShapeError(`${op}: mode '${mode}' needs a ${rank}-d input, got ${formatShape(x.shape)}`);
      }
      if (rank === undefined && options.alignCorners !== undefined) {
        throw new ValueError(
          `${op}: alignCorners can only be set with the interpolating modes ('linear', 'bilinear', 'bicubic', 'trilinear'), not '${mode}'`,
        );
      }
      const antialias = options.antialias ?? false;
      if (typeof antialias !== 'boolean') throw new ValueError(`${op}: antialias must be a boolean, got ${JSON.stringify(antialias)}`);
      if (antialias && mode !== 'bilinear' && mode !== 'bicubic') {
        throw new ValueError(`${op}: antialias can only be used with the modes 'bilinear' and 'bicubic' (4-d inputs), not '${mode}'`);
      }
      const alignCorners = options.alignCorners ?? false;
      const spatial = x.shape.slice(2);
      const { outSizes, scales } = outputSizes(op, spatial, options);
      if (mode === 'area') return (ADAPTIVE_AVERAGE[spatial.length - 1] as (typeof ADAPTIVE_AVERAGE)[0])(x, outSizes);
      let y = x;
      spatial.forEach((inSize, i) => {
        const outSize = outSizes[i] as number;
        // An unchanged size with no scale factor reads every position as itself, in every mode; and
        // PyTorch's nearest and linear kernels copy an axis whose size is unchanged, whatever the
        // scale factor ('nearest-exact', 'bicubic' and antialiasing resample it at 1 / scaleFactor).
        const copies = mode === 'nearest' || (rank !== undefined && mode !== 'bicubic' && !antialias);
        if (outSize === inSize && (scales[i] === undefined || copies)) return;
        const axis = i + 2;
        if (antialias) {
          const scale = areaPixelScale(inSize, outSize, alignCorners, scales[i]);
          y = contractAxis(y, axis, antialiasWeights(mode as AntialiasMode, inSize, outSize, scale), outSize);
        } else if (rank === undefined) {
          y = take(y, nearestIndices(mode, inSize, outSize, scales[i]), axis);
        } else {
          const sampling = (mode === 'bicubic' ? cubicSampling : linearSampling)(inSize, outSize, alignCorners, scales[i]);
          y = weightedTakes(y, axis, sampling);
        }
      });
      return y;
    });
  },
);

/** The neighbours every output position reads along one axis, and their weights. */
export interface AxisSampling {
  /** One index list per neighbour, each as long as the output axis. */
  readonly taps: readonly Int32Array[];
  /** The matching weights, per neighbour and output position. */
  readonly weights: readonly (readonly number[])[];
}

/** The sum over neighbours of `take(y, taps[k], axis) * weights[k]`. */
function weightedTakes(y: Tensor, axis: number, { taps, weights }: AxisSampling): Tensor {
  const outSize = (taps[0] as Int32Array).length;
  const shape = [outSize, ...new Array<number>(y.ndim - axis - 1).fill(1)];
  const terms = taps.map((tap, k) =>
    mul(take(y, tap, axis), tensor(weights[k] as number[], { shape, dtype: y.dtype, ...backendOption(y) })),
  );
  return terms.reduce((sum, term) => add(sum, term));
}

/** `y` with axis `axis` (the last or the one before it) mapped by the [out, in] matrix `weights`. */
function contractAxis(y: Tensor, axis: number, weights: Float64Array, outSize: number): Tensor {
  const m = tensor(weights, { shape: [outSize, y.shape[axis] as number], dtype: y.dtype, ...backendOption(y) });
  return axis === y.ndim - 1 ? matmul(y, transpose(m)) : matmul(m, y);
}

function backendOption(x: Tensor): { backend?: string } {
  const backend = backendOf(x)?.name;
  return backend === undefined ? {} : { backend };
}

function perDimension(op: string, what: string, value: number | readonly number[], n: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(n).fill(value) : Array.isArray(value) ? [...value] : null;
  if (list === null || list.length !== n) {
    throw new ValueError(`${op}: ${what} must be one number or ${n} (one per spatial dimension), got ${JSON.stringify(value)}`);
  }
  return list;
}

/** The output sizes, and the scale factor per dimension PyTorch's kernels receive (undefined: in / out). */
function outputSizes(
  op: string,
  spatial: readonly number[],
  options: InterpolateOptions,
): { outSizes: number[]; scales: (number | undefined)[] } {
  const { size, scaleFactor } = options;
  const n = spatial.length;
  if ((size === undefined || size === null) === (scaleFactor === undefined || scaleFactor === null)) {
    throw new ValueError(`${op}: give exactly one of size and scaleFactor`);
  }
  if (size !== undefined && size !== null) {
    const outSizes = perDimension(op, 'size', size, n);
    if (outSizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ValueError(`${op}: size must hold positive integers, got ${JSON.stringify(size)}`);
    }
    if (options.recomputeScaleFactor === true) {
      throw new ValueError(`${op}: recomputeScaleFactor is only meaningful with scaleFactor, not with size`);
    }
    return { outSizes, scales: new Array<undefined>(n).fill(undefined) };
  }
  const factors = perDimension(op, 'scaleFactor', scaleFactor as number | readonly number[], n);
  if (factors.some((f) => typeof f !== 'number' || !Number.isFinite(f) || f <= 0)) {
    throw new ValueError(`${op}: scaleFactor must hold positive finite numbers, got ${JSON.stringify(scaleFactor)}`);
  }
  const outSizes = spatial.map((s, i) => Math.floor(s * (factors[i] as number)));
  if (outSizes.some((s) => s < 1)) {
    throw new ValueError(
      `${op}: scaleFactor ${JSON.stringify(scaleFactor)} gives an empty output for the spatial sizes ${formatShape(spatial)}`,
    );
  }
  return { outSizes, scales: options.recomputeScaleFactor === true ? new Array<undefined>(n).fill(undefined) : factors };
}

/** PyTorch's compute_scales_value: 1 / scaleFactor when one was given, else in / out. */
function scaleValue(scaleFactor: number | undefined, inSize: number, outSize: number): number {
  return scaleFactor !== undefined && scaleFactor > 0 ? 1 / scaleFactor : inSize / outSize;
}

/** PyTorch's area_pixel_compute_scale: (in - 1) / (out - 1) (0 for one output) with alignCorners, else compute_scales_value. */
function areaPixelScale(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return scaleValue(scaleFactor, inSize, outSize);
}

/**
 * The source index of every output position in the nearest modes, as PyTorch's CPU kernels
 * compute it (UpSampleKernel.cpp's nearest_idx and nearest_exact_idx): in float32
 * (`floorf(dst * scale)`, or `floorf((dst + 0.5) * scale)` for 'nearest-exact'), at most
 * `inSize - 1`; 'nearest' copies when the size is unchanged and halves the index when it doubles,
 * whatever the scale factor.
 */
export function nearestIndices(mode: InterpolateMode, inSize: number, outSize: number, scaleFactor: number | undefined): Int32Array {
  if (mode === 'nearest' && outSize === inSize) return Int32Array.from({ length: outSize }, (_, dst) => dst);
  if (mode === 'nearest' && outSize === 2 * inSize) return Int32Array.from({ length: outSize }, (_, dst) => dst >> 1);
  const scale = Math.fround(scaleValue(scaleFactor, inSize, outSize));
  const offset = mode === 'nearest-exact' ? 0.5 : 0;
  return Int32Array.from({ length: outSize }, (_, dst) => Math.min(Math.floor(Math.fround((dst + offset) * scale)), inSize - 1));
}

/**
 * The two neighbours and their weights of every output position in the linear modes: PyTorch's
 * area_pixel_compute_scale and area_pixel_compute_source_index (negative sources clamped to 0),
 * then `i0 = floor(src)`, `i1 = min(i0 + 1, in - 1)`, `w1 = src - i0`, `w0 = 1 - w1`.
 */
export function linearSampling(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): AxisSampling {
  const scale = areaPixelScale(inSize, outSize, alignCorners, scaleFactor);
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lowerWeight: number[] = [];
  const upperWeight: number[] = [];
  for (let dst = 0; dst < outSize; dst++) {
    const source = alignCorners ? scale * dst : Math.max(scale * (dst + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(source), inSize - 1);
    const w1 = Math.min(Math.max(source - i0, 0), 1);
    lower[dst] = i0;
    upper[dst] = i0 < inSize - 1 ? i0 + 1 : i0;
    lowerWeight.push(1 - w1);
    upperWeight.push(w1);
  }
  return { taps: [lower, upper], weights: [lowerWeight, upperWeight] };
}

/**
 * The four neighbours and their weights of every output position in the bicubic mode, as
 * PyTorch's upsample_bicubic2d: the source `src` of area_pixel_compute_source_index (not clamped
 * at 0), `i0 = min(floor(src), in - 1)`, `t = src - i0` clamped to [0, 1] (guard_index_and_lambda),
 * taps `i0 - 1 .. i0 + 2` clamped into the axis, weighted by the cubic convolution of `t`.
 */
export function cubicSampling(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): AxisSampling {
  const scale = areaPixelScale(inSize, outSize, alignCorners, scaleFactor);
  const taps = [0, 1, 2, 3].map(() => new Int32Array(outSize));
  const weights: number[][] = [[], [], [], []];
  for (let dst = 0; dst < outSize; dst++) {
    const source = alignCorners ? scale * dst : scale * (dst + 0.5) - 0.5;
    const i0 = Math.min(Math.floor(source), inSize - 1);
    const t = Math.min(Math.max(source - i0, 0), 1);
    cubicWeights(t).forEach((w, k) => {
      (taps[k] as Int32Array)[dst] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      (weights[k] as number[]).push(w);
    });
  }
  return { taps, weights };
}
