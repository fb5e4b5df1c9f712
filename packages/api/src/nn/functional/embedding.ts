import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { notEqual, where } from '../../ops/elementwise.js';
import { take } from '../../ops/indexing.js';
import { unsqueeze } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import type { Tensor } from '../../tensor/tensor.js';
import { stopGradient } from './common.js';

/** Options of embedding. */
export interface EmbeddingOptions {
  /** Rows looked up at this index get no gradient (they stay as initialized, usually zero). */
  readonly paddingIdx?: number | null;
}

// PyTorch: embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse).
const EMBEDDING_SIGNATURE = optionsSignature<EmbeddingOptions>(3, { paddingIdx: true }, [
  'paddingIdx',
  'maxNorm',
  'normType',
  'scaleGradByFreq',
  'sparse',
]);

/**
 * Looks up rows of `weight` [numEmbeddings, dim] at integer `indices` of any shape; the result is
 * [...indices.shape, dim] (torch.nn.functional.embedding).
 *
 * @example
 * nn.functional.embedding(tensor([[0, 2]]), table); // [1, 2, dim]
 */
export const embedding = withCheckedOptions(
  'embedding',
  EMBEDDING_SIGNATURE,
  (indices: TensorLike, weight: Tensor, options: EmbeddingOptions = {}): Tensor => {
    const op = 'embedding';
    const idx = toTensor(op, indices, undefined, weight);
    if (idx.dtype !== 'int32' && idx.dtype !== 'uint8') throw new DTypeError(`${op}: indices must be int32 (or uint8), got ${idx.dtype}`);
    if (weight.ndim !== 2) throw new ShapeError(`${op}: weight must be [numEmbeddings, embeddingDim], got ${formatShape(weight.shape)}`);
    const rows = take(weight, idx, 0);
    const padding = options.paddingIdx;
    if (padding === undefined || padding === null) return rows;
    const count = weight.shape[0] as number;
    if (!Number.isInteger(padding) || padding < -count || padding >= count) {
      throw new ValueError(`${op}: paddingIdx must be an integer in [-${count}, ${count}), got ${padding}`);
    }
    const paddingRow = padding < 0 ? padding + count : padding;
    // Same values everywhere; the padding rows' copies carry no gradient back to the table.
    return where(unsqueeze(notEqual(idx, paddingRow), -1), rows, stopGradient(rows));
  },
);
