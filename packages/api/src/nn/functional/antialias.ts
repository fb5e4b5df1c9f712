import { cubicKernel } from './cubic-interpolate.js';

// interpolate(..., { antialias: true }) as PyTorch computes it (_upsample_bilinear2d_aa and
// _upsample_bicubic2d_aa, UpSampleKernel.cpp's _compute_indices_min_size_weights_aa, after
// Pillow's Resample.c): output position i is centred at `scale * (i + 0.5)` in input pixel
// units; when downsampling (scale >= 1) the filter is stretched by the scale, so every input
// under it contributes; the weights of the inputs inside the image are normalised to sum to 1
// (at the borders they are renormalised, not clamped). The filters are the triangle (bilinear)
// and Keys' cubic with A = -0.5 (bicubic, as Pillow, not the -0.75 of the plain mode).

/** The resampling modes that take `antialias`. */
export type AntialiasMode = 'bilinear' | 'bicubic';

const PILLOW_CUBIC_A = -0.5;

function triangle(x: number): number {
  const d = Math.abs(x);
  return d < 1 ? 1 - d : 0;
}

/**
 * The [outSize, inSize] row-major matrix of one axis's antialiased resampling, for PyTorch's
 * `scale` (area_pixel_compute_scale: in / out, 1 / scaleFactor, or (in - 1) / (out - 1) with
 * alignCorners). Computed in float64; PyTorch's float32 kernels compute in float32.
 */
export function antialiasWeights(mode: AntialiasMode, inSize: number, outSize: number, scale: number): Float64Array {
  const taps = mode === 'bilinear' ? 2 : 4;
  const filter = mode === 'bilinear' ? triangle : (x: number) => cubicKernel(x, PILLOW_CUBIC_A);
  const support = scale >= 1 ? taps * 0.5 * scale : taps * 0.5;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const longest = Math.ceil(support) * 2 + 1;
  const weights = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    // PyTorch truncates these (static_cast<int64_t>) and caps the count at `longest`.
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.min(Math.trunc(center + support + 0.5), inSize) - first, longest);
    let total = 0;
    for (let j = 0; j < count; j++) {
      const w = filter((j + first - center + 0.5) * invScale);
      weights[i * inSize + first + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < count; j++) weights[i * inSize + first + j] = (weights[i * inSize + first + j] as number) / total;
  }
  return weights;
}
