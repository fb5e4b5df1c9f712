import { runInFloat32 } from '../../amp/autocast.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { broadcastShapes, formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import {
  add,
  clamp,
  div,
  equal,
  exp,
  greater,
  log1p,
  logicalAnd,
  logicalNot,
  minimum,
  mul,
  neg,
  notEqual,
  sub,
  where,
} from '../../ops/elementwise.js';
import { oneHot, take, takeAlongAxis } from '../../ops/indexing.js';
import { unsqueeze } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { cumprod, sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { logSigmoid } from './activations.js';
import { checkNumber, checkReduction, floatTensor, type Reduction, reduceLoss } from './common.js';
import { pairwiseDistance, pNormOfDifference } from './distance.js';

// The hinge and soft-margin losses PyTorch users know: hinge embedding, soft margin, triplet
// margin, multi-class margin and multi-label soft margin. Each follows PyTorch's formula, its
// reductions, and its backward at the hinge: the losses PyTorch writes with `clamp_min(…, 0)`
// (hinge embedding, triplet margin) pass the whole gradient where the hinge is 0, as `clamp`
// does here; multi_margin_loss's kernel tests `z > 0` strictly, so its hinge passes nothing at 0.

const HINGE_EMBEDDING_SIGNATURE = optionsSignature<HingeEmbeddingOptions>(3, { margin: true, reduction: true }, [
  'margin',
  'sizeAverage',
  'reduce',
  'reduction',
]);
const SOFT_MARGIN_SIGNATURE = optionsSignature<SoftMarginOptions>(3, { reduction: true }, ['sizeAverage', 'reduce', 'reduction']);
const TRIPLET_MARGIN_SIGNATURE = optionsSignature<TripletMarginOptions>(
  4,
  { margin: true, p: true, eps: true, swap: true, reduction: true },
  ['margin', 'p', 'eps', 'swap', 'sizeAverage', 'reduce', 'reduction'],
);
const MULTI_MARGIN_SIGNATURE = optionsSignature<MultiMarginOptions>(3, { p: true, margin: true, weight: true, reduction: true }, [
  'p',
  'margin',
  'weight',
  'sizeAverage',
  'reduce',
  'reduction',
]);
const MULTI_LABEL_MARGIN_SIGNATURE = optionsSignature<MultiLabelMarginOptions>(3, { reduction: true }, [
  'sizeAverage',
  'reduce',
  'reduction',
]);
const MULTI_LABEL_SOFT_MARGIN_SIGNATURE = optionsSignature<MultiLabelSoftMarginOptions>(3, { weight: true, reduction: true }, [
  'weight',
  'sizeAverage',
  'reduce',
  'reduction',
]);

/** `clamp_min(x, 0)`: at 0 the whole gradient passes (PyTorch's clamp_min backward). */
const hinge = (x: Tensor): Tensor => clamp(x, 0);

/** Options of hingeEmbeddingLoss. */
export interface HingeEmbeddingOptions {
  /** Distance below which dissimilar pairs (y = -1) are penalized (default 1). */
  readonly margin?: number;
  readonly reduction?: Reduction;
}

/**
 * `x` where y = 1 and `max(0, margin - x)` where y = -1, for distances `x` and labels ±1
 * (torch.nn.functional.hinge_embedding_loss); as PyTorch, a label other than ±1 adds both terms.
 * Input and target broadcast.
 *
 * @example
 * nn.functional.hingeEmbeddingLoss(tensor([0.3, 2]), tensor([1, -1]), { margin: 1 }); // (0.3 + 0) / 2
 */
export const hingeEmbeddingLoss = withCheckedOptions(
  'hingeEmbeddingLoss',
  HINGE_EMBEDDING_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: HingeEmbeddingOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'hingeEmbeddingLoss';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const margin = checkNumber(op, 'margin', options.margin ?? 1);
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        broadcastShapes(op, x.shape, y.shape);
        const dissimilar = where(notEqual(y, 1), hinge(sub(margin, x)), 0);
        const similar = where(notEqual(y, -1), x, 0);
        return reduceLoss(add(dissimilar, similar), reduction);
      });
    });
  },
);

