import { zerosLike } from '../../ops/creation.js';
import { add, div, floor, greaterEqual, less, lessEqual, mod, mul, neg, sub, where } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { stopGradient } from './common.js';

// gridSample's coordinate math, transcribed from PyTorch's GridSampler.h so that values and
// derivatives agree with torch.nn.functional.grid_sample: normalised coordinates in [-1, 1] to
// pixel positions, then clipping or reflection into the image. The selections are `where`s, so
// that the derivative is PyTorch's `*_set_grad` one everywhere, the kinks included: clipping
// passes 0 at and beyond a border (borders count as out of bounds), reflection passes ±1.

/** How gridSample treats positions outside the input: torch's `padding_mode`. */
export type GridSamplePadding = 'zeros' | 'border' | 'reflection';

/**
 * grid_sampler_unnormalize: -1 and 1 are the centres of the corner pixels with `alignCorners`
 * (`((c + 1) / 2) (size - 1)`), else their outer edges (`((c + 1) size - 1) / 2`).
 */
export function unnormalize(coordinate: Tensor, size: number, alignCorners: boolean): Tensor {
  return alignCorners ? mul(div(add(coordinate, 1), 2), size - 1) : div(sub(mul(add(coordinate, 1), size), 1), 2);
}

/** clip_coordinates: into [0, size - 1], with derivative 0 at and beyond either end. */
function clip(position: Tensor, size: number): Tensor {
  return where(lessEqual(position, 0), 0, where(greaterEqual(position, size - 1), size - 1, position));
}

/**
 * reflect_coordinates: `position` folded into [low, high] by reflecting at both ends as often as
 * needed (bounds given doubled, so that half-integers are exact).
 */
function reflect(position: Tensor, twiceLow: number, twiceHigh: number): Tensor {
  if (twiceLow === twiceHigh) return zerosLike(position);
  const low = twiceLow / 2;
  const span = (twiceHigh - twiceLow) / 2;
  const shifted = sub(position, low);
  // |shifted| as a select: abs's derivative at 0 would be 0 where PyTorch's is 1.
  const distance = where(less(shifted, 0), neg(shifted), shifted);
  const extra = mod(distance, span);
  const flips = stopGradient(floor(div(distance, span)));
  const odd = greaterEqual(mod(flips, 2), 1);
  return where(odd, add(sub(span, extra), low), add(extra, low));
}

/**
 * compute_coordinates: a pixel position brought into the image as `padding` says ('zeros'
 * leaves it, reading zeros outside; 'border' clips; 'reflection' reflects at the corner pixels'
 * centres with `alignCorners`, else at their outer edges, then clips).
 */
export function padCoordinates(position: Tensor, size: number, padding: GridSamplePadding, alignCorners: boolean): Tensor {
  if (padding === 'border') return clip(position, size);
  if (padding === 'reflection') {
    const reflected = alignCorners ? reflect(position, 0, 2 * (size - 1)) : reflect(position, -1, 2 * size - 1);
    return clip(reflected, size);
  }
  return position;
}
