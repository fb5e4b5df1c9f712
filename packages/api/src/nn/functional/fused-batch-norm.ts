import { kernelOperands, runFusedBackward } from '../../autograd/fused-backward.js';
import { anyRecorded } from '../../autograd/grad-mode.js';
import { runCompositeKernel } from '../../backend/composite-kernels.js';
import type { Aval } from '../../core/aval.js';
import { isHalf } from '../../core/dtype.js';
import type { CompositeCall } from '../../ir/composite.js';
import { registerCompositeBinder } from '../../jit/composite-binders.js';
import { broadcastTo } from '../../ops/broadcast.js';
import { add, div, mul, rsqrt, sub } from '../../ops/elementwise.js';
import { reshape } from '../../ops/movement.js';
import { sum } from '../../ops/reduce.js';
import { releasing } from '../../tensor/memory.js';
import { Tensor } from '../../tensor/tensor.js';
import { runsEagerly, stageComposite } from '../../transforms/core.js';
import { type Composite, composite, cotangentAvals, normalizedInputCotangent } from './fused-composite.js';

// Batch normalization with the batch's statistics as a composite (PyTorch's native_batch_norm and
// native_batch_norm_backward), computed by a backend's fused kernels where it has them, exactly as
// softmax and layer norm are (see fused-composite.ts). Its outputs are the normalized input and
// the per-channel mean and biased variance, which a layer averages into its running statistics.
// The VJP takes symbolic zeros: the statistics are seldom differentiated, and when they are not,
// the backward pass is the output's alone, which the backend's backward kernel computes. It saves
// the statistics (outputs, so that a recorded backward pass differentiates through them) instead
// of recomputing them from the input.

/** What batchNorm computes: the output, and the batch's mean and biased variance per channel. */
export interface BatchNormParts {
  readonly output: Tensor;
  readonly mean: Tensor;
  readonly variance: Tensor;
}

/** Reshapes a per-channel vector [C] to broadcast along axis 1 of a rank-`rank` tensor. */
export function alongChannels(v: Tensor, rank: number): Tensor {
  return reshape(v, [1, v.shape[0] as number, ...new Array<number>(Math.max(0, rank - 2)).fill(1)]);
}

/** Every axis of a rank-`rank` tensor but the channel axis 1: what batch norm's statistics reduce. */
function statisticsAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1);
}

/**
 * Batch normalization with the batch's statistics of `x` ([N, C, ...], at least two values per
 * channel, already checked), `weight` and `bias` null or [C]; `decompose` computes the output and
 * the statistics in primitives. Half inputs, whose statistics are float32, and weights of another
 * dtype run `decompose` as it is.
 */
export function compositeBatchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  decompose: (x: Tensor, weight: Tensor | null, bias: Tensor | null) => Tensor[],
): BatchNormParts {
  const parts = (list: readonly Tensor[]): BatchNormParts => ({
    output: list[0] as Tensor,
    mean: list[1] as Tensor,
    variance: list[2] as Tensor,
  });
  if (isHalf(x.dtype) || (weight !== null && weight.dtype !== x.dtype) || (bias !== null && bias.dtype !== x.dtype)) {
    return parts(decompose(x, weight, bias));
  }
  const hasWeight = weight !== null;
  const hasBias = bias !== null;
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  const op = batchNormComposite({ name: 'batchNorm', eps, hasWeight, hasBias }, (xs) =>
    decompose(xs[0] as Tensor, hasWeight ? (xs[1] as Tensor) : null, hasBias ? (xs[hasWeight ? 2 : 1] as Tensor) : null),
  );
  return parts(composite(op, inputs));
}

function batchNormComposite(
  call: Extract<CompositeCall, { name: 'batchNorm' }>,
  decompose: (inputs: readonly Tensor[]) => Tensor[],
): Composite {
  const { eps, hasWeight, hasBias } = call;
  return {
    call,
    outputs: ([x]) => {
      const vector: Aval = { shape: [(x as Tensor).shape[1] as number], dtype: (x as Tensor).dtype };
      return [{ shape: (x as Tensor).shape, dtype: (x as Tensor).dtype }, vector, vector];
    },
    decompose,
    saves: (xs, [, m, v]) => [xs[0] as Tensor, m as Tensor, v as Tensor, ...(hasWeight ? [xs[1] as Tensor] : [])],
    vjp: (saved, cotangents) => batchNormVjp(saved, cotangents, hasWeight, hasBias, eps),
    symbolicZeros: true,
  };
}

registerCompositeBinder('batchNorm', (call, inputs, body) => composite(batchNormComposite(call, body), inputs));

/**
 * d batchNorm from the saved [x, mean, variance, weight?] and the cotangents of the output, the
 * mean and the variance (null where none came): the output's part by the backend's backward
 * kernel when it applies, else by batchNormCotangents marked as the composite; the statistics'
 * parts, `gMean / n` and `gVariance * 2 (x - mean) / n` with n values per channel, in ops.
 */
