import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { take } from './indexing.js';
import { meshgrid } from './meshgrid.js';
import { reshape, stack } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';

// torch.cartesian_prod and torch.combinations. Which elements go where depends only on the
// shapes, so the index tables are built on the host and the values gathered on the backend: no
// value is read back, and the gradient flows to every element taken.

/**
 * The Cartesian product of 1-d tensors (torch.cartesian_prod): a `[n1 * n2 * ..., k]` tensor
 * whose rows are every combination, the last tensor varying fastest (itertools.product's order).
 * One tensor comes back as it is; the dtypes promote.
 *
 * @example
 * cartesianProd(tensor([1, 2]), tensor([3, 4])); // [[1, 3], [1, 4], [2, 3], [2, 4]]
 */
export function cartesianProd(...tensors: TensorLike[]): Tensor {
  const op = 'cartesianProd';
  if (tensors.length === 0) throw new ValueError(`${op}: expects at least one tensor`);
  const ts = tensors.map((t) => toTensor(op, t));
  for (const t of ts) {
    if (t.ndim !== 1) throw new ShapeError(`${op}: expects 1-d tensors, got shape ${formatShape(t.shape)}`);
  }
  if (ts.length === 1) return ts[0] as Tensor;
  return tidy(() => {
    const dtype = resultDType(ts[0] as Tensor, ts[1] as Tensor, ...ts.slice(2));
    const grids = meshgrid(
      ts.map((t) => cast(t, dtype)),
      { indexing: 'ij' },
    );
    return stack(
      grids.map((g) => reshape(g, [-1])),
      1,
    );
  });
}

/** Options of `combinations`. */
export interface CombinationsOptions {
  /** The length of each combination (default 2). */
  readonly r?: number;
  /** Allow an element to repeat within a combination (default false). */
  readonly withReplacement?: boolean;
}

/** The index tuples of itertools.combinations (or combinations_with_replacement) of range(n), in order. */
function indexTuples(n: number, r: number, withReplacement: boolean): number[][] {
  const tuples: number[][] = [];
  const current: number[] = [];
  const extend = (from: number): void => {
    if (current.length === r) {
      tuples.push([...current]);
      return;
    }
    for (let i = from; i < n; i++) {
      current.push(i);
      extend(withReplacement ? i : i + 1);
      current.pop();
    }
  };
  extend(0);
  return tuples;
}

/**
 * The length-`r` combinations of the elements of a 1-d tensor (torch.combinations): a `[count, r]`
 * tensor in itertools.combinations order (`withReplacement`: combinations_with_replacement).
 * `r = 0` gives an empty 1-d tensor, and no combination an empty `[0, r]` one, as PyTorch.
 *
 * @example
 * combinations(tensor([1, 2, 3]));                             // [[1, 2], [1, 3], [2, 3]]
 * combinations(tensor([1, 2]), { r: 2, withReplacement: true }); // [[1, 1], [1, 2], [2, 2]]
 */
export const combinations = withCheckedOptions(
  'combinations',
  optionsSignature<CombinationsOptions>(2, { r: true, withReplacement: true }),
  (x: TensorLike, options: CombinationsOptions = {}): Tensor => {
    const op = 'combinations';
    const t = toTensor(op, x);
    if (t.ndim !== 1) throw new ShapeError(`${op}: expects a 1-d tensor, got shape ${formatShape(t.shape)}`);
    const r = options.r ?? 2;
    const withReplacement = options.withReplacement ?? false;
    if (!Number.isInteger(r) || r < 0) throw new ValueError(`${op}: r must be a non-negative integer, got ${r}`);
    if (typeof withReplacement !== 'boolean') {
      throw new ValueError(`${op}: withReplacement must be a boolean, got ${JSON.stringify(withReplacement)}`);
    }
    // Host index lists: take checks and uploads them without reading anything back.
    if (r === 0) return take(t, []);
    const tuples = indexTuples(t.shape[0] as number, r, withReplacement);
    return tidy(() => reshape(take(t, tuples.flat()), [tuples.length, r]));
  },
);
