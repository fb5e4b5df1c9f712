import { add, mul, sub } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';

// Keys' cubic convolution kernel as PyTorch evaluates it (UpSample.h: cubic_convolution1 for
// |x| <= 1, cubic_convolution2 for 1 < |x| < 2, get_cubic_upsample_coefficients), shared by
// interpolate's 'bicubic' mode (weights on the host), its antialiased form (A = -0.5, as Pillow)
// and gridSample's 'bicubic' mode (weights as tensors, so they carry the grid's derivative).

/** PyTorch's cubic convolution constant for upsample_bicubic2d and grid_sample. */
export const CUBIC_A = -0.75;

/** The kernel on |x| <= 1: ((A + 2) x - (A + 3)) x² + 1. */
export const cubicNear = (x: number, a: number): number => ((a + 2) * x - (a + 3)) * x * x + 1;

/** The kernel on 1 < |x| < 2: ((A x - 5A) x + 8A) x - 4A. */
export const cubicFar = (x: number, a: number): number => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;

/** The kernel at any x (zero from |x| = 2 on): the antialiasing filter. */
export function cubicKernel(x: number, a: number): number {
  const d = Math.abs(x);
  if (d < 1) return cubicNear(d, a);
  return d < 2 ? cubicFar(d, a) : 0;
}

/**
 * The weights of the four taps at -1, 0, 1, 2 around a position `t` in [0, 1] past a sample,
 * in PyTorch's order of operations.
 */
export function cubicWeights(t: number): [number, number, number, number] {
  const u = 1 - t;
  return [cubicFar(t + 1, CUBIC_A), cubicNear(t, CUBIC_A), cubicNear(u, CUBIC_A), cubicFar(u + 1, CUBIC_A)];
}

const nearTensor = (x: Tensor): Tensor => add(mul(mul(sub(mul(x, CUBIC_A + 2), CUBIC_A + 3), x), x), 1);
const farTensor = (x: Tensor): Tensor => sub(mul(add(mul(sub(mul(x, CUBIC_A), 5 * CUBIC_A), x), 8 * CUBIC_A), x), 4 * CUBIC_A);

/** `cubicWeights` of a tensor of fractions: four tensors shaped like `t`, differentiable in `t`. */
export function cubicWeightTensors(t: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const u = sub(1, t);
  return [farTensor(add(t, 1)), nearTensor(t), nearTensor(u), farTensor(add(u, 1))];
}
