import { toFloating } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { normalizeAxis } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { mean, sum } from '../../ops/reduce.js';
import { isTensor } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindStopGradient } from '../../transforms/core.js';

// Small helpers shared by the functional layer: operand conversion, the loss reductions, and
// constants placed on the backend of the data they combine with.

/** `x` as a floating tensor: integers and bools become float32, as PyTorch's float ops do. */
export function floatTensor(op: string, x: TensorLike, what = 'the input', like?: Tensor): Tensor {
  checkOperand(op, what, x);
  const t = toTensor(op, x, undefined, like);
  return cast(t, toFloating(t.dtype));
}

function checkOperand(op: string, what: string, x: unknown): void {
  if (!isTensor(x) && typeof x !== 'number' && typeof x !== 'boolean' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    throw new ValueError(`${op}: ${what} must be a tensor, number or nested array, got ${x === null ? 'null' : typeof x}`);
  }
}

/** The value with its derivative cut: gradients do not flow through it (JAX's stop_gradient). */
export function stopGradient(x: Tensor): Tensor {
  return bindStopGradient(x);
}

/** How a loss combines its per-element values: their mean (the default), their sum, or none. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Checks a reduction name; the error lists the accepted ones. */
export function checkReduction(op: string, reduction: unknown, allowed: readonly string[] = ['mean', 'sum', 'none']): string {
  const value = reduction ?? 'mean';
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new ValueError(`${op}: reduction must be one of ${allowed.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(reduction)}`);
  }
  return value;
}

/** Applies a reduction to per-element losses. */
export function reduceLoss(loss: Tensor, reduction: string): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? sum(loss) : mean(loss);
}

/** A non-negative integer axis from a possibly negative one; the error names `op`. */
export function axisOf(op: string, axis: number, rank: number): number {
  return normalizeAxis(op, axis, rank);
}

/** Checks a number option is finite (and in a range when given). */
export function checkNumber(
  op: string,
  what: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ValueError(`${op}: ${what} must be a finite number, got ${JSON.stringify(value)}`);
  const { min, max, minExclusive = false, maxExclusive = false } = range;
  const belowMin = min !== undefined && (minExclusive ? value <= min : value < min);
  const aboveMax = max !== undefined && (maxExclusive ? value >= max : value > max);
  if (belowMin || aboveMax) {
    const low = min === undefined ? '' : `${minExclusive ? '>' : '>='} ${min}`;
    const high = max === undefined ? '' : `${maxExclusive ? '<' : '<='} ${max}`;
    throw new ValueError(`${op}: ${what} must be ${[low, high].filter((s) => s !== '').join(' and ')}, got ${value}`);
  }
  return value;
}
