import { ShapeError, ValueError } from '../../../core/errors.js';
import { formatShape } from '../../../core/shape.js';
import { narrow, pad, stack, unstack } from '../../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../../ops/options-argument.js';
import { isTensor } from '../../../tensor/memory.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { hostIntegers } from './packed-sequence.js';

// padSequence and unpadSequence (torch.nn.utils.rnn.pad_sequence / unpad_sequence): a list of
// sequences [L_i, *] to one padded batch and back. Both are pads, stacks and slices, so the
// gradient reaches every sequence.

/** Options of padSequence. */
export interface PadSequenceOptions {
  /** The batch is [B, T, *] instead of [T, B, *] (default false). */
  readonly batchFirst?: boolean;
  /** The value of the padding (default 0). */
  readonly paddingValue?: number;
  /** Pad after each sequence ('right', the default) or before it ('left'). */
  readonly paddingSide?: 'right' | 'left';
}

const PAD_SEQUENCE = optionsSignature<PadSequenceOptions>(2, { batchFirst: true, paddingValue: true, paddingSide: true });

/** The sequences as a non-empty array of tensors of rank 1 or more with the same trailing shape. */
export function checkSequences(op: string, sequences: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(sequences)) {
    throw new ValueError(`${op}: sequences must be an array of tensors, got ${isTensor(sequences) ? 'a Tensor' : typeof sequences}`);
  }
  if (sequences.length === 0) throw new ValueError(`${op}: received an empty list of sequences`);
  const first = sequences[0];
  for (const [i, s] of sequences.entries()) {
    if (!isTensor(s)) throw new ValueError(`${op}: sequences[${i}] must be a Tensor, got ${s === null ? 'null' : typeof s}`);
    if (s.ndim === 0) throw new ShapeError(`${op}: sequences[${i}] must have a time axis, got a scalar`);
    const trailing = s.shape.slice(1);
    const expected = (first as Tensor).shape.slice(1);
    if (trailing.length !== expected.length || trailing.some((d, k) => d !== expected[k])) {
      throw new ShapeError(
        `${op}: every sequence must have the trailing shape of the first, ${formatShape(expected)}; sequences[${i}] has shape ${formatShape(s.shape)}`,
      );
    }
  }
  return [...sequences];
}

/**
 * Pads a list of sequences [L_i, *] to the longest and stacks them: [T, B, *] (or [B, T, *] with
 * `batchFirst`), T the longest length (torch.nn.utils.rnn.pad_sequence).
 *
 * @example
 * const padded = nn.utils.rnn.padSequence([a, b, c], { batchFirst: true }); // [3, T, *]
 */
export const padSequence = withCheckedOptions(
  'padSequence',
  PAD_SEQUENCE,
  (sequences: readonly Tensor[], options: PadSequenceOptions = {}): Tensor => {
    const op = 'padSequence';
    const list = checkSequences(op, sequences);
    const side = options.paddingSide ?? 'right';
    if (side !== 'right' && side !== 'left')
      throw new ValueError(`${op}: paddingSide must be 'right' or 'left', got ${JSON.stringify(side)}`);
    const value = options.paddingValue ?? 0;
    if (typeof value !== 'number') throw new ValueError(`${op}: paddingValue must be a number, got ${typeof value}`);
    const longest = Math.max(...list.map((s) => s.shape[0] as number));
    const padded = list.map((s) => {
      const missing = longest - (s.shape[0] as number);
      const time: [number, number] = side === 'right' ? [0, missing] : [missing, 0];
      return pad(s, [time, ...s.shape.slice(1).map((): [number, number] => [0, 0])], { value });
    });
    return stack(padded, options.batchFirst === true ? 0 : 1);
  },
);

/** Options of unpadSequence. */
export interface UnpadSequenceOptions {
  /** The batch is [B, T, *] instead of [T, B, *] (default false). */
  readonly batchFirst?: boolean;
}

/**
 * The sequences of a padded batch, each cut to its length: the inverse of `padSequence`
 * (torch.nn.utils.rnn.unpad_sequence). `lengths` are numbers, or an integer tensor read on the host.
 *
 * @example
 * const [a, b] = nn.utils.rnn.unpadSequence(padded, [3, 1]);
 */
export const unpadSequence = withCheckedOptions(
  'unpadSequence',
  optionsSignature<UnpadSequenceOptions>(3, { batchFirst: true }),
  (padded: Tensor, lengths: readonly number[] | Tensor, options: UnpadSequenceOptions = {}): Tensor[] => {
    const op = 'unpadSequence';
    if (!isTensor(padded) || padded.ndim < 2) {
      throw new ShapeError(`${op}: padded must be a tensor [T, B, *] (or [B, T, *] with batchFirst), got ${describe(padded)}`);
    }
    const batchAxis = options.batchFirst === true ? 0 : 1;
    const steps = padded.shape[1 - batchAxis] as number;
    const sizes = hostIntegers(op, 'lengths', lengths);
    if (sizes.length !== padded.shape[batchAxis]) {
      throw new ValueError(
        `${op}: got ${sizes.length} lengths for a batch of ${padded.shape[batchAxis]} (shape ${formatShape(padded.shape)})`,
      );
    }
    for (const length of sizes) {
      if (length < 0 || length > steps) throw new ValueError(`${op}: lengths must lie in [0, ${steps}], got ${length}`);
    }
    return unstack(padded, batchAxis).map((sequence, i) => narrow(sequence, 0, 0, sizes[i] as number));
  },
);

function describe(value: unknown): string {
  return isTensor(value) ? `shape ${formatShape(value.shape)}` : value === null ? 'null' : typeof value;
}