/** Options of softMarginLoss. */
export interface SoftMarginOptions {
  readonly reduction?: Reduction;
}

/**
 * `log(1 + exp(-y x))` for labels y = ±1 (torch.nn.functional.soft_margin_loss), averaged over
 * every element by default. Input and target broadcast.
 *
 * @example
 * nn.functional.softMarginLoss(tensor([0.5, -1]), tensor([1, -1]));
 */
export const softMarginLoss = withCheckedOptions(
  'softMarginLoss',
  SOFT_MARGIN_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: SoftMarginOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'softMarginLoss';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        broadcastShapes(op, x.shape, y.shape);
        // PyTorch's formula, log1p(exp(-y x)), overflowing where it does.
        return reduceLoss(log1p(exp(neg(mul(y, x)))), reduction);
      });
    });
  },
);

/** Options of tripletMarginLoss. */
export interface TripletMarginOptions {
  /** Default 1. */
  readonly margin?: number;
  /** The norm degree of the pairwise distance (default 2). */
  readonly p?: number;
  /** Added to the differences before the norm, as torch.pairwise_distance (default 1e-6). */
  readonly eps?: number;
  /** Use the smaller of d(anchor, negative) and d(positive, negative) (default false). */
  readonly swap?: boolean;
  readonly reduction?: Reduction;
}

/**
 * `max(0, margin + d(a, p) - d(a, n))` with `d` the p-norm pairwise distance
 * (torch.nn.functional.triplet_margin_loss); with `swap`, `d(a, n)` is replaced by
 * `min(d(a, n), d(p, n))`. Anchor, positive and negative are [N, D] (or [D]), all of one rank.
 *
 * @example
 * nn.functional.tripletMarginLoss(anchor, positive, negative, { margin: 0.5 });
 */
export const tripletMarginLoss = withCheckedOptions(
  'tripletMarginLoss',
  TRIPLET_MARGIN_SIGNATURE,
  (anchor: TensorLike, positive: TensorLike, negative: TensorLike, options: TripletMarginOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'tripletMarginLoss';
      return runInFloat32(op, [anchor, positive, negative], (anchor, positive, negative) => {
        const reduction = checkReduction(op, options.reduction);
        const margin = checkNumber(op, 'margin', options.margin ?? 1);
        const p = checkNumber(op, 'p', options.p ?? 2, { min: 0, minExclusive: true });
        const eps = checkNumber(op, 'eps', options.eps ?? 1e-6);
        const swap = options.swap ?? false;
        if (typeof swap !== 'boolean') throw new ValueError(`${op}: swap must be a boolean, got ${JSON.stringify(swap)}`);
        const a = floatTensor(op, anchor, 'anchor');
        const pos = cast(floatTensor(op, positive, 'positive', a), a.dtype);
        const negT = cast(floatTensor(op, negative, 'negative', a), a.dtype);
        if ((a.ndim !== 1 && a.ndim !== 2) || pos.ndim !== a.ndim || negT.ndim !== a.ndim) {
          throw new ShapeError(
            `${op}: anchor, positive and negative must all be [N, D] or all [D]; got ${formatShape(a.shape)}, ${formatShape(pos.shape)} and ${formatShape(negT.shape)}`,
          );
        }
        broadcastShapes(op, a.shape, pos.shape, negT.shape);
        const positiveDistance = pNormOfDifference(a, pos, p, eps);
        let negativeDistance = pNormOfDifference(a, negT, p, eps);
        if (swap) negativeDistance = minimum(negativeDistance, pNormOfDifference(pos, negT, p, eps));
        return reduceLoss(hinge(sub(add(positiveDistance, margin), negativeDistance)), reduction);
      });
    });
  },
);

