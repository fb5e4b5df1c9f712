import { PRIMITIVE_COUNT, Primitive } from '../primitives/primitive.js';

/**
 * Which primitives autocast touches, as data (PyTorch's autocast op lists, mapped onto Flint's
 * primitives). Every op reaches the backend as primitives, so listing primitives covers every
 * op built from them: `matmul`, `dot`, `einsum`, `linear` and attention all bind DotGeneral;
 * the convolutions bind Conv; `softmax`, `logSoftmax`, the losses and the norms bind Exp, Log,
 * ReduceSum, Rsqrt and friends. Primitives in neither list follow type promotion.
 */

/** Run in the autocast dtype: their floating inputs are cast down (PyTorch's lower-precision list). */
export const LOWER_PRECISION_PRIMITIVES: readonly Primitive[] = [Primitive.DotGeneral, Primitive.Conv];

/**
 * Run in float32: half inputs are cast up (PyTorch's float32 list: exp, log, log1p, expm1, pow,
 * reciprocal, rsqrt, tan, asin, acos, sum, prod, cumsum / cumprod, and through them softmax,
 * logSoftmax, logsumexp, the norms and the losses).
 */
export const FLOAT32_PRIMITIVES: readonly Primitive[] = [
  Primitive.Exp,
  Primitive.Log,
  Primitive.Log1p,
  Primitive.Expm1,
  Primitive.Pow,
  Primitive.Reciprocal,
  Primitive.Rsqrt,
  Primitive.Tan,
  Primitive.Asin,
  Primitive.Acos,
  Primitive.ReduceSum,
  Primitive.ReduceProd,
  Primitive.Cumulative,
];

/**
 * Ops that run whole in float32 under autocast (PyTorch's float32 list at the op level: layer_norm,
 * group_norm, batch_norm, rms_norm, the regression, classification and embedding losses,
 * softmax / log_softmax, cosine_similarity, normalize). Casting only their primitives is not
 * enough: the subtractions and squares between them (`x - mean`, `(x - mean)²`, `d²`) would run
 * in half and overflow past 65504. Each op calls `runInFloat32` (amp/autocast.ts) with its
 * name from this list: its half inputs are cast up, and autocast is suspended inside it.
 * An op missing from the list runs unchanged, its primitives following `FLOAT32_PRIMITIVES`.
 */
export const FLOAT32_OPS: readonly string[] = [
  'layerNorm',
  'groupNorm',
  'batchNorm',
  'rmsNorm',
  'normalize',
  'softmax',
  'logSoftmax',
  'mseLoss',
  'l1Loss',
  'smoothL1Loss',
  'huberLoss',
  'crossEntropy',
  'nllLoss',
  'binaryCrossEntropy',
  'binaryCrossEntropyWithLogits',
  'klDiv',
  'cosineEmbeddingLoss',
  'marginRankingLoss',
];

/** What autocast does with a primitive's inputs: nothing, cast down to the autocast dtype, or cast up to float32. */
export const CAST_NONE = 0;
export const CAST_LOWER = 1;
export const CAST_FLOAT32 = 2;

/** The lists as one table, indexed by primitive, that the dispatch hook reads. */
export function policyTable(): Uint8Array {
  const table = new Uint8Array(PRIMITIVE_COUNT);
  for (const p of LOWER_PRECISION_PRIMITIVES) table[p] = CAST_LOWER;
  for (const p of FLOAT32_PRIMITIVES) table[p] = CAST_FLOAT32;
  return table;
}
