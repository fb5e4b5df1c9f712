import { type DType, isHalf } from '../../core/dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { broadcastTo, cast } from '../../ops/broadcast.js';
import { type TensorLike, tensor, toTensor } from '../../ops/convert.js';
import { arange, full } from '../../ops/creation.js';
import {
  add,
  clamp,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  log,
  logicalAnd,
  maximum,
  mul,
  neg,
  notEqual,
  sub,
  where,
} from '../../ops/elementwise.js';
import { gather, index, take } from '../../ops/indexing.js';
import { concat, pad, reshape, slice, squeeze, stack } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { max, sum } from '../../ops/reduce.js';
import { Primitive } from '../../primitives/primitive.js';
import { bind } from '../../tensor/dispatch.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { checkReduction, floatTensor, type Reduction, stopGradient } from './common.js';

// Connectionist temporal classification loss (torch.nn.functional.ctc_loss): the negative log
// of the total probability of every alignment of a target sequence to the input frames, where
// an alignment may repeat labels and insert blanks. Computed by the forward (alpha) recursion in
// log space over the target extended with blanks (blank, y1, blank, y2, ..., blank): T steps of
// elementwise ops on [N, 2S + 1], on any backend, with no host reads once the targets are
// padded. Its gradient is the autodiff of that recursion: the beta recursion is its transpose.

const CTC_SIGNATURE = optionsSignature<CtcLossOptions>(5, { blank: true, reduction: true, zeroInfinity: true }, [
  'blank',
  'reduction',
  'zeroInfinity',
]);

/** Options of ctcLoss. */
export interface CtcLossOptions {
  /** The blank label's class index (default 0). */
  readonly blank?: number;
  /** 'mean' (the default) divides each loss by its target length, then averages over the batch. */
  readonly reduction?: Reduction;
  /** Replace infinite losses (targets too long for their input) and their gradients by 0 (default false). */
  readonly zeroInfinity?: boolean;
}

/**
 * The CTC loss of `logProbs` ([T, N, C] log-probabilities, e.g. `logSoftmax(x, 2)`, or [T, C]
 * unbatched) for `targets`, as torch.nn.functional.ctc_loss. Targets are padded [N, S] class
 * indices (values past a sequence's length are ignored) or all sequences concatenated in one
 * 1-d tensor; `inputLengths` and `targetLengths` give each sequence's lengths (arrays, integer
 * tensors, or numbers when unbatched). Where the targets and lengths can be read synchronously
 * they are checked (in range, no blank inside a target, lengths within T and S); concatenated
 * targets need them on the host.
 *
 * @example
 * const logProbs = nn.functional.logSoftmax(model(frames), 2); // [T, N, C]
 * nn.functional.ctcLoss(logProbs, labels, [50, 42], [12, 9]);
 */
export const ctcLoss = withCheckedOptions(
  'ctcLoss',
  CTC_SIGNATURE,
  (logProbs: TensorLike, targets: TensorLike, inputLengths: TensorLike, targetLengths: TensorLike, options: CtcLossOptions = {}): Tensor =>
    tidy(() => ctc(logProbs, targets, inputLengths, targetLengths, options)),
);

const op = 'ctcLoss';

/**
 * The log-probability of an unreachable position: finite, so that the recursion never subtracts
 * two infinities, and far below any reachable one (a sum of T log-probabilities).
 */
const UNREACHABLE = -1e30;

