import type { DType } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type InitOptions, uniform } from '../init.js';
import { Parameter } from '../parameter.js';

/** Where a layer creates its parameters (PyTorch's `device` and `dtype` factory arguments). */
export interface FactoryOptions {
  /** Floating dtype of parameters and floating buffers (default float32). */
  readonly dtype?: DType;
  /** Backend of parameters and buffers (default: the default backend). */
  readonly backend?: string;
}

/** The init options equivalent to a layer's factory options. */
export function initOptions(options: FactoryOptions): InitOptions {
  return {
    ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
    ...(options.backend === undefined ? {} : { backend: options.backend }),
  };
}

/** A Parameter holding `value`. */
export function parameter(value: Tensor): Parameter {
  return new Parameter(value);
}

/** A parameter of `shape` uniform in [-bound, bound] (PyTorch's bias initialization, among others). */
export function uniformParameter(shape: readonly number[], bound: number, options: FactoryOptions): Parameter {
  return parameter(uniform([...shape], -bound, bound, initOptions(options)));
}

/** A positive integer argument of a layer's constructor. */
export function positiveInteger(layer: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValueError(`${layer}: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A non-negative integer argument. */
export function nonNegativeInteger(layer: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValueError(`${layer}: ${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A probability in [0, 1]. */
export function probability(layer: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValueError(`${layer}: ${what} must be a probability between 0 and 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Formats a value for `extraRepr` as PyTorch does (tuples as (a, b)). */
export function formatArgument(value: unknown): string {
  if (Array.isArray(value)) return `(${value.join(', ')}${value.length === 1 ? ',' : ''})`;
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}