function batchNormVjp(
  saved: readonly Tensor[],
  [g, gMean, gVariance]: readonly (Tensor | null)[],
  hasWeight: boolean,
  hasBias: boolean,
  eps: number,
): (Tensor | null)[] {
  const [x, m, v, weight] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
  // The input's cotangent, then the weight's and the bias's where present (null: none came).
  let cotangents: (Tensor | null)[] = [null, ...(hasWeight ? [null] : []), ...(hasBias ? [null] : [])];
  if (g !== undefined && g !== null) {
    const call: CompositeCall = { name: 'batchNormBackward', eps, hasWeight, hasBias };
    const arguments_ = weight === undefined ? [x, m, v, g] : [x, m, v, weight, g];
    cotangents =
      runFusedBackward(call, arguments_, cotangentAvals(x, { shape: m.shape, dtype: x.dtype }, hasWeight, hasBias)) ??
      stageComposite(call, arguments_, () => batchNormCotangents(x, m, v, weight ?? null, g, hasBias, eps));
  }
  const statistics = statisticsCotangent(x, m, gMean ?? null, gVariance ?? null);
  const gx = cotangents[0] ?? null;
  if (statistics !== null) cotangents[0] = gx === null ? statistics : releasing(add(gx, statistics), gx, statistics);
  return cotangents;
}

/** The input's cotangent through the batch mean and biased variance, or null when neither has a cotangent. */
function statisticsCotangent(x: Tensor, m: Tensor, gMean: Tensor | null, gVariance: Tensor | null): Tensor | null {
  const count = x.size / (x.shape[1] as number);
  let total: Tensor | null = null;
  if (gVariance !== null) {
    const centered = sub(x, alongChannels(m, x.ndim));
    total = releasing(mul(centered, alongChannels(mul(gVariance, 2 / count), x.ndim)), centered);
  }
  if (gMean !== null) {
    const shift = alongChannels(div(gMean, count), x.ndim);
    total = total === null ? broadcastTo(shift, x.shape) : releasing(add(total, shift), total);
  }
  return total;
}

/**
 * The cotangents of batch norm's input, and of its weight and bias where present, from the
 * output's cotangent `g` and the forward pass's statistics, in ordinary ops: with
 * `r = 1 / sqrt(variance + eps)`, `xhat = (x - mean) * r` and `h = g * weight`, the input's is
 * `r * (h - mean(h) - xhat * mean(h * xhat))`, the weight's `sum(g * xhat)` and the bias's
 * `sum(g)`, means and sums per channel.
 */
function batchNormCotangents(x: Tensor, m: Tensor, v: Tensor, weight: Tensor | null, g: Tensor, hasBias: boolean, eps: number): Tensor[] {
  const axes = statisticsAxes(x.ndim);
  const shifted = add(v, eps);
  const r = alongChannels(rsqrt(shifted), x.ndim);
  const centered = sub(x, alongChannels(m, x.ndim));
  const normalized = mul(centered, r);
  const h = weight === null ? g : mul(g, alongChannels(weight, x.ndim));
  const cotangents: Tensor[] = [normalizedInputCotangent(h, normalized, r, axes)];
  const temporaries = [shifted, centered];
  if (h !== g) temporaries.push(h);
  if (weight !== null) {
    const product = mul(g, normalized);
    cotangents.push(sum(product, axes));
    temporaries.push(product);
  }
  if (hasBias) cotangents.push(sum(g, axes));
  return releasing(cotangents, ...temporaries, normalized);
}

/**
 * Batch normalization with given statistics (inference mode) of `x` ([N, C, ...]); `mean`,
 * `variance`, `weight` and `bias` are [C] (the latter two may be null), already checked.
 * It is one elementwise pass: the backend's `batchNormInference` kernel computes it when nothing
 * differentiates it (no transform traces an input, and the tape records none, as in an
 * evaluation loop under `noGrad`); otherwise `decompose`'s primitives do, which jit fuses into
 * one kernel and the tape differentiates only where an input needs it (a frozen layer's
 * statistics do not).
 */
export function batchNormWithStatistics(
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  decompose: () => Tensor,
): Tensor {
  const inputs = [x, mean, variance];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  if (isHalf(x.dtype) || !runsEagerly(inputs) || anyRecorded(inputs)) return decompose();
  // Null also where the statistics or the weight have another dtype than x: the kernel takes one.
  const operands = kernelOperands(inputs, true);
  if (operands === null) return decompose();
  const call: CompositeCall = { name: 'batchNormInference', eps, hasWeight: weight !== null, hasBias: bias !== null };
  const out: Aval = { shape: x.shape, dtype: x.dtype };
  const results = runCompositeKernel(operands.backend, call, operands.handles, [out]);
  return results === null ? decompose() : new Tensor(out.shape, out.dtype, operands.backend, results[0]);
}
