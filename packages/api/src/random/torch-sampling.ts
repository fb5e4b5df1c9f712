import { checkDType, type DType, isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { add, greater, log, minimum, mul, where } from '../ops/elementwise.js';
import { reshape, slice } from '../ops/movement.js';
import { cumsum, max } from '../ops/reduce.js';
import { searchsorted } from '../ops/searching.js';
import { topk } from '../ops/sort.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { gumbel } from './continuous.js';
import { poisson as poissonWithKey } from './discrete.js';
import { bernoulli as bernoulliWithKey, normal, randint, uniform } from './distributions.js';
import { draw, type GeneratorOptions } from './generator.js';

// PyTorch's samplers that take their parameters from a tensor and draw from the global generator
// (manualSeed): multinomial, poisson, bernoulli and the *_like creators. Each is one draw of the
// generator, as randn is, so seeded programs repeat and jit threads the generator through them.

/** The backend a sample drawn for `t` lives on: t's, or the default one for a traced tensor (whose draw reads the trace's generator). */
function backendName(t: Tensor): string | undefined {
  return backendOf(t)?.name;
}

/** Options of `multinomial`. */
export interface MultinomialOptions {
  /** Draw with replacement (default false, as torch). */
  readonly replacement?: boolean;
}

/**
 * Indices of categories drawn from the rows of `input`, non-negative weights (torch.multinomial):
 * [C] gives [numSamples], [R, C] gives [R, numSamples], int32 (PyTorch: int64). The weights need
 * not sum to 1. Without replacement (the default) the picks of a row are distinct, weighted by the
 * Gumbel-top-k trick, and a row needs at least numSamples positive weights; with replacement each
 * pick inverts the row's cumulative weights. Weights are checked (finite, non-negative, a positive
 * sum per row) where they can be read now, as on the CPU backends.
 *
 * @example
 * manualSeed(0);
 * multinomial(tensor([0.1, 0.6, 0.3]), 2);                        // two distinct categories
 * multinomial(softmax(logits), 1, { replacement: true });         // one token per row
 */
export function multinomial(input: TensorLike, numSamples: number, options: MultinomialOptions = {}): Tensor {
  return tidy(() => {
    const op = 'multinomial';
    const given = toTensor(op, input);
    if (given.ndim !== 1 && given.ndim !== 2)
      throw new ShapeError(`${op}: input must be 1-D or 2-D, got shape ${formatShape(given.shape)}`);
    if (given.dtype === 'bool') throw new DTypeError(`${op}: input must hold numeric weights, got bool`);
    const replacement = options.replacement ?? false;
    if (typeof replacement !== 'boolean') throw new ValueError(`${op}: replacement must be a boolean, got ${String(replacement)}`);
    const categories = given.shape[given.ndim - 1] as number;
    if (!Number.isInteger(numSamples) || numSamples <= 0)
      throw new ValueError(`${op}: numSamples must be a positive integer, got ${numSamples}`);
    if (categories === 0) throw new ValueError(`${op}: input has no categories (its last axis is 0)`);
    if (!replacement && numSamples > categories) {
      throw new ValueError(`${op}: cannot draw ${numSamples} samples without replacement from ${categories} categories`);
    }
    checkWeights(op, given, replacement ? 1 : numSamples);
    return draw(backendName(given), (k) => {
      const weights = reshape(isFloating(given.dtype) ? given : cast(given, 'float32'), [-1, categories]);
      const rows = weights.shape[0] as number;
      const picks = replacement ? drawWithReplacement(k, weights, numSamples) : drawWithoutReplacement(k, weights, numSamples);
      return given.ndim === 1 ? reshape(picks, [numSamples]) : reshape(picks, [rows, numSamples]);
    });
  });
}

/** [R, S] picks by inverting each row's cumulative weights at uniform points below its total. */
function drawWithReplacement(k: Tensor, weights: Tensor, samples: number): Tensor {
  const [rows, categories] = weights.shape as [number, number];
  const cdf = cumsum(weights, -1);
  const total = slice(cdf, [0, categories - 1], [rows, categories]);
  const points = mul(uniform(k, [rows, samples], { dtype: weights.dtype }), total);
  const picks = searchsorted(cdf, points, { right: true });
  // A point rounded up to the total would land past the end, or on trailing zero weights: the
  // last positive category takes it.
  const positions = bind(Primitive.Iota, [], { shape: [1, categories], axis: 1, dtype: 'int32' });
  const lastPositive = max(where(greater(weights, 0), positions, 0), -1, true);
  return minimum(picks, lastPositive);
}

/** [R, S] distinct picks: the S largest log-weights plus Gumbel noise. */
function drawWithoutReplacement(k: Tensor, weights: Tensor, samples: number): Tensor {
  const keys = add(log(weights), gumbel(k, weights.shape, { dtype: weights.dtype }));
  return topk(keys, samples, -1).indices;
}

/** Weights finite and non-negative, each row with at least `positive` positive entries, where they can be read now. */
function checkWeights(op: string, weights: Tensor, positive: number): void {
  const backend = weights._backend;
  if (backend === null || backend.readSync === undefined || weights.size > 1 << 22) return;
  const data = weights.dataSync();
  const categories = weights.shape[weights.ndim - 1] as number;
  for (let row = 0; row * categories < data.length; row++) {
    let count = 0;
    for (let j = 0; j < categories; j++) {
      const v = data[row * categories + j] as number;
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new ValueError(`${op}: weights must be finite and non-negative, got ${v} at row ${row}, category ${j}`);
      }
      if (v > 0) count++;
    }
    if (count === 0) throw new ValueError(`${op}: row ${row} has no positive weight (its weights sum to 0)`);
    if (count < positive) {
      throw new ValueError(
        `${op}: row ${row} has ${count} positive weights, too few to draw ${positive} distinct categories without replacement`,
      );
    }
  }
}

