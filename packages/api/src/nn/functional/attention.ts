import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { arange } from '../../ops/creation.js';
import { add, lessEqual, logicalNot, mul, where } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { narrow, reshape, swapaxes, transpose } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { mean } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { softmax } from './activations.js';
import { checkNumber, floatTensor } from './common.js';
import { dropout } from './dropout.js';
import { linear } from './linear.js';

// Where PyTorch's positional arguments go (see options-argument.ts). multiHeadAttention's
// arguments do not follow torch's multi_head_attention_forward, so none map there.
const SCALED_DOT_PRODUCT_ATTENTION_SIGNATURE = optionsSignature<ScaledDotProductAttentionOptions>(
  4,
  { attnMask: true, dropoutP: true, isCausal: true, scale: true, key: true },
  ['attnMask', 'dropoutP', 'isCausal', 'scale'],
);
const MULTI_HEAD_ATTENTION_SIGNATURE = optionsSignature<MultiHeadAttentionOptions>(
  5,
  {
    keyPaddingMask: true,
    attnMask: true,
    isCausal: true,
    needWeights: true,
    averageAttnWeights: true,
    dropoutP: true,
    training: true,
    key: true,
  },
  [],
);

// Scaled dot-product attention and the multi-head attention of torch.nn.MultiheadAttention,
// written in matmul and softmax.

/** Options of scaledDotProductAttention. */
export interface ScaledDotProductAttentionOptions {
  /**
   * A boolean mask where true marks the query/key pairs that take part (PyTorch's SDPA
   * convention), or a float mask added to the scores; broadcasts to [..., L, S].
   */
  readonly attnMask?: Tensor | null;
  /** Dropout probability on the attention weights (default 0). */
  readonly dropoutP?: number;
  /** Each query attends to keys at positions up to its own (top-left aligned); excludes attnMask. */
  readonly isCausal?: boolean;
  /** Multiplies the scores; default `1 / sqrt(E)`. */
  readonly scale?: number | null;
  /** A random key for the dropout mask (else the global generator). */
  readonly key?: Tensor;
}

/** A bool [L, S] mask that is true where key position <= query position. */
export function causalMask(like: Tensor, queries: number, keys: number): Tensor {
  const backend = backendOf(like)?.name;
  const options = backend === undefined ? {} : { backend };
  return lessEqual(reshape(arange(keys, options), [1, keys]), reshape(arange(queries, options), [queries, 1]));
}

/** Attention output and the weights it used. */
export interface AttentionResult {
  readonly output: Tensor;
  readonly weights: Tensor;
}

/** Applies a mask to scores: booleans keep where true (else -Infinity); floats add. */
function maskScores(scores: Tensor, mask: Tensor): Tensor {
  if (mask.dtype === 'bool') return where(mask, scores, Number.NEGATIVE_INFINITY);
  return add(scores, cast(mask, scores.dtype));
}

/** scaledDotProductAttention that also returns the attention weights. */
export function attentionWithWeights(
  query: TensorLike,
  key: TensorLike,
  value: TensorLike,
  options: ScaledDotProductAttentionOptions = {},
): AttentionResult {
  const op = 'scaledDotProductAttention';
  const q = floatTensor(op, query, 'query');
  const k = cast(floatTensor(op, key, 'key', q), q.dtype);
  const v = cast(floatTensor(op, value, 'value', q), q.dtype);
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    throw new ShapeError(
      `${op}: query, key and value must be [..., L, E], [..., S, E] and [..., S, Ev]; got ${formatShape(q.shape)}, ${formatShape(k.shape)} and ${formatShape(v.shape)}`,
    );
  }
  const embed = q.shape[q.ndim - 1] as number;
  if (k.shape[k.ndim - 1] !== embed)
    throw new ShapeError(`${op}: query ${formatShape(q.shape)} and key ${formatShape(k.shape)} must have the same last dimension`);
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2])
    throw new ShapeError(`${op}: key ${formatShape(k.shape)} and value ${formatShape(v.shape)} must have the same sequence length`);
  const scale = options.scale === undefined || options.scale === null ? 1 / Math.sqrt(embed) : checkNumber(op, 'scale', options.scale);
  const dropoutP = checkNumber(op, 'dropoutP', options.dropoutP ?? 0, { min: 0, max: 1 });
  const hasMask = options.attnMask !== undefined && options.attnMask !== null;
  if (options.isCausal === true && hasMask) throw new ValueError(`${op}: pass either attnMask or isCausal, not both`);
  let scores = mul(matmul(q, swapaxes(k, -2, -1)), scale);
  const queries = q.shape[q.ndim - 2] as number;
  const keys = k.shape[k.ndim - 2] as number;
  if (options.isCausal === true) scores = maskScores(scores, causalMask(q, queries, keys));
  else if (hasMask) scores = maskScores(scores, options.attnMask as Tensor);
  let weights = softmax(scores, -1);
  if (dropoutP > 0) weights = dropout(weights, dropoutP, options.key === undefined ? {} : { key: options.key });
  return { output: matmul(weights, v), weights };
}

