import { runInFloat32 } from '../../amp/autocast.js';
import { isFloating } from '../../core/dtype.js';
import { DTypeError, IndexError, ShapeError } from '../../core/errors.js';
import { formatShape, shapesEqual } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { add, div, mul, neg, notEqual, where } from '../../ops/elementwise.js';
import { take, takeAlongAxis } from '../../ops/indexing.js';
import { reshape, squeeze, unsqueeze } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { logSoftmax } from './activations.js';
import { checkNumber, checkReduction, floatTensor, type Reduction, reduceLoss } from './common.js';

// Where PyTorch's positional arguments go (see options-argument.ts).
const NLL_LOSS_SIGNATURE = optionsSignature<NllLossOptions>(3, { weight: true, ignoreIndex: true, reduction: true }, [
  'weight',
  'sizeAverage',
  'ignoreIndex',
  'reduce',
  'reduction',
]);
const CROSS_ENTROPY_SIGNATURE = optionsSignature<CrossEntropyOptions>(
  3,
  { weight: true, ignoreIndex: true, reduction: true, labelSmoothing: true },
  ['weight', 'sizeAverage', 'ignoreIndex', 'reduce', 'reduction', 'labelSmoothing'],
);

// Negative log-likelihood and cross-entropy with PyTorch's conventions: the class axis is 1 (or 0
// for an unbatched [C] input), class weights rescale each target's term, targets equal to
// ignoreIndex contribute nothing, and 'mean' divides by the total weight of the counted targets.

/** Options of nllLoss. */
export interface NllLossOptions {
  /** A weight per class, shape [C]. */
  readonly weight?: Tensor | null;
  /** Targets with this value are skipped (default -100). */
  readonly ignoreIndex?: number;
  /** 'mean' (default: divided by the summed weights of counted targets), 'sum' or 'none'. */
  readonly reduction?: Reduction;
}

/** Options of crossEntropy. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution over classes: `(1 - s) y + s / C` (default 0). */
  readonly labelSmoothing?: number;
}

interface ClassLayout {
  readonly classAxis: number;
  readonly classes: number;
}

function classLayout(op: string, input: Tensor): ClassLayout {
  if (input.ndim === 0) throw new ShapeError(`${op}: input must have a class axis ([C], [N, C] or [N, C, d1, ...]), got a scalar`);
  const classAxis = input.ndim === 1 ? 0 : 1;
  return { classAxis, classes: input.shape[classAxis] as number };
}

/** Class-index targets: integer, shaped like the input without its class axis, in range (where readable). */
function indexTarget(op: string, input: Tensor, target: TensorLike, layout: ClassLayout, ignoreIndex: number): Tensor {
  const t = toTensor(op, target, undefined, input);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8') {
    throw new DTypeError(
      `${op}: class-index targets must be int32 (or uint8), got ${t.dtype}${isFloating(t.dtype) ? '; pass class probabilities with the shape of the input' : ''}`,
    );
  }
  const expected = input.shape.filter((_, i) => i !== layout.classAxis);
  if (!shapesEqual(t.shape, expected)) {
    throw new ShapeError(
      `${op}: target of shape ${formatShape(t.shape)} does not match input ${formatShape(input.shape)}; class indices need shape ${formatShape(expected)}`,
    );
  }
  const backend = t._backend;
  if (backend !== null && backend.readSync !== undefined && t.size <= 1 << 20) {
    const values = t.dataSync();
    for (const v of values) {
      if (v !== ignoreIndex && (v < 0 || v >= layout.classes)) {
        throw new IndexError(
          `${op}: target ${v} is out of range for ${layout.classes} classes (valid: 0..${layout.classes - 1}, or ignoreIndex ${ignoreIndex})`,
        );
      }
    }
  }
  return cast(t, 'int32');
}

function classWeight(op: string, weight: Tensor | null | undefined, layout: ClassLayout, dtype: Tensor['dtype']): Tensor | null {
  if (weight === undefined || weight === null) return null;
  if (weight.ndim !== 1 || weight.shape[0] !== layout.classes) {
    throw new ShapeError(`${op}: weight must have shape [${layout.classes}] (one per class), got ${formatShape(weight.shape)}`);
  }
  return cast(weight, dtype);
}

interface PickedLogProbabilities {
  /** Per target: `-w[y] * input[y]`, zero where ignored. */
  readonly losses: Tensor;
  /** Per target: `w[y]`, zero where ignored. */
  readonly weights: Tensor;
  /** Where the target is counted (not ignoreIndex). */
  readonly counted: Tensor;
}

