import { isFloating, isInteger } from '../../../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../../../core/errors.js';
import { formatShape } from '../../../core/shape.js';
import { tensor } from '../../../ops/convert.js';
import { argsort } from '../../../ops/sort.js';
import { isTensor } from '../../../tensor/memory.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { backendOption } from '../../layers/recurrent-cells.js';

// PackedSequence (torch.nn.utils.rnn.PackedSequence): a batch of sequences of different lengths,
// stored time step by time step without padding. `data` holds, for each step t, the rows of the
// batchSizes[t] sequences still running at t, longest first; the recurrent layers step through it
// with a batch that shrinks as sequences end. The layout (batch sizes, lengths, sorting) lives on
// the host, as torch keeps lengths and batch sizes on the CPU: every index the packing functions
// gather with is computed there, so that the tensors only see gathers, and so grad, vmap and jit.
//
// A PackedSequence is a plain object, as torch's is a named tuple: `tidy` keeps the tensors of
// one returned from its function, and transforms see its tensors as leaves of a pytree.

/**
 * A batch of variable-length sequences packed time step by time step (torch's PackedSequence):
 * made by `packPaddedSequence` or `packSequence`, taken and returned by `nn.RNN`, `nn.LSTM` and
 * `nn.GRU`, unpacked by `padPackedSequence` or `unpackSequence`.
 */
export interface PackedSequence {
  /** The steps' rows, [sum of lengths, *features]: step 0's batchSizes[0] rows, then step 1's, ... */
  readonly data: Tensor;
  /** How many sequences run at each time step (non-increasing; batchSizes[0] is the batch size). */
  readonly batchSizes: readonly number[];
  /** int32 [batch]: the batch positions, longest sequence first; null when the batch came sorted. */
  readonly sortedIndices: Tensor | null;
  /** int32 [batch]: the inverse permutation, which restores the batch's order; null when sorted. */
  readonly unsortedIndices: Tensor | null;
}

/** Whether `value` is a PackedSequence (a plain object with `data` and `batchSizes`). */
export function isPackedSequence(value: unknown): value is PackedSequence {
  if (typeof value !== 'object' || value === null || isTensor(value)) return false;
  const candidate = value as Partial<PackedSequence>;
  return isTensor(candidate.data) && Array.isArray(candidate.batchSizes);
}

/**
 * Builds a PackedSequence from its parts, as torch's PackedSequence(data, batch_sizes,
 * sorted_indices, unsorted_indices) does: checks that the batch sizes are positive, non-increasing
 * and add up to `data`'s first axis, and derives `unsortedIndices` from `sortedIndices` when only
 * that is given. `batchSizes` may be an integer tensor (read on the host).
 *
 * @example
 * const packed = nn.utils.rnn.packedSequence(data, [2, 1]); // sequences of lengths 2 and 1
 */
export function packedSequence(
  data: Tensor,
  batchSizes: readonly number[] | Tensor,
  sortedIndices: Tensor | null = null,
  unsortedIndices: Tensor | null = null,
): PackedSequence {
  const op = 'PackedSequence';
  if (!isTensor(data)) throw new ValueError(`${op}: data must be a Tensor, got ${data === null ? 'null' : typeof data}`);
  const sizes = checkBatchSizes(op, hostIntegers(op, 'batchSizes', batchSizes));
  const total = sizes.reduce((sum, b) => sum + b, 0);
  if (data.ndim === 0 || data.shape[0] !== total) {
    throw new ShapeError(
      `${op}: data must have the batch sizes' sum (${total}) rows on its first axis, got shape ${formatShape(data.shape)}`,
    );
  }
  const batch = sizes[0] ?? 0;
  for (const [what, indices] of [
    ['sortedIndices', sortedIndices],
    ['unsortedIndices', unsortedIndices],
  ] as const) {
    if (indices === null) continue;
    if (!isTensor(indices) || !isInteger(indices.dtype) || indices.ndim !== 1 || indices.shape[0] !== batch) {
      const got = isTensor(indices) ? `${indices.dtype} ${formatShape(indices.shape)}` : typeof indices;
      throw new ValueError(`${op}: ${what} must be an integer tensor of shape [${batch}] (the batch size), got ${got}`);
    }
  }
  const unsorted = unsortedIndices ?? (sortedIndices === null ? null : argsort(sortedIndices));
  return { data, batchSizes: sizes, sortedIndices, unsortedIndices: unsorted };
}