/**
 * `softmax(q kᵀ * scale + mask) v` over query [..., L, E], key [..., S, E] and value [..., S, Ev]
 * (torch.nn.functional.scaled_dot_product_attention). A boolean `attnMask` is true where attention
 * is allowed; a float one is added to the scores. `isCausal` masks future keys.
 *
 * @example
 * nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true }); // [..., L, Ev]
 */
export const scaledDotProductAttention = withCheckedOptions(
  'scaledDotProductAttention',
  SCALED_DOT_PRODUCT_ATTENTION_SIGNATURE,
  (query: TensorLike, key: TensorLike, value: TensorLike, options: ScaledDotProductAttentionOptions = {}): Tensor => {
    return tidy(() => attentionWithWeights(query, key, value, options).output);
  },
);

/** The projection weights of multi-head attention. */
export interface MultiHeadAttentionWeights {
  readonly numHeads: number;
  /** [3E, E], packed query/key/value projection; or give the three below when key/value sizes differ. */
  readonly inProjWeight?: Tensor | null;
  readonly qProjWeight?: Tensor | null;
  readonly kProjWeight?: Tensor | null;
  readonly vProjWeight?: Tensor | null;
  /** [3E] */
  readonly inProjBias?: Tensor | null;
  /** [E, E] */
  readonly outProjWeight: Tensor;
  /** [E] */
  readonly outProjBias?: Tensor | null;
}

/** Options of multiHeadAttention. */
export interface MultiHeadAttentionOptions {
  /** Boolean [N, S], true at keys to ignore (padding); or float, added. */
  readonly keyPaddingMask?: Tensor | null;
  /** [L, S] or [N * numHeads, L, S]: boolean true where attention is NOT allowed (MultiheadAttention's convention), or float, added. */
  readonly attnMask?: Tensor | null;
  /** Without attnMask, apply a causal mask. */
  readonly isCausal?: boolean;
  /** Return the attention weights (default true). */
  readonly needWeights?: boolean;
  /** Average the returned weights over heads (default true); else one set per head. */
  readonly averageAttnWeights?: boolean;
  /** Dropout on the attention weights (default 0). */
  readonly dropoutP?: number;
  /** Whether dropout applies (default true). */
  readonly training?: boolean;
  readonly key?: Tensor;
}

/** An additive float mask from a boolean one (true -> -Infinity) or a float one. */
function additive(mask: Tensor, dtype: Tensor['dtype']): Tensor {
  return cast(mask.dtype === 'bool' ? where(mask, Number.NEGATIVE_INFINITY, 0) : mask, dtype);
}

/**
 * Multi-head attention over sequence-first inputs (torch.nn.functional.multi_head_attention_forward):
 * query [L, N, E] (or unbatched [L, E]), key [S, N, Ek], value [S, N, Ev]. Returns the output
 * [L, N, E] and, with `needWeights`, the attention weights [N, L, S] (averaged over heads) or
 * [N, numHeads, L, S].
 *
 * @example
 * const [out, weights] = nn.functional.multiHeadAttention(q, k, v, layerWeights, { keyPaddingMask });
 */
