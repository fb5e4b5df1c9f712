import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { add, floorDivide, greater, greaterEqual, less, logicalAnd, logicalNot, minimum, mul, sub, where } from './elementwise.js';
import { reshape } from './movement.js';

// A vectorised binary search: every value runs its own search at once, one round of gather,
// compare and where per halving, so log2(n) + 1 rounds for rows of n and memory O(values), never
// an (n x m) comparison matrix. The rounds follow PyTorch's cus_lower_bound / cus_upper_bound
// step by step (start/end narrowing on `!(mid >= v)`, `!(mid > v)`), so that the answer agrees with
// torch.searchsorted even where a NaN breaks the order.

/** Rounds until an interval of n positions is empty: each halves it, rounded down. */
function rounds(n: number): number {
  let r = 0;
  for (let length = n; length > 0; length = Math.floor(length / 2)) r++;
  return r;
}

/**
 * @internal For each value, its insertion point in `sorted` (int32): with `right` false the number of
 * leading entries less than it (the first position where it could go), with `right` true the
 * number not greater than it (the last). `sorted` is one sorted row of shape [n], searched for
 * values of any shape, or rows [...batch, n] searched for values [...batch, m] of the same batch.
 * Both have one dtype; shapes are the caller's to check. Works on tracers (grad, vmap, jit).
 */
export function binarySearch(sorted: Tensor, values: Tensor, right: boolean): Tensor {
  const backend = backendOf(sorted) ?? backendOf(values);
  const n = sorted.shape[sorted.shape.length - 1] as number;
  const shape = [...values.shape];
  const constant = (value: number): Tensor => bind(Primitive.Full, [], { shape, dtype: 'int32', value }, backend);
  if (n === 0 || values.size === 0) return constant(0);
  let flat = sorted;
  let rowStart: Tensor | null = null;
  if (sorted.shape.length > 1) {
    // Rows flattened into one: a value of row r probes r * n + mid.
    const rows = sorted.size / n;
    flat = reshape(sorted, [sorted.size]);
    const row = bind(Primitive.Iota, [], { shape: [rows, values.size / rows], dtype: 'int32', axis: 0 }, backend);
    rowStart = reshape(mul(row, n), shape);
  }
  let start = constant(0);
  let end = constant(n);
  for (let r = rounds(n); r > 0; r--) {
    const active = less(start, end);
    const mid = add(start, floorDivide(sub(end, start), 2));
    // A finished search (start == end) may sit at n: probe a valid place; its answer is not used.
    const probe = minimum(mid, n - 1);
    const probed = bind(Primitive.Gather, [flat, rowStart === null ? probe : add(rowStart, probe)], { axis: 0 });
    const goRight = logicalNot(right ? greater(probed, values) : greaterEqual(probed, values));
    start = where(logicalAnd(active, goRight), add(mid, 1), start);
    end = where(logicalAnd(active, logicalNot(goRight)), mid, end);
  }
  return start;
}

/**
 * @internal The positions of the first `count` true elements of a flat mask, given its inclusive
 * running count `counts` (int32 [n], as `cumsum(mask)`): the k-th is the first place the count
 * reaches k + 1. A binary search per position: O(count log n) work, no scatter.
 */
export function truePositions(counts: Tensor, count: number): Tensor {
  const backend = backendOf(counts);
  const ranks = bind(Primitive.Iota, [], { shape: [count], dtype: 'int32', axis: 0 }, backend);
  return binarySearch(counts, add(ranks, 1), false);
}
