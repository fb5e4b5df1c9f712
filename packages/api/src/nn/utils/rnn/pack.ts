import { ShapeError, ValueError } from '../../../core/errors.js';
import { formatShape } from '../../../core/shape.js';
import { full } from '../../../ops/creation.js';
import { take } from '../../../ops/indexing.js';
import { concat, reshape } from '../../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../../ops/options-argument.js';
import { isTensor } from '../../../tensor/memory.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { backendOption } from '../../layers/recurrent-cells.js';
import {
  batchSizesOf,
  descendingOrder,
  hostIntegers,
  indexTensor,
  inversePermutation,
  isPackedSequence,
  type PackedSequence,
  sortedLengthsOf,
  stepOffsets,
} from './packed-sequence.js';
import { checkSequences } from './pad.js';

// Packing and unpacking (torch.nn.utils.rnn): each is one gather whose indices the host computes
// from the lengths, so the gradient flows back to the padded batch or the sequences (and none to
// the padding).

/** Options of packPaddedSequence. */
export interface PackPaddedSequenceOptions {
  /** The input is [B, T, *] instead of [T, B, *] (default false). */
  readonly batchFirst?: boolean;
  /**
   * The lengths must come sorted, longest first (the default, true); with false the batch is
   * sorted here and the PackedSequence records the permutation (sortedIndices, unsortedIndices).
   */
  readonly enforceSorted?: boolean;
}

/** Options of packSequence. */
export interface PackSequenceOptions {
  /** As packPaddedSequence's: the sequences must come longest first (default true). */
  readonly enforceSorted?: boolean;
}

/** Options of padPackedSequence. */
export interface PadPackedSequenceOptions {
  /** Return [B, T, *] instead of [T, B, *] (default false). */
  readonly batchFirst?: boolean;
  /** The value of the padding (default 0). */
  readonly paddingValue?: number;
  /** Pad to this many steps instead of the longest length (at least that). */
  readonly totalLength?: number;
}

/**
 * The order the sequences are packed in: longest first, stably; with `enforceSorted` the given
 * order, which must be sorted already. Lengths must be at least 1.
 */
function packingOrder(op: string, lengths: readonly number[], enforceSorted: boolean): number[] {
  for (const length of lengths) {
    if (length <= 0) {
      throw new ValueError(`${op}: every sequence must have a length greater than 0, got lengths [${lengths.join(', ')}]`);
    }
  }
  if (!enforceSorted) return descendingOrder(lengths);
  for (let i = 1; i < lengths.length; i++) {
    if ((lengths[i] as number) > (lengths[i - 1] as number)) {
      throw new ValueError(
        `${op}: lengths must be sorted in decreasing order when enforceSorted is true, got [${lengths.join(', ')}]; pass enforceSorted: false to sort them here`,
      );
    }
  }
  return lengths.map((_, i) => i);
}

/** The PackedSequence of rows gathered from `rows` at `rowOf(sequence, t)` for each step, sorted by `order`. */
function gatherPacked(
  rows: Tensor,
  lengths: readonly number[],
  order: number[],
  enforceSorted: boolean,
  rowOf: (sequence: number, t: number) => number,
): PackedSequence {
  const batchSizes = batchSizesOf(order.map((i) => lengths[i] as number));
  const indices: number[] = [];
  for (const [t, size] of batchSizes.entries()) for (let j = 0; j < size; j++) indices.push(rowOf(order[j] as number, t));
  const data = take(rows, indexTensor(indices, rows), 0);
  if (enforceSorted) return { data, batchSizes, sortedIndices: null, unsortedIndices: null };
  return { data, batchSizes, sortedIndices: indexTensor(order, rows), unsortedIndices: indexTensor(inversePermutation(order), rows) };
}

/**
 * Packs a padded batch [T, B, *] (or [B, T, *] with `batchFirst`) of sequences of the given
 * lengths (torch.nn.utils.rnn.pack_padded_sequence). `lengths` are numbers, or an integer tensor
 * read on the host (torch too requires them on the CPU); sorted longest first unless
 * `enforceSorted: false`.
 *
 * @example
 * const packed = nn.utils.rnn.packPaddedSequence(padded, [5, 2, 3], { enforceSorted: false });
 * const [out, h] = gru.forward(packed); // out: a PackedSequence; h: each sequence's last state
 */
export const packPaddedSequence = withCheckedOptions(
  'packPaddedSequence',
  optionsSignature<PackPaddedSequenceOptions>(3, { batchFirst: true, enforceSorted: true }),
  (input: Tensor, lengths: readonly number[] | Tensor, options: PackPaddedSequenceOptions = {}): PackedSequence => {
    const op = 'packPaddedSequence';
    const batchFirst = options.batchFirst === true;
    if (!isTensor(input) || input.ndim < 2) {
      const got = isTensor(input) ? `shape ${formatShape(input.shape)}` : input === null ? 'null' : typeof input;
      throw new ShapeError(`${op}: input must be a padded batch ${batchFirst ? '[B, T, *]' : '[T, B, *]'}, got ${got}`);
    }
    const steps = input.shape[batchFirst ? 1 : 0] as number;
    const batch = input.shape[batchFirst ? 0 : 1] as number;
    const sizes = hostIntegers(op, 'lengths', lengths);
    if (sizes.length !== batch) {
      throw new ValueError(`${op}: got ${sizes.length} lengths for a batch of ${batch} (input shape ${formatShape(input.shape)})`);
    }
    const order = packingOrder(op, sizes, options.enforceSorted ?? true);
    const longest = Math.max(...sizes);
    if (longest > steps) throw new ValueError(`${op}: a length (${longest}) exceeds the input's ${steps} time steps`);
    const rows = reshape(input, [steps * batch, ...input.shape.slice(2)]);
    return gatherPacked(rows, sizes, order, options.enforceSorted ?? true, (b, t) => (batchFirst ? b * steps + t : t * batch + b));
  },
);