/** Batch sizes as torch checks them: positive integers, non-increasing. */
function checkBatchSizes(op: string, sizes: number[]): number[] {
  if (sizes.length === 0) throw new ValueError(`${op}: batchSizes is empty; a packed batch has at least one time step`);
  for (const [t, b] of sizes.entries()) {
    if (b < 1 || (t > 0 && b > (sizes[t - 1] as number))) {
      throw new ValueError(`${op}: batchSizes must be positive and non-increasing, got [${sizes.join(', ')}]`);
    }
  }
  return sizes;
}

/**
 * Integers given as numbers or as a tensor: a tensor is read on the host (torch requires lengths
 * on the CPU for the same reason: the layout is computed from them there).
 */
export function hostIntegers(op: string, what: string, values: readonly number[] | Tensor): number[] {
  let list: number[];
  if (isTensor(values)) {
    if (values.ndim !== 1) throw new ShapeError(`${op}: ${what} must be 1-d, got shape ${formatShape(values.shape)}`);
    if (!isInteger(values.dtype) && !isFloating(values.dtype))
      throw new DTypeError(`${op}: ${what} must hold integers, got dtype ${values.dtype}`);
    list = [...(hostCopies.get(values) ?? Array.from(values.dataSync(), Number))];
  } else if (Array.isArray(values)) {
    list = [...values];
  } else {
    throw new ValueError(`${op}: ${what} must be an array of integers or a 1-d tensor, got ${values === null ? 'null' : typeof values}`);
  }
  for (const v of list) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${what} must hold integers, got ${String(v)}`);
  }
  return list;
}

/** batchSizes[t]: how many of the (descending) `sortedLengths` exceed t. */
export function batchSizesOf(sortedLengths: readonly number[]): number[] {
  const longest = sortedLengths[0] ?? 0;
  const sizes: number[] = [];
  for (let t = 0; t < longest; t++) sizes.push(sortedLengths.filter((length) => length > t).length);
  return sizes;
}

/** The lengths of the sorted sequences: sequence j runs while batchSizes[t] > j. */
export function sortedLengthsOf(batchSizes: readonly number[]): number[] {
  return Array.from({ length: batchSizes[0] ?? 0 }, (_, j) => batchSizes.filter((b) => b > j).length);
}

/** Where each time step's rows start in the packed data. */
export function stepOffsets(batchSizes: readonly number[]): number[] {
  const offsets: number[] = [];
  let start = 0;
  for (const b of batchSizes) {
    offsets.push(start);
    start += b;
  }
  return offsets;
}

/** The positions of `lengths` from the longest to the shortest, ties in their order (a stable sort). */
export function descendingOrder(lengths: readonly number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => (lengths[b] as number) - (lengths[a] as number) || a - b);
}

/** The inverse of a permutation. */
export function inversePermutation(order: readonly number[]): number[] {
  const inverse = new Array<number>(order.length);
  for (const [position, index] of order.entries()) inverse[index] = position;
  return inverse;
}

/** An int32 index tensor on `like`'s backend. */
export function indexTensor(values: readonly number[], like: Tensor): Tensor {
  const t = tensor(Int32Array.from(values), { dtype: 'int32', ...backendOption(like) });
  hostCopies.set(t, [...values]);
  return t;
}

/**
 * The values of the index tensors made by indexTensor (a packing's sortedIndices and
 * unsortedIndices), kept on the host: unpacking reads them from here instead of from the device,
 * which a GPU backend cannot do synchronously.
 */
const hostCopies = new WeakMap<Tensor, readonly number[]>();
