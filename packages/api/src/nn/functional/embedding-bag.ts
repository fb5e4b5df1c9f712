import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { div, logicalAnd, maximum, mul, notEqual, where } from '../../ops/elementwise.js';
import { take } from '../../ops/indexing.js';
import { reshape, unsqueeze } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { any, max, sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';

/** How a bag's embeddings combine. */
export type EmbeddingBagMode = 'sum' | 'mean' | 'max';

/** Options of embeddingBag. */
export interface EmbeddingBagOptions {
  /** With a 1-d input: where each bag starts (int32, increasing). A 2-d input is one bag per row. */
  readonly offsets?: TensorLike | null;
  /** 'mean' (default), 'sum' or 'max'. Empty bags give zeros. */
  readonly mode?: EmbeddingBagMode;
  /** A weight per input index, multiplying its embedding (mode 'sum' only), shaped as the input. */
  readonly perSampleWeights?: TensorLike | null;
  /** The last offset is the end of the last bag rather than a bag's start (default false). */
  readonly includeLastOffset?: boolean;
  /** Entries equal to this index are left out of their bag (not counted by 'mean'). */
  readonly paddingIdx?: number | null;
}

// PyTorch: embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode,
// sparse, per_sample_weights, include_last_offset, padding_idx).
const EMBEDDING_BAG_SIGNATURE = optionsSignature<EmbeddingBagOptions>(
  3,
  { offsets: true, mode: true, perSampleWeights: true, includeLastOffset: true, paddingIdx: true },
  ['offsets', 'maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', 'perSampleWeights', 'includeLastOffset', 'paddingIdx'],
);

/**
 * The offsets as numbers: they shape the bags, so they are read on the host. A JavaScript array
 * is taken as it is; a tensor must be readable synchronously (a device backend's is not: pass
 * the offsets as an array, or a 2-d input whose rows are the bags).
 */
function hostOffsets(op: string, offsets: TensorLike): number[] {
  if (Array.isArray(offsets) && offsets.every((o) => typeof o === 'number' && Number.isInteger(o))) return offsets as number[];
  const off = toTensor(op, offsets);
  if (off.ndim !== 1 || (off.dtype !== 'int32' && off.dtype !== 'uint8')) {
    throw new ValueError(`${op}: offsets must be a 1-d int32 tensor or an array of integers, got ${off.dtype} ${formatShape(off.shape)}`);
  }
  if (off._backend !== null && typeof off._backend.readSync !== 'function') {
    throw new ValueError(
      `${op}: the offsets shape the bags and are read on the host, but backend '${off._backend.name}' reads asynchronously; pass them as an array of numbers, or a 2-d input [B, L]`,
    );
  }
  return Array.from(off.dataSync(), Number);
}

/** The bags as a padded [B, longest] layout of positions into the flat input, and which slots are used. */
function bagLayout(
  op: string,
  length: number,
  offsets: number[],
  includeLastOffset: boolean,
): { positions: Int32Array; used: Uint8Array; bags: number; longest: number } {
  if (offsets.length === 0 && !includeLastOffset) return { positions: new Int32Array(0), used: new Uint8Array(0), bags: 0, longest: 0 };
  if (offsets[0] !== 0 && offsets.length > 0) throw new ValueError(`${op}: offsets must start at 0, got ${offsets[0]}`);
  for (let i = 1; i < offsets.length; i++) {
    if ((offsets[i] as number) < (offsets[i - 1] as number) || (offsets[i] as number) > length) {
      throw new ValueError(`${op}: offsets must be non-decreasing and at most the input length ${length}; got ${JSON.stringify(offsets)}`);
    }
  }
  const starts = includeLastOffset ? offsets.slice(0, -1) : offsets;
  const ends = starts.map((_, b) =>
    b + 1 < starts.length ? (starts[b + 1] as number) : includeLastOffset ? (offsets[offsets.length - 1] as number) : length,
  );
  const bags = starts.length;
  const longest = Math.max(1, ...starts.map((s, b) => (ends[b] as number) - s));
  const positions = new Int32Array(bags * longest);
  const used = new Uint8Array(bags * longest);
  starts.forEach((s, b) => {
    for (let i = s; i < (ends[b] as number); i++) {
      positions[b * longest + i - s] = i;
      used[b * longest + i - s] = 1;
    }
  });
  return { positions, used, bags, longest };
}

/**
 * Sums, averages or takes the maximum of bags of embeddings without materializing each lookup's
 * bag dimension in user code (torch.nn.functional.embedding_bag). A 2-d input [B, L] is B bags of
 * L indices; a 1-d input is split into bags by `offsets` (read on the host, so not under jit). The
 * result is [B, embeddingDim]; empty bags give zeros.
 *
 * @example
 * nn.functional.embeddingBag(tensor([1, 2, 4, 5, 4, 3]), table, { offsets: tensor([0, 2]), mode: 'sum' });
 */
export const embeddingBag = withCheckedOptions(
  'embeddingBag',
  EMBEDDING_BAG_SIGNATURE,
  (input: TensorLike, weight: Tensor, options: EmbeddingBagOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'embeddingBag';
      const mode = options.mode ?? 'mean';
      if (mode !== 'sum' && mode !== 'mean' && mode !== 'max') {
        throw new ValueError(`${op}: mode must be one of 'sum', 'mean', 'max', got ${JSON.stringify(mode)}`);
      }
      if (weight.ndim !== 2) throw new ShapeError(`${op}: weight must be [numEmbeddings, embeddingDim], got ${formatShape(weight.shape)}`);
      const idx = toTensor(op, input, undefined, weight);
      if (idx.dtype !== 'int32' && idx.dtype !== 'uint8') throw new DTypeError(`${op}: input must be int32 indices, got ${idx.dtype}`);
      const hasOffsets = options.offsets !== undefined && options.offsets !== null;
      const hasWeights = options.perSampleWeights !== undefined && options.perSampleWeights !== null;
      if (hasWeights && mode !== 'sum')
        throw new ValueError(`${op}: perSampleWeights is only supported for mode 'sum', got mode '${mode}'`);
      let positions: Tensor;
      let used: Tensor;
      if (idx.ndim === 2) {
        if (hasOffsets) throw new ValueError(`${op}: offsets must be null with a 2-d input (each row is a bag)`);
        const [bags, length] = idx.shape as [number, number];
        positions = reshape(
          toTensor(
            op,
            Int32Array.from({ length: bags * length }, (_, i) => i),
            undefined,
            weight,
          ),
          [bags, length],
        );
        used = notEqual(positions, -1);
      } else if (idx.ndim === 1) {
        if (!hasOffsets) throw new ValueError(`${op}: offsets are required with a 1-d input`);
        const layout = bagLayout(
          op,
          idx.shape[0] as number,
          hostOffsets(op, options.offsets as TensorLike),
          options.includeLastOffset === true,
        );
        positions = reshape(toTensor(op, layout.positions, undefined, weight), [layout.bags, layout.longest]);
        used = notEqual(reshape(toTensor(op, layout.used, undefined, weight), [layout.bags, layout.longest]), 0);
      } else {
        throw new ShapeError(`${op}: input must be 1-d (with offsets) or 2-d [B, L], got ${formatShape(idx.shape)}`);
      }
      const flat = reshape(idx, [-1]);
      const bagIndices = take(flat, positions, 0);
      const padding = options.paddingIdx;
      if (padding !== undefined && padding !== null) {
        const count = weight.shape[0] as number;
        if (!Number.isInteger(padding) || padding < -count || padding >= count) {
          throw new ValueError(`${op}: paddingIdx must be an integer in [-${count}, ${count}), got ${padding}`);
        }
        used = logicalAnd(used, notEqual(bagIndices, padding < 0 ? padding + count : padding));
      }
      let rows = take(weight, bagIndices, 0); // [B, longest, D]
      if (hasWeights) {
        const w = cast(toTensor(op, options.perSampleWeights as TensorLike, undefined, weight), weight.dtype);
        if (w.ndim !== idx.ndim || w.shape.some((d, i) => d !== idx.shape[i])) {
          throw new ShapeError(
            `${op}: perSampleWeights must have the input's shape ${formatShape(idx.shape)}, got ${formatShape(w.shape)}`,
          );
        }
        rows = mul(rows, unsqueeze(take(reshape(w, [-1]), positions, 0), -1));
      }
      const mask = unsqueeze(used, -1);
      if (mode === 'max') {
        const best = max(where(mask, rows, Number.NEGATIVE_INFINITY), 1);
        return where(unsqueeze(any(used, 1), -1), best, 0);
      }
      const total = sum(where(mask, rows, 0), 1);
      if (mode === 'sum') return total;
      const counts = sum(cast(used, weight.dtype), 1, true);
      return div(total, maximum(counts, 1));
    });
  },
);