/**
 * Packs a list of sequences [L_i, *] (torch.nn.utils.rnn.pack_sequence): as padding them with
 * `padSequence` and packing with `packPaddedSequence`, in one gather.
 *
 * @example
 * const packed = nn.utils.rnn.packSequence([a, b, c], { enforceSorted: false });
 */
export const packSequence = withCheckedOptions(
  'packSequence',
  optionsSignature<PackSequenceOptions>(2, { enforceSorted: true }),
  (sequences: readonly Tensor[], options: PackSequenceOptions = {}): PackedSequence => {
    const op = 'packSequence';
    const list = checkSequences(op, sequences);
    const lengths = list.map((s) => s.shape[0] as number);
    const order = packingOrder(op, lengths, options.enforceSorted ?? true);
    const starts = stepOffsets(lengths);
    return gatherPacked(concat(list, 0), lengths, order, options.enforceSorted ?? true, (i, t) => (starts[i] as number) + t);
  },
);

function checkPacked(op: string, sequence: PackedSequence): void {
  if (!isPackedSequence(sequence)) {
    throw new ValueError(
      `${op}: expected a PackedSequence (from packPaddedSequence or packSequence), got ${isTensor(sequence) ? 'a Tensor' : typeof sequence}`,
    );
  }
}

/**
 * Unpacks a PackedSequence into a padded batch [T, B, *] (or [B, T, *] with `batchFirst`) in the
 * batch's original order, and the sequences' lengths as an int32 tensor
 * (torch.nn.utils.rnn.pad_packed_sequence). T is the longest length, or `totalLength`.
 *
 * @example
 * const [padded, lengths] = nn.utils.rnn.padPackedSequence(out, { batchFirst: true });
 */
export const padPackedSequence = withCheckedOptions(
  'padPackedSequence',
  optionsSignature<PadPackedSequenceOptions>(2, { batchFirst: true, paddingValue: true, totalLength: true }),
  (sequence: PackedSequence, options: PadPackedSequenceOptions = {}): [Tensor, Tensor] => {
    const op = 'padPackedSequence';
    checkPacked(op, sequence);
    const { data, batchSizes, unsortedIndices } = sequence;
    const batch = batchSizes[0] as number;
    const longest = batchSizes.length;
    const total = options.totalLength ?? longest;
    if (!Number.isInteger(total) || total < longest) {
      throw new ValueError(`${op}: totalLength must be an integer at least the longest length (${longest}), got ${String(total)}`);
    }
    const value = options.paddingValue ?? 0;
    if (typeof value !== 'number') throw new ValueError(`${op}: paddingValue must be a number, got ${typeof value}`);
    const rest = data.shape.slice(1);
    // The padding is one extra row that every padded position gathers.
    const paddingRow = data.shape[0] as number;
    const extended = concat([data, full([1, ...rest], value, { dtype: data.dtype, ...backendOption(data) })], 0);
    const offsets = stepOffsets(batchSizes);
    const rowAt = (j: number, t: number): number =>
      t < longest && j < (batchSizes[t] as number) ? (offsets[t] as number) + j : paddingRow;
    const indices: number[] = [];
    const batchFirst = options.batchFirst === true;
    if (batchFirst) for (let j = 0; j < batch; j++) for (let t = 0; t < total; t++) indices.push(rowAt(j, t));
    else for (let t = 0; t < total; t++) for (let j = 0; j < batch; j++) indices.push(rowAt(j, t));
    let padded = reshape(take(extended, indexTensor(indices, data), 0), batchFirst ? [batch, total, ...rest] : [total, batch, ...rest]);
    let lengths = indexTensor(sortedLengthsOf(batchSizes), data);
    if (unsortedIndices !== null) {
      padded = take(padded, unsortedIndices, batchFirst ? 0 : 1);
      lengths = take(lengths, unsortedIndices, 0);
    }
    return [padded, lengths];
  },
);

/**
 * The sequences of a PackedSequence, in the batch's original order, each [L_i, *]
 * (torch.nn.utils.rnn.unpack_sequence). Reads `unsortedIndices` on the host when present.
 *
 * @example
 * const [a, b, c] = nn.utils.rnn.unpackSequence(nn.utils.rnn.packSequence([a0, b0, c0], { enforceSorted: false }));
 */
export function unpackSequence(sequence: PackedSequence): Tensor[] {
  const op = 'unpackSequence';
  checkPacked(op, sequence);
  const { data, batchSizes, unsortedIndices } = sequence;
  const batch = batchSizes[0] as number;
  const position =
    unsortedIndices === null ? Array.from({ length: batch }, (_, i) => i) : hostIntegers(op, 'unsortedIndices', unsortedIndices);
  if ([...position].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ValueError(`${op}: unsortedIndices must be a permutation of 0..${batch - 1}, got [${position.join(', ')}]`);
  }
  const offsets = stepOffsets(batchSizes);
  const lengths = sortedLengthsOf(batchSizes);
  return position.map((p) => {
    const rows = Array.from({ length: lengths[p] as number }, (_, t) => (offsets[t] as number) + p);
    return take(data, indexTensor(rows, data), 0);
  });
}
