import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape, sizeOf } from '../../core/shape.js';
import { batched, spatialArgument } from '../../ops/channels-first.js';
import { avgPool1d, avgPool2d, avgPool3d, type SpatialArg } from '../../ops/conv.js';
import type { TensorLike } from '../../ops/convert.js';
import { abs, mul, pow, sign } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { relu } from './activations.js';
import { checkNumber, floatTensor } from './common.js';

// Power-average pooling (torch.nn.functional.lp_pool{1,2,3}d): (sum over the window of x^p)^(1/p),
// computed as PyTorch computes it, by average pooling x^p and multiplying by the kernel's size, so
// that the values match its at the edges too: a ceil-mode window that runs past the input is
// averaged over its taps inside and then multiplied by the whole kernel's size. PyTorch then takes
// `sign(s) * relu(|s|)` of that sum s before the root, which leaves s unchanged but gives a zero
// sum a zero derivative there; the same composite here keeps its gradients at those points (NaN
// where the root's derivative is infinite, as PyTorch's).

export interface LpPoolOptions {
  /** Default: the kernel size (non-overlapping windows). */
  readonly stride?: SpatialArg;
  /** Keep the last, partial window of each axis (PyTorch's ceil_mode). Default false. */
  readonly ceilMode?: boolean;
}

// PyTorch: lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False).
const LP_POOL_SIGNATURE = optionsSignature<LpPoolOptions>(4, { stride: true, ceilMode: true });

const AVERAGE_POOLS = { 1: avgPool1d, 2: avgPool2d, 3: avgPool3d } as const;

function lpPoolNd(op: string, n: 1 | 2 | 3, input: TensorLike, normType: number, kernelSize: SpatialArg, options: LpPoolOptions): Tensor {
  const p = checkNumber(op, 'normType', normType);
  if (p === 0) throw new ValueError(`${op}: normType must not be 0 (the root 1 / normType would be infinite)`);
  const x = floatTensor(op, input);
  const [withBatch] = batched(op, x, n);
  const kernel = spatialArgument(op, 'kernelSize', kernelSize, n, 1, 1);
  // Checked here so that the error names this op rather than the average pool.
  withBatch.shape.slice(2).forEach((size, i) => {
    if (size < (kernel[i] as number)) {
      throw new ShapeError(
        `${op}: input ${formatShape(x.shape)} is smaller than the kernel ${JSON.stringify(kernel)} in spatial dimension ${i}`,
      );
    }
  });
  const averagePool = AVERAGE_POOLS[n];
  const stride = options.stride === undefined ? kernel : spatialArgument(op, 'stride', options.stride, n, 1, 1);
  const ceilMode = options.ceilMode ?? false;
  if (typeof ceilMode !== 'boolean') throw new ValueError(`${op}: ceilMode must be a boolean, got ${JSON.stringify(options.ceilMode)}`);
  const averages = averagePool(pow(x, p), kernel, { stride, ceilMode });
  const sums = mul(mul(sign(averages), relu(abs(averages))), sizeOf(kernel));
  return pow(sums, 1 / p);
}

/**
 * 1-d power-average pooling over [N, C, L] (or [C, L]), as torch.nn.functional.lp_pool1d:
 * `(sum of x^p over each window)^(1/p)`; p = 1 is sum pooling, p = 2 the windows' Euclidean norms
 * (for non-negative inputs, or even p).
 *
 * @example
 * nn.functional.lpPool1d(x, 2, 3, { stride: 2 });
 */
export const lpPool1d = withCheckedOptions(
  'lpPool1d',
  LP_POOL_SIGNATURE,
  (input: TensorLike, normType: number, kernelSize: SpatialArg, options: LpPoolOptions = {}): Tensor =>
    tidy(() => lpPoolNd('lpPool1d', 1, input, normType, kernelSize, options)),
);

/**
 * 2-d power-average pooling over [N, C, H, W] (or [C, H, W]), as
 * torch.nn.functional.lp_pool2d. A negative window sum with an odd or fractional p gives NaN, as
 * in PyTorch.
 *
 * @example
 * nn.functional.lpPool2d(features, 2, 2);            // 2 x 2 Euclidean-norm pooling
 * nn.functional.lpPool2d(features, 3, [3, 2], { stride: 1, ceilMode: true });
 */
export const lpPool2d = withCheckedOptions(
  'lpPool2d',
  LP_POOL_SIGNATURE,
  (input: TensorLike, normType: number, kernelSize: SpatialArg, options: LpPoolOptions = {}): Tensor =>
    tidy(() => lpPoolNd('lpPool2d', 2, input, normType, kernelSize, options)),
);

/**
 * 3-d power-average pooling over [N, C, D, H, W] (or [C, D, H, W]), as
 * torch.nn.functional.lp_pool3d.
 *
 * @example
 * nn.functional.lpPool3d(volume, 2, 2);
 */
export const lpPool3d = withCheckedOptions(
  'lpPool3d',
  LP_POOL_SIGNATURE,
  (input: TensorLike, normType: number, kernelSize: SpatialArg, options: LpPoolOptions = {}): Tensor =>
    tidy(() => lpPoolNd('lpPool3d', 3, input, normType, kernelSize, options)),
);