/** Options of tripletMarginWithDistanceLoss. */
export interface TripletMarginWithDistanceOptions {
  /** The distance between two batches of embeddings (default pairwiseDistance, the Euclidean one). */
  readonly distanceFunction?: ((x1: Tensor, x2: Tensor) => Tensor) | null;
  /** Default 1; must be positive. */
  readonly margin?: number;
  /** Use the smaller of d(anchor, negative) and d(positive, negative) (default false). */
  readonly swap?: boolean;
  readonly reduction?: Reduction;
}

// PyTorch: triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function, margin, swap, reduction).
const TRIPLET_MARGIN_WITH_DISTANCE_SIGNATURE = optionsSignature<TripletMarginWithDistanceOptions>(
  4,
  { distanceFunction: true, margin: true, swap: true, reduction: true },
  [],
);

/**
 * `max(0, margin + d(a, p) - d(a, n))` with any distance function `d`
 * (torch.nn.functional.triplet_margin_with_distance_loss); with `swap`, `d(a, n)` is replaced by
 * `min(d(a, n), d(p, n))`. The distance takes two [N, D] batches and returns [N] (default the
 * Euclidean pairwiseDistance); it may be any differentiable function, such as 1 - cosine similarity.
 *
 * @example
 * nn.functional.tripletMarginWithDistanceLoss(a, p, n, {
 *   distanceFunction: (x, y) => nn.functional.cosineSimilarity(x, y).neg().add(1),
 * });
 */
export const tripletMarginWithDistanceLoss = withCheckedOptions(
  'tripletMarginWithDistanceLoss',
  TRIPLET_MARGIN_WITH_DISTANCE_SIGNATURE,
  (anchor: TensorLike, positive: TensorLike, negative: TensorLike, options: TripletMarginWithDistanceOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'tripletMarginWithDistanceLoss';
      const reduction = checkReduction(op, options.reduction);
      const margin = checkNumber(op, 'margin', options.margin ?? 1, { min: 0, minExclusive: true });
      const swap = options.swap ?? false;
      if (typeof swap !== 'boolean') throw new ValueError(`${op}: swap must be a boolean, got ${JSON.stringify(swap)}`);
      const distance = options.distanceFunction ?? ((x1: Tensor, x2: Tensor) => pairwiseDistance(x1, x2));
      if (typeof distance !== 'function') throw new ValueError(`${op}: distanceFunction must be a function, got ${typeof distance}`);
      const a = floatTensor(op, anchor, 'anchor');
      const pos = cast(floatTensor(op, positive, 'positive', a), a.dtype);
      const negT = cast(floatTensor(op, negative, 'negative', a), a.dtype);
      if (pos.ndim !== a.ndim || negT.ndim !== a.ndim) {
        throw new ShapeError(
          `${op}: anchor, positive and negative must have the same rank; got ${formatShape(a.shape)}, ${formatShape(pos.shape)} and ${formatShape(negT.shape)}`,
        );
      }
      const positiveDistance = distance(a, pos);
      let negativeDistance = distance(a, negT);
      if (swap) negativeDistance = minimum(negativeDistance, distance(pos, negT));
      return reduceLoss(hinge(sub(add(positiveDistance, margin), negativeDistance)), reduction);
    });
  },
);

/** Class-index targets of the multi-class losses: integer, one per row, in range (where readable). */
function classTarget(op: string, target: TensorLike, input: Tensor): Tensor {
  const t = toTensor(op, target, undefined, input);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8')
    throw new DTypeError(`${op}: target must be class indices (int32 or uint8), got ${t.dtype}`);
  const expected = input.shape.slice(0, -1);
  if (t.ndim !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `${op}: target must have shape ${formatShape(expected)} (one class per row of input ${formatShape(input.shape)}), got ${formatShape(t.shape)}`,
    );
  }
  const classes = input.shape[input.ndim - 1] as number;
  const backend = t._backend;
  if (backend !== null && backend.readSync !== undefined && t.size <= 1 << 20) {
    for (const v of t.dataSync()) {
      if (v < 0 || v >= classes)
        throw new IndexError(`${op}: target ${v} is out of range for ${classes} classes (valid: 0..${classes - 1})`);
    }
  }
  return cast(t, 'int32');
}

