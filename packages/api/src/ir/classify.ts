import { Primitive } from '../primitives/primitive.js';

// Families of primitives as the passes see them.

/** Primitives computed element by element over one shape (unary, binary, where, cast). */
export function isElementwise(p: Primitive): boolean {
  return p <= Primitive.Cast;
}

/** Reductions that a fused kernel can finish with (argmax/argmin return indices and stay alone). */
export function isFusibleReduction(p: Primitive): boolean {
  return p === Primitive.ReduceSum || p === Primitive.ReduceMax || p === Primitive.ReduceMin || p === Primitive.ReduceProd;
}

/** Primitives whose elementwise epilogue (bias, activation, residual) fuses into them. */
export function isContraction(p: Primitive): boolean {
  return p === Primitive.DotGeneral || p === Primitive.Conv;
}

/** Primitives that only rearrange or repeat elements of their first input (no arithmetic). */
export function isMovement(p: Primitive): boolean {
  return p >= Primitive.Reshape && p <= Primitive.Flip && p !== Primitive.Pad && p !== Primitive.Concat;
}
