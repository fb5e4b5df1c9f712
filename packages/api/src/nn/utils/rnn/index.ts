/**
 * Variable-length sequences for the recurrent layers (torch.nn.utils.rnn): padding a list of
 * sequences, packing a padded batch into a PackedSequence that `nn.RNN`, `nn.LSTM` and `nn.GRU`
 * step through without the padding, and back. See docs/nn.md, "Variable-length sequences".
 *
 * @example
 * const packed = nn.utils.rnn.packPaddedSequence(padded, lengths, { enforceSorted: false });
 * const [out, h] = lstm.forward(packed);
 * const [outPadded, outLengths] = nn.utils.rnn.padPackedSequence(out);
 */

export {
  type PackPaddedSequenceOptions,
  type PackSequenceOptions,
  type PadPackedSequenceOptions,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  unpackSequence,
} from './pack.js';
export { isPackedSequence, type PackedSequence, packedSequence } from './packed-sequence.js';
export { type PadSequenceOptions, padSequence, type UnpadSequenceOptions, unpadSequence } from './pad.js';
