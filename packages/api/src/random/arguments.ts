import { checkDType, DEFAULT_FLOAT, type DType, isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, checkShape, formatShape, type Shape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';

// What the samplers of random/ check the same way: the requested shape and floating dtype.

/** A sample shape given as dims or a length (none: a scalar), checked; the error names `op`. */
export function shapeArg(op: string, shape: Shape | number | undefined): number[] {
  if (shape === undefined) return [];
  return checkShape(op, typeof shape === 'number' ? [shape] : [...shape]);
}

/** The floating dtype a sampler returns (float32 when omitted); the error names `op`. */
export function floatDType(op: string, dtype: DType | undefined): DType {
  const d = dtype === undefined ? DEFAULT_FLOAT : checkDType(op, dtype);
  if (!isFloating(d)) throw new DTypeError(`${op}: dtype must be floating (float32, float64, float16 or bfloat16), got ${d}`);
  return d;
}

/**
 * The shape of the samples drawn for distribution parameters of the given shapes: their
 * broadcast when `shape` is omitted, else `shape`, to which every parameter must broadcast.
 */
export function sampleShape(op: string, parameters: Readonly<Record<string, Shape>>, shape: Shape | number | undefined): number[] {
  const named = Object.entries(parameters);
  if (shape === undefined) return broadcastShapes(op, ...named.map(([, s]) => s));
  const dims = shapeArg(op, shape);
  for (const [name, s] of named) {
    const offset = dims.length - s.length;
    if (offset < 0 || s.some((d, i) => d !== 1 && d !== dims[offset + i])) {
      throw new ShapeError(`${op}: ${name} of shape ${formatShape(s)} does not broadcast to the requested shape ${formatShape(dims)}`);
    }
  }
  return dims;
}

/**
 * Checks every entry of a distribution parameter where it can be read now: a concrete tensor on
 * a synchronous backend, of up to 2^20 entries. Elsewhere (GPUs, traces) an invalid entry gives
 * NaN samples, as in JAX, rather than a read that waits for the device.
 */
export function checkEntries(op: string, name: string, value: Tensor, valid: (v: number) => boolean, requirement: string): void {
  const backend = value._backend;
  if (backend === null || backend.readSync === undefined || value.size > 1 << 20) return;
  const data = value.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!valid(v)) throw new ValueError(`${op}: ${name} must be ${requirement}, got ${v} at flat index ${i}`);
  }
}
