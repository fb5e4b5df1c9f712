import { isFloating } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { arange } from '../../ops/creation.js';
import { notEqual, where } from '../../ops/elementwise.js';
import { reshape } from '../../ops/movement.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { embedding } from '../functional/embedding.js';
import { type EmbeddingBagMode, embeddingBag } from '../functional/embedding-bag.js';
import { normal } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, initOptions, parameter, positiveInteger } from './common.js';

/** Options of Embedding. */
export interface EmbeddingLayerOptions extends FactoryOptions {
  /** This row starts at zero and gets no gradient (a padding token). */
  readonly paddingIdx?: number | null;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (torch.nn.Embedding),
 * initialized from N(0, 1) with the padding row zero.
 *
 * @example
 * const embed = new nn.Embedding(10000, 256, { paddingIdx: 0 });
 * embed.forward(tokenIds); // [N, T] -> [N, T, 256]
 */
export class Embedding extends Module<[Tensor], Tensor> {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  /** [numEmbeddings, embeddingDim] */
  readonly weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingLayerOptions = {}) {
    super();
    this.numEmbeddings = positiveInteger('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInteger('Embedding', 'embeddingDim', embeddingDim);
    const padding = options.paddingIdx ?? null;
    if (padding !== null && (!Number.isInteger(padding) || padding < -numEmbeddings || padding >= numEmbeddings)) {
      throw new ValueError(`Embedding: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${padding}`);
    }
    this.paddingIdx = padding === null ? null : padding < 0 ? padding + numEmbeddings : padding;
    const row = this.paddingIdx;
    const weight = tidy(() => {
      const w = normal([numEmbeddings, embeddingDim], 0, 1, initOptions(options));
      if (row === null) return w;
      const backend = options.backend === undefined ? {} : { backend: options.backend };
      return where(reshape(notEqual(arange(numEmbeddings, backend), row), [numEmbeddings, 1]), w, 0);
    });
    this.weight = this.registerParameter('weight', parameter(weight));
  }

  /**
   * An embedding holding `weights` [numEmbeddings, embeddingDim], frozen unless `freeze: false`
   * (torch.nn.Embedding.from_pretrained).
   *
   * @example
   * const embed = nn.Embedding.fromPretrained(gloveVectors);
   */
  static fromPretrained(weights: Tensor, options: { readonly freeze?: boolean; readonly paddingIdx?: number | null } = {}): Embedding {
    if (weights.ndim !== 2)
      throw new ShapeError(`Embedding.fromPretrained: weights must be [numEmbeddings, embeddingDim], got ${formatShape(weights.shape)}`);
    const layer = new Embedding(weights.shape[0] as number, weights.shape[1] as number, {
      dtype: isFloating(weights.dtype) ? weights.dtype : 'float32',
      ...(weights._backend ? { backend: weights._backend.name } : {}),
      ...(options.paddingIdx === undefined ? {} : { paddingIdx: options.paddingIdx }),
    });
    layer.loadStateDict({ weight: weights });
    layer.weight.requiresGrad = options.freeze === false;
    return layer;
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight.value, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`}`;
  }
}

/** Options of EmbeddingBag. */
export interface EmbeddingBagLayerOptions extends FactoryOptions {
  /** 'mean' (default), 'sum' or 'max'. */
  readonly mode?: EmbeddingBagMode;
  /** The last offset is the end of the last bag (default false). */
  readonly includeLastOffset?: boolean;
  /** This row starts at zero, and its entries are left out of their bags. */
  readonly paddingIdx?: number | null;
}

/**
 * Sums, averages or takes the maximum of bags of embeddings (torch.nn.EmbeddingBag), its table
 * initialized from N(0, 1) with the padding row zero; see `nn.functional.embeddingBag`.
 *
 * @example
 * const bag = new nn.EmbeddingBag(10000, 64, { mode: 'sum' });
 * bag.forward(tokenIds, offsets); // [B, 64]
 */
export class EmbeddingBag extends Module<[Tensor, (Tensor | null)?, (Tensor | null)?], Tensor> {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly mode: EmbeddingBagMode;
  readonly includeLastOffset: boolean;
  readonly paddingIdx: number | null;
  /** [numEmbeddings, embeddingDim] */
  readonly weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingBagLayerOptions = {}) {
    super();
    const layer = 'EmbeddingBag';
    this.numEmbeddings = positiveInteger(layer, 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInteger(layer, 'embeddingDim', embeddingDim);
    const mode = options.mode ?? 'mean';
    if (mode !== 'sum' && mode !== 'mean' && mode !== 'max') {
      throw new ValueError(`${layer}: mode must be one of 'sum', 'mean', 'max', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
    this.includeLastOffset = options.includeLastOffset ?? false;
    const padding = options.paddingIdx ?? null;
    if (padding !== null && (!Number.isInteger(padding) || padding < -numEmbeddings || padding >= numEmbeddings)) {
      throw new ValueError(`${layer}: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${padding}`);
    }
    this.paddingIdx = padding === null ? null : padding < 0 ? padding + numEmbeddings : padding;
    const row = this.paddingIdx;
    const weight = tidy(() => {
      const w = normal([numEmbeddings, embeddingDim], 0, 1, initOptions(options));
      if (row === null) return w;
      const backend = options.backend === undefined ? {} : { backend: options.backend };
      return where(reshape(notEqual(arange(numEmbeddings, backend), row), [numEmbeddings, 1]), w, 0);
    });
    this.weight = this.registerParameter('weight', parameter(weight));
  }

  forward(input: Tensor, offsets: Tensor | null = null, perSampleWeights: Tensor | null = null): Tensor {
    return embeddingBag(input, this.weight.value, {
      offsets,
      mode: this.mode,
      perSampleWeights,
      includeLastOffset: this.includeLastOffset,
      paddingIdx: this.paddingIdx,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.numEmbeddings}`, `${this.embeddingDim}`, `mode='${this.mode}'`];
    if (this.paddingIdx !== null) parts.push(`paddingIdx=${this.paddingIdx}`);
    if (this.includeLastOffset) parts.push('includeLastOffset=true');
    return parts.join(', ');
  }
}