/** A [C] weight per class cast to the input's dtype. */
function classWeight(op: string, weight: Tensor | null | undefined, classes: number, dtype: Tensor['dtype']): Tensor | null {
  if (weight === undefined || weight === null) return null;
  if (weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new ShapeError(`${op}: weight must have shape [${classes}] (one per class), got ${formatShape(weight.shape)}`);
  }
  return cast(weight, dtype);
}

/** Options of multiMarginLoss. */
export interface MultiMarginOptions {
  /** 1 (default) or 2: the power of each hinge. */
  readonly p?: 1 | 2;
  /** Default 1. */
  readonly margin?: number;
  /** A weight per class, shape [C], applied by the target's class. */
  readonly weight?: Tensor | null;
  readonly reduction?: Reduction;
}

/**
 * The multi-class hinge loss `sum over i != y of max(0, margin - x[y] + x[i])^p / C`, times
 * `weight[y]` where given (torch.nn.functional.multi_margin_loss). Input [N, C] with int32
 * targets [N], or [C] with a scalar target. At the hinge (`margin - x[y] + x[i] == 0`) the
 * gradient is 0, as PyTorch's kernel (`z > 0`).
 *
 * @example
 * nn.functional.multiMarginLoss(tensor([[0.1, 0.2, 0.4, 0.8]]), tensor([3], { dtype: 'int32' })); // 0.325
 */
export const multiMarginLoss = withCheckedOptions(
  'multiMarginLoss',
  MULTI_MARGIN_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: MultiMarginOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'multiMarginLoss';
      return runInFloat32(op, [input], (input) => {
        const reduction = checkReduction(op, options.reduction);
        const p = options.p ?? 1;
        if (p !== 1 && p !== 2) throw new ValueError(`${op}: p must be 1 or 2, got ${JSON.stringify(p)}`);
        const margin = checkNumber(op, 'margin', options.margin ?? 1);
        const x = floatTensor(op, input, 'input');
        if (x.ndim !== 1 && x.ndim !== 2) throw new ShapeError(`${op}: input must be [N, C] or [C], got ${formatShape(x.shape)}`);
        const classes = x.shape[x.ndim - 1] as number;
        const y = classTarget(op, target, x);
        const weight = classWeight(op, options.weight, classes, x.dtype);
        const axis = x.ndim - 1;
        const targetScore = takeAlongAxis(x, unsqueeze(y, -1), axis);
        const z = add(sub(margin, targetScore), x);
        const other = equal(oneHot(y, classes), 0);
        // PyTorch's kernel adds a class's term only where z > 0, and differentiates the same way.
        const hinged = where(logicalAnd(other, greater(z, 0)), p === 1 ? z : mul(z, z), 0);
        let perRow = div(sum(hinged, axis), classes);
        if (weight !== null) perRow = mul(perRow, take(weight, y, 0));
        return reduceLoss(perRow, reduction);
      });
    });
  },
);

/** Options of multiLabelSoftMarginLoss. */
export interface MultiLabelSoftMarginOptions {
  /** A weight per class, shape [C]. */
  readonly weight?: Tensor | null;
  readonly reduction?: Reduction;
}

/**
 * `-mean over classes of (y log sigmoid(x) + (1 - y) log sigmoid(-x))`, weighted per class where
 * `weight` is given (torch.nn.functional.multilabel_soft_margin_loss). Input and target [N, C] (or
 * [C]), target 0 or 1; 'none' gives one loss per row.
 *
 * @example
 * nn.functional.multiLabelSoftMarginLoss(logits, tensor([[1, 0, 1]]));
 */
