import { runInFloat32 } from '../../amp/autocast.js';
import { ShapeError } from '../../core/errors.js';
import { broadcastShapes, formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, clamp, div, equal, exp, log, mul, neg, sqrt, sub, where } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, checkReduction, floatTensor, type Reduction, reduceLoss } from './common.js';

// Where PyTorch's positional arguments go (see options-argument.ts).
const KL_DIV_SIGNATURE = optionsSignature<KlDivOptions>(3, { reduction: true, logTarget: true }, [
  'sizeAverage',
  'reduce',
  'reduction',
  'logTarget',
]);
const COSINE_EMBEDDING_SIGNATURE = optionsSignature<CosineEmbeddingOptions>(4, { margin: true, reduction: true }, [
  'margin',
  'sizeAverage',
  'reduce',
  'reduction',
]);
const MARGIN_RANKING_SIGNATURE = optionsSignature<MarginRankingOptions>(4, { margin: true, reduction: true }, [
  'margin',
  'sizeAverage',
  'reduce',
  'reduction',
]);

// Losses that compare distributions or pairs: Kullback-Leibler divergence, the cosine embedding
// loss and the margin ranking loss.

/** Options of klDiv. */
export interface KlDivOptions {
  /** 'mean' (default: over every element, as PyTorch), 'batchmean' (the sum over the batch size: the true KL divergence), 'sum' or 'none'. */
  readonly reduction?: Reduction | 'batchmean';
  /** Whether the target is given as log-probabilities too (default false). */
  readonly logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence `target (log target - input)` with `input` the log-probabilities of
 * the model and `target` probabilities (or log-probabilities with `logTarget`), as
 * torch.nn.functional.kl_div; terms with target 0 are 0.
 *
 * @example
 * const logp = nn.functional.logSoftmax(logits, 1);
 * nn.functional.klDiv(logp, targetProbabilities, { reduction: 'batchmean' });
 */
export const klDiv = withCheckedOptions(
  'klDiv',
  KL_DIV_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: KlDivOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'klDiv';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction, ['mean', 'batchmean', 'sum', 'none']);
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        broadcastShapes(op, x.shape, y.shape);
        let pointwise: Tensor;
        if (options.logTarget === true) {
          // A target log-probability of -Infinity (probability 0) contributes 0, not 0 * -Infinity.
          const zero = equal(y, Number.NEGATIVE_INFINITY);
          pointwise = where(zero, 0, mul(exp(y), sub(where(zero, 0, y), x)));
        } else {
          // xlogy(y, y) - y x, with 0 log 0 = 0 and a finite derivative there.
          const zero = equal(y, 0);
          const yLogY = where(zero, 0, mul(y, log(where(zero, 1, y))));
          pointwise = sub(yLogY, mul(y, x));
        }
        if (reduction === 'batchmean') {
          const batch = pointwise.ndim === 0 ? 1 : (pointwise.shape[0] as number);
          return div(sum(pointwise), batch);
        }
        return reduceLoss(pointwise, reduction);
      });
    });
  },
);

/**
 * `max(x, 0)` as PyTorch's margin losses write it, `clamp_min(x, 0)`: at 0 the whole gradient
 * passes (clamp's convention, where `maximum` would pass half).
 */
const hinge = (x: Tensor): Tensor => clamp(x, 0);

/** Options of cosineEmbeddingLoss. */
export interface CosineEmbeddingOptions {
  /** Similarity below which dissimilar pairs (y = -1) cost nothing (default 0). */
  readonly margin?: number;
  readonly reduction?: Reduction;
}

/**
 * For pairs of vectors and labels y in {1, -1}: `1 - cos(x1, x2)` where y = 1 and
 * `max(0, cos(x1, x2) - margin)` where y = -1 (torch.nn.functional.cosine_embedding_loss). Inputs
 * [N, D] with y [N], or [D] with a scalar y.
 *
 * @example
 * nn.functional.cosineEmbeddingLoss(a, b, tensor([1, -1]), { margin: 0.2 });
 */
export const cosineEmbeddingLoss = withCheckedOptions(
  'cosineEmbeddingLoss',
  COSINE_EMBEDDING_SIGNATURE,
  (input1: TensorLike, input2: TensorLike, target: TensorLike, options: CosineEmbeddingOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'cosineEmbeddingLoss';
      return runInFloat32(op, [input1, input2, target], (input1, input2, target) => {
        const reduction = checkReduction(op, options.reduction);
        const margin = checkNumber(op, 'margin', options.margin ?? 0);
        const x1 = floatTensor(op, input1, 'input1');
        const x2 = cast(floatTensor(op, input2, 'input2', x1), x1.dtype);
        const y = floatTensor(op, target, 'target', x1);
        if (x1.ndim !== x2.ndim || x1.shape.some((d, i) => d !== x2.shape[i]) || (x1.ndim !== 1 && x1.ndim !== 2)) {
          throw new ShapeError(
            `${op}: input1 and input2 must have the same shape, [N, D] or [D]; got ${formatShape(x1.shape)} and ${formatShape(x2.shape)}`,
          );
        }
        const expected = x1.shape.slice(0, -1);
        if (y.ndim !== expected.length || y.shape.some((d, i) => d !== expected[i])) {
          throw new ShapeError(`${op}: target must have shape ${formatShape(expected)} (one label per pair), got ${formatShape(y.shape)}`);
        }
        const axis = x1.ndim - 1;
        // PyTorch adds 1e-12 to each squared norm, so zero vectors give cos 0 rather than NaN.
        const dotProduct = sum(mul(x1, x2), axis);
        const squared1 = add(sum(mul(x1, x1), axis), 1e-12);
        const squared2 = add(sum(mul(x2, x2), axis), 1e-12);
        const cosine = div(dotProduct, sqrt(mul(squared1, squared2)));
        const similar = where(equal(y, 1), sub(1, cosine), 0);
        const dissimilar = where(equal(y, -1), hinge(sub(cosine, margin)), 0);
        return reduceLoss(add(similar, dissimilar), reduction);
      });
    });
  },
);

/** Options of marginRankingLoss. */
export interface MarginRankingOptions {
  /** Default 0. */
  readonly margin?: number;
  readonly reduction?: Reduction;
}

/**
 * `max(0, -y (x1 - x2) + margin)`: asks x1 to rank above x2 where y = 1 and below where y = -1
 * (torch.nn.functional.margin_ranking_loss). The three operands broadcast.
 *
 * @example
 * nn.functional.marginRankingLoss(tensor([1, 2]), tensor([2, 0]), tensor([1, 1]), { margin: 0.5 }); // 0.75
 */
export const marginRankingLoss = withCheckedOptions(
  'marginRankingLoss',
  MARGIN_RANKING_SIGNATURE,
  (input1: TensorLike, input2: TensorLike, target: TensorLike, options: MarginRankingOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'marginRankingLoss';
      return runInFloat32(op, [input1, input2, target], (input1, input2, target) => {
        const reduction = checkReduction(op, options.reduction);
        const margin = checkNumber(op, 'margin', options.margin ?? 0);
        const x1 = floatTensor(op, input1, 'input1');
        const x2 = floatTensor(op, input2, 'input2', x1);
        const y = floatTensor(op, target, 'target', x1);
        broadcastShapes(op, x1.shape, x2.shape, y.shape);
        return reduceLoss(hinge(add(mul(neg(y), sub(x1, x2)), margin)), reduction);
      });
    });
  },
);