function ctc(
  logProbs: TensorLike,
  targets: TensorLike,
  inputLengths: TensorLike,
  targetLengths: TensorLike,
  options: CtcLossOptions,
): Tensor {
  const reduction = checkReduction(op, options.reduction);
  const zeroInfinity = options.zeroInfinity ?? false;
  if (typeof zeroInfinity !== 'boolean') throw new ValueError(`${op}: zeroInfinity must be a boolean, got ${JSON.stringify(zeroInfinity)}`);
  const input = floatTensor(op, logProbs, 'logProbs');
  if (input.ndim !== 3 && input.ndim !== 2) {
    throw new ShapeError(`${op}: logProbs must be [T, N, C] (or [T, C] unbatched), got ${formatShape(input.shape)}`);
  }
  const unbatched = input.ndim === 2;
  // Half precision computes in float32: the recursion adds T log-probabilities.
  const lp0 = unbatched ? reshape(input, [input.shape[0] as number, 1, input.shape[1] as number]) : input;
  const lp = isHalf(lp0.dtype) ? cast(lp0, 'float32') : lp0;
  const [frames, batch, classes] = lp.shape as [number, number, number];
  const blank = options.blank ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || blank >= classes) {
    throw new ValueError(`${op}: blank must be a class index in 0..${classes - 1}, got ${JSON.stringify(options.blank)}`);
  }
  const inputLens = lengthsTensor('inputLengths', inputLengths, batch, unbatched, lp);
  const targetLens = lengthsTensor('targetLengths', targetLengths, batch, unbatched, lp);
  const padded = paddedTargets(targets, targetLens, batch, unbatched, lp);
  checkReadable(padded, inputLens, targetLens, frames, classes, blank);

  const backend = backendOf(lp)?.name;
  const longest = padded.shape[1] as number;
  const columns = arange(longest, { backend });
  const lensColumn = reshape(targetLens, [batch, 1]);
  // Labels past a sequence's length become blanks, so that any padding value gathers in range.
  const labels = where(less(columns, lensColumn), padded, blank);
  const extended = extendWithBlanks(labels, blank);
  const positions = extended.shape[1] as number;
  const emissions = gather(lp, 2, broadcastTo(reshape(extended, [1, batch, positions]), [frames, batch, positions]));

  // Position s is reached from s (a repeat), s - 1, and s - 2 when s is a label that differs from
  // the one two back (skipping the blank between them). Each step gathers those three
  // predecessors of every position ([N, 3, P]) and adds a penalty that rules out the missing ones.
  const predecessors = predecessorIndex(positions, backend);
  const penalty = predecessorPenalty(extended, blank, lp.dtype);
  // Whether frame t is inside each sequence ([T, N, 1]): past its end, a sequence's alphas stay.
  const inFrame = less(reshape(arange(frames, { backend }), [frames, 1, 1]), reshape(inputLens, [1, batch, 1]));

  // At t = 0 only the first blank and the first label are reachable; an empty input emits the
  // empty sequence with probability 1 (alpha 0 at position 0).
  const positionIndex = arange(positions, { backend });
  const start = where(less(positionIndex, 2), index(emissions, 0), UNREACHABLE);
  let alpha = where(greater(reshape(inputLens, [batch, 1]), 0), start, where(equal(positionIndex, 0), 0, UNREACHABLE));
  for (let t = 1; t < frames; t++) {
    const incoming = add(bind(Primitive.Gather, [alpha, predecessors], { axis: 1 }), penalty);
    const next = add(index(emissions, t), logSumExp(incoming, 1));
    alpha = where(index(inFrame, t), next, alpha);
  }

  // The alignment ends on the last label or the blank after it.
  const lastBlank = mul(lensColumn, 2);
  const ends = concat([lastBlank, sub(lastBlank, 1)], 1);
  // An empty target has no last label (position -1).
  const final = add(gather(alpha, 1, maximum(ends, 0)), where(less(ends, 0), UNREACHABLE, 0));
  const logLikelihood = logSumExp(final, 1);
  // A sequence with no alignment ends at the sentinel's scale: its loss is +Infinity.
  let losses = where(less(logLikelihood, UNREACHABLE / 2), Number.POSITIVE_INFINITY, neg(logLikelihood));
  if (zeroInfinity) losses = where(equal(losses, Number.POSITIVE_INFINITY), 0, losses);
  const result =
    reduction === 'none'
      ? unbatched
        ? reshape(losses, [])
        : losses
      : reduction === 'sum'
        ? losses.sum()
        : losses.div(clamp(cast(targetLens, lp.dtype), 1)).mean();
  return isHalf(lp0.dtype) ? cast(result, lp0.dtype) : result;
}

/** Lengths as int32 [N]: an array, an integer tensor, or a number when unbatched. */
function lengthsTensor(what: string, lengths: TensorLike, batch: number, unbatched: boolean, like: Tensor): Tensor {
  const t = toTensor(op, lengths, undefined, like);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8') throw new DTypeError(`${op}: ${what} must hold integers, got ${t.dtype}`);
  const expected = unbatched ? [[], [1]] : [[batch]];
  if (!expected.some((shape) => shape.length === t.ndim && shape.every((d, i) => d === t.shape[i]))) {
    throw new ShapeError(
      `${op}: ${what} must have shape ${formatShape(expected[expected.length - 1] as number[])} (one per sequence), got ${formatShape(t.shape)}`,
    );
  }
  return reshape(cast(t, 'int32'), [batch]);
}

/** Targets as int32 [N, S]: padded ones as they are, concatenated ones gathered per sequence. */
function paddedTargets(targets: TensorLike, targetLens: Tensor, batch: number, unbatched: boolean, like: Tensor): Tensor {
  const t = toTensor(op, targets, undefined, like);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8')
    throw new DTypeError(`${op}: targets must be class indices (int32 or uint8), got ${t.dtype}`);
  const labels = cast(t, 'int32');
  if (unbatched) {
    if (t.ndim !== 1) throw new ShapeError(`${op}: unbatched targets must be [S], got ${formatShape(t.shape)}`);
    return reshape(labels, [1, t.shape[0] as number]);
  }
  if (t.ndim === 2) {
    if (t.shape[0] !== batch) throw new ShapeError(`${op}: padded targets must be [N, S] with N = ${batch}, got ${formatShape(t.shape)}`);
    return labels;
  }
  if (t.ndim !== 1)
    throw new ShapeError(`${op}: targets must be padded [N, S] or concatenated [sum of lengths], got ${formatShape(t.shape)}`);
  const lens = hostValues(targetLens);
  if (lens === undefined) {
    throw new ValueError(
      `${op}: concatenated targets need their lengths on the host (an array, or a tensor on a backend that reads synchronously); pass padded [N, S] targets instead`,
    );
  }
  const total = lens.reduce((a, b) => a + b, 0);
  if (lens.some((l) => l < 0) || total > (t.shape[0] as number)) {
    throw new ShapeError(`${op}: targetLengths [${lens.join(', ')}] need ${total} concatenated targets, got ${formatShape(t.shape)}`);
  }
  const longest = Math.max(1, ...lens);
  const picks = new Int32Array(batch * longest);
  let offset = 0;
  lens.forEach((length, n) => {
    for (let l = 0; l < longest; l++) picks[n * longest + l] = offset + Math.min(l, Math.max(length - 1, 0));
    offset += length;
  });
  // Every sequence empty: nothing to gather, and the labels are never read.
  if (total === 0) return full([batch, longest], 0, { dtype: 'int32', backend: backendOf(like)?.name });
  return reshape(take(labels, toTensor(op, picks, undefined, like), 0), [batch, longest]);
}

