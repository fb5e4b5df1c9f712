import { runInFloat32 } from '../../amp/autocast.js';
import { ShapeError } from '../../core/errors.js';
import { broadcastShapes, formatShape, normalizeAxis } from '../../core/shape.js';
import { broadcastAll, cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { add, clamp, div, mul, sub } from '../../ops/elementwise.js';
import { take } from '../../ops/indexing.js';
import { vectorNorm } from '../../ops/linalg-norms.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, floatTensor } from './common.js';

// Distances between paired rows, as torch.nn.functional's pairwise_distance and
// cosine_similarity (the margin losses build on the first).

/** Options of pairwiseDistance. */
export interface PairwiseDistanceOptions {
  /** The norm's order (default 2). */
  readonly p?: number;
  /** Added to every difference before the norm, so that equal rows keep a gradient (default 1e-6). */
  readonly eps?: number;
  /** Keep the reduced last axis with size 1 (default false). */
  readonly keepdims?: boolean;
}

const PAIRWISE_DISTANCE_SIGNATURE = optionsSignature<PairwiseDistanceOptions>(3, { p: true, eps: true, keepdims: true }, [
  'p',
  'eps',
  'keepdims',
]);

/**
 * `‖x1 - x2 + eps‖_p` over the last axis, the inputs broadcast together
 * (torch.nn.functional.pairwise_distance).
 *
 * @example
 * nn.functional.pairwiseDistance(a, b);          // [N, D], [N, D] -> [N]
 * nn.functional.pairwiseDistance(a, b, { p: 1 });
 */
export const pairwiseDistance = withCheckedOptions(
  'pairwiseDistance',
  PAIRWISE_DISTANCE_SIGNATURE,
  (x1: TensorLike, x2: TensorLike, options: PairwiseDistanceOptions = {}): Tensor => {
    const op = 'pairwiseDistance';
    const p = checkNumber(op, 'p', options.p ?? 2, { min: 0, minExclusive: true });
    const eps = checkNumber(op, 'eps', options.eps ?? 1e-6);
    return tidy(() =>
      runInFloat32(op, [x1, x2], (x1, x2) => {
        const a = floatTensor(op, x1, 'x1');
        const b = cast(floatTensor(op, x2, 'x2', a), a.dtype);
        broadcastShapes(op, a.shape, b.shape);
        return pNormOfDifference(a, b, p, eps, options.keepdims ?? false);
      }),
    );
  },
);

/** `‖a - b + eps‖_p` over the last axis of the broadcast shape; shared with the triplet margin loss. */
export function pNormOfDifference(a: Tensor, b: Tensor, p: number, eps: number, keepdims = false): Tensor {
  return vectorNorm(add(sub(a, b), eps), { ord: p, axis: -1, keepdims });
}

/** Options of cosineSimilarity. */
export interface CosineSimilarityOptions {
  /** The axis the vectors lie along (default 1, as PyTorch's dim). */
  readonly axis?: number;
  /** The smallest norm each vector is divided by (default 1e-8). */
  readonly eps?: number;
}

const COSINE_SIMILARITY_SIGNATURE = optionsSignature<CosineSimilarityOptions>(3, { axis: true, eps: true }, ['axis', 'eps']);

/**
 * `x1 · x2 / (max(‖x1‖, eps) · max(‖x2‖, eps))` along `axis`, the inputs broadcast together
 * (torch.nn.functional.cosine_similarity, which clamps each norm since PyTorch 1.12). The clamp
 * passes the gradient where a norm equals eps, as PyTorch's clamp_min.
 *
 * @example
 * nn.functional.cosineSimilarity(a, b);               // [N, D], [N, D] -> [N] (axis 1)
 * nn.functional.cosineSimilarity(u, v, { axis: -1 });
 */
export const cosineSimilarity = withCheckedOptions(
  'cosineSimilarity',
  COSINE_SIMILARITY_SIGNATURE,
  (x1: TensorLike, x2: TensorLike, options: CosineSimilarityOptions = {}): Tensor => {
    const op = 'cosineSimilarity';
    const eps = checkNumber(op, 'eps', options.eps ?? 1e-8);
    return tidy(() =>
      runInFloat32(op, [x1, x2], (x1, x2) => {
        const first = floatTensor(op, x1, 'x1');
        // Broadcast first, as PyTorch: the axis then means the same axis of both.
        const [a, b] = broadcastAll(op, [first, cast(floatTensor(op, x2, 'x2', first), first.dtype)]) as [Tensor, Tensor];
        const axis = normalizeAxis(op, options.axis ?? 1, a.ndim);
        // vectorNorm's gradient at a zero vector is 0 (sqrt's would be NaN), and the clamp's below eps is 0.
        const norm = (t: Tensor) => clamp(vectorNorm(t, { axis }), eps);
        return div(sum(mul(a, b), axis), mul(norm(a), norm(b)));
      }),
    );
  },
);

/**
 * The p-norm distances between every pair of rows i < j of [N, M] (torch.nn.functional.pdist),
 * in the order of the upper triangle read row by row: [N (N - 1) / 2]. The gradient of a zero
 * distance is 0, as PyTorch's.
 *
 * @example
 * nn.functional.pdist(tensor([[0, 0], [3, 4], [6, 8]])); // [5, 10, 5]
 */
export function pdist(input: TensorLike, p = 2): Tensor {
  const op = 'pdist';
  checkNumber(op, 'p', p, { min: 0 });
  return tidy(() =>
    runInFloat32(op, [input], (input) => {
      const x = floatTensor(op, input);
      if (x.ndim !== 2) throw new ShapeError(`${op}: input must be 2-d [N, M], got ${formatShape(x.shape)}`);
      const n = x.shape[0] as number;
      const pairs = (n * (n - 1)) / 2;
      const first = new Int32Array(pairs);
      const second = new Int32Array(pairs);
      for (let i = 0, k = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++, k++) {
          first[k] = i;
          second[k] = j;
        }
      }
      const rows = (indices: Int32Array) => take(x, toTensor(op, indices, 'int32', x), 0);
      return vectorNorm(sub(rows(first), rows(second)), { ord: p, axis: -1 });
    }),
  );
}
