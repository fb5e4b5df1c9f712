import type { Aval } from '../core/aval.js';
import { type DType, isFloating } from '../core/dtype.js';
import { AxisError, DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, type Shape, shapesEqual } from '../core/shape.js';

// Small checks shared by the primitives' abstract evaluations. Each names the primitive.

export function arity(op: string, inputs: readonly Aval[], n: number): void {
  if (inputs.length !== n) throw new ValueError(`${op}: expected ${n} input(s), got ${inputs.length}`);
}

export function input(inputs: readonly Aval[], i: number): Aval {
  return inputs[i] as Aval;
}

export function sameShapeAndDType(op: string, a: Aval, b: Aval): void {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(`${op}: inputs must have equal shapes, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: inputs must have equal dtypes, got ${a.dtype} and ${b.dtype}`);
}

export function requireFloat(op: string, a: Aval): void {
  if (!isFloating(a.dtype)) throw new DTypeError(`${op}: expected a floating-point input, got ${a.dtype}`);
}

export function requireNumeric(op: string, a: Aval): void {
  if (a.dtype === 'bool') throw new DTypeError(`${op}: expected a numeric input, got bool`);
}

export function requireDType(op: string, a: Aval, dtype: DType, what = 'input'): void {
  if (a.dtype !== dtype) throw new DTypeError(`${op}: ${what} must be ${dtype}, got ${a.dtype}`);
}

export function checkAxisList(op: string, axes: readonly number[], rank: number, what = 'axes'): void {
  let previous = -1;
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= rank) {
      throw new AxisError(`${op}: ${what} ${JSON.stringify(axes)} out of range for rank ${rank}`);
    }
    if (a <= previous) throw new AxisError(`${op}: ${what} ${JSON.stringify(axes)} must be sorted and distinct`);
    previous = a;
  }
}

export function checkAxis(op: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new AxisError(`${op}: axis ${axis} out of range for rank ${rank}`);
  }
}

export function checkLength(op: string, what: string, list: readonly unknown[], n: number): void {
  if (list.length !== n) throw new ValueError(`${op}: ${what} has ${list.length} entries, expected ${n}`);
}

export function positiveInts(op: string, what: string, list: readonly number[]): void {
  for (const v of list) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${what} must be positive integers, got ${JSON.stringify(list)}`);
  }
}

export function aval(shape: Shape, dtype: DType): Aval {
  return { shape, dtype };
}