export const multiLabelSoftMarginLoss = withCheckedOptions(
  'multiLabelSoftMarginLoss',
  MULTI_LABEL_SOFT_MARGIN_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: MultiLabelSoftMarginOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'multiLabelSoftMarginLoss';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        if (x.ndim === 0) throw new ShapeError(`${op}: input must be [N, C] or [C], got a scalar`);
        if (y.ndim !== x.ndim || y.shape.some((d, i) => d !== x.shape[i])) {
          throw new ShapeError(`${op}: target must have the input's shape ${formatShape(x.shape)}, got ${formatShape(y.shape)}`);
        }
        const classes = x.shape[x.ndim - 1] as number;
        const weight = classWeight(op, options.weight, classes, x.dtype);
        let pointwise = neg(add(mul(y, logSigmoid(x)), mul(sub(1, y), logSigmoid(neg(x)))));
        if (weight !== null) pointwise = mul(pointwise, weight);
        return reduceLoss(div(sum(pointwise, x.ndim - 1), classes), reduction);
      });
    });
  },
);

/** Options of multiLabelMarginLoss. */
export interface MultiLabelMarginOptions {
  readonly reduction?: Reduction;
}

/**
 * The multi-label hinge loss `Σ_j Σ_{i not a target} max(0, 1 - (x[y_j] - x[i])) / C`
 * (torch.nn.functional.multilabel_margin_loss). Input [N, C] (or [C]); target int32 of the same
 * shape holding the target classes first, ended by the first -1 (the rest is ignored). At the
 * hinge the gradient is 0, as PyTorch's kernel (`z > 0`).
 *
 * @example
 * nn.functional.multiLabelMarginLoss(tensor([[0.1, 0.2, 0.4, 0.8]]), tensor([[3, 0, -1, 1]], { dtype: 'int32' })); // 0.85
 */
export const multiLabelMarginLoss = withCheckedOptions(
  'multiLabelMarginLoss',
  MULTI_LABEL_MARGIN_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: MultiLabelMarginOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'multiLabelMarginLoss';
      return runInFloat32(op, [input], (input) => {
        const reduction = checkReduction(op, options.reduction);
        const x = floatTensor(op, input, 'input');
        if (x.ndim !== 1 && x.ndim !== 2) throw new ShapeError(`${op}: input must be [N, C] or [C], got ${formatShape(x.shape)}`);
        const t = toTensor(op, target, undefined, x);
        if (t.dtype !== 'int32' && t.dtype !== 'uint8') throw new DTypeError(`${op}: target must be class indices (int32), got ${t.dtype}`);
        if (t.ndim !== x.ndim || t.shape.some((d, i) => d !== x.shape[i])) {
          throw new ShapeError(`${op}: target must have the input's shape ${formatShape(x.shape)}, got ${formatShape(t.shape)}`);
        }
        const classes = x.shape[x.ndim - 1] as number;
        const backend = t._backend;
        if (backend !== null && backend.readSync !== undefined && t.size <= 1 << 20) {
          for (const v of t.dataSync()) {
            if (v < -1 || v >= classes)
              throw new IndexError(
                `${op}: target ${v} is out of range for ${classes} classes (valid: 0..${classes - 1}, or -1 to end the list)`,
              );
          }
        }
        const axis = x.ndim - 1;
        const y = cast(t, 'int32');
        // Targets count up to the first -1.
        const valid = cumprod(cast(notEqual(y, -1), x.dtype), axis);
        const safe = where(greater(valid, 0), y, 0);
        const isTarget = greater(sum(mul(unsqueeze(valid, -1), cast(oneHot(safe, classes), x.dtype)), axis), 0);
        const targetScores = takeAlongAxis(x, safe, axis);
        // z[.., j, i] = 1 - x[y_j] + x[i], over valid targets j and non-target classes i.
        const z = add(sub(1, unsqueeze(targetScores, -1)), unsqueeze(x, -2));
        const counted = logicalAnd(logicalAnd(greater(unsqueeze(valid, -1), 0), logicalNot(unsqueeze(isTarget, -2))), greater(z, 0));
        const perRow = div(sum(where(counted, z, 0), [axis, axis + 1]), classes);
        return reduceLoss(perRow, reduction);
      });
    });
  },
);