export const multiHeadAttention = withCheckedOptions(
  'multiHeadAttention',
  MULTI_HEAD_ATTENTION_SIGNATURE,
  (
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    weights: MultiHeadAttentionWeights,
    options: MultiHeadAttentionOptions = {},
  ): [Tensor, Tensor | null] => {
    return tidy(() => {
      const op = 'multiHeadAttention';
      let q = floatTensor(op, query, 'query');
      let k = cast(floatTensor(op, key, 'key', q), q.dtype);
      let v = cast(floatTensor(op, value, 'value', q), q.dtype);
      const unbatched = q.ndim === 2;
      if (unbatched) {
        if (k.ndim !== 2 || v.ndim !== 2)
          throw new ShapeError(
            `${op}: for an unbatched query [L, E], key and value must be [S, Ek] and [S, Ev]; got ${formatShape(k.shape)} and ${formatShape(v.shape)}`,
          );
        q = reshape(q, [q.shape[0] as number, 1, q.shape[1] as number]);
        k = reshape(k, [k.shape[0] as number, 1, k.shape[1] as number]);
        v = reshape(v, [v.shape[0] as number, 1, v.shape[1] as number]);
      } else if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3) {
        throw new ShapeError(
          `${op}: query, key and value must be [L, N, E], [S, N, Ek] and [S, N, Ev] (or unbatched without N); got ${formatShape(q.shape)}, ${formatShape(k.shape)} and ${formatShape(v.shape)}`,
        );
      }
      const [targetLength, batch, embed] = q.shape as [number, number, number];
      const sourceLength = k.shape[0] as number;
      if (k.shape[1] !== batch || v.shape[1] !== batch || v.shape[0] !== sourceLength) {
        throw new ShapeError(
          `${op}: query ${formatShape(q.shape)}, key ${formatShape(k.shape)} and value ${formatShape(v.shape)} disagree on batch size or key length`,
        );
      }
      const heads = weights.numHeads;
      if (!Number.isInteger(heads) || heads < 1 || embed % heads !== 0)
        throw new ValueError(`${op}: numHeads (${heads}) must divide the embedding size ${embed}`);
      const headDim = embed / heads;

      const bias = weights.inProjBias ?? null;
      const biasPart = (i: number): Tensor | null => (bias === null ? null : narrow(bias, 0, i * embed, embed));
      let wq: Tensor;
      let wk: Tensor;
      let wv: Tensor;
      if (weights.inProjWeight !== undefined && weights.inProjWeight !== null) {
        const packed = weights.inProjWeight;
        if (packed.ndim !== 2 || packed.shape[0] !== 3 * embed)
          throw new ShapeError(`${op}: inProjWeight must be [${3 * embed}, ${embed}], got ${formatShape(packed.shape)}`);
        wq = narrow(packed, 0, 0, embed);
        wk = narrow(packed, 0, embed, embed);
        wv = narrow(packed, 0, 2 * embed, embed);
      } else if (weights.qProjWeight && weights.kProjWeight && weights.vProjWeight) {
        wq = weights.qProjWeight;
        wk = weights.kProjWeight;
        wv = weights.vProjWeight;
      } else {
        throw new ValueError(`${op}: give inProjWeight, or all of qProjWeight, kProjWeight and vProjWeight`);
      }
      // [T, N, E] -> [N, heads, T, headDim]
      const split = (x: Tensor, length: number): Tensor => transpose(reshape(x, [length, batch, heads, headDim]), [1, 2, 0, 3]);
      const qh = split(linear(q, wq, biasPart(0)), targetLength);
      const kh = split(linear(k, wk, biasPart(1)), sourceLength);
      const vh = split(linear(v, wv, biasPart(2)), sourceLength);

      let mask: Tensor | null = null;
      if (options.attnMask !== undefined && options.attnMask !== null) {
        const m = options.attnMask;
        if (m.ndim === 2) {
          if (m.shape[0] !== targetLength || m.shape[1] !== sourceLength)
            throw new ShapeError(`${op}: attnMask must be [${targetLength}, ${sourceLength}], got ${formatShape(m.shape)}`);
          mask = reshape(additive(m, q.dtype), [1, 1, targetLength, sourceLength]);
        } else if (m.ndim === 3) {
          if (m.shape[0] !== batch * heads || m.shape[1] !== targetLength || m.shape[2] !== sourceLength) {
            throw new ShapeError(
              `${op}: a 3-d attnMask must be [${batch * heads}, ${targetLength}, ${sourceLength}], got ${formatShape(m.shape)}`,
            );
          }
          mask = reshape(additive(m, q.dtype), [batch, heads, targetLength, sourceLength]);
        } else throw new ShapeError(`${op}: attnMask must be 2-d or 3-d, got ${formatShape(m.shape)}`);
      } else if (options.isCausal === true) {
        mask = reshape(additive(logicalNot(causalMask(q, targetLength, sourceLength)), q.dtype), [1, 1, targetLength, sourceLength]);
      }
      if (options.keyPaddingMask !== undefined && options.keyPaddingMask !== null) {
        const m = options.keyPaddingMask;
        const expected = unbatched ? [sourceLength] : [batch, sourceLength];
        if (m.ndim !== expected.length || m.shape.some((d, i) => d !== expected[i])) {
          throw new ShapeError(`${op}: keyPaddingMask must be ${formatShape(expected)}, got ${formatShape(m.shape)}`);
        }
        const padding = reshape(additive(m, q.dtype), [batch, 1, 1, sourceLength]);
        mask = mask === null ? padding : add(mask, padding);
      }
      const training = options.training ?? true;
      const dropoutP = training ? (options.dropoutP ?? 0) : 0;
      const attention = attentionWithWeights(qh, kh, vh, {
        attnMask: mask,
        dropoutP,
        ...(options.key === undefined ? {} : { key: options.key }),
      });
      // [N, heads, L, headDim] -> [L, N, E]
      const merged = reshape(transpose(attention.output, [2, 0, 1, 3]), [targetLength, batch, embed]);
      let output = linear(merged, weights.outProjWeight, weights.outProjBias ?? null);
      if (unbatched) output = reshape(output, [targetLength, embed]);
      if (options.needWeights === false) return [output, null];
      let attentionWeights = options.averageAttnWeights === false ? attention.weights : mean(attention.weights, 1);
      if (unbatched) attentionWeights = reshape(attentionWeights, attentionWeights.shape.slice(1));
      return [output, attentionWeights];
    });
  },
);