/** The values of a small int tensor when its backend reads synchronously (and it is concrete). */
function hostValues(t: Tensor): number[] | undefined {
  const backend = t._backend;
  if (backend === null || backend.readSync === undefined) return undefined;
  return Array.from(t.dataSync());
}

function checkReadable(padded: Tensor, inputLens: Tensor, targetLens: Tensor, frames: number, classes: number, blank: number): void {
  const ins = hostValues(inputLens);
  const outs = hostValues(targetLens);
  const labels = padded.size <= 1 << 20 ? hostValues(padded) : undefined;
  const longest = padded.shape[1] as number;
  ins?.forEach((l, n) => {
    if (l < 0 || l > frames) throw new ValueError(`${op}: inputLengths[${n}] is ${l}, outside 0..${frames} (T)`);
  });
  outs?.forEach((l, n) => {
    if (l < 0 || l > longest) throw new ValueError(`${op}: targetLengths[${n}] is ${l}, outside 0..${longest} (the targets' S)`);
  });
  if (outs === undefined || labels === undefined) return;
  outs.forEach((length, n) => {
    for (let l = 0; l < length; l++) {
      const v = labels[n * longest + l] as number;
      if (v < 0 || v >= classes || v === blank) {
        throw new IndexError(
          `${op}: target ${v} of sequence ${n} (position ${l}) is ${v === blank ? 'the blank label' : `out of range for ${classes} classes`}`,
        );
      }
    }
  });
}

/** [blank, y1, blank, y2, ..., blank]: [N, S] labels to [N, 2S + 1]. */
function extendWithBlanks(labels: Tensor, blank: number): Tensor {
  const [batch, longest] = labels.shape as [number, number];
  const blanks = full([batch, longest], blank, { dtype: 'int32', backend: backendOf(labels)?.name });
  const pairs = reshape(stack([blanks, labels], 2), [batch, 2 * longest]);
  return pad(
    pairs,
    [
      [0, 0],
      [0, 1],
    ],
    { value: blank },
  );
}

/** The three predecessors (s, s - 1, s - 2, clamped at 0) of each of `positions` positions: int32 [3, P]. */
function predecessorIndex(positions: number, backend: string | undefined): Tensor {
  const data = new Int32Array(positions * 3);
  for (let s = 0; s < positions; s++) {
    data[s] = s;
    data[positions + s] = Math.max(s - 1, 0);
    data[2 * positions + s] = Math.max(s - 2, 0);
  }
  return tensor(data, { shape: [3, positions], ...(backend === undefined ? {} : { backend }) });
}

/**
 * 0 where a predecessor may precede a position, UNREACHABLE where not ([N, 3, P]): s - 1 needs
 * s >= 1; s - 2 needs s >= 2, a label at s, and a different label at s - 2.
 */
function predecessorPenalty(extended: Tensor, blank: number, dtype: DType): Tensor {
  const [batch, positions] = extended.shape as [number, number];
  const s = arange(positions, { backend: backendOf(extended)?.name });
  const twoBack = slice(
    pad(
      extended,
      [
        [0, 0],
        [2, 0],
      ],
      { value: blank },
    ),
    [0, 0],
    [batch, positions],
  );
  const canSkip = logicalAnd(greaterEqual(s, 2), logicalAnd(notEqual(extended, blank), notEqual(extended, twoBack)));
  const penalty = (allowed: Tensor) => broadcastTo(where(allowed, 0, UNREACHABLE), [batch, positions]);
  return cast(stack([penalty(greaterEqual(s, 0)), penalty(greaterEqual(s, 1)), penalty(canSkip)], 1), dtype);
}

/**
 * log(sum(exp(x))) over `axis`, shifted by its (finite) maximum: every term is finite, so neither
 * the value nor the gradient meets an infinity. The recursion's sentinel keeps every input
 * finite, so this needs neither the guard of ops' `logSumExp` against an infinite maximum nor the
 * maximum's own gradient: three ops a step fewer forward, and fewer backward.
 */
function logSumExp(x: Tensor, axis: number): Tensor {
  const top = stopGradient(max(x, axis, true));
  return add(squeeze(top, axis), log(sum(exp(sub(x, top)), axis)));
}