function pickLogProbabilities(
  logProbabilities: Tensor,
  target: Tensor,
  weight: Tensor | null,
  layout: ClassLayout,
  ignoreIndex: number,
): PickedLogProbabilities {
  const counted = notEqual(target, ignoreIndex);
  // Ignored targets may lie outside [0, C); point them at class 0 and zero their terms.
  const safe = where(counted, target, 0);
  const picked = squeeze(takeAlongAxis(logProbabilities, unsqueeze(safe, layout.classAxis), layout.classAxis), layout.classAxis);
  const mask = cast(counted, logProbabilities.dtype);
  const weights = weight === null ? mask : mul(reshape(take(weight, reshape(safe, [-1]), 0), safe.shape), mask);
  return { losses: neg(mul(picked, weights)), weights, counted };
}

/**
 * Negative log-likelihood of class indices given log-probabilities: `-w[y] * input[n, y]`, as
 * torch.nn.functional.nll_loss. Input [N, C] (or [C], or [N, C, d1, ...]), target int32 [N]
 * (or [], or [N, d1, ...]).
 *
 * @example
 * const logp = nn.functional.logSoftmax(logits, 1);
 * nn.functional.nllLoss(logp, tensor([0, 2]));
 */
export const nllLoss = withCheckedOptions(
  'nllLoss',
  NLL_LOSS_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: NllLossOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'nllLoss';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const ignoreIndex = options.ignoreIndex ?? -100;
        const x = floatTensor(op, input, 'input');
        const layout = classLayout(op, x);
        const y = indexTarget(op, x, target, layout, ignoreIndex);
        const weight = classWeight(op, options.weight, layout, x.dtype);
        const { losses, weights } = pickLogProbabilities(x, y, weight, layout, ignoreIndex);
        if (reduction === 'mean') return div(sum(losses), sum(weights));
        return reduceLoss(losses, reduction);
      });
    });
  },
);

/**
 * Cross-entropy between logits and targets, as torch.nn.functional.cross_entropy: the targets
 * are class indices (int32, shaped like the input without the class axis) or class
 * probabilities (floating, shaped like the input). Computed as `logSoftmax` then a pick along the
 * class axis, so it is stable for large logits. Supports class `weight`, `ignoreIndex` (indices
 * only), `labelSmoothing` and the three reductions, with PyTorch's normalization of 'mean'.
 *
 * @example
 * const logits = tensor([[2, 0.5, -1], [0, 1, 3]]);
 * nn.functional.crossEntropy(logits, tensor([0, 2]));                    // scalar
 * nn.functional.crossEntropy(logits, tensor([0, 2]), { labelSmoothing: 0.1 });
 * nn.functional.crossEntropy(logits, nn.functional.softmax(otherLogits, 1)); // soft targets
 */
export const crossEntropy = withCheckedOptions(
  'crossEntropy',
  CROSS_ENTROPY_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: CrossEntropyOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'crossEntropy';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const ignoreIndex = options.ignoreIndex ?? -100;
        const smoothing = checkNumber(op, 'labelSmoothing', options.labelSmoothing ?? 0, { min: 0, max: 1 });
        const x = floatTensor(op, input, 'input');
        const layout = classLayout(op, x);
        const weight = classWeight(op, options.weight, layout, x.dtype);
        const logProbabilities = logSoftmax(x, layout.classAxis);
        const weightAlongClasses =
          weight === null
            ? null
            : reshape(
                weight,
                x.shape.map((d, i) => (i === layout.classAxis ? d : 1)),
              );
        const t = toTensor(op, target, undefined, x);

        if (isFloating(t.dtype)) {
          if (!shapesEqual(t.shape, x.shape)) {
            throw new ShapeError(
              `${op}: class-probability targets must have the input's shape ${formatShape(x.shape)}, got ${formatShape(t.shape)}`,
            );
          }
          let probabilities = cast(t, x.dtype);
          if (smoothing > 0) probabilities = add(mul(probabilities, 1 - smoothing), smoothing / layout.classes);
          const terms = mul(logProbabilities, weightAlongClasses === null ? probabilities : mul(probabilities, weightAlongClasses));
          // As PyTorch: 'mean' divides by the number of targets, whatever the weights.
          return reduceLoss(neg(sum(terms, layout.classAxis)), reduction);
        }

        const y = indexTarget(op, x, t, layout, ignoreIndex);
        const { losses, weights, counted } = pickLogProbabilities(logProbabilities, y, weight, layout, ignoreIndex);
        const nll = reduction === 'mean' ? div(sum(losses), sum(weights)) : reduceLoss(losses, reduction);
        if (smoothing === 0) return nll;
        // The uniform part: -sum_c w_c log p_c per target, zero where ignored, normalized like the
        // likelihood part under 'mean' (by the counted targets' weights), then scaled by s / C.
        const weighted = weightAlongClasses === null ? logProbabilities : mul(logProbabilities, weightAlongClasses);
        const uniform = where(counted, neg(sum(weighted, layout.classAxis)), 0);
        const smooth = reduction === 'mean' ? div(sum(uniform), sum(weights)) : reduceLoss(uniform, reduction);
        return add(mul(nll, 1 - smoothing), mul(smooth, smoothing / layout.classes));
      });
    });
  },
);
