import { AxisError, ShapeError } from './errors.js';

export type Shape = readonly number[];

/** Largest element count a tensor may have: indices are int32 (DESIGN.md). */
export const MAX_SIZE = 2 ** 31 - 1;

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i] as number;
  return size;
}

/** Row-major strides, in elements, of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i] as number;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Checks that `shape` is a list of non-negative integers whose product fits in int32. */
export function checkShape(op: string, shape: unknown, what = 'shape'): number[] {
  if (!Array.isArray(shape)) {
    throw new ShapeError(`${op}: ${what} must be an array of non-negative integers, got ${String(shape)}`);
  }
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0) {
      throw new ShapeError(`${op}: ${what} must hold non-negative integers, got ${JSON.stringify(shape)}`);
    }
  }
  const size = sizeOf(shape);
  if (size > MAX_SIZE) {
    throw new ShapeError(`${op}: ${what} ${formatShape(shape)} has ${size} elements, more than the int32 limit of ${MAX_SIZE}`);
  }
  return shape as number[];
}

/** NumPy broadcasting of two or more shapes; the error names `op` and every shape. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const offset = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const dim = s[i] as number;
      const current = out[offset + i] as number;
      if (dim === current || dim === 1) continue;
      if (current === 1) out[offset + i] = dim;
      else {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together (dimension ${offset + i}: ${current} vs ${dim})`,
        );
      }
    }
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`; the error names `op`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new AxisError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} to ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Resolves `axes` (a number, a list, or undefined for all axes) to a sorted list of distinct
 * non-negative axes.
 */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw new AxisError(`${op}: axis ${a} is repeated in ${JSON.stringify(list)}`);
    seen.add(a);
  }
  return out.sort((a, b) => a - b);
}

/** Checks that `perm` is a permutation of 0..rank-1. */
export function checkPermutation(op: string, perm: readonly number[], rank: number): number[] {
  if (perm.length !== rank) {
    throw new AxisError(`${op}: permutation ${JSON.stringify(perm)} has ${perm.length} axes, the tensor has rank ${rank}`);
  }
  const out = perm.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== rank) {
    throw new AxisError(`${op}: ${JSON.stringify(perm)} is not a permutation of the axes 0..${rank - 1}`);
  }
  return out;
}