/**
 * Poisson samples with the rates in `rates` (torch.poisson), in the rates' dtype.
 *
 * @example
 * poisson(tensor([0.5, 4, 100]));
 */
export function poisson(rates: TensorLike): Tensor {
  return tidy(() => {
    const op = 'poisson';
    const r = toTensor(op, rates);
    if (!isFloating(r.dtype)) throw new DTypeError(`${op}: rates must be floating, got ${r.dtype}`);
    return draw(backendName(r), (k) => poissonWithKey(k, r, undefined, { dtype: r.dtype }));
  });
}

/**
 * 0 or 1, drawn with the probabilities in `input` (torch.bernoulli), in its dtype; with `p`, that
 * probability everywhere instead, in `input`'s shape.
 *
 * @example
 * bernoulli(tensor([0.1, 0.9]));
 * bernoulli(zeros([2, 3]), { p: 0.5 });
 */
export function bernoulli(input: TensorLike, options: { readonly p?: number } = {}): Tensor {
  return tidy(() => {
    const op = 'bernoulli';
    const probabilities = toTensor(op, input);
    if (!isFloating(probabilities.dtype)) throw new DTypeError(`${op}: input must be floating, got ${probabilities.dtype}`);
    const { p } = options;
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new ValueError(`${op}: p must be in [0, 1], got ${p}`);
    return draw(backendName(probabilities), (k) => cast(bernoulliWithKey(k, p ?? probabilities, probabilities.shape), probabilities.dtype));
  });
}

/** The dtype of a `*Like` sample: the option's, else the template's. */
function likeDType(op: string, template: Tensor, options: GeneratorOptions): DType {
  return options.dtype === undefined ? template.dtype : checkDType(op, options.dtype);
}

/**
 * Samples uniform in [0, 1) shaped like `x` (torch.rand_like), in its dtype and on its backend
 * unless the options say otherwise.
 *
 * @example
 * const noise = randLike(images);
 */
export function randLike(x: Tensor, options: GeneratorOptions = {}): Tensor {
  const dtype = likeDType('randLike', x, options);
  if (!isFloating(dtype)) throw new DTypeError(`randLike: dtype must be floating, got ${dtype}`);
  return draw(options.backend ?? backendName(x), (k) => uniform(k, x.shape, { dtype }));
}

/**
 * Standard normal samples shaped like `x` (torch.randn_like).
 *
 * @example
 * const eps = randnLike(mu); // the reparameterization trick: mu + sigma * eps
 */
export function randnLike(x: Tensor, options: GeneratorOptions = {}): Tensor {
  const dtype = likeDType('randnLike', x, options);
  if (!isFloating(dtype)) throw new DTypeError(`randnLike: dtype must be floating, got ${dtype}`);
  return draw(options.backend ?? backendName(x), (k) => normal(k, x.shape, { dtype }));
}

/**
 * Integers uniform in [low, high) shaped like `x` (torch.randint_like): `randintLike(x, high)` or
 * `randintLike(x, low, high)`, in x's dtype unless `dtype` says otherwise.
 *
 * @example
 * randintLike(labels, 10);
 */
export function randintLike(x: Tensor, high: number, options?: GeneratorOptions): Tensor;
export function randintLike(x: Tensor, low: number, high: number, options?: GeneratorOptions): Tensor;
export function randintLike(x: Tensor, a: number, b?: number | GeneratorOptions, c?: GeneratorOptions): Tensor {
  const withLow = typeof b === 'number';
  const low = withLow ? a : 0;
  const high = withLow ? b : a;
  const options = (withLow ? c : b) ?? {};
  const dtype = likeDType('randintLike', x, options);
  return draw(options.backend ?? backendName(x), (k) => cast(randint(k, x.shape, low, high), dtype));
}
